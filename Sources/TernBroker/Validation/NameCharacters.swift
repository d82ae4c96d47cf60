/// The one character rule RocketMQ applies to topic and group names (`Validators.VALID_PATTERN_STR`).
///
/// It keeps names safe as file-name parts, JSON keys and `%RETRY%` / `%DLQ%` topic suffixes: no path
/// separator, dot, NUL, newline or non-ASCII byte.
enum NameCharacters {
    static let pattern = "^[%|a-zA-Z0-9_-]+$"

    /// True when `name` is non-empty and every byte matches `pattern`. Cost: one pass over the UTF-8 bytes.
    static func areLegal(_ name: String) -> Bool {
        guard !name.isEmpty else { return false }
        return name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: "%") || c == UInt8(ascii: "|") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
        }
    }
}
