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

    private static func pow10(_ p: Int) -> Double {
        var v = 1.0
        for _ in 0..<min(p, 400) { v *= 10 }
        return v
    }
}
