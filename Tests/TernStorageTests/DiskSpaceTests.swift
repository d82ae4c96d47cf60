import Foundation
import Testing
import TernMessage
import TernSystem
@testable import TernStorage

/// Disk space as a state: thresholds, retention that never deletes unread messages for space, and a real full
/// tmpfs that refuses appends and recovers when it grows.
@Suite(.serialized) struct DiskSpaceTests {
    @Test func thresholdsFollowRocketMQsOrder() {
        var p = DiskSpacePolicy()
        p.reserveBytes = 0
        let gib: Int64 = 1 << 30
        func at(_ usedPercent: Int64) -> DiskPressure { p.pressure(DiskUsage(total: 100 * gib, free: (100 - usedPercent) * gib), segmentBytesNeeded: 0) }
        #expect(at(50) == .normal)
        #expect(at(76) == .reclaim)
        #expect(at(86) == .forcible)
        #expect(at(91) == .full)
        // Too little room for the next segment is full whatever the ratio.
        #expect(p.pressure(DiskUsage(total: 100 * gib, free: gib / 2), segmentBytesNeeded: gib) == .full)
        p.reserveBytes = 2 * gib
        #expect(p.pressure(DiskUsage(total: 100 * gib, free: gib), segmentBytesNeeded: 0) == .full)
    }

    @Test func triggersFollowDeleteWhenAndPressure() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        var c = smallConfig(dir)
        let now = Clock.wallMillis()
        let hour = Calendar.current.component(.hour, from: Date(timeIntervalSince1970: Double(now) / 1000))
        c.deleteWhenHours = [(hour + 1) % 24]
        let store = try MessageStore.open(c).start()
        defer { store.close() }
        #expect(store.retentionTrigger(now: now, pressure: .normal) == .init(expired: false, forcibly: false))
        #expect(store.retentionTrigger(now: now, pressure: .reclaim) == .init(expired: true, forcibly: false))
        #expect(store.retentionTrigger(now: now, pressure: .forcible) == .init(expired: true, forcibly: true))
        #expect(store.retentionTrigger(now: now + 3_600_000, pressure: .normal) == .init(expired: true, forcibly: false))
    }

    @Test(arguments: Backend.allCases)
    func forcibleCleaningDeletesOnlySegmentsEveryReaderIsPast(_ backend: Backend) throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let store = try MessageStore.open(smallConfig(dir, backend, segmentSize: 64 * 1024)).start()
        defer { store.close() }
        let body = String(repeating: "f", count: 2000)
        var results: [AppendResult] = []
        for i in 0..<200 { results.append(try store.append(draft(queueId: Int32(i % 2), body: body))) }
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        let forcibly = MessageStore.RetentionTrigger(expired: false, forcibly: true)
        // Nobody has read anything: nothing may go, however full the disk.
        #expect(try store.runRetention(trigger: forcibly) == 0)
        // A group has read queue 0 up to offset 60, queue 1 not at all: queue 1 still holds the floor.
        let q0 = QueueKey(topic: "TopicTest", queueId: 0), q1 = QueueKey(topic: "TopicTest", queueId: 1)
        try store.commitConsumerOffset(group: "G", queue: q0, offset: 60)
        #expect(try store.runRetention(trigger: forcibly) == 0)
        // Queue 1 read up to 30 as well: segments below the 60th record of the log (queue 1's 30th) may go.
        try store.commitConsumerOffset(group: "G", queue: q1, offset: 30)
        let floor = results[60].physicalOffset
        let deleted = try store.runRetention(trigger: forcibly)
        #expect(deleted > 0)
        #expect(store.minPhysicalOffset <= floor)
        #expect(store.segments.allSatisfy { $0.end > floor || $0.base >= store.minPhysicalOffset })
        // Every unread message is still served.
        let unread = try store.getMessages(q1, from: 30, maxCount: 100).messages.map(bodyString)
        #expect(unread.count == 70)
        // A slower second group on queue 0 holds the floor back again.
        try store.commitConsumerOffset(group: "Slow", queue: q0, offset: try #require(try store.queueRange(q0)).min)
        #expect(try store.runRetention(trigger: forcibly) == 0)
    }

    /// A real full file system (tmpfs mounted by the test; needs root): appends are refused with the disk-full
    /// error and never fail otherwise, every acknowledged record stays readable, and after the tmpfs grows
    /// appends succeed again without reopening the store.
    @Test func fullTmpfsRefusesAppendsAndRecoversWhenItGrows() async throws {
        guard getuid() == 0 else {
            print("DiskSpaceTests: skipped (mounting a tmpfs needs root)")
            return
        }
        let dir = TempDir(); defer { dir.cleanup() }
        try run("/bin/mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", dir.path)
        defer { try? run("/bin/umount", "-l", dir.path) }
        var c = smallConfig(dir, .lmdb, segmentSize: 1 << 20)
        c.root = dir.path + "/store"
        c.diskSpace.reserveBytes = 1 << 20
        c.lmdbMapSize = 64 << 20
        let store = try MessageStore.open(c).start()
        defer { store.close() }
        let body = String(repeating: "d", count: 4000)
        var acked: [AppendResult] = []
        var refusal: StoreError?
        for i in 0..<10_000 {
            do { acked.append(try store.append(draft(queueId: Int32(i % 4), body: "\(i):" + body))) } catch {
                refusal = error
                break
            }
        }
        guard case let .diskFull(why)? = refusal else {
            Issue.record("expected a disk-full refusal, got \(String(describing: refusal)) after \(acked.count) appends")
            return
        }
        #expect(why.contains("disk full") && why.contains("% used"))
        #expect(acked.count > 100)
        // Refused again at once; reads work.
        #expect(throws: StoreError.self) { try store.append(draft(body: "again")) }
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        for r in acked.prefix(50) + acked.suffix(50) { #expect(store.message(at: r.physicalOffset) != nil) }

        try run("/bin/mount", "-o", "remount,size=48m", dir.path)
        var resumed = false
        let deadline = Clock.monotonicNanos() + 10_000_000_000
        while Clock.monotonicNanos() < deadline {
            if let r = try? store.append(draft(body: "after")) { acked.append(r); resumed = true; break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(resumed, "appends did not resume after the tmpfs grew")
        #expect(store.waitUntilDispatched(store.maxPhysicalOffset))
        var total = 0
        for q in 0..<4 {
            var next: Int64 = 0
            while true {
                let got = try store.getMessages(QueueKey(topic: "TopicTest", queueId: Int32(q)), from: next, maxCount: 1_000)
                if got.messages.isEmpty { break }
                total += got.messages.count
                next = got.nextBeginOffset
            }
        }
        #expect(total == acked.count)
    }

    private func run(_ tool: String, _ args: String...) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        try p.run()
        p.waitUntilExit()
        if p.terminationStatus != 0 { throw StoreError.unexpected("\(tool) \(args) exited \(p.terminationStatus)") }
    }
}
