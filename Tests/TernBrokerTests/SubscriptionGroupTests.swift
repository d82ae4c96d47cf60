import Foundation
import NIOCore
@testable import TernBroker
import TernProtocol
import TernRemoting
import Testing

/// The subscription-group table: admin codes 200 / 201 / 207, `config/subscriptionGroup.json` in Java's format,
/// and where RocketMQ honours a group's settings (pull, send-back).
@Suite struct SubscriptionGroupTests {
    /// As Java 4.9.7 writes it (fastjson pretty format: tabs, getters in alphabetical order).
    static let javaFile = """
    {
    \t"dataVersion":{
    \t\t"counter":3,
    \t\t"timestamp":1700000000000
    \t},
    \t"subscriptionGroupTable":{
    \t\t"OFF":{
    \t\t\t"brokerId":0,
    \t\t\t"consumeBroadcastEnable":true,
    \t\t\t"consumeEnable":false,
    \t\t\t"consumeFromMinEnable":true,
    \t\t\t"groupName":"OFF",
    \t\t\t"notifyConsumerIdsChangedEnable":true,
    \t\t\t"retryMaxTimes":3,
    \t\t\t"retryQueueNums":1,
    \t\t\t"whichBrokerWhenConsumeSlowly":1
    \t\t}
    \t}
    }
    """

    static func all(_ f: BrokerFixture) async throws -> SubscriptionGroupWrapper {
        let r = try await f.call(RequestCode.getAllSubscriptionGroupConfig)
        #expect(r.code == ResponseCode.success)
        return try JSONBody.decode(SubscriptionGroupWrapper.self, from: r.body)
    }

    @Test func createListDeleteAndKeepAcrossRestart() async throws {
        let f = try await BrokerFixture.start { $0.autoCreateSubscriptionGroup = false }
        // Java's admin client sends the config as fastjson writes it; absent fields take Java's defaults.
        let body = ByteBuffer(string: #"{"groupName":"G1","consumeEnable":true,"retryMaxTimes":5,"consumeBroadcastEnable":false}"#)
        #expect(try await f.call(SubscriptionGroupRequestCode.updateAndCreate, body: body).code == ResponseCode.success)
        #expect(try await f.call(SubscriptionGroupRequestCode.updateAndCreate, ["groupName": "G2"],
                                 body: ByteBuffer(string: #"{"groupName":"G2"}"#)).code == ResponseCode.success)
        var table = try await Self.all(f).subscriptionGroupTable
        #expect(table["G1"]?.retryMaxTimes == 5 && table["G1"]?.consumeBroadcastEnable == false && table["G1"]?.retryQueueNums == 1)
        #expect(table["G2"] == SubscriptionGroupConfig(groupName: "G2"))
        #expect(table["TOOLS_CONSUMER"] != nil)
        #expect(try await f.call(SubscriptionGroupRequestCode.delete, ["groupName": "G2", "removeOffset": "false"]).code == ResponseCode.success)
        #expect(try await Self.all(f).subscriptionGroupTable["G2"] == nil)
        await f.stop(keepStore: true)

        let file = try Data(contentsOf: URL(fileURLWithPath: f.storeDir + "/config/subscriptionGroup.json"))
        #expect(try JSONDecoder().decode(SubscriptionGroupWrapper.self, from: file).subscriptionGroupTable["G1"]?.retryMaxTimes == 5)
        let again = try await BrokerFixture.start(storeDir: f.storeDir) { $0.autoCreateSubscriptionGroup = false }
        table = try await Self.all(again).subscriptionGroupTable
        #expect(table["G1"]?.retryMaxTimes == 5 && table["G2"] == nil)
        await again.stop()
    }

    /// A Java-written file loads; its disabled group cannot pull (NO_PERMISSION), an unknown group cannot pull or
    /// send back when auto-creation is off (SUBSCRIPTION_GROUP_NOT_EXIST); with it on, a new group is created.
    @Test func javaFileLoadsAndPullsHonourIt() async throws {
        let dir = NSTemporaryDirectory() + "tern-broker-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/config", withIntermediateDirectories: true)
        try Self.javaFile.write(toFile: dir + "/config/subscriptionGroup.json", atomically: true, encoding: .utf8)
        let f = try await BrokerFixture.start(storeDir: dir) { $0.autoCreateSubscriptionGroup = false }
        try f.createTopic("T", queues: 1)
        try f.put("T")
        let off = try #require(f.broker.context.groups.all.subscriptionGroupTable["OFF"])
        #expect(!off.consumeEnable && off.retryMaxTimes == 3 && f.broker.context.groups.all.dataVersion.counter >= 3)
        #expect(try await f.pull("T", offset: 0, group: "OFF", suspendMillis: 0).code == ResponseCode.noPermission)
        #expect(try await f.pull("T", offset: 0, group: "NOPE", suspendMillis: 0).code == ResponseCode.subscriptionGroupNotExist)
        var back: RemotingExtFields = ["group": "NOPE", "offset": "0", "delayLevel": "0", "originTopic": "T"]
        back.set("maxReconsumeTimes", 16)
        #expect(try await f.call(RequestCode.consumerSendMsgBack, back).code == ResponseCode.subscriptionGroupNotExist)
        await f.stop()

        let auto = try await BrokerFixture.start()
        try auto.createTopic("T", queues: 1)
        try auto.put("T")
        #expect(try await auto.pull("T", offset: 0, group: "NEW", suspendMillis: 0).code == ResponseCode.success)
        #expect(auto.broker.context.groups.all.subscriptionGroupTable["NEW"]?.retryMaxTimes == 16)
        await auto.stop()
    }

    @Test func slaveRefusesChanges() async throws {
        let f = try await BrokerFixture.start { $0.brokerRole = .slave; $0.brokerId = 1 }
        let r = try await f.call(SubscriptionGroupRequestCode.updateAndCreate, body: ByteBuffer(string: #"{"groupName":"G"}"#))
        #expect(r.code == ResponseCode.systemError)
        await f.stop()
    }
}
