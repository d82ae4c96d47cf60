/// Limits the codec enforces at the boundary, each with the reason for its value.
public enum RemotingLimits {
    /// Largest accepted length prefix (bytes after the prefix): Java's `frameMaxLength` default, 16 MiB.
    public static let frameSizeMaxDefault = 16 * 1024 * 1024
    /// Largest header the 24-bit header length in the header mark can express.
    public static let headerSizeMax = 0xFF_FFFF
    /// Most extFields one decoded header may carry. Real headers carry about 15; the cap keeps insertion
    /// (linear lookup for duplicate keys) cheap whatever a hostile header contains.
    public static let extFieldsCountMax = 256
    /// Deepest nesting of JSON arrays and objects the header reader skips or copies (unknown keys, odd values).
    /// Real headers nest two levels; the cap bounds the reader's recursion.
    public static let jsonNestingDepthMax = 32
}
