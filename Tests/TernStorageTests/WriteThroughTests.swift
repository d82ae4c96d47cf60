import Glibc
import Testing
import TernMessage
import TernSystem
@testable import TernStorage

/// `StoreConfig.writeThrough`: records reach the log by pwrite, not through the mapping. The files hold exactly the
/// bytes the mapped path writes (segment rolls and batches included); a failed pwrite publishes nothing and hands
/// the same offsets to the next append; the mapping's pages take no write faults.
@Suite("Write-through appends")
struct WriteThroughTests {
    /// Singles and batches over four queues, ~20 KiB records in 1 MiB segments: the log rolls at least three times,
    /// and some batches straddle a roll. Returns how many records each queue got.
    @discardableResult
    static func workload(_ store: MessageStore) throws -> [Int] {
        let body = String(repeating: "x", count: 20_000)
        var perQueue = [0, 0, 0, 0]
        for i in 0..<80 {
            if i % 3 == 0 {
                let batch = (0..<4).map { j in draft(queueId: Int32(j), body: "b\(i)-\(j)" + body, keys: ["k\(i)"]) }
                _ = try store.append(batch: batch)
                for j in 0..<4 { perQueue[j] += 1 }
            } else {
                _ = try store.append(draft(queueId: Int32(i % 4), body: "s\(i)" + body, tags: "t\(i % 2)"))
                perQueue[i % 4] += 1
            }
        }
        return perQueue
    }

    static func config(_ dir: TempDir, writeThrough: Bool, clock: ManualClock) -> StoreConfig {
        var c = smallConfig(dir)
        c.writeThrough = writeThrough
        c.clock = clock
        return c
    }

    @Test func theLogHoldsTheSameBytesAsThroughTheMapping() async throws {
        let mapped = TempDir("mapped"), through = TempDir("through")
        defer { mapped.cleanup(); through.cleanup() }
        var perQueue: [Int] = []
        for (dir, on) in [(mapped, false), (through, true)] {
            let store = try MessageStore.open(Self.config(dir, writeThrough: on, clock: ManualClock())).start()
            perQueue = try Self.workload(store)
            #expect(await store.dispatched(store.maxPhysicalOffset))
            store.close()
        }
        let names = try FileSystem.listDirectory(mapped.path + "/commitlog").filter { Segment.base(fromFileName: $0) != nil }
        #expect(names.count >= 4, "the workload did not roll the log")
        #expect(try FileSystem.listDirectory(through.path + "/commitlog").filter { Segment.base(fromFileName: $0) != nil } == names)
        for name in names {
            let a = try MappedFile.openReadOnly(path: mapped.path + "/commitlog/" + name)
            let b = try MappedFile.openReadOnly(path: through.path + "/commitlog/" + name)
            #expect(a.size == b.size && a.bytes(0..<a.size).elementsEqual(b.bytes(0..<b.size)), "\(name) differs")
        }
        // Reopened, the write-through store serves every queue contiguously.
        let store = try MessageStore.open(Self.config(through, writeThrough: true, clock: ManualClock())).start()
        defer { store.close() }
        for q in 0..<Int32(4) {
            let got = try store.getMessages(QueueKey(topic: "TopicTest", queueId: q), from: 0, maxCount: 100, maxBytes: 1 << 24)
            #expect(got.messages.count == perQueue[Int(q)], "queue \(q)")
            #expect(got.messages.map(\.record.queueOffset) == (0..<Int64(got.messages.count)).map { $0 })
        }
    }

    /// A pwrite failure (EIO; at a segment roll, while the stage holds the records of the old segment) fails the
    /// append with the file, errno and offset; nothing is published, and the next append gets the same physical
    /// and queue offsets.
    @Test(arguments: [false, true])
    func aFailedWritePublishesNothingAndTheNextAppendTakesItsOffsets(atRoll: Bool) async throws {
        let dir = TempDir(); defer { dir.cleanup(); SystemFaults.reset(scope: dir.path) }
        // Started only once the offsets are checked: a dispatcher meeting a published hole would never finish.
        let store = try MessageStore.open(Self.config(dir, writeThrough: true, clock: ManualClock()))
        defer { store.close() }
        let first = try store.append(draft(queueId: 0, body: "before"))
        let big = String(repeating: "y", count: 30_000)
        let batch = (0..<(atRoll ? 40 : 2)).map { i in draft(queueId: Int32(i % 2), body: "b\(i)|" + (atRoll ? big : "")) }
        SystemFaults.inject("pwrite", errno: EIO, pathContains: dir.path + "/commitlog")
        let failure: StoreError?
        do { _ = try store.append(batch: batch); failure = nil } catch { failure = error }
        guard case let .io(why)? = failure else {
            Issue.record("expected an io error from the failed pwrite, got \(String(describing: failure))")
            return
        }
        #expect(why.operation == "pwrite" && why.errno == EIO)
        #expect(why.path == segmentPath(dir, base: 0))
        #expect(why.offset == first.endOffset)
        #expect(!SystemFaults.isArmed("pwrite", scope: dir.path))
        #expect(store.maxPhysicalOffset == first.endOffset, "a record that was not written was published")

        let again = try store.append(batch: batch)
        try #require(again.first?.physicalOffset == first.endOffset, "the failed records' bytes were skipped")
        #expect(again.filter { $0.queueOffset == 0 }.count == 1)  // queue 1's first; queue 0 continues after "before"
        store.start()
        #expect(await store.dispatched(store.maxPhysicalOffset))
        for q in 0..<Int32(2) {
            let got = try store.getMessages(QueueKey(topic: "TopicTest", queueId: q), from: 0, maxCount: 100, maxBytes: 1 << 24)
            let bodies = got.messages.map { String(bodyString($0).prefix { $0 != "|" }) }
            let expected = (q == 0 ? ["before"] : []) + batch.indices.filter { $0 % 2 == Int(q) }.map { "b\($0)" }
            #expect(bodies == expected, "queue \(q)")
            #expect(got.messages.map(\.record.queueOffset) == (0..<Int64(got.messages.count)).map { $0 })
        }
    }

    /// Appending 2 MiB (no prefault, so the mapped path touches each page first itself) costs the appending thread
    /// at least a fault per page through the mapping and almost none by pwrite.
    @Test func appendsDoNotFaultTheMapping() throws {
        func faults(writeThrough: Bool) throws -> Int {
            let dir = TempDir("faults\(writeThrough)"); defer { dir.cleanup() }
            var c = smallConfig(dir, segmentSize: 8 << 20)
            c.writeThrough = writeThrough
            let store = try MessageStore.open(c)  // not started: no dispatcher reading the map meanwhile
            defer { store.close() }
            let body = String(repeating: "z", count: 1_000)
            _ = try store.append(draft(body: body))  // the stage and the descriptor exist from here
            let before = Self.minorFaults()
            for _ in 0..<2_000 { _ = try store.append(draft(body: body)) }
            return Self.minorFaults() - before
        }
        let mapped = try faults(writeThrough: false), through = try faults(writeThrough: true)
        #expect(mapped >= 400, "the mapped path took \(mapped) faults for ~500 pages")
        #expect(through < 64, "write-through took \(through) faults")
    }

    /// This thread's minor page faults so far.
    static func minorFaults() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(1), &usage)  // RUSAGE_THREAD (a GNU value the Swift module does not export)
        return usage.ru_minflt
    }
}
