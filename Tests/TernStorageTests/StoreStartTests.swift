import Foundation
import Testing
import TernSystem
@testable import TernStorage

/// `open` recovers without starting anything; `start()` starts the dispatcher, flusher, housekeeping and prefault
/// threads (idempotently), the prefault one alone in SCHED_IDLE (5; the others SCHED_OTHER, 0). Thread names
/// are read in a child process: in this one, parallel tests run stores of their own.
@Suite("Store threads start with start(), not open")
struct StoreStartTests {
    static let threads = ["tern-dispatch", "tern-flush", "tern-housekeep", "tern-prefault"]

    @Test func openStartsNoThreadStartStartsAllFour() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CrashTests.childPath)
        p.arguments = ["threads", dir.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        func names(_ prefix: String) throws -> [String] {
            let line = try #require(out.split(separator: "\n").first { $0.hasPrefix(prefix + " ") }, "\(out)")
            return line.dropFirst(prefix.count + 1).split(separator: ",").map(String.init)
        }
        let opened = try names("OPENED"), started = try names("STARTED")
        for t in Self.threads {
            #expect(!opened.contains(t), "\(t) runs before start(): \(opened)")
            #expect(started.filter { $0 == t }.count == 1, "\(t) not started exactly once: \(started)")
        }
        let policies = try names("POLICIES")
        #expect(policies == Self.threads.map { "\($0)=\($0 == "tern-prefault" ? 5 : 0)" }, "\(out)")
    }

    @Test func appendsBeforeStartAreDispatchedOnceStarted() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let store = try MessageStore.open(smallConfig(dir))
        defer { store.close() }
        let r = try store.append(draft(body: "early"))
        #expect(store.dispatchedOffset < r.endOffset)
        store.start()
        store.start()  // idempotent
        #expect(store.waitUntilDispatched(r.endOffset))
        #expect(store.message(at: r.physicalOffset).map(bodyString) == "early")
    }
}
