import Foundation
import Glibc
import NIOCore
@testable import TernBroker
import TernClient
import TernMessage
import TernRemoting
import TernStorage
import TernSystem
import Testing

/// Store write failures as a producer hears them (an in-process broker, TernClient with retries off): a failed
/// msync under SYNC_FLUSH answers SYSTEM_ERROR naming the call, file and errno, later sends SERVICE_NOT_AVAILABLE,
/// and a restart recovers with every acknowledged message readable; a segment that cannot be prepared answers
/// SYSTEM_ERROR and the broker keeps serving once the fault clears. Faults are scoped to each test's store.
@Suite("Store write failures reach the producer", .serialized)
struct WriteFailureTests {
    static let topic = "WF"

    static func producer(_ f: BrokerFixture) -> (Producer, ClientRuntime) {
        let runtime = TransactionTests.runtime(f, topics: [topic])
        var options = ProducerOptions()
        options.retries = 0  // a retry would hide the first answer behind the second
        options.compressBodyOver = nil
        return (Producer(runtime: runtime, options: options), runtime)
    }

    /// The broker's answer to a failed send.
    static func refusal(_ send: () async throws -> SendResult) async -> (code: Int, remark: String)? {
        do {
            _ = try await send()
            return nil
        } catch let ClientError.response(code, remark, _) {
            return (code, remark ?? "")
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    static func body(_ i: Int) -> [UInt8] { Array("message-\(i)".utf8) }

    @Test func failedMsyncAnswersSystemErrorThenServiceNotAvailableAndRestartRecovers() async throws {
        var f = try await BrokerFixture.start { $0.flushDiskType = .syncFlush }
        let storeDir = f.storeDir
        let logDir = storeDir + "/commitlog"
        defer { SystemFaults.reset(scope: logDir); try? FileManager.default.removeItem(atPath: storeDir) }
        var (producer, runtime) = Self.producer(f)
        var acknowledged: [(offset: Int64, body: [UInt8])] = []
        for i in 0..<20 {
            let r = try await producer.send(topic: Self.topic, body: Self.body(i))
            #expect(r.status == .ok)
            acknowledged.append((try TransactionTests.halfOffset(r), Self.body(i)))
        }

        SystemFaults.inject("msync", errno: EIO, pathContains: logDir)
        let failed = await Self.refusal { try await producer.send(topic: Self.topic, body: Self.body(20)) }
        #expect(failed?.code == ResponseCode.systemError)
        for part in ["msync", logDir + "/", "EIO"] { #expect(failed?.remark.contains(part) == true, "\(part)") }
        let fenced = await Self.refusal { try await producer.send(topic: Self.topic, body: Self.body(21)) }
        #expect(fenced?.code == ResponseCode.serviceNotAvailable)
        #expect(fenced?.remark.contains("msync") == true && fenced?.remark.contains("EIO") == true)
        runtime.shutdown()
        await f.stop(keepStore: true)

        SystemFaults.reset(scope: logDir)
        f = try await BrokerFixture.start(storeDir: storeDir) { $0.flushDiskType = .syncFlush }
        (producer, runtime) = Self.producer(f)
        let after = try await producer.send(topic: Self.topic, body: Self.body(22))
        #expect(after.status == .ok)
        for (offset, body) in acknowledged {
            #expect(f.broker.store.message(at: offset).map { Array($0.record.body) } == body, "offset \(offset)")
        }
        runtime.shutdown()
        await f.stop(keepStore: true)
    }

    @Test func segmentThatCannotBePreparedAnswersSystemErrorAndTheBrokerRecovers() async throws {
        let f = try await BrokerFixture.start {
            $0.mappedFileSizeCommitLog = 1 << 20
            $0.maxMessageSize = 64 << 10
        }
        let logDir = f.storeDir + "/commitlog"
        defer { SystemFaults.reset(scope: logDir) }
        let (producer, runtime) = Self.producer(f)
        SystemFaults.inject("posix_fallocate", errno: ENOSPC, pathContains: logDir)
        let big = [UInt8](repeating: 0x5A, count: 10_000)
        var refusal: (code: Int, remark: String)?
        var sent = 0
        while refusal == nil && sent < 300 {
            refusal = await Self.refusal { try await producer.send(topic: Self.topic, body: big) }
            sent += 1
        }
        #expect(refusal?.code == ResponseCode.systemError)
        for part in ["posix_fallocate", logDir + "/", "ENOSPC"] { #expect(refusal?.remark.contains(part) == true, "\(part)") }
        #expect(try FileSystem.listDirectory(logDir) == [Segment.fileName(base: 0)])

        // The fault is spent: the housekeeping thread's next attempt succeeds and sends are stored again.
        var stored: SendResult?
        let deadline = Date().addingTimeInterval(10)
        while stored == nil && Date() < deadline {
            stored = try? await producer.send(topic: Self.topic, body: big)
            if stored == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(stored?.status == .ok)
        runtime.shutdown()
        await f.stop()
    }
}
