import Foundation
import Synchronization
import Testing
@testable import TernStorage
import TernSystem

@Suite struct BackgroundThreadNameTests {
    /// Every store thread carries its own name in /proc, never its creator's (a test task runs on a pool thread),
    /// so per-thread CPU and wake-up tools (tools/bench-broker, tools/idle-wakeups) file it right.
    @Test func eachThreadShowsItsOwnName() {
        let seen = Mutex<[String: String]>([:])
        let threads = (0..<20).map { BackgroundThread(name: "tern-t\($0)") }
        let done = DispatchSemaphore(value: 0)
        for (i, thread) in threads.enumerated() {
            thread.start { _ in
                seen.withLock { $0["tern-t\(i)"] = ThreadName.current }
                done.signal()
            }
        }
        for _ in threads { #expect(done.wait(timeout: .now() + 10) == .success) }
        for thread in threads { thread.stop() }
        #expect(seen.withLock { $0 } == Dictionary(uniqueKeysWithValues: (0..<20).map { ("tern-t\($0)", "tern-t\($0)") }))
    }

    @Test func longNamesAreCutToTheKernelsFifteenBytes() {
        let name = Mutex("")
        let thread = BackgroundThread(name: "tern-a-very-long-thread-name")
        let done = DispatchSemaphore(value: 0)
        thread.start { _ in
            name.withLock { $0 = ThreadName.current }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 10) == .success)
        thread.stop()
        #expect(name.withLock { $0 } == "tern-a-very-lon")
    }

    /// A store's deinit may run on one of its own threads (a thread that held the last reference for a moment), and
    /// its `close` stops every thread: stopping the calling thread returns instead of waiting for itself.
    @Test func stoppingFromItsOwnBodyReturns() {
        let thread = BackgroundThread(name: "tern-self-stop")
        let stopped = DispatchSemaphore(value: 0)
        let loops = Atomic<Int>(0)
        thread.start { t in
            while t.isRunning {
                loops.add(1, ordering: .relaxed)
                t.stop()
                stopped.signal()
            }
        }
        #expect(stopped.wait(timeout: .now() + 10) == .success)
        #expect(loops.load(ordering: .relaxed) == 1)
        #expect(!thread.isRunning)
        thread.stop()  // again, from outside: already stopped, returns
    }
}
