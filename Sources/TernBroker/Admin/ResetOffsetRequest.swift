import Logging
import NIOCore
import TernProtocol
import TernRemoting
import TernStorage
import TernTransport

enum ResetOffsetRequestCode {
    static let invokeBrokerToResetOffset = 222
}

extension AdminProcessor {
    /// INVOKE_BROKER_TO_RESET_OFFSET (Java's `Broker2Client.resetOffset`): per write queue of `topic`, the offset of
    /// the first message stored at or after `timestamp` (-1: the max offset), taken when `isForce` or when it is
    /// behind the group's committed offset. Unlike Java, the broker commits the new offsets itself, so an offline
    /// group is reset too (Java answers CONSUMER_NOT_ONLINE and mqadmin falls back to per-queue updates); online
    /// consumers are told by RESET_CONSUMER_CLIENT_OFFSET (220), each in its own language's body.
    func resetOffset(_ f: RemotingExtFields, _ responder: RemotingResponder) {
        guard let topic = f["topic"], let group = f["group"], let timestamp = f.int64("timestamp") else {
            return responder.respond(code: ResponseCode.systemError, remark: "INVOKE_BROKER_TO_RESET_OFFSET needs topic, group and timestamp")
        }
        let force = f.bool("isForce") ?? true
        guard let config = context.topics.config(topic) else {
            return responder.respond(code: ResponseCode.systemError,
                                     remark: "[reset-offset] reset offset failed, no topic in this broker. topic=\(topic)")
        }
        var table: [(queue: MessageQueue, offset: Int64)] = []
        var known = false
        do {
            for id in 0 ..< config.writeQueueNums {
                let queue = QueueKey(topic: topic, queueId: Int32(id))
                let committed = context.offsets.committed(group: group, queue: queue)
                known = known || committed != nil
                let target = timestamp == -1 ? try context.store.queueRange(queue)?.max ?? 0
                    : try context.store.offset(forTimestamp: timestamp, in: queue)
                let current = committed ?? 0
                table.append((MessageQueue(topic: topic, brokerName: context.config.brokerName, queueId: id),
                              force || target < current ? max(0, target) : current))
            }
        } catch {
            return responder.respond(code: ResponseCode.systemError, remark: "index read failed: \(error)")
        }
        guard known || context.clients.consumerGroup(group) != nil else {
            return responder.respond(code: ResponseCode.systemError, remark: "THe consumer group <\(group)> not exist")
        }
        for e in table {
            context.offsets.commit(group: group, queue: QueueKey(topic: topic, queueId: Int32(e.queue.queueId)), offset: e.offset)
        }
        let body = ResetOffsetBody(offsetTable: table)
        var header = RemotingExtFields()
        header["topic"] = topic
        header["group"] = group
        header.set("timestamp", timestamp)
        // Java's header always carries isForce; the C++ client reads all four fields unconditionally.
        header.set("isForce", force)
        for client in context.clients.consumerGroup(group)?.clients.values ?? [:].values where client.channel.isActive {
            let form = client.language == .cpp || client.language == .python ? body.fastJSONForC : body.fastJSON
            client.channel.sendOneway(RemotingCommand(code: RequestCode.resetConsumerClientOffset, extFields: header,
                                                      body: ByteBuffer(string: FastJSONWriter.write(form))))
        }
        context.logger.info("consumer offsets reset", metadata: ["group": "\(group)", "topic": "\(topic)", "timestamp": "\(timestamp)"])
        responder.respond(code: ResponseCode.success, body: body.encoded())
    }
}
