import Logging
import NIOConcurrencyHelpers
import NIOCore
import TernMessage
import TernProtocol
import TernRemoting
import TernTransport

/// Registers the broker with every name server in `namesrvAddr`: at `start()`, every
/// `registerNameServerPeriod` ms and after topic changes (`registerNow()`); unregisters at shutdown.
///
/// Invariants: at most one registration round runs at a time; a trigger during a round queues exactly one
/// more round (bursts of topic changes coalesce). Within a round the name servers are called concurrently,
/// each over a cached connection that is replaced when it fails. Failures are logged, never fatal: the next
/// round retries.
final class NameServerRegistrar: Sendable {
    private struct State {
        var connections: [String: RemotingConnection] = [:]
        var round: Task<Void, Never>?
        var again = false
        var stopped = false
        var timer: RepeatedTask?
    }

    /// Per-request timeout of REGISTER_BROKER (Java's 6 s) and UNREGISTER_BROKER (3 s).
    static let registerTimeout = TimeAmount.seconds(6)
    static let unregisterTimeout = TimeAmount.seconds(3)

    private let context: BrokerContext
    private let addresses: [String]
    private let state = NIOLockedValueBox(State())

    init(context: BrokerContext) {
        self.context = context
        var seen = Set<String>()
        self.addresses = context.config.namesrvAddr.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// Registers now and then every `registerNameServerPeriod`.
    func start() {
        guard !addresses.isEmpty else { return }
        let period = TimeAmount.milliseconds(Int64(max(1_000, context.config.registerNameServerPeriod)))
        let timer = context.group.next().scheduleRepeatedTask(initialDelay: period, delay: period) { [weak self] _ in
            self?.trigger()
        }
        let stopped = state.withLockedValue { s -> Bool in
            if !s.stopped { s.timer = timer }
            return s.stopped
        }
        if stopped { timer.cancel() }
        trigger()
    }

    /// Registers at once (after a topic change).
    func registerNow() { trigger() }

    /// Unregisters from every name server and stops the timer.
    func shutdown() async {
        let (timer, round) = state.withLockedValue { s in
            s.stopped = true
            return (s.timer, s.round)
        }
        timer?.cancel()
        await round?.value
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
        for c in state.withLockedValue({ s in defer { s.connections = [:] }; return Array(s.connections.values) }) {
            c.close()
        }
    }

    // MARK: - Rounds

    private func trigger() {
        guard !addresses.isEmpty else { return }
        state.withLockedValue { s in
            if s.stopped { return }
            if s.round != nil {
                s.again = true
                return
            }
            // The task cannot clear `round` before this assignment: that needs the lock held here.
            s.round = Task { await self.runRounds() }
        }
    }

    private func runRounds() async {
        while true {
            await registerAll()
            let more = state.withLockedValue { s -> Bool in
                if s.again && !s.stopped {
                    s.again = false
                    return true
                }
                s.round = nil
                return false
            }
            if !more { return }
        }
    }

    private func registerAll() async {
        let request = registerRequest()
        await forEachNameServer { address in
            do {
                let response = try await self.call(request, to: address, timeout: Self.registerTimeout)
                if response.code == ResponseCode.success {
                    self.context.logger.debug("registered", metadata: ["namesrv": "\(address)"])
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
        let cached = state.withLockedValue { $0.connections[address] }
        if let cached, cached.isActive {
            do {
                return try await cached.request(request, timeout: timeout)
            } catch {
                drop(cached, address: address)
            }
        }
        let c = try await RemotingClient.connect(to: address, group: context.group)
        state.withLockedValue { $0.connections[address] = c }
        do {
            return try await c.request(request, timeout: timeout)
        } catch {
            drop(c, address: address)
            throw error
        }
    }

    private func drop(_ connection: RemotingConnection, address: String) {
        state.withLockedValue { s in
            if s.connections[address] === connection { s.connections.removeValue(forKey: address) }
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
        ext.set("brokerId", config.brokerId)
        return ext
    }

    private func registerRequest() -> RemotingCommand {
        let config = context.config
        let body = JSONBody.encode(RegisterBrokerBody(topicConfigSerializeWrapper: context.topics.all))
        var ext = identity()
        ext["haServerAddr"] = "\(config.brokerIP1):\(config.listenPort + 1)"
        ext.set("compressed", false)
        ext.set("bodyCrc32", body.withUnsafeReadableBytes { CRC32.rocketmqBodyCRC($0) })
        return RemotingCommand(code: RequestCode.registerBroker, extFields: ext, body: body)
    }

    private func unregisterRequest() -> RemotingCommand {
        RemotingCommand(code: RequestCode.unregisterBroker, extFields: identity())
    }
}
