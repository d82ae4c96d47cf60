import Logging
import NIOConcurrencyHelpers
import NIOCore
import TernChecksum
import TernOps
import TernProtocol
import TernRemoting
import TernSecurity
import TernTransport

/// Name-server request codes that `RequestCode` does not name.
enum NameServerRequestCode {
    static let deleteTopicInNamesrv = 216
}

/// Turns name-server requests into `RouteInfoManager` calls and responses. `process` is a pure function of
/// the request (plus the registry), so tests drive it without sockets; `NameServerRequestHandler` wires it to
/// connections.
public struct NameServerProcessor: Sendable {
    public let routes: RouteInfoManager
    private let logger: Logger
    /// GET_NAMESRV_CONFIG's answer (`NameServerConfig.propertiesText`).
    private let configText: String

    /// REGISTER_BROKER bodies are `RegisterBrokerBody` from this request version on (every 4.x broker), a bare
    /// `TopicConfigSerializeWrapper` before.
    static let registerBodyVersionMin = 38

    public init(routes: RouteInfoManager, logger: Logger = Logger(label: "tern.namesrv"),
                config: NameServerConfig = NameServerConfig()) {
        self.routes = routes
        self.logger = logger
        configText = config.propertiesText
    }

    /// The response to `request` (opaque and flags are the responder's job). `connectionId` identifies the
    /// connection a registration arrived on.
    public func process(_ request: RemotingCommand, connectionId: Int?) -> RemotingCommand {
        do {
            switch request.code {
            case RequestCode.registerBroker: return try registerBroker(request, connectionId: connectionId)
            case RequestCode.unregisterBroker: return try unregisterBroker(request)
            case RequestCode.getRouteInfoByTopic: return try routeInfo(request)
            case RequestCode.getBrokerClusterInfo:
                return Self.success(body: JSONBody.encode(routes.clusterInfo()))
            case RequestCode.getAllTopicListFromNameServer:
                return Self.success(body: JSONBody.encode(TopicList(topicList: routes.allTopics())))
            case RequestCode.getTopicsByCluster:
                let cluster = try Self.required("cluster", in: request)
                return Self.success(body: JSONBody.encode(TopicList(topicList: routes.topics(inCluster: cluster))))
            case NameServerRequestCode.deleteTopicInNamesrv:
                let topic = try Self.required("topic", in: request)
                routes.deleteTopic(topic, clusterName: request.extFields["clusterName"])
                return Self.success()
            case NameServerRequestCode.getNamesrvConfig:
                return Self.success(body: ByteBuffer(string: configText))
            case NameServerRequestCode.updateNamesrvConfig:
                return updateConfig(request)
            default:
                return Self.response(ResponseCode.requestCodeNotSupported, remark: " request type \(request.code) not supported")
            }
        } catch let error as BadRequest {
            return Self.response(ResponseCode.systemError, remark: error.remark)
        } catch {
            return Self.response(ResponseCode.systemError, remark: "\(error)")
        }
    }

    private func registerBroker(_ request: RemotingCommand, connectionId: Int?) throws -> RemotingCommand {
        let f = request.extFields
        let brokerName = try Self.required("brokerName", in: request)
        let brokerAddr = try Self.required("brokerAddr", in: request)
        let clusterName = try Self.required("clusterName", in: request)
        guard let brokerId = f.int64("brokerId") else { throw BadRequest("the custom field <brokerId> is null or not a number") }
        if let expected = f.int64("bodyCrc32"), expected != 0 {
            // Java's `UtilAll.crc32`: the body's CRC32 masked to 31 bits (an absent body counts as empty).
            let actual = request.body?.withUnsafeReadableBytes { CRC32.rocketmqBodyCRC($0) } ?? 0
            if Int64(actual) != expected { return Self.response(ResponseCode.systemError, remark: "crc32 not match") }
        }
        var wrapper: TopicConfigSerializeWrapper?
        var filterServers: [String] = []
        if let body = request.body, body.readableBytes > 0 {
            if request.version >= Self.registerBodyVersionMin {
                // `compressed=true`: a `compressedRegister=true` broker's zlib form (checked by the CRC above as sent).
                let decoded = f.bool("compressed") == true
                    ? try RegisterBrokerBody.decodeCompressed(body)
                    : try JSONBody.decode(RegisterBrokerBody.self, from: body)
                wrapper = decoded.topicConfigSerializeWrapper
                filterServers = decoded.filterServerList
            } else {
                wrapper = try JSONBody.decode(TopicConfigSerializeWrapper.self, from: body)
            }
        }
        let result = routes.registerBroker(BrokerRegistration(
            clusterName: clusterName, brokerName: brokerName, brokerAddr: brokerAddr, brokerId: brokerId,
            haServerAddr: f["haServerAddr"] ?? "", topicConfig: wrapper, filterServerList: filterServers,
            connectionId: connectionId))
        var ext = RemotingExtFields()
        ext["haServerAddr"] = result.haServerAddr
        ext["masterAddr"] = result.masterAddr
        return Self.success(extFields: ext)
    }

    private func unregisterBroker(_ request: RemotingCommand) throws -> RemotingCommand {
        let brokerName = try Self.required("brokerName", in: request)
        let brokerAddr = try Self.required("brokerAddr", in: request)
        let clusterName = try Self.required("clusterName", in: request)
        guard let brokerId = request.extFields.int64("brokerId") else {
            throw BadRequest("the custom field <brokerId> is null or not a number")
        }
        routes.unregisterBroker(clusterName: clusterName, brokerAddr: brokerAddr, brokerName: brokerName, brokerId: brokerId)
        return Self.success()
    }

    private func routeInfo(_ request: RemotingCommand) throws -> RemotingCommand {
        let topic = try Self.required("topic", in: request)
        guard let route = routes.topicRoute(topic) else {
            return Self.response(ResponseCode.topicNotExist, remark: "No topic route info in name server for the topic: \(topic)")
        }
        // Broker-id keys are always quoted: C++ (atoi), Java >= 4.9.4 and Go accept them (remoting.md §6).
        return Self.success(body: JSONBody.encode(route))
    }

    // MARK: - Helpers

    private struct BadRequest: Error {
        let remark: String
        init(_ remark: String) { self.remark = remark }
    }

    private static func required(_ key: String, in request: RemotingCommand) throws -> String {
        guard let value = request.extFields[key] else { throw BadRequest("the custom field <\(key)> is null") }
        return value
    }

    private static func success(extFields: RemotingExtFields = [:], body: ByteBuffer? = nil) -> RemotingCommand {
        RemotingCommand(code: ResponseCode.success, flag: .response, extFields: extFields, body: body)
    }

    private static func response(_ code: Int, remark: String) -> RemotingCommand {
        RemotingCommand(code: code, flag: .response, remark: remark)
    }
}

/// Connects `NameServerProcessor` to remoting connections: answers on the event loop (every operation is a
/// short critical section), forgets brokers whose connection closes, and tracks open connections so a
/// stopped name server closes them (the listener's stop leaves accepted connections open).
final class NameServerRequestHandler: RemotingRequestHandler {
    let processor: NameServerProcessor
    /// When set, route-changing requests need an admin signature (``NameServerAcl``).
    let acl: PlainAclFile?
    private let open = NIOLockedValueBox<[Int: RemotingConnection]>([:])
    private let refusals = RefusalBackoff()
    /// rpc latency metrics; nil with metrics off.
    private let latency: RequestLatency?

    init(processor: NameServerProcessor, acl: PlainAclFile? = nil, latency: RequestLatency? = nil) {
        self.processor = processor
        self.acl = acl
        self.latency = latency
    }

    /// Every answer observed by `latency` (the connection's observer, put on each responder by the transport).
    func makeResponseObserver(on eventLoop: any EventLoop) -> (any RemotingResponseObserver)? { latency }

    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        // The closure (a heap context) only while some connection has refusals on record.
        if refusals.isTracking, refusals.holds(responder.connection, { [self] in handleNow(request, responder) }) {
            return
        }
        handleNow(request, responder)
    }

    /// A connection whose route changes the ACL keeps refusing is read more slowly (as on the broker), so a
    /// flood of forged registrations cannot keep the event loop from the brokers' and clients' requests.
    private func handleNow(_ request: RemotingCommand, _ responder: RemotingResponder) {
        if let acl {
            if let remark = NameServerAcl.refusal(acl, request, remoteAddress: responder.connection.remoteAddress) {
                responder.respond(code: ResponseCode.noPermission, remark: remark)
                return refusals.refused(responder.connection)
            }
            refusals.admitted(responder.connection)
        }
        responder.respond(processor.process(request, connectionId: responder.connection.id))
    }

    func connectionOpened(_ connection: RemotingConnection) {
        open.withLockedValue { $0[connection.id] = connection }
    }

    func connectionClosed(_ connection: RemotingConnection) {
        open.withLockedValue { _ = $0.removeValue(forKey: connection.id) }
        refusals.closed(connection)
        processor.routes.connectionClosed(id: connection.id)
    }

    func closeAll() {
        for c in open.withLockedValue({ Array($0.values) }) { c.close() }
    }
}

