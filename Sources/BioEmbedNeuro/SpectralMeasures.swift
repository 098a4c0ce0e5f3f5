import BioEmbedLinalg
import Foundation

/// Amplitude of low-frequency fluctuations per region, with FFTW (AFNI `3dRSFC` definitions).
///
/// For a series `x` of T samples at TR: remove the mean and the linear trend, take the real FFT
/// `X_k` (k = 0...⌊T/2⌋, frequencies `k/(T·TR)`), amplitude `a_k = 2|X_k|/T`;
/// `ALFF = Σ_{f_lo ≤ f_k ≤ f_hi} a_k`, `fALFF = ALFF / Σ_{k ≥ 1} a_k`.
public enum SpectralMeasures {
    /// (ALFF, fALFF) of each column of `[T, R]` signals.
    ///
    /// - Complexity: O(R · T log T).
    public static func alff(_ x: Matrix<Double>, tR: Double, low: Double = 0.01, high: Double = 0.08) -> (alff: [Double], falff: [Double]) {
        var detrended = x
        SignalCleaner.detrend(&detrended)
        let (t, r) = (x.rows, x.columns)
        var alff = [Double](repeating: .nan, count: r), falff = [Double](repeating: .nan, count: r)
        guard t >= 2 else { return (alff, falff) }
        var column = [Double](repeating: 0, count: t)
        for j in 0..<r {
            for i in 0..<t { column[i] = detrended.storage[i * r + j] }
            let s = RealFFT.forward(column)
            var band = 0.0, total = 0.0
            for k in 1..<s.real.count {
                let a = 2 * (s.real[k] * s.real[k] + s.imaginary[k] * s.imaginary[k]).squareRoot() / Double(t)
                let f = Double(k) / (Double(t) * tR)
                total += a
                if f >= low && f <= high { band += a }
            }
            alff[j] = band
            falff[j] = total > 0 ? band / total : .nan
        }
        return (alff, falff)
    }
}
