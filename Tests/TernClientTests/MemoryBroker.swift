import Foundation
import Logging
import NIOCore
import NIOPosix
import TernMessage
import TernProtocol
import TernRemoting
import TernTransport

/// Name server and broker in one fake, storing messages in memory: enough protocol (17, 105, 106, 10/310,
/// 11 with a short long-poll, 14, 15, 30, 31) to drive tern-bench and the client end to end.
final class MemoryBroker: Sendable {
    private struct State {
        var topics: [String: Int] = [:]
        var queues: [String: [[UInt8]]] = [:]  // "topic#queueId" -> records
        var physical: Int64 = 0
        var offsets: [String: Int64] = [:]     // "group#topic#queueId" -> committed offset
    }

    private struct Handler: RemotingRequestHandler {
        let broker: MemoryBroker
        func handle(_ request: RemotingCommand, responder: RemotingResponder) { broker.handle(request, responder) }
    }

    private let state = Locked(State())
    private let portBox = Locked(0)
    private let serverBox = Locked<RemotingServer?>(nil)
    var address: String { "127.0.0.1:\(portBox.value)" }

    static func start(group: any EventLoopGroup) async throws -> MemoryBroker {
        let broker = MemoryBroker()
        let server = try await RemotingServer.start(host: "127.0.0.1", port: 0, group: group, handler: Handler(broker: broker),
                                                    logger: Logger(label: "memory-broker"))
        broker.portBox.withLock { $0 = server.port }
        broker.serverBox.withLock { $0 = server }
        return broker
    }

    func stop() async { await serverBox.value?.stop() }

    func messageCount(topic: String) -> Int {
        state.withLock { s in s.queues.filter { $0.key.hasPrefix(topic + "#") }.reduce(0) { $0 + $1.value.count } }
    }

    private func ok(_ fields: RemotingExtFields = [:], body: ByteBuffer? = nil) -> RemotingCommand {
        RemotingCommand(code: ResponseCode.success, flag: .response, extFields: fields, body: body)
    }

    private func handle(_ request: RemotingCommand, _ responder: RemotingResponder) {
        let f = request.extFields
        switch request.code {
        case RequestCode.updateAndCreateTopic:
            state.withLock { $0.topics[f["topic"] ?? ""] = Int(f.int64("writeQueueNums") ?? 8) }
            responder.respond(ok())
        case RequestCode.getBrokerClusterInfo:
            let bd = BrokerData(cluster: "C", brokerName: "broker-a", brokerAddrs: ["0": address])
            responder.respond(ok(body: JSONBody.encode(ClusterInfo(brokerAddrTable: ["broker-a": bd], clusterAddrTable: ["C": ["broker-a"]]))))
        case RequestCode.getRouteInfoByTopic:
            guard let n = state.withLock({ $0.topics[f["topic"] ?? ""] }) else {
                return responder.respond(code: ResponseCode.topicNotExist)
            }
            let route = TopicRouteData(queueDatas: [QueueData(brokerName: "broker-a", readQueueNums: n, writeQueueNums: n, perm: 6)],
                                       brokerDatas: [BrokerData(cluster: "C", brokerName: "broker-a", brokerAddrs: ["0": address])])
            responder.respond(ok(body: JSONBody.encode(route)))
        case RequestCode.sendMessage, RequestCode.sendMessageV2:
            let v2 = request.code == RequestCode.sendMessageV2
            let topic = f[v2 ? "b" : "topic"] ?? ""
            let queueId = Int32(f.int64(v2 ? "e" : "queueId") ?? 0)
            let draft = MessageDraft(topic: Array(topic.utf8), queueId: queueId, sysFlag: Int32(f.int64(v2 ? "f" : "sysFlag") ?? 0),
                                     bornTimestamp: f.int64(v2 ? "g" : "bornTimestamp") ?? 0,
                                     bornHost: HostAddress("127.0.0.1:1")!, storeHost: HostAddress(address)!,
                                     body: request.body.map { Array(buffer: $0) } ?? [],
                                     properties: Array((f[v2 ? "i" : "properties"] ?? "").utf8))
            let (queueOffset, physical) = state.withLock { s -> (Int64, Int64) in
                let key = "\(topic)#\(queueId)"
                let queueOffset = Int64(s.queues[key]?.count ?? 0)
                let physical = s.physical
                s.queues[key, default: []].append(draft.encoded(queueOffset: queueOffset, physicalOffset: physical,
                                                                storeTimestamp: Int64(Date().timeIntervalSince1970 * 1000)))
                s.physical += Int64(draft.encodedSize)
                return (queueOffset, physical)
            }
            responder.respond(ok(["msgId": MessageId.offsetId(storeHost: HostAddress(address)!, physicalOffset: physical),
                                  "queueId": String(queueId), "queueOffset": String(queueOffset)]))
        case RequestCode.pullMessage:
            pull(request, responder, mayWait: (f.int64("sysFlag") ?? 0) & 2 != 0)
        case RequestCode.queryConsumerOffset:
            let key = "\(f["consumerGroup"] ?? "")#\(f["topic"] ?? "")#\(f["queueId"] ?? "")"
            if let offset = state.withLock({ $0.offsets[key] }) { responder.respond(ok(["offset": String(offset)])) }
            else { responder.respond(code: ResponseCode.queryNotFound) }
        case RequestCode.updateConsumerOffset:
            let key = "\(f["consumerGroup"] ?? "")#\(f["topic"] ?? "")#\(f["queueId"] ?? "")"
            state.withLock { $0.offsets[key] = f.int64("commitOffset") ?? 0 }
            responder.respond(ok())
        case RequestCode.getMaxOffset:
            let n = state.withLock { $0.queues["\(f["topic"] ?? "")#\(f["queueId"] ?? "")"]?.count ?? 0 }
            responder.respond(ok(["offset": String(n)]))
        case RequestCode.getAllTopicListFromNameServer:
            let topics = state.withLock { Array($0.topics.keys) }
            responder.respond(ok(body: JSONBody.encode(TopicList(topicList: topics))))
        case RequestCode.viewMessageById:
            let offset = f.int64("offset") ?? -1
            let record = state.withLock { s in
                s.queues.values.lazy.flatMap { $0 }.first { r in
                    r.withUnsafeBytes { RecordView($0).physicalOffset } == offset
                }
            }
            guard let record else { return responder.respond(code: ResponseCode.systemError, remark: "no message at \(offset)") }
            responder.respond(ok(body: ByteBuffer(bytes: record)))
        case RequestCode.getMinOffset:
            responder.respond(ok(["offset": "0"]))
        default:
            responder.respond(code: ResponseCode.requestCodeNotSupported)
        }
    }

    /// Answers from `queueOffset`; when nothing is there and the request may wait, looks again 20 ms later once.
    private func pull(_ request: RemotingCommand, _ responder: RemotingResponder, mayWait: Bool) {
        let f = request.extFields
        let key = "\(f["topic"] ?? "")#\(f["queueId"] ?? "")"
        let from = Int(f.int64("queueOffset") ?? 0)
        let maxNums = Int(f.int64("maxMsgNums") ?? 32)
        let records = state.withLock { $0.queues[key] ?? [] }
        let max = String(records.count)
        guard from < records.count else {
            if mayWait {
                responder.connection.channel.eventLoop.scheduleTask(in: .milliseconds(20)) {
                    self.pull(request, responder, mayWait: false)
                }
                return
            }
            return responder.respond(RemotingCommand(code: ResponseCode.pullNotFound, flag: .response,
                                                     extFields: ["nextBeginOffset": String(from), "minOffset": "0", "maxOffset": max]))
        }
        let slice = records[from ..< min(records.count, from + maxNums)]
        responder.respond(ok(["nextBeginOffset": String(from + slice.count), "minOffset": "0", "maxOffset": max,
                              "suggestWhichBrokerId": "0"], body: ByteBuffer(bytes: slice.flatMap { $0 })))
    }
}
