import Glibc

/// The calling OS thread's CPU scheduling class.
///
/// Best effort and outside `Sys`, as ``ThreadName``: a class that cannot be set changes nothing else.
public enum ThreadPriority {
    /// Linux's `SCHED_IDLE` (`<sched.h>`; part of the kernel ABI, not imported into Swift because glibc defines it
    /// only under `_GNU_SOURCE`).
    static let schedIdle: Int32 = 5

    /// Moves the calling thread to `SCHED_IDLE`: it runs when no other thread wants its CPU, and any other
    /// thread's wake-up on that CPU preempts it at once. For CPU-heavy background work that no request waits
    /// on. Lowering the class is always permitted but raising it back is not without privileges
    /// (`RLIMIT_NICE`), so only threads that stay background for life call this. Returns false when refused.
    @discardableResult
    public static func setCurrentToIdle() -> Bool {
        var parameters = sched_param()
        parameters.sched_priority = 0
        return sched_setscheduler(0, schedIdle, &parameters) == 0
    }
}
