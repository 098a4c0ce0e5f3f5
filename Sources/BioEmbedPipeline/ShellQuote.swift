/// Quoting for generated shell scripts.
public enum ShellQuote {
    /// `text` as one shell word: single quotes, with each `'` written as `'\''`. Safe for spaces,
    /// quotes, `$`, backticks, globs and newlines.
    public static func word(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
