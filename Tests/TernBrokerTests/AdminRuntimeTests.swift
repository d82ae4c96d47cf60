import Foundation
import NIOCore
@testable import TernBroker
import TernProtocol
import TernMessage
import TernRemoting
import TernStorage
import Testing

/// GET_BROKER_RUNTIME_INFO (28) and GET_BROKER_CONFIG (26) against a real broker, checked for what Apache's
/// `mqadmin clusterList` / `brokerStatus` / `getBrokerConfig` read (tools/command/cluster/ClusterListSubCommand).
@Suite struct AdminRuntimeTests {
    /// Every key clusterList reads, in the form it parses: `putTps` / `getTransferedTps` split on blanks and
    /// `Double.parseDouble`d, `commitLogDiskRatio` a double, the totals longs.
    @Test func runtimeInfoHasWhatClusterListParses() async throws {
        let f = try await BrokerFixture.start()
        for i in 0 ..< 3 { try await AdminProcessorTests.send(f, "RI", "m\(i)") }
        AdminProcessorTests.dispatched(f)
        let r = try await f.call(AdminRequestCode.getBrokerRuntimeInfo)
        #expect(r.code == ResponseCode.success)
        let table = try KVTableBody.decode(from: r.body).table
        for key in ["msgPutTotalYesterdayMorning", "msgPutTotalTodayMorning", "msgPutTotalTodayNow",
                    "msgGetTotalYesterdayMorning", "msgGetTotalTodayMorning", "msgGetTotalTodayNow",
                    "sendThreadPoolQueueSize", "pullThreadPoolQueueSize", "sendThreadPoolQueueHeadWaitTimeMills",
                    "pullThreadPoolQueueHeadWaitTimeMills", "pageCacheLockTimeMills", "earliestMessageTimeStamp"] {
            #expect(table[key].flatMap { Int64($0) } != nil, "\(key) = \(table[key] ?? "nil")")
        }
        for key in ["putTps", "getTransferedTps"] {
            let parts = try #require(table[key]).split(separator: " ")
            #expect(parts.count == 3 && parts.allSatisfy { Double($0) != nil }, "\(key)")
        }
        let ratio = try #require(table["commitLogDiskRatio"].flatMap { Double($0) })
        #expect(ratio > 0 && ratio <= 1)
        #expect(table["commitLogDirCapacity"]?.hasPrefix("Total : ") == true)
        #expect(table["msgPutTotalTodayNow"] == "3")
        let first = try #require(f.broker.store.message(at: 0)?.record.storeTimestamp)
        #expect(table["earliestMessageTimeStamp"] == String(first))
        #expect(table["brokerVersionDesc"] == "V4_9_7")
        await f.stop()
    }

    /// The body is properties text the admin client reads with `string2Properties`; it applies back to a config
    /// unchanged, and the `version` field is a DataVersion.
    @Test func brokerConfigIsPropertiesText() async throws {
        let f = try await BrokerFixture.start { $0.brokerName = "broker-z"; $0.autoCreateSubscriptionGroup = false }
        let r = try await f.call(AdminRequestCode.getBrokerConfig)
        #expect(r.code == ResponseCode.success)
        let text = String(buffer: try #require(r.body))
        #expect(text.contains("brokerName=broker-z\n") && text.contains("autoCreateSubscriptionGroup=false\n"))
        var copy = BrokerConfig()
        let warnings = try copy.apply(properties: text)
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(copy.propertiesText == text)
        #expect(try JSONBody.decode(DataVersion.self, from: ByteBuffer(string: try #require(r.extFields["version"]))).timestamp > 0)
        await f.stop()
    }

    /// `MixAll.humanReadableByteCount(bytes, false)` and `StoreStatsService.getFormatRuntime`.
    @Test func javaFormats() {
        #expect(BrokerRuntimeInfo.humanReadable(512) == "512 B")
        #expect(BrokerRuntimeInfo.humanReadable(1536) == "1.5 KiB")
        #expect(BrokerRuntimeInfo.humanReadable(100 << 30) == "100.0 GiB")
        #expect(BrokerRuntimeInfo.runtime(millis: 90_061_000) == "[ 1 days, 1 hours, 1 minutes, 1 seconds ]")
    }
}
