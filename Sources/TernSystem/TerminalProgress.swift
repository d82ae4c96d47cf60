import Glibc

/// One progress line on standard error for long operations (offline tools, the load generator), rewritten in
/// place. Shown only when standard error is a terminal (isatty): piped or redirected runs (scripts, tests) get
/// no progress output at all.
public struct TerminalProgress: Sendable {
    public let isShown: Bool

    /// `shown` defaults to whether standard error is a terminal.
    public init(shown: Bool = isatty(STDERR_FILENO) == 1) { isShown = shown }

    /// Replaces the line with `text` (carriage return, the text, erase to the end of the line).
    public func update(_ text: String) { write("\r" + text + "\u{1B}[K") }

    /// Ends the line, leaving its last text on screen.
    public func finish() { write("\n") }

    /// "42.0 %" of `done` out of `total` (nothing to show without a total).
    public static func percent(_ done: Double, of total: Double) -> String {
        guard total > 0 else { return "" }
        let tenths = Int(min(1, max(0, done / total)) * 1_000)
        return "\(tenths / 10).\(tenths % 10) %"
    }

    private func write(_ text: String) {
        guard isShown else { return }
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { try? Sys.writeAll(STDERR_FILENO, $0, nil) }
    }
}
