import Foundation
import NIOCore
import TernBroker
import TernRemoting
import TernStorage
import TernTransport
import Testing

@Suite struct BrokerConfigPropertiesTests {
    @Test func rocketMQFileMapsKeyForKey() throws {
        var c = BrokerConfig()
        let warnings = try c.apply(properties: """
            # broker-a
            brokerClusterName = ClusterX
            brokerName=broker-b
            brokerId=0
            namesrvAddr=10.0.0.1:9876;10.0.0.2:9876
            brokerIP1=10.0.0.9
            listenPort=10921
            storePathRootDir=/data/store
            flushDiskType=SYNC_FLUSH
            warmMapedFileEnable=true
            transientStorePoolEnable=true
            autoCreateTopicEnable=false
            maxMessageSize=65536
            deleteWhen=04
            brokerRole=ASYNC_MASTER
            fooBar=1
            """)
        #expect(c.brokerClusterName == "ClusterX")
        #expect(c.brokerName == "broker-b")
        #expect(c.namesrvAddr == ["10.0.0.1:9876", "10.0.0.2:9876"])
        #expect(c.brokerAddress == "10.0.0.9:10921")
        #expect(c.storePathRootDir == "/data/store")
        #expect(c.flushDiskType == .syncFlush)
        #expect(BrokerConfig().storeConfig.warmMappedFile == false && c.storeConfig.warmMappedFile == true)
        #expect(BrokerConfig().storeConfig.writeThrough == false && c.storeConfig.writeThrough == true)
        #expect(c.autoCreateTopicEnable == false)
        #expect(c.maxMessageSize == 65536)
        #expect(c.storeConfig.maxMessageSize == 65536)
        #expect(warnings == ["unknown key fooBar ignored"])
        #expect(c.brokerRole == .asyncMaster && c.storeConfig.role == .leader)
        #expect(c.storeConfig.deleteWhenHours == [4])
    }

    @Test(arguments: [
        ("flushDiskType", "SOMETIMES"), ("listenPort", "70000"), ("listenPort", "x"), ("autoCreateTopicEnable", "yes"),
        ("brokerIP1", "broker.local"), ("namesrvAddr", "host-without-port"), ("maxMessageSize", "0"),
        ("diskMaxUsedSpaceRatio", "96"), ("diskSpaceWarningLevelRatio", "90"), ("deleteWhen", "25"),
        ("warmMapedFileEnable", "1"), ("transientStorePoolEnable", "on"),
    ])
    func badValuesAreRejectedWithKeyAndValue(key: String, value: String) throws {
        var c = BrokerConfig()
        #expect(throws: BrokerError.self) { try c.apply(properties: "\(key)=\(value)") }
        do {
            try c.apply(properties: "\(key)=\(value)")
        } catch {
            #expect("\(error)".contains(key))
            #expect("\(error)".contains(value))
        }
    }

    @Test func storeTuningKeysReachTheStore() throws {
        var c = BrokerConfig()
        // Unset: RocketMQ's in-memory share of RAM (accessMessageInMemoryMaxRatio, 40 %).
        let ram = Int(ProcessInfo.processInfo.physicalMemory)
        #expect(c.storeConfig.cachedLogBytes.map { abs($0 - ram * 2 / 5) < 1 << 20 } == true)
        #expect(try c.apply(properties: "accessMessageInMemoryMaxRatio=10").isEmpty)
        #expect(c.storeConfig.cachedLogBytes.map { abs($0 - ram / 10) < 1 << 20 } == true)
        #expect(try c.apply(properties: "cachedCommitLogBytes=1048576").isEmpty)
        #expect(c.storeConfig.cachedLogBytes == 1 << 20)
        #expect(try c.apply(properties: "cachedCommitLogBytes=0").isEmpty)
        #expect(c.storeConfig.cachedLogBytes == nil)
        #expect(throws: BrokerError.self) { try c.apply(properties: "cachedCommitLogBytes=-1") }
        #expect(c.storeConfig.cachedConsumedLogBytes == 64 << 20)
        #expect(try c.apply(properties: "cachedConsumedCommitLogBytes=0").isEmpty)
        #expect(c.storeConfig.cachedConsumedLogBytes == nil)
        #expect(try c.apply(properties: "cachedConsumedCommitLogBytes=1048576").isEmpty)
        #expect(c.storeConfig.cachedConsumedLogBytes == 1 << 20)
        #expect(c.storeConfig.dispatchGatherMicros == 200)
        #expect(try c.apply(properties: "dispatchGatherMicros=0").isEmpty)
        #expect(c.storeConfig.dispatchGatherMicros == 0)
    }

    @Test func storePathCommitLogPlacesTheLog() throws {
        var c = BrokerConfig()
        c.storePathRootDir = "/data/store"
        #expect(c.storeConfig.commitLogPath == "/data/store/commitlog")
        #expect(c.properties.contains { $0 == ("storePathCommitLog", "/data/store/commitlog") })
        // RocketMQ's own spelling of the default: the root's log, no lock of its own.
        #expect(try c.apply(properties: "storePathCommitLog=/data/store/commitlog").isEmpty)
        #expect(c.storeConfig.commitLogLockPath == nil)
        #expect(try c.apply(properties: "storePathCommitLog=/disk2/commitlog").isEmpty)
        #expect(c.storeConfig.commitLogPath == "/disk2/commitlog")
        #expect(c.storeConfig.commitLogLockPath == "/disk2/commitlog/tern.lock")
        #expect(c.properties.contains { $0 == ("storePathCommitLog", "/disk2/commitlog") })
        // A log over several directories (RocketMQ 4.9's "," list) is refused, not half-applied.
        #expect(throws: BrokerError.self) { try c.apply(properties: "storePathCommitLog=/disk2/commitlog,/disk3/commitlog") }
        #expect(c.storeConfig.commitLogPath == "/disk2/commitlog")
    }

    @Test func diskSpaceKeysReachTheStore() throws {
        var c = BrokerConfig()
        let warnings = try c.apply(properties: """
            diskMaxUsedSpaceRatio=60
            rocketmq.broker.diskSpaceCleanForciblyRatio=0.7
            diskSpaceWarningLevelRatio=0.8
            deleteWhen=04;16
            cleanFileForciblyEnable=false
            """)
        #expect(warnings.isEmpty)
        let s = c.storeConfig
        #expect(s.diskSpace.maxUsedRatio == 0.6)
        #expect(s.diskSpace.cleanForciblyRatio == 0.7)
        #expect(s.diskSpace.warningRatio == 0.8)
        #expect(s.deleteWhenHours == [4, 16])
        #expect(s.cleanFileForciblyEnable == false)
    }

    @Test func connectionLimitsComeFromBrokerConf() throws {
        var c = BrokerConfig()
        #expect(try c.apply(properties: "serverMaxConnections=50\nserverPartialFrameTimeoutSeconds=5\nserverPartialFrameBytesMax=8388608\n").isEmpty)
        #expect(c.connectionLimits.maxConnections == 50)
        #expect(c.connectionLimits.partialFrameTimeout == .seconds(5))
        #expect(c.connectionLimits.partialFrameBytesMax == 8 << 20)
        #expect(throws: BrokerError.self) { try c.apply(properties: "serverMaxConnections=0") }
    }

    @Test func theBrokerServerAppliesTheConfiguredConnectionLimit() async throws {
        let f = try await BrokerFixture.start { $0.connectionLimits.maxConnections = 2 }
        let a = try await f.connect(), b = try await f.connect()
        // Both admitted connections are served (any answer will do).
        _ = try await f.call(RequestCode.getMaxOffset, ["topic": "T", "queueId": "0"], on: a)
        _ = try await f.call(RequestCode.getMaxOffset, ["topic": "T", "queueId": "0"], on: b)
        let c = try await f.connect()
        #expect(await eventually(timeoutMillis: 5_000) { !c.isActive }, "a third connection was kept past serverMaxConnections=2")
        a.close(); b.close()
        await f.stop()
    }

    @Test func lineWithoutSeparatorIsAnError() {
        var c = BrokerConfig()
        #expect(throws: BrokerError.self) { try c.apply(properties: "justakey") }
    }
}
