import NIOCore
import TernClient
import TernProtocol
import TernRemoting

/// CONSUMER_SEND_MSG_BACK (36), as a RocketMQ consumer sends a message it could not consume: the broker stores a
/// copy in `%RETRY%<group>` (delayed by `delayLevel`) or, past `maxReconsumeTimes`, in `%DLQ%<group>`.
enum SendBack {
    static func send(_ message: ReceivedMessage, group: String, delayLevel: Int, maxReconsumeTimes: Int?,
                     queue: MessageQueue, runtime: ClientRuntime) async throws {
        var f = RemotingExtFields()
        f["group"] = group
        f.set("offset", message.physicalOffset)
        f.set("delayLevel", delayLevel)
        f["originMsgId"] = message.properties["ORIGIN_MESSAGE_ID"] ?? message.msgId
        f["originTopic"] = message.properties[GroupConsumer.retryTopicProperty] ?? message.topic
        f.set("unitMode", false)
        if let maxReconsumeTimes { f.set("maxReconsumeTimes", maxReconsumeTimes) }
        let command = RemotingCommand(code: RequestCode.consumerSendMsgBack, language: runtime.options.language,
                                      version: runtime.options.version, extFields: f)
        let route = try await runtime.route(topic: queue.topic).get()
        guard let address = route.masterAddress(of: queue.brokerName) else {
            throw ClientError.noMasterAddress(queue.brokerName)
        }
        let response = try await runtime.invoke(address, command).get()
        guard response.code == ResponseCode.success else {
            throw ClientError.response(code: response.code, remark: response.remark, address: address)
        }
    }
}
