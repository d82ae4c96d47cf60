import Logging
import TernProtocol
import TernRemoting
import TernStorage
import TernSystem
import TernTransport

/// Group administration codes answered by `AdminProcessor` beside the subscription-group table.
enum GroupAdminRequestCode {
    static let getProducerConnectionList = 204
    static let cleanExpiredConsumeQueue = 306
    static let cloneGroupOffset = 314
    static let queryTopicConsumeByWho = 300
    static let getAllProducerInfo = 328
    static let all = [getProducerConnectionList, cleanExpiredConsumeQueue, cloneGroupOffset, queryTopicConsumeByWho,
                      getAllProducerInfo]
}

/// Java's `ProducerTableInfo` (GET_ALL_PRODUCER_INFO's answer): every producer group's clients.
struct ProducerTableInfoBody: Codable, Equatable {
    /// Java's `ProducerInfo`: `remoteIP` is the channel's `remoteAddress().toString()` ("/ip:port"),
    /// `lastUpdateTimestamp` the last heartbeat in wall-clock ms.
    struct ProducerInfo: Codable, Equatable {
        var clientId: String
        var remoteIP: String
        var language: String
        var version: Int
        var lastUpdateTimestamp: Int64
    }
    var data: [String: [ProducerInfo]]
}

/// Java's `GroupList` (QUERY_TOPIC_CONSUME_BY_WHO's answer).
struct GroupListBody: Codable, Equatable {
    var groupList: [String]
}

extension AdminProcessor {
    func groupAdminRequest(_ request: RemotingCommand, _ responder: RemotingResponder) {
        let f = request.extFields
        switch request.code {
        case GroupAdminRequestCode.getProducerConnectionList:
            let group = f["producerGroup"] ?? ""
            let clients = context.clients.producerClients(group: group).filter(\.channel.isActive)
            guard !clients.isEmpty else {
                return responder.respond(code: ResponseCode.systemError, remark: "the producer group[\(group)] not exist")
            }
            let set = clients.map {
                ConsumerConnectionBody.Connection(clientId: $0.clientId, clientAddr: $0.channel.remoteAddress,
                                                  language: $0.language.name, version: $0.version)
            }.sorted { ($0.clientId, $0.clientAddr) < ($1.clientId, $1.clientAddr) }
            responder.respond(code: ResponseCode.success, body: JSONBody.encode(ProducerConnectionBody(connectionSet: set)))
        case GroupAdminRequestCode.getAllProducerInfo:
            responder.respond(code: ResponseCode.success, body: JSONBody.encode(producerTable()))
        case GroupAdminRequestCode.cloneGroupOffset:
            cloneGroupOffset(f, responder)
        case GroupAdminRequestCode.queryTopicConsumeByWho:
            // As Java's: groups subscribed to the topic now, and groups with committed offsets on it (mqadmin's
            // message track of queryMsgById / queryMsgByOffset asks this).
            let topic = f["topic"] ?? ""
            var groups = Set(context.clients.consumerGroups(subscribing: topic))
            for key in context.offsets.all().keys where key.queue.topic == topic { groups.insert(key.group) }
            responder.respond(code: ResponseCode.success, body: JSONBody.encode(GroupListBody(groupList: groups.sorted())))
        default:
            // The consume queues are index entries derived from the log; retention already removes those of
            // deleted segments, so there is nothing expired left to clean (Java answers success too).
            responder.respond(code: ResponseCode.success)
        }
    }

    /// Every live producer, by group; heartbeat stamps (monotonic) are shown as wall-clock times.
    func producerTable() -> ProducerTableInfoBody {
        let monoNowMillis = Int64(context.clock.monotonicNanos() / 1_000_000), wallNowMillis = context.clock.wallMillis()
        var data: [String: [ProducerTableInfoBody.ProducerInfo]] = [:]
        for (group, clients) in context.clients.allProducerClients() {
            let live = clients.filter(\.channel.isActive).map {
                ProducerTableInfoBody.ProducerInfo(clientId: $0.clientId, remoteIP: "/" + $0.channel.remoteAddress,
                                                   language: $0.language.name, version: $0.version,
                                                   lastUpdateTimestamp: wallNowMillis - (monoNowMillis - $0.lastUpdate))
            }
            if !live.isEmpty { data[group] = live.sorted { $0.clientId < $1.clientId } }
        }
        return ProducerTableInfoBody(data: data)
    }

    /// CLONE_GROUP_OFFSET (Java's `cloneGroupOffset`): `destGroup` takes `srcGroup`'s committed offsets on `topic`
    /// (every topic `srcGroup` has offsets on when empty). Unless `offline`, a topic an online `srcGroup` no
    /// longer subscribes to is skipped.
    private func cloneGroupOffset(_ f: RemotingExtFields, _ responder: RemotingResponder) {
        guard let src = f["srcGroup"], let dest = f["destGroup"], !src.isEmpty, !dest.isEmpty else {
            return responder.respond(code: ResponseCode.systemError, remark: "CLONE_GROUP_OFFSET needs srcGroup and destGroup")
        }
        let offline = f.bool("offline") ?? false
        let online = context.clients.consumerGroup(src)
        let committed = context.offsets.all().filter { $0.key.group == src }
        var copied = 0
        for (key, offset) in committed where f["topic"].map({ $0.isEmpty || $0 == key.queue.topic }) ?? true {
            guard context.topics.config(key.queue.topic) != nil else { continue }
            if !offline, let online, !online.subscriptions.isEmpty, online.subscriptions[key.queue.topic] == nil { continue }
            context.offsets.commit(group: dest, queue: key.queue, offset: offset)
            copied += 1
        }
        context.logger.info("group offsets cloned", metadata: ["src": "\(src)", "dest": "\(dest)", "queues": "\(copied)"])
        responder.respond(code: ResponseCode.success)
    }
}
