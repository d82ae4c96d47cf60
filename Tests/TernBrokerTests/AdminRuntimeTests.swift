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

    /// Apache's `mqadmin exportConfigs` copies these keys with `Properties.setProperty`, which throws on a missing
    /// one (ExportConfigsCommand.needBrokerProprties); each is present with the value in force.
    @Test func brokerConfigHasWhatExportConfigsReads() throws {
        var config = BrokerConfig()
        let table = Dictionary(uniqueKeysWithValues: config.properties.map { ($0.key, $0.value) })
        for key in ["brokerClusterName", "brokerId", "brokerName", "brokerRole", "fileReservedTime", "filterServerNums",
                    "flushDiskType", "maxMessageSize", "messageDelayLevel", "msgTraceTopicName", "slaveReadEnable",
                    "traceOn", "traceTopicEnable", "useTLS", "autoCreateTopicEnable", "autoCreateSubscriptionGroup"] {
            #expect(table[key] != nil, "\(key) missing")
        }
        #expect(table["messageDelayLevel"] == "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h")
        #expect(table["traceOn"] == "true" && table["filterServerNums"] == "0" && table["useTLS"] == "false")
        #expect(try config.apply(properties: "messageDelayLevel=90s 2d\ntraceOn=false\nuseTLS=true\n").isEmpty)
        let changed = Dictionary(uniqueKeysWithValues: config.properties.map { ($0.key, $0.value) })
        #expect(changed["messageDelayLevel"] == "90s 2d" && changed["traceOn"] == "false" && changed["useTLS"] == "true")
        #expect(throws: BrokerError.self) { try config.apply(properties: "filterServerNums=2\n") }
    }

    /// `MixAll.humanReadableByteCount(bytes, false)` and `StoreStatsService.getFormatRuntime`.
    @Test func javaFormats() {
        #expect(BrokerRuntimeInfo.humanReadable(512) == "512 B")
        #expect(BrokerRuntimeInfo.humanReadable(1536) == "1.5 KiB")
        #expect(BrokerRuntimeInfo.humanReadable(100 << 30) == "100.0 GiB")
        #expect(BrokerRuntimeInfo.runtime(millis: 90_061_000) == "[ 1 days, 1 hours, 1 minutes, 1 seconds ]")
    }
}

/// UPDATE_BROKER_CONFIG (25): live-changeable keys apply at once, show in GET_BROKER_CONFIG and survive a
/// restart (flow.json); any other key refuses the whole update.
@Suite struct UpdateBrokerConfigTests {
    @Test func liveKeysApplyAndOthersAreRefused() async throws {
        let f = try await BrokerFixture.start()
        var r = try await f.call(FlowAdminProcessor.updateBrokerConfig,
                                 body: ByteBuffer(string: "defaultTopicRateLimit=250\nsendBackRateLimit=40\n"))
        #expect(r.code == ResponseCode.success, "\(r.remark ?? "")")
        #expect(f.broker.context.flow.topicLimiter.snapshot.defaultRate == 250)
        let text = String(buffer: try #require(try await f.call(AdminRequestCode.getBrokerConfig).body))
        #expect(text.contains("defaultTopicRateLimit=250.0\n") && text.contains("sendBackRateLimit=40.0\n"))
        r = try await f.call(FlowAdminProcessor.updateBrokerConfig, body: ByteBuffer(string: "defaultTopicRateLimit=9\nbrokerName=x\n"))
        #expect(r.code == ResponseCode.systemError && r.remark?.contains("brokerName cannot change at runtime") == true)
        #expect(f.broker.context.flow.topicLimiter.snapshot.defaultRate == 250)
        await f.stop(keepStore: true)
        let again = try await BrokerFixture.start(storeDir: f.storeDir)
        #expect(again.broker.context.flow.topicLimiter.snapshot.defaultRate == 250)
        await again.stop()
    }

    /// The async-flush keys: read from broker.conf, changed live by UPDATE_BROKER_CONFIG (the store's flush thread
    /// takes them), shown by GET_BROKER_CONFIG, kept across a restart; a bad value changes nothing.
    @Test func flushKeysApplyLiveAndSurviveARestart() async throws {
        let f = try await BrokerFixture.start { config in
            #expect(try! config.apply(properties: "flushIntervalCommitLog=700\nflushCommitLogLeastPages=6\n").isEmpty)
        }
        #expect(f.broker.store.asyncFlush == AsyncFlushSettings(intervalMillis: 700, leastPages: 6))
        var r = try await f.call(FlowAdminProcessor.updateBrokerConfig, body: ByteBuffer(
            string: "flushIntervalCommitLog=50\nflushCommitLogLeastPages=0\nflushCommitLogThoroughInterval=2000\n"))
        #expect(r.code == ResponseCode.success, "\(r.remark ?? "")")
        let live = AsyncFlushSettings(intervalMillis: 50, leastPages: 0, thoroughIntervalMillis: 2_000)
        #expect(f.broker.store.asyncFlush == live)
        let text = String(buffer: try #require(try await f.call(AdminRequestCode.getBrokerConfig).body))
        #expect(text.contains("flushIntervalCommitLog=50\n") && text.contains("flushCommitLogLeastPages=0\n")
                && text.contains("flushCommitLogThoroughInterval=2000\n"), "\(text)")

        r = try await f.call(FlowAdminProcessor.updateBrokerConfig,
                             body: ByteBuffer(string: "defaultTopicRateLimit=9\nflushIntervalCommitLog=0\n"))
        #expect(r.code == ResponseCode.systemError && r.remark?.contains("flushIntervalCommitLog") == true)
        #expect(f.broker.store.asyncFlush == live)
        #expect(f.broker.context.flow.topicLimiter.snapshot.defaultRate != 9)

        await f.stop(keepStore: true)
        let again = try await BrokerFixture.start(storeDir: f.storeDir)
        #expect(again.broker.store.asyncFlush == live)
        await again.stop()
    }
}
