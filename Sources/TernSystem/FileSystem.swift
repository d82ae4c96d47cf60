/// Small file-system helpers (each one syscall or a loop of them); errors throw `SystemError`.
/// API CONTRACT — implemented by TernSystem.
public enum FileSystem {
    /// mkdir -p
    public static func createDirectory(_ path: String) throws { fatalError("contract") }
    /// Names (not paths) of the entries of a directory, sorted; [] when the directory does not exist.
    public static func listDirectory(_ path: String) throws -> [String] { fatalError("contract") }
    public static func fileExists(_ path: String) -> Bool { fatalError("contract") }
    public static func isDirectory(_ path: String) -> Bool { fatalError("contract") }
    /// File size in bytes.
    public static func fileSize(_ path: String) throws -> Int { fatalError("contract") }
    /// Last modification time, ms since the epoch.
    public static func modificationTimeMillis(_ path: String) throws -> Int64 { fatalError("contract") }
    public static func remove(_ path: String) throws { fatalError("contract") }
    /// rm -rf (for tests and rebuild-index)
    public static func removeRecursively(_ path: String) throws { fatalError("contract") }
    /// fsync of a directory, so a created / removed entry is durable.
    public static func syncDirectory(_ path: String) throws { fatalError("contract") }
    /// Writes `bytes` to `path` atomically (write temp, fsync, rename, fsync dir).
    public static func writeAtomically(_ path: String, _ bytes: [UInt8]) throws { fatalError("contract") }
    public static func readFile(_ path: String) throws -> [UInt8] { fatalError("contract") }
    /// statvfs: (total bytes, available bytes) of the file system holding `path`.
    public static func diskSpace(_ path: String) throws -> (total: Int64, available: Int64) { fatalError("contract") }
}

/// Wall clock and monotonic clock in one place, so tests can reason about them.
public enum Clock {
    /// CLOCK_REALTIME in ms.
    public static func wallMillis() -> Int64 { fatalError("contract") }
    /// CLOCK_MONOTONIC in ns.
    public static func monotonicNanos() -> UInt64 { fatalError("contract") }
}
