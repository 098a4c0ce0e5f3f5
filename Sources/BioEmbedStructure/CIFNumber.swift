/// Decimal number parsing for the structure readers (no allocation, no locale).
enum CIFNumber {
    static let powersOfTen: [Double] = (0...22).map { p in
        var v = 1.0
        for _ in 0..<p { v *= 10 }
        return v
    }

    /// Parses `bytes[start..<end]` as `[+-]digits[.digits][(e|E)[+-]digits]`, optionally followed by a
    /// standard uncertainty in parentheses (mmCIF, `1.234(5)`, ignored). Returns nil otherwise.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
        // Fast path for what coordinate columns hold: [-]digits.digits, at most 15 digits in all
        // (the value is then an exact integer divided by an exact power of ten: correctly rounded).
        if let value = simpleDecimal(bytes, start, end) { return value }
        var i = start
        guard i < end else { return nil }
        var negative = false
        if bytes[i] == 0x2D { negative = true; i += 1 } else if bytes[i] == 0x2B { i += 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var fractionDigits = 0
        var dropped = 0
        while i < end, bytes[i] &- 0x30 < 10 {
            if digits < 18 { mantissa = mantissa * 10 + UInt64(bytes[i] - 0x30); digits += mantissa == 0 ? 0 : 1 } else { dropped += 1 }
            i += 1
        }
        var sawDigit = i > start + (negative || (start < end && bytes[start] == 0x2B) ? 1 : 0)
        if i < end && bytes[i] == 0x2E {
            i += 1
            while i < end, bytes[i] &- 0x30 < 10 {
                if digits < 18 {
                    mantissa = mantissa * 10 + UInt64(bytes[i] - 0x30)
                    digits += mantissa == 0 ? 0 : 1
                    fractionDigits += 1
                }
                sawDigit = true
                i += 1
            }
        }
        guard sawDigit else { return nil }
        var exponent = dropped - fractionDigits
        if i < end && (bytes[i] | 0x20) == 0x65 {
            i += 1
            var expNegative = false
            if i < end && bytes[i] == 0x2D { expNegative = true; i += 1 } else if i < end && bytes[i] == 0x2B { i += 1 }
            var e = 0
            var any = false
            while i < end, bytes[i] &- 0x30 < 10 {
                if e < 10_000 { e = e * 10 + Int(bytes[i] - 0x30) }
                any = true
                i += 1
            }
            guard any else { return nil }
            exponent += expNegative ? -e : e
        }
        if i < end && bytes[i] == 0x28 {
            // standard uncertainty: "(digits)" must close the field
            i += 1
            while i < end && bytes[i] &- 0x30 < 10 { i += 1 }
            guard i < end && bytes[i] == 0x29 else { return nil }
            i += 1
        }
        guard i == end else { return nil }
        var value = Double(mantissa)
        if exponent < 0 {
            let p = -exponent
            value = p <= 22 ? value / powersOfTen[p] : value / pow10(p)
        } else if exponent > 0 {
            value = exponent <= 22 ? value * powersOfTen[exponent] : value * pow10(exponent)
        }
        return negative ? -value : value
    }

    @inline(__always)
    static func simpleDecimal(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
        guard let base = bytes.baseAddress, start < end, end - start <= 17 else { return nil }
        var i = start
        let negative = base[i] == 0x2D
        if negative { i &+= 1 }
        var mantissa: Int64 = 0
        var digits = 0
        while i < end {
            let d = base[i] &- 0x30
            guard d < 10 else { break }
            mantissa = mantissa &* 10 &+ Int64(d)
            digits &+= 1
            i &+= 1
        }
        var fraction = 0
        if i < end && base[i] == 0x2E {
            i &+= 1
            while i < end {
                let d = base[i] &- 0x30
                guard d < 10 else { return nil }
                mantissa = mantissa &* 10 &+ Int64(d)
                fraction &+= 1
                i &+= 1
            }
        }
        guard i == end, digits + fraction > 0, digits + fraction <= 15 else { return nil }
        let value = Double(mantissa) / exactPowerOfTen(fraction)
        return negative ? -value : value
    }

    /// 10^p for p in 0...15 (exact doubles), without a lazily initialised table.
    @inline(__always)
    static func exactPowerOfTen(_ p: Int) -> Double {
        switch p {
        case 0: 1
        case 1: 10
        case 2: 100
        case 3: 1e3
        case 4: 1e4
        case 5: 1e5
        case 6: 1e6
        case 7: 1e7
        case 8: 1e8
        case 9: 1e9
        case 10: 1e10
        case 11: 1e11
        case 12: 1e12
        case 13: 1e13
        case 14: 1e14
        default: 1e15
        }
    }

    private static func pow10(_ p: Int) -> Double {
        var v = 1.0
        for _ in 0..<min(p, 400) { v *= 10 }
        return v
    }
}
