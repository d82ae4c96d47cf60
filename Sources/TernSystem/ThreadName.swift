import Glibc

/// The calling OS thread's name as /proc, `top -H` and debuggers show it (`/proc/PID/task/TID/comm`).
///
/// Set from inside the thread through `/proc/thread-self/comm` (pthread_setname_np is not visible to Swift
/// here): a new thread starts with its creator's name, and Foundation's `Thread.name` setter does not always
/// reach the OS thread, so a thread named that way sometimes keeps its creator's (a dispatch worker's) name and
/// per-thread tools misfile its CPU.
///
/// Best effort and outside `Sys`: a name that cannot be set changes nothing else, and a store thread starting
/// must not take an errno that a test injected (`SystemFaults`) for the store's own files.
public enum ThreadName {
    /// The kernel keeps at most this many bytes of a name; longer names are cut to it.
    public static let maxBytes = 15
    static let path = "/proc/thread-self/comm"

    /// Names the calling thread; `name` is cut to ``maxBytes`` bytes (whole scalars).
    public static func setCurrent(_ name: String) {
        var cut = ""
        for scalar in name.unicodeScalars {
            guard cut.utf8.count + String(scalar).utf8.count <= maxBytes else { break }
            cut.unicodeScalars.append(scalar)
        }
        let fd = Glibc.open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = Array(cut.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        _ = Glibc.close(fd)
    }

    /// The calling thread's name.
    public static var current: String {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { _ = Glibc.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        return String(decoding: buffer.prefix(max(0, n)).filter { $0 != 0x0A }, as: UTF8.self)
    }
}
