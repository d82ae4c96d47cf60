import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing
@testable import TernBroker

/// Work handed to event loops from other threads (a group commit's released sends) runs on its loop, exactly
/// once, in the order each thread handed it.
@Suite("LoopHandoff")
struct LoopHandoffTests {
    @Test func itemsFromOtherThreadsRunOnceOnTheirLoopInHandOrder() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { try? group.syncShutdownGracefully() }
        let loops = [group.next(), group.next()]
        let handoff = LoopHandoff()
        let threads = 4, perThread = 2_000
        // Per (thread, loop): the sequence numbers in the order they ran.
        let ran = Mutex<[[Int]]>(Array(repeating: [], count: threads * 2))
        let offLoop = Atomic<Int>(0)
        let remaining = Atomic<Int>(threads * perThread)
        let done = DispatchSemaphore(value: 0)
        for t in 0..<threads {
            Thread.detachNewThread {
                for i in 0..<perThread {
                    let l = i % 2, loop = loops[l]
                    handoff.run(on: loop) {
                        if !loop.inEventLoop { offLoop.add(1, ordering: .relaxed) }
                        ran.withLock { $0[t * 2 + l].append(i) }
                        if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { done.signal() }
                    }
                }
            }
        }
        #expect(done.wait(timeout: .now() + .seconds(30)) == .success, "\(remaining.load(ordering: .relaxed)) items never ran")
        #expect(offLoop.load(ordering: .relaxed) == 0)
        for t in 0..<threads {
            for l in 0..<2 {
                let expected = Array(stride(from: l, to: perThread, by: 2))
                #expect(ran.withLock { $0[t * 2 + l] } == expected, "thread \(t) loop \(l): lost, repeated or reordered")
            }
        }
    }

    @Test func anItemHandedOnItsOwnLoopRunsAtOnce() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        let handoff = LoopHandoff()
        let ranInline = try loop.submit {
            let ran = Mutex(false)
            handoff.run(on: loop) { ran.withLock { $0 = true } }
            return ran.withLock { $0 }
        }.wait()
        #expect(ranInline)
    }
}
