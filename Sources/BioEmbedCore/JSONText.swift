/// Small JSON texts written directly (Foundation's `JSONSerialization` costs more than the data
/// it writes when called once per item).
public enum JSONText {
    /// `{"key": "value", …}` with keys sorted (the first value of a repeated key kept), strings
    /// escaped as RFC 8259 requires; non-ASCII text is written as UTF-8.
    public static func object(_ pairs: [(String, String)]) -> String {
        var seen = Set<String>()
        var unique: [(String, String)] = []
        for pair in pairs where seen.insert(pair.0).inserted { unique.append(pair) }
        unique.sort { $0.0 < $1.0 }
        var text = "{"
        for (k, pair) in unique.enumerated() {
            if k > 0 { text += "," }
            appendString(pair.0, to: &text)
            text += ":"
            appendString(pair.1, to: &text)
        }
        return text + "}"
    }

    /// Appends `value` as a quoted, escaped JSON string.
    public static func appendString(_ value: String, to text: inout String) {
        text += "\""
        var plain = true
        for byte in value.utf8 where byte < 0x20 || byte == 0x22 || byte == 0x5C { plain = false; break }
        if plain {
            text += value
        } else {
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": text += "\\\""
                case "\\": text += "\\\\"
                case "\n": text += "\\n"
                case "\r": text += "\\r"
                case "\t": text += "\\t"
                case "\u{08}": text += "\\b"
                case "\u{0C}": text += "\\f"
                default:
                    if scalar.value < 0x20 {
                        let hex = String(scalar.value, radix: 16)
                        text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    } else {
                        text.unicodeScalars.append(scalar)
                    }
                }
            }
        }
        text += "\""
    }
}
