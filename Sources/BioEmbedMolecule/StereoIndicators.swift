import Foundation

/// E3FP's stereo indicators for the neighbours of one shell (`stereo_indicators_from_shell`):
/// a local frame whose y axis points at the first neighbour unique by (bond code, identifier)
/// (else the only pair's first atom, else the mean vector if ≥ 0.1 Å), whose z axis points at the
/// first neighbour unique by (angle to the xz-plane binned at 0.01 rad, bond code); each neighbour
/// then gets its quadrant ±2…±5 around y (sign = side of the xz-plane), ±1 within π/36 of a pole,
/// 0 when it lies on the centre.
enum StereoIndicators {
    typealias Vector = SIMD3<Double>
    static let epsilon = 1e-12

    /// `tuples` are (bond code, identifier, neighbour, _) sorted by (code, identifier).
    static func compute(center: Int, tuples: [(Int64, Int64, Int, Int)], xyz: [Double]) -> [Int64] {
        let m = tuples.count
        guard m > 0 else { return [] }
        let origin = Vector(xyz[3 * center], xyz[3 * center + 1], xyz[3 * center + 2])
        var vectors = [Vector](repeating: .zero, count: m)
        var overlap = [Bool](repeating: false, count: m)
        for (i, t) in tuples.enumerated() {
            let j = t.2
            vectors[i] = Vector(xyz[3 * j], xyz[3 * j + 1], xyz[3 * j + 2]) - origin
            overlap[i] = vectors[i] == .zero
        }
        var mask = overlap.map { !$0 }
        var indicators = [Int64](repeating: 0, count: m)

        // y axis.
        var y: Vector?
        var yIndex: Int?
        if let unique = firstUnique(m, key: { (tuples[$0].0, tuples[$0].1) }) {
            y = vectors[unique]
            yIndex = unique
        } else if m == 2 {
            y = vectors[0]
            yIndex = 0
        } else {
            var sum = Vector.zero
            for v in vectors { sum += v }
            let mean = sum / Double(m)
            if (mean * mean).sum().squareRoot() >= 0.1 { y = mean }
        }
        if let y {
            if let yIndex { mask[yIndex] = false }
            let yUnit = unit(y)
            var longAngle = [Double](repeating: 0, count: m)
            var longSign = [Int64](repeating: 1, count: m)
            for i in 0..<m {
                let u = unit(vectors[i])
                var angle = u == .zero ? 0 : acos(min(1, max(-1, dot(u, yUnit))))
                angle = Double.pi / 2 - angle
                if abs(angle) < epsilon { angle = 0 }
                longSign[i] = angle < 0 ? -1 : 1
                longAngle[i] = abs(angle)
            }
            // z axis: first unique (angle bin, bond code) among the masked neighbours.
            var candidates: [(Int, Int64, Int64, Int)] = []
            for i in 0..<m where mask[i] {
                candidates.append((Int(longAngle[i] / 0.01), tuples[i].0, tuples[i].1, i))
            }
            candidates.sort { ($0.0, $0.1, $0.2, $0.3) < ($1.0, $1.1, $1.2, $1.3) }
            if let first = firstUnique(candidates.count, key: { (Int64(candidates[$0].0), candidates[$0].1) }) {
                let z = project(vectors[candidates[first].3], onPlaneNormalTo: yUnit)
                let zUnit = unit(z)
                for i in 0..<m {
                    var angle: Double
                    if i == yIndex {
                        angle = 0
                    } else {
                        let lat = unit(project(vectors[i], onPlaneNormalTo: yUnit))
                        if lat == .zero {
                            angle = 0
                        } else {
                            angle = acos(min(1, max(-1, dot(lat, zUnit))))
                        }
                        let side = dot(y, cross(lat, zUnit))
                        let sign: Double = side < 0 ? -1 : 1
                        angle = positiveModulo(sign * angle, 2 * Double.pi)
                    }
                    let rotated = positiveModulo(angle + Double.pi / 4, 2 * Double.pi)
                    indicators[i] = (2 + Int64(rotated * 4 / (2 * Double.pi))) * longSign[i]
                }
            }
            let cone = Double.pi / 36
            for i in 0..<m where Double.pi / 2 - longAngle[i] < cone { indicators[i] = longSign[i] }
        }
        for i in 0..<m where overlap[i] { indicators[i] = 0 }
        return indicators
    }

    /// Index of the first entry whose key occurs once (keys sorted), as e3fp's
    /// `get_first_unique_tuple_inds(..., 1)`.
    static func firstUnique(_ count: Int, key: (Int) -> (Int64, Int64)) -> Int? {
        var i = 0
        while i < count {
            var j = i + 1
            let k = key(i)
            while j < count, key(j) == k { j += 1 }
            if j - i == 1 { return i }
            i = j
        }
        return nil
    }

    @inline(__always) static func dot(_ a: Vector, _ b: Vector) -> Double {
        var s = a.x * b.x
        s += a.y * b.y
        s += a.z * b.z
        return s
    }

    @inline(__always) static func cross(_ a: Vector, _ b: Vector) -> Vector {
        Vector(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
    }

    /// e3fp's `as_unit`: v / |v|, unchanged when |v|² < 1e-12.
    @inline(__always) static func unit(_ v: Vector) -> Vector {
        let sq = dot(v, v)
        return sq < epsilon ? v : v / sq.squareRoot()
    }

    @inline(__always) static func project(_ v: Vector, onPlaneNormalTo unitNormal: Vector) -> Vector {
        v - unitNormal * dot(v, unitNormal)
    }

    @inline(__always) static func positiveModulo(_ x: Double, _ d: Double) -> Double {
        let r = fmod(x, d)
        return r < 0 ? r + d : r
    }
}
