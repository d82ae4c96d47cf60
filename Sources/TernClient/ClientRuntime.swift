import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization
import TernProtocol
import TernRemoting
import TernSecurity
import TernTransport

/// Connections, name-server access and the route cache shared by ``Producer``, ``PullConsumer`` and
/// ``AdminClient``. Create one per process (or per name-server cluster) and call ``shutdown()`` when done.
///
/// Thread-safety: `Sendable`; mutable state (route cache, name-server cursor) sits behind locks, and every
/// method may be called from any thread, including event-loop threads (nothing here blocks).
public final class ClientRuntime: Sendable {
    public let options: ClientOptions
    public let group: any EventLoopGroup
    let pool: ConnectionPool
    /// This client's id in heartbeats (`ip@pid#n` style): brokers push replies to it and route check-backs by it.
    public let clientId: String
    /// Requests brokers send to this client (transaction check-backs, reply pushes).
    let inbound = ClientInbound()
    let heartbeats = HeartbeatTargets()

    private struct CachedRoute {
        var info: TopicRouteInfo
        var expires: NIODeadline
    }
    private let routes = NIOLockedValueBox<[String: CachedRoute]>([:])
    /// While true, requests leave unsigned although the options carry credentials (``setSigning(_:)``).
    private let signingPaused = Atomic<Bool>(false)
    private let nameServerCursor = NIOLockedValueBox(0)

    /// `group` defaults to NIO's shared singleton group (it is never shut down by this runtime).
    public init(options: ClientOptions, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.options = options
        self.group = group
        self.clientId = ClientInbound.makeClientId()
        self.pool = ConnectionPool(group: group, perAddress: options.connectionsPerAddress,
                                   connectTimeout: options.connectTimeout, handler: inbound,
                                   tls: options.tls)
    }

    /// Closes every connection. Requests still in flight fail.
    public func shutdown() {
        heartbeats.stop()
        pool.close()
    }

    // MARK: - Requests

    /// A request command carrying this client's language, version and header encoding.
    func makeRequest(code: Int, extFields: RemotingExtFields = [:], body: ByteBuffer? = nil) -> RemotingCommand {
        RemotingCommand(code: code, language: options.language, version: options.version, extFields: extFields,
                        body: body, serializeType: options.headerEncoding.serializeType)
    }

    /// Sends `command` to `address` and completes with the response (any code); transport failures fail the future.
    /// Every request leaves through here or ``invokeOneway(_:_:)``, signed when the options carry credentials.
    public func invoke(_ address: String, _ command: RemotingCommand, timeout: TimeAmount? = nil) -> EventLoopFuture<RemotingCommand> {
        let timeout = timeout ?? options.requestTimeout
        let command = signed(command)
        if let c = pool.readyConnection(to: address) {
            // Issued on the connection's own event loop (a load generator's tick, a callback sending the next
            // request), the request is queued, and every request of the task running now leaves in one flush
            // when it ends: one writev, and one loopback segment through the kernel, per task instead of one per
            // request (the flush was a quarter of a sending client's CPU). Elsewhere this does nothing.
            c.coalesceWritesUntilTaskEnds()
            return c.request(command, timeout: timeout)
        }
        return pool.connection(to: address).flatMap { $0.request(command, timeout: timeout) }
    }

    /// Sends `command` one-way to `address` (no answer expected).
    public func invokeOneway(_ address: String, _ command: RemotingCommand) -> EventLoopFuture<Void> {
        let command = signed(command)
        return pool.connection(to: address).map { $0.sendOneway(command) }
    }

    private func signed(_ command: RemotingCommand) -> RemotingCommand {
        guard let credentials = options.credentials, !signingPaused.load(ordering: .relaxed) else { return command }
        return credentials.signed(command)
    }

    /// Benchmarks of ACL's cost: with `false`, requests leave unsigned on the same connections until `true` again
    /// (the options' credentials are kept). No effect without credentials.
    public func setSigning(_ enabled: Bool) {
        signingPaused.store(!enabled, ordering: .relaxed)
    }

    /// Sends `command` to a name server; on a transport failure tries the next one, each at most once.
    public func invokeNameServer(_ command: RemotingCommand, timeout: TimeAmount? = nil) -> EventLoopFuture<RemotingCommand> {
        let servers = options.nameServers
        guard !servers.isEmpty else {
            return group.next().makeFailedFuture(ClientError.invalidArgument("no name-server address configured"))
        }
        let first = nameServerCursor.withLockedValue { $0 % servers.count }
        @Sendable func attempt(_ n: Int) -> EventLoopFuture<RemotingCommand> {
            let index = (first + n) % servers.count
            return invoke(servers[index], command, timeout: timeout).flatMapError { error in
                guard let transport = error as? TransportError else { return self.group.next().makeFailedFuture(error) }
                guard n + 1 < servers.count else {
                    return self.group.next().makeFailedFuture(
                        ClientError.nameServerUnreachable(servers, reason: transport.description))
                }
                // Remember the failure so later calls start with the next server.
                self.nameServerCursor.withLockedValue { $0 = (index + 1) % servers.count }
                return attempt(n + 1)
            }
        }
        return attempt(0)
    }

    /// Every configured name server gets `command`; completes with the responses in order (failures included).
    func invokeAllNameServers(_ command: RemotingCommand) -> EventLoopFuture<[(String, Result<RemotingCommand, any Error>)]> {
        let futures = options.nameServers.map { address in
            invoke(address, command).map { Result<RemotingCommand, any Error>.success($0) }
                .recover { .failure($0) }.map { (address, $0) }
        }
        return EventLoopFuture.whenAllSucceed(futures, on: group.next())
    }

    // MARK: - Routes

    /// The route of `topic`, from the cache while fresh; fetched from a name server otherwise (or when `refresh`).
    /// When no name server can be reached a stale cached route is used.
    public func route(topic: String, refresh: Bool = false) -> EventLoopFuture<TopicRouteInfo> {
        let now = NIODeadline.now()
        let cached = routes.withLockedValue { $0[topic] }
        if let cached, !refresh, cached.expires > now {
            return group.next().makeSucceededFuture(cached.info)
        }
        return fetchRoute(topic: topic).map { info in
            self.routes.withLockedValue { $0[topic] = CachedRoute(info: info, expires: NIODeadline.now() + self.options.routeTTL) }
            return info
        }.flatMapError { error in
            if let cached, case ClientError.nameServerUnreachable = error {
                return self.group.next().makeSucceededFuture(cached.info)
            }
            return self.group.next().makeFailedFuture(error)
        }
    }

    /// Uses `route` for `topic` from now on, without asking a name server (tests and tools that talk to one
    /// broker directly). ``invalidateRoute(topic:)`` or a `refresh` lookup replaces it.
    public func pinRoute(topic: String, _ route: TopicRouteData) {
        routes.withLockedValue { $0[topic] = CachedRoute(info: TopicRouteInfo(topic: topic, data: route), expires: .distantFuture) }
    }

    /// ``pinRoute(topic:_:)`` with one master broker at `brokerAddress` holding `queues` read/write queues.
    public func pinRoute(topic: String, brokerAddress: String, brokerName: String = "broker-a", queues: Int) {
        pinRoute(topic: topic, TopicRouteData(
            queueDatas: [QueueData(brokerName: brokerName, readQueueNums: queues, writeQueueNums: queues, perm: Perm.readWrite)],
            brokerDatas: [BrokerData(cluster: "DefaultCluster", brokerName: brokerName, brokerAddrs: ["0": brokerAddress])]))
    }

    /// The cached route if present and fresh (no allocation; hot send path).
    func cachedRoute(topic: String) -> TopicRouteInfo? {
        let now = NIODeadline.now()
        return routes.withLockedValue { r in
            guard let c = r[topic], c.expires > now else { return nil }
            return c.info
        }
    }

    /// Drops the cached route of `topic` (after an error suggesting it is outdated).
    public func invalidateRoute(topic: String) {
        _ = routes.withLockedValue { $0.removeValue(forKey: topic) }
    }

    /// GET_ROUTEINFO_BY_TOPIC (105) without the cache.
    public func fetchRoute(topic: String) -> EventLoopFuture<TopicRouteInfo> {
        var fields = RemotingExtFields()
        fields["topic"] = topic
        return invokeNameServer(makeRequest(code: RequestCode.getRouteInfoByTopic, extFields: fields))
            .flatMapThrowing { response in
                switch response.code {
                case ResponseCode.success:
                    return TopicRouteInfo(topic: topic, data: try JSONBody.decode(TopicRouteData.self, from: response.body))
                case ResponseCode.topicNotExist:
                    throw ClientError.topicNotFound(topic)
                default:
                    throw ClientError.response(code: response.code, remark: response.remark, address: "name server")
                }
            }
    }

    /// Address of the master of `queue`'s broker, from the (cached) route.
    func masterAddress(of queue: MessageQueue) -> EventLoopFuture<String> {
        route(topic: queue.topic).flatMapThrowing { route in
            guard let address = route.masterAddress(of: queue.brokerName) else {
                throw ClientError.noMasterAddress(queue.brokerName)
            }
            return address
        }
    }
}

extension RemotingCommand {
    /// Fails unless the code is success; returns self for chaining.
    func expectSuccess(from address: String, allowing extra: Set<Int> = []) throws -> RemotingCommand {
        guard code == ResponseCode.success || extra.contains(code) else {
            throw ClientError.response(code: code, remark: remark, address: address)
        }
        return self
    }

    /// A required integer header field.
    func requiredInt64(_ key: String) throws -> Int64 {
        guard let value = extFields.int64(key) else {
            throw ClientError.badResponse("missing or non-numeric header field \(key)")
        }
        return value
    }
}
