import Logging
import NIOConcurrencyHelpers
import NIOCore
import TernChecksum
import TernMessage
import TernProtocol
import TernRemoting
import TernSecurity
import TernTransport

/// Registers the broker with every name server in `namesrvAddr`: when its service starts, every
/// `registerNameServerPeriod` ms of the context's clock and after topic changes (`registerNow()`);
/// unregisters when the service stops.
///
/// Invariants: rounds run one at a time on the service's task; triggers during a round collapse into exactly
/// one more round (the service's wake-up is level-triggered), so bursts of topic changes coalesce; a
/// `WorkPacer` spaces rounds by twice the last one's duration, so a large table is not re-sent back to back. Within a
/// round the name servers are called concurrently, each over a cached connection that is replaced when it
/// fails. Failures are logged, never fatal: the next round retries.
final class NameServerRegistrar: Sendable {
    /// Per-request timeout of REGISTER_BROKER (Java's 6 s) and UNREGISTER_BROKER (3 s).
    static let registerTimeout = TimeAmount.seconds(6)
    static let unregisterTimeout = TimeAmount.seconds(3)

    private let context: BrokerContext
    /// Signs registrations for name servers that enforce ACL; nil: unsigned.
    private let credentials: AclCredentials?
    private let addresses: [String]
    private let connections = NIOLockedValueBox<[String: RemotingConnection]>([:])
    private let timer = NIOLockedValueBox<TimerService?>(nil)
    /// Spaces rounds (each sends the whole topic table) under a stream of topic changes.
    private let pacer = WorkPacer()

    /// TLS of the links to name servers (`tls.enable`); nil: plain.
    private let tls: TLSClient?

    init(context: BrokerContext, tls: TLSClient? = nil, credentials: AclCredentials? = nil) {
        self.credentials = credentials
        self.context = context
        self.tls = tls
        var seen = Set<String>()
        self.addresses = context.config.namesrvAddr.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// The registration service: a round at start, then every period and after each `registerNow()`; the
    /// unregistration when it stops.
    func service(events: LifecycleEvents?) -> TimerService {
        let period = Int64(max(1_000, context.config.registerNameServerPeriod))
        let service = TimerService(name: "registrar", clock: context.clock, events: events, step: { [self] now in
            guard !addresses.isEmpty else { return nil }
            let delay = pacer.delayMillis
            if delay > 0 { return now + delay }
            await pacer.run { await registerAll() }
            return now + period
        }, onStop: { [self] in await unregister() })
        timer.withLockedValue { $0 = service }
        return service
    }

    /// Registers soon (after a topic change): the service runs one more round.
    func registerNow() { timer.withLockedValue { $0 }?.wake() }

    /// Unregisters from every name server and closes the connections.
    private func unregister() async {
        guard !addresses.isEmpty else { return }
        let request = unregisterRequest()
        await forEachNameServer { address in
            do {
                let response = try await self.call(request, to: address, timeout: Self.unregisterTimeout)
                if response.code != ResponseCode.success {
                    self.context.logger.warning("name server refused unregistration", metadata: [
                        "namesrv": "\(address)", "code": "\(response.code)", "remark": "\(response.remark ?? "")",
                    ])
                }
            } catch {
                self.context.logger.warning("unregistration failed", metadata: ["namesrv": "\(address)", "error": "\(error)"])
            }
        }
        for c in connections.withLockedValue({ c in defer { c = [:] }; return Array(c.values) }) {
            c.close()
        }
    }

    // MARK: - Rounds

    private func registerAll() async {
        let request = registerRequest()
        await forEachNameServer { address in
            do {
                let response = try await self.call(request, to: address, timeout: Self.registerTimeout)
                if response.code == ResponseCode.success {
                    self.context.logger.debug("registered", metadata: ["namesrv": "\(address)"])
                    // A slave follows the master the name server knows (RocketMQ's registerBrokerAll result).
                    self.context.replication.learned(masterHAAddress: response.extFields["haServerAddr"],
                                                     masterAddress: response.extFields["masterAddr"])
                } else {
                    self.context.logger.warning("name server refused registration", metadata: [
                        "namesrv": "\(address)", "code": "\(response.code)", "remark": "\(response.remark ?? "")",
                    ])
                }
            } catch {
                self.context.logger.warning("registration failed", metadata: ["namesrv": "\(address)", "error": "\(error)"])
            }
        }
    }

    private func forEachNameServer(_ body: @escaping @Sendable (String) async -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            for address in addresses { group.addTask { await body(address) } }
        }
    }

    /// Sends over the cached connection; when that fails the connection is closed and the request retried
    /// once over a new one (a name server drops a broker whose connection closes, so a stale connection must
    /// not outlive the round).
    private func call(_ request: RemotingCommand, to address: String, timeout: TimeAmount) async throws -> RemotingCommand {
        let request = credentials?.signed(request) ?? request
        let cached = connections.withLockedValue { $0[address] }
        if let cached, cached.isActive {
            do {
                return try await cached.request(request, timeout: timeout)
            } catch {
                drop(cached, address: address)
            }
        }
        let c = try await RemotingClient.connect(to: address, group: context.group, tls: tls)
        connections.withLockedValue { $0[address] = c }
        do {
            return try await c.request(request, timeout: timeout)
        } catch {
            drop(c, address: address)
            throw error
        }
    }

    private func drop(_ connection: RemotingConnection, address: String) {
        connections.withLockedValue { c in
            if c[address] === connection { c.removeValue(forKey: address) }
        }
        connection.close()
    }

    // MARK: - Requests

    private func identity() -> RemotingExtFields {
        let config = context.config
        var ext = RemotingExtFields()
        ext["brokerName"] = config.brokerName
        ext["brokerAddr"] = config.brokerAddress
        ext["clusterName"] = config.brokerClusterName
        ext.set("brokerId", context.replication.leadership.map { Int64($0.registeredBrokerId) } ?? config.brokerId)
        return ext
    }

    private func registerRequest() -> RemotingCommand {
        let config = context.config
        let (body, compressed) = Self.registerBody(RegisterBrokerBody(topicConfigSerializeWrapper: context.topics.all),
                                                   compressed: config.compressedRegister, logger: context.logger)
        var ext = identity()
        ext["haServerAddr"] = config.haServerAddress
        ext.set("compressed", compressed)
        ext.set("bodyCrc32", body.withUnsafeReadableBytes { CRC32.rocketmqBodyCRC($0) })
        return RemotingCommand(code: RequestCode.registerBroker, extFields: ext, body: body)
    }

    /// The body and its `compressed` flag. A table the compressed form cannot carry (topic names are validated,
    /// so never in practice) goes out as JSON rather than not at all.
    static func registerBody(_ body: RegisterBrokerBody, compressed: Bool, logger: Logger) -> (ByteBuffer, Bool) {
        if compressed {
            do {
                return (try body.encodeCompressed(), true)
            } catch {
                logger.warning("sending the registration uncompressed", metadata: ["error": "\(error)"])
            }
        }
        let json = JSONBody.encode(body)
        // A table whose JSON form would not fit a frame (about 100,000 topics) could not register at all: send
        // it compressed whatever `compressedRegister` says (every 4.x name server, Apache's too, decodes it).
        if !compressed, json.readableBytes > RemotingLimits.frameSizeMaxDefault / 2,
           let small = try? body.encodeCompressed() {
            logger.notice("registration body too large for JSON: sending it compressed",
                          metadata: ["jsonBytes": "\(json.readableBytes)", "compressedBytes": "\(small.readableBytes)"])
            return (small, true)
        }
        return (json, false)
    }

    private func unregisterRequest() -> RemotingCommand {
        RemotingCommand(code: RequestCode.unregisterBroker, extFields: identity())
    }
}
