import Synchronization

/// Test-only fault injection (swift-system's `Internals/Mocking.swift` idea): makes the next calls of one C
/// function fail with a chosen errno, optionally only for paths containing a substring, so tests can prove what
/// ENOSPC / EIO / EINTR do to each write path. Every wrapper in `Sys.retrying` consults it; when nothing is
/// armed the cost is one relaxed atomic load.
public enum SystemFaults {
    struct Fault {
        var operation: String
        var pathContains: String?
        var errno: Int32
        var remaining: Int
    }

    static let armed = Atomic<Bool>(false)
    static let faults = Mutex<[Fault]>([])

    /// The next `times` calls of `operation` (the C function's name: "msync", "fsync", "ftruncate", "write",
    /// "open", "rename", …) on a path containing `pathContains` fail with `errno`.
    public static func inject(_ operation: String, errno: Int32, times: Int = 1, pathContains: String? = nil) {
        faults.withLock { $0.append(Fault(operation: operation, pathContains: pathContains, errno: errno, remaining: times)) }
        armed.store(true, ordering: .releasing)
    }

    /// Removes every armed fault, or with `scope` only those whose `pathContains` begins with it, so a test that
    /// arms faults under its own directory and resets that directory leaves concurrent tests' faults alone.
    public static func reset(scope: String? = nil) {
        faults.withLock { list in
            if let scope { list.removeAll { $0.pathContains?.hasPrefix(scope) ?? false } } else { list = [] }
            if list.isEmpty { armed.store(false, ordering: .releasing) }
        }
    }

    /// True while a fault for `operation` armed under `scope` (a `pathContains` beginning with it) is unused.
    public static func isArmed(_ operation: String, scope: String) -> Bool {
        faults.withLock { list in
            list.contains { $0.operation == operation && ($0.pathContains?.hasPrefix(scope) ?? false) }
        }
    }

    /// The errno to fail this call with, if a fault is armed for it (consumes one use).
    @inline(__always)
    static func take(_ operation: String, _ path: String?) -> Int32? {
        guard armed.load(ordering: .relaxed) else { return nil }
        return faults.withLock { list -> Int32? in
            guard let i = list.firstIndex(where: { f in
                f.operation == operation && (f.pathContains.map { p in path?.contains(p) ?? false } ?? true)
            }) else { return nil }
            let code = list[i].errno
            list[i].remaining -= 1
            if list[i].remaining <= 0 { list.remove(at: i) }
            return code
        }
    }
}
