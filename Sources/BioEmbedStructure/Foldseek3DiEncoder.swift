import Foundation

/// Foldseek's 3Di structural alphabet encoder, step for step as `StructureTo3Di::structure2states`
/// (foldseek `lib/3di/structureto3di.cpp`, commit d5b1d3d), in double precision with the network
/// in float32 like kerasify.
///
/// Per chain of length L (inputs N, CA, C, CB as `[L*3]` Å, NaN = missing):
/// 1. a missing CB is placed on the ideal tetrahedron (|CA–CB| = 1.5336 Å);
/// 2. CB is replaced by the virtual centre: CB−CA rotated by 270° about (CB−CA)×(N−CA), scaled by 2;
/// 3. a residue is valid iff N, CA and C exist;
/// 4. for i in 1..L−2 the partner is the valid j ≠ i in 1..L−2 with the nearest virtual centre (strict
///    `<`, lowest j on ties); without a partner i becomes invalid (updated in place, as foldseek);
/// 5. residue i is encoded when i−1, i, i+1, j−1, j, j+1 are valid: 10 features (7 CA direction dot
///    products, |CA_i−CA_j|, clipped and log-scaled j−i) → Dense 10→10 ReLU → 10→10 ReLU → 10→2;
/// 6. the state is the nearest of 20 centroids (squared distance, strict `<`); residues 0 and L−1 and
///    every masked residue get state 2 (`D`).
/// Chains of length ≤ 3 therefore come out all `D`. Cost: O(L) (the partner search uses a cell grid).
public struct Foldseek3DiEncoder: Sendable {
    /// The 3Di letters: state k is `alphabet[k]` (row order of foldseek's `mat3di.out`).
    public static let alphabet: [UInt8] = Array("ACDEFGHIKLMNPQRSTVWY".utf8)
    /// The state of invalid residues (`D`).
    public static let invalidState = 2

    /// The 20 centroids of the 2-D embedding (foldseek `structureto3di.h`, `Alphabet3Di::centroids`;
    /// mini3di copies the same table). Data from the published model, not computed here.
    static let centroids: [(Double, Double)] = [
        (-1.0729, -0.3600), (-0.1356, -1.8914), (0.4948, -0.4205), (-0.9874, 0.8128), (-1.6621, -0.4259),
        (2.1394, 0.0486), (1.5558, -0.1503), (2.9179, 1.1437), (-2.8814, 0.9956), (-1.1400, -2.0068),
        (3.2025, 1.7356), (1.7769, -1.3037), (0.6901, -1.2554), (-1.1061, -1.3397), (2.1495, -0.8030),
        (2.3060, -1.4988), (2.5522, 0.6046), (0.7786, -2.1660), (-2.3030, 0.3813), (1.0290, 0.8772),
    ]

    /// Grid cell (Å) of the partner search; only the speed depends on it.
    static let partnerCellSize = 6.0

    let w1: [Float], b1: [Float], w2: [Float], b2: [Float], w3: [Float], b3: [Float]
    /// `log(g + 1)` for residue gaps g below its count (the same `log` call, made once).
    let logGapPlusOne: [Double]

    public init() {
        w1 = Foldseek3DiWeights.layer1WeightBits.map(Float.init(bitPattern:))
        b1 = Foldseek3DiWeights.layer1BiasBits.map(Float.init(bitPattern:))
        w2 = Foldseek3DiWeights.layer2WeightBits.map(Float.init(bitPattern:))
        b2 = Foldseek3DiWeights.layer2BiasBits.map(Float.init(bitPattern:))
        w3 = Foldseek3DiWeights.layer3WeightBits.map(Float.init(bitPattern:))
        b3 = Foldseek3DiWeights.layer3BiasBits.map(Float.init(bitPattern:))
        logGapPlusOne = (0..<4096).map { log(Double($0) + 1) }
    }

    /// The 3Di string of one chain (ASCII letters, one per residue).
    public func encode(n: [Double], ca: [Double], c: [Double], cb: [Double]) -> [UInt8] {
        states(n: n, ca: ca, c: c, cb: cb).map { Self.alphabet[Int($0)] }
    }

    /// The 3Di states (0..<20) of one chain; arrays are `[L*3]`.
    public func states(n: [Double], ca: [Double], c: [Double], cb: [Double]) -> [UInt8] {
        let len = ca.count / 3
        precondition(n.count == len * 3 && c.count == len * 3 && cb.count == len * 3, "N, CA, C, CB must have the same length")
        var out = [UInt8](repeating: UInt8(Self.invalidState), count: len)
        guard len >= 3 else { return out }
        var vc = [Double](repeating: .nan, count: len * 3)
        var valid = [Bool](repeating: false, count: len)
        var partner: [Int] = []
        n.withUnsafeBufferPointer { N in
        ca.withUnsafeBufferPointer { CA in
        c.withUnsafeBufferPointer { C in
        cb.withUnsafeBufferPointer { CB in
        vc.withUnsafeMutableBufferPointer { V in
            for i in 0..<len {
                let a = V3(CA, i), nn = V3(N, i), cc = V3(C, i)
                var b = V3(CB, i)
                if b.x.isNaN { b = Self.idealCB(ca: a, n: nn, c: cc) }
                let v = Self.virtualCenter(ca: a, cb: b, n: nn)
                V[3 * i] = v.x; V[3 * i + 1] = v.y; V[3 * i + 2] = v.z
                valid[i] = !(a.x.isNaN || cc.x.isNaN || nn.x.isNaN)
            }
            partner = Self.partners(virtualCenters: V, valid: &valid)
            let mask = valid
            // scratch for the features and the network layers (no allocation per residue)
            let scratch = UnsafeMutablePointer<Double>.allocate(capacity: 10)
            let layers = UnsafeMutablePointer<Float>.allocate(capacity: 32)
            defer { scratch.deallocate(); layers.deallocate() }
            logGapPlusOne.withUnsafeBufferPointer { logGap in
            for i in 1..<(len - 1) {
                let j = partner[i]
                guard mask[i - 1] && mask[i] && mask[i + 1] && j >= 1 && mask[j - 1] && mask[j] && mask[j + 1] else { continue }
                Self.features(CA, i, j, logGap: logGap, into: scratch)
                for k in 0..<10 { layers[k] = Float(scratch[k]) }
                let (e0, e1) = network(layers)
                var bestState = Self.invalidState
                var bestDistance = Double.infinity
                for (k, centroid) in Self.centroids.enumerated() {
                    let d0 = e0 - centroid.0, d1 = e1 - centroid.1
                    let sum = d0 * d0 + d1 * d1
                    if sum < bestDistance { bestDistance = sum; bestState = k }
                }
                out[i] = UInt8(bestState)
            }
            }
        }}}}}
        return out
    }

    /// Step 4, the partner search: for each valid residue i in 1...L−2 the valid j ≠ i in 1...L−2
    /// with the nearest virtual centre (distances as foldseek's `sqrt`, strict `<` in ascending j, so
    /// ties go to the lower j), found as k = 1 over a cell grid instead of foldseek's all-pairs loop.
    /// A residue left without a partner is masked (foldseek updates the mask in place; that matters
    /// only then). Returns −1 where there is no partner.
    static func partners(virtualCenters v: UnsafeMutableBufferPointer<Double>, valid: inout [Bool]) -> [Int] {
        let len = valid.count
        var partner = [Int](repeating: -1, count: len)
        guard len >= 3 else { return partner }
        var candidates = [Double](repeating: .nan, count: len * 3)
        for i in 1..<(len - 1) where valid[i] {
            candidates[3 * i] = v[3 * i]; candidates[3 * i + 1] = v[3 * i + 1]; candidates[3 * i + 2] = v[3 * i + 2]
        }
        let nearest = ResidueGraphs.nearest(positions: candidates, cellSize: partnerCellSize)
        for i in 1..<(len - 1) where valid[i] {
            partner[i] = Int(nearest[i])
            if partner[i] == -1 { valid[i] = false }
        }
        return partner
    }

    /// The 2-D embedding of one feature vector (float32, kerasify's summation order).
    /// `buffer[0..<10]` holds the input; `buffer[10..<32]` is overwritten.
    func network(_ buffer: UnsafeMutablePointer<Float>) -> (Double, Double) {
        w1.withUnsafeBufferPointer { w in b1.withUnsafeBufferPointer { b in Self.dense(buffer, 10, w, b, buffer + 10, 10, relu: true) } }
        w2.withUnsafeBufferPointer { w in b2.withUnsafeBufferPointer { b in Self.dense(buffer + 10, 10, w, b, buffer + 20, 10, relu: true) } }
        w3.withUnsafeBufferPointer { w in b3.withUnsafeBufferPointer { b in Self.dense(buffer + 20, 10, w, b, buffer + 30, 2, relu: false) } }
        return (Double(buffer[30]), Double(buffer[31]))
    }

    /// y = act(x·W + b) with W row-major `[inputs][outputs]`, accumulated input by input then the
    /// bias added, as kerasify's `KerasLayerDense::Apply`.
    @inline(__always)
    static func dense(_ x: UnsafeMutablePointer<Float>, _ inputs: Int, _ w: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>,
                      _ y: UnsafeMutablePointer<Float>, _ outputs: Int, relu: Bool) {
        for j in 0..<outputs { y[j] = 0 }
        for i in 0..<inputs {
            let xi = x[i]
            for j in 0..<outputs { y[j] = y[j] + xi * w[i * outputs + j] }
        }
        for j in 0..<outputs {
            y[j] = y[j] + b[j]
            if relu && y[j] < 0 { y[j] = 0 }
        }
    }

    struct V3 {
        var x, y, z: Double
        init(_ x: Double, _ y: Double, _ z: Double) { self.x = x; self.y = y; self.z = z }
        init(_ p: UnsafeBufferPointer<Double>, _ i: Int) { x = p[3 * i]; y = p[3 * i + 1]; z = p[3 * i + 2] }
        static func + (a: V3, b: V3) -> V3 { V3(a.x + b.x, a.y + b.y, a.z + b.z) }
        static func - (a: V3, b: V3) -> V3 { V3(a.x - b.x, a.y - b.y, a.z - b.z) }
        static func * (a: V3, f: Double) -> V3 { V3(a.x * f, a.y * f, a.z * f) }
        func dot(_ b: V3) -> Double { x * b.x + y * b.y + z * b.z }
        func cross(_ b: V3) -> V3 { V3(y * b.z - z * b.y, z * b.x - x * b.z, x * b.y - y * b.x) }
        var unit: V3 {
            let len = (x * x + y * y + z * z).squareRoot()
            return V3(x / len, y / len, z / len)
        }
    }

    static func idealCB(ca: V3, n: V3, c: V3) -> V3 {
        let v1 = (c - ca).unit
        let v2 = (n - ca).unit
        let b1 = v2 + v1 * (1 / 3.0)
        let b2 = v1.cross(b1)
        let u1 = b1.unit
        let u2 = b2.unit
        let v4 = v1 * (-1 / 3.0) + (u1 * (-1 / 2.0) - u2 * ((3.0).squareRoot() / 2.0)) * ((8.0).squareRoot() / 3.0)
        return ca + v4 * 1.5336
    }

    static func virtualCenter(ca: V3, cb: V3, n: V3) -> V3 {
        let pi = 3.14159265359
        let alpha = (270.0 / 180) * pi
        let beta = (0.0 / 180) * pi
        var v = cb - ca
        var k = (cb - ca).cross(n - ca).unit
        v = (v * cos(alpha) + k.cross(v) * sin(alpha)) + (k * k.dot(v)) * (1 - cos(alpha))
        k = (n - ca).unit
        v = (v * cos(beta) + k.cross(v) * sin(beta)) + (k * k.dot(v)) * (1 - cos(beta))
        return ca + v * 2
    }

    /// The 10 features of residue i with partner j, written to `f[0..<10]`; `logGap[g]` = log(g + 1).
    static func features(_ ca: UnsafeBufferPointer<Double>, _ i: Int, _ j: Int, logGap: UnsafeBufferPointer<Double>,
                         into f: UnsafeMutablePointer<Double>) {
        let u1 = (V3(ca, i) - V3(ca, i - 1)).unit
        let u2 = (V3(ca, i + 1) - V3(ca, i)).unit
        let u3 = (V3(ca, j) - V3(ca, j - 1)).unit
        let u4 = (V3(ca, j + 1) - V3(ca, j)).unit
        let u5 = (V3(ca, j) - V3(ca, i)).unit
        let d = V3(ca, i) - V3(ca, j)
        let gap = Double(j - i)
        f[0] = u1.dot(u2)
        f[1] = u3.dot(u4)
        f[2] = u1.dot(u5)
        f[3] = u3.dot(u5)
        f[4] = u1.dot(u4)
        f[5] = u2.dot(u3)
        f[6] = u1.dot(u3)
        f[7] = (d.x * d.x + d.y * d.y + d.z * d.z).squareRoot()
        f[8] = copysign(min(abs(gap), 4), gap)
        let g = abs(j - i)
        f[9] = copysign(g < logGap.count ? logGap[g] : log(abs(gap) + 1), gap)
    }
}
