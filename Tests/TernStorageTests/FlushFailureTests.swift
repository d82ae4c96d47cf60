import Foundation
import Glibc
import Testing
import TernMessage
import TernSystem
@testable import TernStorage

/// A failed msync / fsync never reads as "stored": waiters hear the failure, the store refuses appends until it is
/// reopened, and the reopened store serves everything that was durable before (faults injected through
/// `SystemFaults`, scoped to this test's directory).
@Suite("Flush failures fence the write path")
struct FlushFailureTests {
    @Test func failedMsyncFailsTheWaiterRefusesAppendsAndRecoversOnReopen() async throws {
        let dir = TempDir(); defer { dir.cleanup(); SystemFaults.reset(scope: dir.path) }
        let config = smallConfig(dir, flush: .sync(timeoutMillis: 5_000))
        var store = try MessageStore.open(config).start()
        let durable = try await store.appendDurably(draft(body: "before"))

        SystemFaults.inject("msync", errno: EIO, pathContains: dir.path + "/commitlog")
        await #expect(throws: StoreError.self) { _ = try await store.appendDurably(draft(body: "lost?")) }
        do {
            _ = try await store.appendDurably(draft(body: "x"))
            Issue.record("a flush-failed store accepted an append")
        } catch let e as StoreError {
            guard case let .writeFailed(why) = e else { Issue.record("expected writeFailed, got \(e)"); return }
            #expect(why.systemError?.operation == "msync" && why.systemError?.errno == EIO)
            #expect(why.systemError?.path?.hasPrefix(dir.path + "/commitlog/") == true)
        }
        #expect(throws: StoreError.self) { _ = try store.append(draft(body: "y")) }
        // Reads keep working.
        #expect(store.message(at: durable.physicalOffset)?.record.body.elementsEqual("before".utf8) == true)
        store.close()

        SystemFaults.reset(scope: dir.path)
        store = try MessageStore.open(config).start()
        defer { store.close() }
        #expect(store.message(at: durable.physicalOffset)?.record.body.elementsEqual("before".utf8) == true)
        let after = try await store.appendDurably(draft(body: "after"))
        #expect(after.physicalOffset > durable.physicalOffset)
    }

    @Test func injectedEINTRIsRetriedAndOtherErrnosNameTheOperationAndPath() throws {
        let dir = TempDir(); defer { dir.cleanup(); SystemFaults.reset(scope: dir.path) }
        let file = dir.path + "/state.json"
        SystemFaults.inject("rename", errno: EINTR, times: 3, pathContains: dir.path)
        try FileSystem.writeAtomically(file, Array("{}".utf8))
        SystemFaults.inject("fsync", errno: ENOSPC, pathContains: dir.path)
        do {
            try FileSystem.writeAtomically(file, Array("{\"a\":1}".utf8))
            Issue.record("an injected ENOSPC did not surface")
        } catch let e as SystemError {
            #expect(e.operation == "fsync" && e.errno == ENOSPC && (e.path ?? "").contains(dir.path))
        }
    }
}
