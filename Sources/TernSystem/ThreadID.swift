import Glibc

/// The calling thread's POSIX id (`pthread_self`): unique among the process's live threads, so a thread can tell
/// whether it is the one a value names (never 0 for a running thread on glibc: it is the thread's own address).
public enum ThreadID {
    public static var current: UInt { UInt(pthread_self()) }
}
