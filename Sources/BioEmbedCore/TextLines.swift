/// Lines of a text file written on any system: `\n`, `\r\n` (Windows) and a lone `\r` all end a
/// line. (Swift treats `\r\n` as one `Character`, so splitting a `String` on `"\n"` would leave a
/// Windows file as one line.)
public enum TextLines {
    /// The lines of `text`, without their line ends; a final line end does not add an empty line.
    public static func split(_ text: String) -> [Substring] {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: isLineEnd)
        if let last = lines.last, last.isEmpty, lines.count > 1 { lines.removeLast() }
        return lines
    }

    public static func isLineEnd(_ character: Character) -> Bool {
        character == "\n" || character == "\r\n" || character == "\r"
    }
}
