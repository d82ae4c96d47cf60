import NIOCore
import Synchronization

/// Hands work from a thread that is not an event loop to event loops, one task per loop for everything handed
/// to it meanwhile. A group commit completes every waiting send in one pass on the store's flush thread: hopping
/// each answer on its own would cost a task, often a loop wake-up and, with no coalescing off the loop, a
/// `writev` per answer; batched, a round costs one task per loop and the answers of each connection leave
/// together (callers coalesce their connection's writes inside the task).
///
/// Invariant: a loop's list is non-empty exactly while one drain task for it is queued (the item that creates
/// the list queues the task; the task removes the list before running it), so no item waits without a task.
final class LoopHandoff: Sendable {
    private struct Pending {
        var loop: any EventLoop
        var items: [@Sendable () -> Void]
    }

    private let pending = Mutex<[ObjectIdentifier: Pending]>([:])

    /// The one handoff of the process: keyed by loop, so brokers sharing a process share it safely.
    static let shared = LoopHandoff()

    /// Runs `item` on `loop`: at once when called there, else in the loop's next drain task.
    func run(on loop: any EventLoop, _ item: @escaping @Sendable () -> Void) {
        if loop.inEventLoop { return item() }
        let key = ObjectIdentifier(loop)
        let first = pending.withLock { p in
            if p[key] != nil {
                p[key]!.items.append(item)
                return false
            }
            p[key] = Pending(loop: loop, items: [item])
            return true
        }
        if first { loop.execute { self.drain(key) } }
    }

    private func drain(_ key: ObjectIdentifier) {
        let items = pending.withLock { $0.removeValue(forKey: key)?.items ?? [] }
        for item in items { item() }
    }
}
