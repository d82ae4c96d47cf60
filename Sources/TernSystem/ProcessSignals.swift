import Glibc

/// Signals to other processes (crash tests and tools that must really kill a process).
public enum ProcessSignals {
    /// kill(pid, SIGKILL): the process dies at once, without running any of its code.
    public static func killHard(_ pid: Int32) throws {
        _ = try Sys.retrying("kill", nil) { Glibc.kill(pid, SIGKILL) }
    }

    /// The calling process's id (getpid).
    public static var currentProcessId: Int32 { getpid() }
}
