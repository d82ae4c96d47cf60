import Glibc

/// A reader / writer lock (pthread_rwlock_t, glibc's default: readers preferred, so a thread that already holds
/// the shared side may take it again without deadlocking behind a waiting exclusive taker).
///
/// Used by `LMDBEnvironment` with MDB_WRITEMAP: every transaction runs on the shared side, and re-mapping the
/// file to a larger size (which LMDB allows only while no transaction of this process is open) on the
/// exclusive side.
final class ReadWriteGate: @unchecked Sendable {
    // @unchecked Sendable: the pthread_rwlock_t is allocated once, never moved (POSIX forbids copying a lock),
    // used only through pthread_rwlock_* (thread-safe by definition) and destroyed in deinit, when no thread can
    // hold it any more (every holder holds a reference to this object).
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>
    /// Per thread: how many shared sections of this gate it is inside (a thread-specific value, the count as the
    /// pointer's bits), so taking the exclusive side from inside one traps instead of waiting forever.
    private let depthKey: pthread_key_t

    init() {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        let rc = pthread_rwlock_init(lock, nil)
        precondition(rc == 0, "pthread_rwlock_init: \(rc)")
        var key = pthread_key_t()
        let keyRC = pthread_key_create(&key, nil)
        precondition(keyRC == 0, "pthread_key_create: \(keyRC)")
        depthKey = key
    }

    deinit {
        pthread_key_delete(depthKey)
        pthread_rwlock_destroy(lock)
        lock.deinitialize(count: 1)
        lock.deallocate()
    }

    /// Shared sections of this gate the calling thread is inside.
    var depth: Int { Int(bitPattern: pthread_getspecific(depthKey)) }

    @inline(__always)
    private func setDepth(_ n: Int) { pthread_setspecific(depthKey, UnsafeRawPointer(bitPattern: n)) }

    /// Runs `body` holding the shared side (any number of threads at once).
    @inline(__always)
    func shared<R>(_ body: () throws -> R) rethrows -> R {
        // EAGAIN (too many readers) and EDEADLK cannot happen with a few dozen threads and no exclusive holder
        // re-entering; either would be a bug here.
        let rc = pthread_rwlock_rdlock(lock)
        precondition(rc == 0, "pthread_rwlock_rdlock: \(rc)")
        let outer = depth
        setDepth(outer + 1)
        defer {
            setDepth(outer)
            pthread_rwlock_unlock(lock)
        }
        return try body()
    }

    /// Runs `body` as the only holder. Traps when the calling thread is inside a shared section of this gate
    /// (it would wait for itself).
    func exclusive<R>(_ body: () throws -> R) rethrows -> R {
        precondition(depth == 0, "ReadWriteGate: exclusive side taken inside a shared section of the same thread")
        let rc = pthread_rwlock_wrlock(lock)
        precondition(rc == 0, "pthread_rwlock_wrlock: \(rc)")
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}
