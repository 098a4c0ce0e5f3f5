import Foundation

/// Lexical path helpers (no file-system access).
public enum PathText {
    /// Joins `relative` onto `base` (unless absolute) and removes `.` and `a/..` components.
    ///
    /// `joined("pipelines", "../out/demo")` is `out/demo`; leading `..` of a relative result stay.
    public static func joined(_ base: String, _ relative: String) -> String {
        if relative.hasPrefix("/") || base.isEmpty { return normalized(relative) }
        return normalized(base + "/" + relative)
    }

    /// `path` made absolute against the current directory, normalised.
    public static func absolute(_ path: String) -> String {
        normalized(path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path)
    }

    public static func normalized(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
            } else if part == ".." && absolute {
                continue
            } else {
                parts.append(part)
            }
        }
        let body = parts.joined(separator: "/")
        if absolute { return "/" + body }
        return body.isEmpty ? "." : body
    }
}
