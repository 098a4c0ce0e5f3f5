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

    /// Buffers reused from shell to shell: plain memory grown on demand, so a shell costs no
    /// allocation, reference counting or bounds checks. Free with `deallocate()`.
    struct Scratch {
        private(set) var capacity = 0
        private(set) var vectors = UnsafeMutablePointer<Vector>.allocate(capacity: 1)
        private(set) var mask = UnsafeMutablePointer<Bool>.allocate(capacity: 1)
        private(set) var indicators = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
        private(set) var longBin = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        private(set) var cone = UnsafeMutablePointer<Bool>.allocate(capacity: 1)
        private(set) var longSign = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
        private(set) var candidates = UnsafeMutablePointer<(Int, Int64, Int64, Int)>.allocate(capacity: 1)

        mutating func reserve(_ m: Int) {
            guard m > capacity else { return }
            deallocate()
            capacity = max(m, 2 * capacity, 16)
            vectors = .allocate(capacity: capacity)
            mask = .allocate(capacity: capacity)
            indicators = .allocate(capacity: capacity)
            longBin = .allocate(capacity: capacity)
            cone = .allocate(capacity: capacity)
            longSign = .allocate(capacity: capacity)
            candidates = .allocate(capacity: capacity)
        }

        func deallocate() {
            vectors.deallocate(); mask.deallocate(); indicators.deallocate()
            longBin.deallocate(); cone.deallocate(); longSign.deallocate(); candidates.deallocate()
        }
    }

    /// Convenience returning the indicators (tests).
    static func compute(center: Int, tuples: [(Int64, Int64, Int, Int)], xyz: [Double]) -> [Int64] {
        var scratch = Scratch()
        defer { scratch.deallocate() }
        compute(center: center, tuples: tuples, xyz: xyz, scratch: &scratch)
        return Array(UnsafeBufferPointer(start: scratch.indicators, count: tuples.count))
    }

    /// `tuples` are (bond code, identifier, neighbour, _) sorted by (code, identifier); the result
    /// is left in `scratch.indicators[0..<tuples.count]`.
    static func compute(center: Int, tuples: [(Int64, Int64, Int, Int)], xyz: [Double], scratch: inout Scratch) {
        xyz.withUnsafeBufferPointer { xyz in
            tuples.withUnsafeBufferPointer { tuples in compute(center: center, tuples: tuples, xyz: xyz, scratch: &scratch) }
        }
    }

    static func compute(center: Int, tuples: UnsafeBufferPointer<(Int64, Int64, Int, Int)>, xyz: UnsafeBufferPointer<Double>,
                        scratch: inout Scratch) {
        let m = tuples.count
        scratch.reserve(m)
        guard m > 0 else { return }
        let vectors = scratch.vectors, mask = scratch.mask, indicators = scratch.indicators
        let longBin = scratch.longBin, cone = scratch.cone, longSign = scratch.longSign, candidates = scratch.candidates
        do {
            let origin = Vector(xyz[3 * center], xyz[3 * center + 1], xyz[3 * center + 2])
            for i in 0..<m {
                let j = tuples[i].2
                let v = Vector(xyz[3 * j], xyz[3 * j + 1], xyz[3 * j + 2]) - origin
                vectors[i] = v
                mask[i] = v != .zero
                indicators[i] = 0
                longBin[i] = 0
                cone[i] = false
                longSign[i] = 1
            }

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
                for i in 0..<m { sum += vectors[i] }
                let mean = sum / Double(m)
                if (mean * mean).sum().squareRoot() >= 0.1 { y = mean }
            }
            if let y {
                if let yIndex { mask[yIndex] = false }
                let yUnit = unit(y)
                for i in 0..<m {
                    let u = unit(vectors[i])
                    let (sign, bin, inCone) = u == .zero ? (1, 0, false) : latitude(cosine: min(1, max(-1, dot(u, yUnit))))
                    longSign[i] = sign
                    longBin[i] = bin
                    cone[i] = inCone
                }
                // z axis: first unique (angle bin, bond code) among the masked neighbours, in the
                // order (bin, code, identifier, index); insertion sort as entries arrive.
                var count = 0
                for i in 0..<m where mask[i] {
                    let entry = (longBin[i], tuples[i].0, tuples[i].1, i)
                    var k = count
                    while k > 0 && (entry.0, entry.1, entry.2, entry.3) < (candidates[k - 1].0, candidates[k - 1].1, candidates[k - 1].2, candidates[k - 1].3) {
                        candidates[k] = candidates[k - 1]
                        k -= 1
                    }
                    candidates[k] = entry
                    count += 1
                }
                if let first = firstUnique(count, key: { (Int64(candidates[$0].0), candidates[$0].1) }) {
                    let z = project(vectors[candidates[first].3], onPlaneNormalTo: yUnit)
                    let zUnit = unit(z)
                    for i in 0..<m {
                        var quadrant: Int64
                        if i == yIndex {
                            quadrant = 0
                        } else {
                            let lat = unit(project(vectors[i], onPlaneNormalTo: yUnit))
                            let side = dot(y, cross(lat, zUnit))
                            quadrant = lat == .zero ? 0 : Self.quadrant(cosine: min(1, max(-1, dot(lat, zUnit))), negative: side < 0)
                        }
                        indicators[i] = (2 + quadrant) * longSign[i]
                    }
                }
                for i in 0..<m where cone[i] { indicators[i] = longSign[i] }
            }
            for i in 0..<m where vectors[i] == .zero { indicators[i] = 0 }
        }
    }

    /// e3fp's latitude of a neighbour from the cosine c of its angle to the y axis: the angle
    /// a = π/2 − acos(c) (0 when |a| < 1e-12), its sign, its 0.01-rad bin ⌊|a| / 0.01⌋, and whether
    /// π/2 − |a| < π/36 (the polar cone). |a| = asin(|c|) grows with |c|, so away from the bin
    /// boundaries (|c| = sin(0.01·b)), the cone's edge and 0 (all farther than 1e-9 in c, where
    /// rounding is ~1e-16) the table of boundaries decides; near them e3fp's formula runs as is.
    @inline(__always)
    static func latitude(cosine c: Double) -> (sign: Int64, bin: Int, cone: Bool) {
        let margin = 1e-9
        let magnitude = abs(c)
        if magnitude > margin && abs(magnitude - coneEdge) > margin {
            var bin = Int(binStart[Int(magnitude * 1024)])
            while bin < 157 && binEdges[bin + 1] <= magnitude { bin += 1 }
            let nearEdge = abs(magnitude - binEdges[bin]) <= margin || (bin < 157 && abs(binEdges[bin + 1] - magnitude) <= margin)
            if !nearEdge { return (c < 0 ? -1 : 1, bin, magnitude > coneEdge) }
        }
        var angle = Double.pi / 2 - acos(c)
        if abs(angle) < epsilon { angle = 0 }
        let long = abs(angle)
        return (angle < 0 ? -1 : 1, Int(long / 0.01), Double.pi / 2 - long < Double.pi / 36)
    }

    /// sin(0.01·b) for b = 0…157 (the latitude bin edges in cosine; 157 is the last bin below π/2).
    static let binEdges: [Double] = (0...157).map { sin(0.01 * Double($0)) }
    /// For |c| in [i/1024, (i+1)/1024): the last bin whose edge is ≤ i/1024.
    static let binStart: [UInt8] = (0...1024).map { i in
        let low = Double(i) / 1024
        return UInt8(binEdges.lastIndex(where: { $0 <= low }) ?? 0)
    }
    /// cos(π/36) = sin(π/2 − π/36): |c| above it lies in the polar cone.
    static let coneEdge = cos(Double.pi / 36)

    /// The quadrant e3fp computes from the angle θ = acos(cosine) between a neighbour and the z axis,
    /// signed by the side of the plane: `⌊((±θ mod 2π) + π/4) mod 2π · 4 / 2π⌋`. The quadrant only
    /// changes at θ = π/4 and 3π/4, so away from those (|cosine ∓ √½| > 1e-9, far beyond rounding)
    /// comparing the cosine decides it without the `acos`; near them the formula runs as e3fp's.
    @inline(__always)
    static func quadrant(cosine c: Double, negative: Bool) -> Int64 {
        let threshold = 0.7071067811865476  // cos(π/4)
        let margin = 1e-9
        if c > threshold + margin { return 0 }                       // θ < π/4
        if c < -threshold - margin { return 2 }                      // θ > 3π/4
        if c < threshold - margin && c > -threshold + margin { return negative ? 3 : 1 }
        let angle = positiveModulo((negative ? -1.0 : 1.0) * acos(c), 2 * Double.pi)
        let rotated = positiveModulo(angle + Double.pi / 4, 2 * Double.pi)
        return Int64(rotated * 4 / (2 * Double.pi))
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
