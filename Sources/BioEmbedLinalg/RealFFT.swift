import Foundation

/// Real-input discrete Fourier transforms through FFTW.
///
/// `forward` returns the `n/2 + 1` non-negative-frequency coefficients (unnormalised, as numpy's
/// `rfft`); `inverse` is numpy's `irfft` (divided by `n`). Plans are made once per length and
/// type, under one lock (FFTW's planner is not thread-safe), and cached for the process; the
/// transforms themselves run concurrently through new-array execution.
public enum RealFFT {
    /// Interleaved spectrum: `real[k]`, `imaginary[k]` for k in 0...n/2.
    public struct Spectrum<S: FFTScalar>: Sendable, Equatable {
        public var real: [S]
        public var imaginary: [S]
        public init(real: [S], imaginary: [S]) {
            self.real = real
            self.imaginary = imaginary
        }
    }

    public static func forward<S: FFTScalar>(_ signal: [S]) -> Spectrum<S> {
        let n = signal.count
        guard n > 0 else { return Spectrum(real: [], imaginary: []) }
        let plan = FFTPlanCache.shared.plan(S.self, length: n, forward: true)
        let input = S.allocate(n), output = S.allocate(2 * (n / 2 + 1))
        defer { S.free(input); S.free(output) }
        signal.withUnsafeBufferPointer { input.update(from: $0.baseAddress!, count: n) }
        S.executeForward(plan, input, output)
        let bins = n / 2 + 1
        var real = [S](repeating: 0, count: bins), imaginary = [S](repeating: 0, count: bins)
        for k in 0..<bins {
            real[k] = output[2 * k]
            imaginary[k] = output[2 * k + 1]
        }
        return Spectrum(real: real, imaginary: imaginary)
    }

    /// The length-`n` real signal whose spectrum is given (`n/2 + 1` bins), normalised by `n`.
    public static func inverse<S: FFTScalar>(_ spectrum: Spectrum<S>, length n: Int) -> [S] {
        precondition(spectrum.real.count == n / 2 + 1 && spectrum.imaginary.count == n / 2 + 1, "inverse: expected \(n / 2 + 1) bins")
        guard n > 0 else { return [] }
        let plan = FFTPlanCache.shared.plan(S.self, length: n, forward: false)
        let input = S.allocate(2 * (n / 2 + 1)), output = S.allocate(n)
        defer { S.free(input); S.free(output) }
        for k in 0..<(n / 2 + 1) {
            input[2 * k] = spectrum.real[k]
            input[2 * k + 1] = spectrum.imaginary[k]
        }
        S.executeInverse(plan, input, output)
        let scale = 1 / S(n)
        return (0..<n).map { output[$0] * scale }
    }
}

/// Process-wide FFTW plans, one per (type, length, direction). Plans are never destroyed.
final class FFTPlanCache: @unchecked Sendable {
    // @unchecked: the dictionary is only touched under `lock`; plans are immutable once made.
    static let shared = FFTPlanCache()
    private let lock = NSLock()
    private var plans: [String: OpaquePointer] = [:]

    func plan<S: FFTScalar>(_: S.Type, length: Int, forward: Bool) -> OpaquePointer {
        let key = "\(S.self)/\(length)/\(forward)"
        lock.lock()
        defer { lock.unlock() }
        if let plan = plans[key] { return plan }
        let plan = forward ? S.planForward(length) : S.planInverse(length)
        plans[key] = plan
        return plan
    }
}
