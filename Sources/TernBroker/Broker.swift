import Logging
import NIOCore
import NIOPosix
import NIOConcurrencyHelpers
import TernRemoting
import TernStorage
import TernTransport

/// A running broker: the store opened (recovery done), the remoting server listening, registration running.
///
/// Lifecycle: ``start(config:group:logger:)`` answers requests as soon as it returns; ``shutdown()`` stops
/// accepting, unregisters, answers suspended pulls, flushes and closes the store.
public final class Broker: Sendable {
    public let context: BrokerContext
    private let server: RemotingServer
    private let handler: BrokerRequestHandler
    private let registrar: NameServerRegistrar

    /// The port actually bound (differs from the config when it asked for port 0).
    public var port: Int { server.port }
    public var store: MessageStore { context.store }

    private init(context: BrokerContext, server: RemotingServer, handler: BrokerRequestHandler, registrar: NameServerRegistrar) {
        self.context = context
        self.server = server
        self.handler = handler
        self.registrar = registrar
    }

    public static func start(config: BrokerConfig, group: any EventLoopGroup, logger: Logger = Logger(label: "tern.broker")) async throws -> Broker {
        var config = config
        let store = try MessageStore.open(config.storeConfig, logger: logger)
        do {
            let topics = try TopicConfigManager(storeRoot: config.storePathRootDir, config: config, logger: logger)
            // Port 0 (tests): bind first so the registered address and STOREHOST carry the real port.
            let processorsBox = ProcessorsBox()
            let server = try await RemotingServer.start(
                host: config.listenHost, port: config.listenPort, group: group, handler: processorsBox,
                idleTimeout: .seconds(Int64(config.clientChannelMaxIdleTimeSeconds)), logger: logger)
            config.listenPort = server.port
            let context = try BrokerContext(config: config, store: store, topics: topics, group: group, logger: logger)
            let handler = BrokerRequestHandler(processors: [
                SendProcessor(context: context),
                ConsumerProcessor(context: context),
                AdminProcessor(context: context),
                TransactionProcessor(context: context), ReplyProcessor(context: context),
                TraceRecorder(context: context),
                FlowAdminProcessor(context: context),
                RetryProcessor(context: context),
            ], flow: context.flow)
            processorsBox.set(handler)
            let registrar = NameServerRegistrar(context: context)
            topics.setOnChange { registrar.registerNow() }
            registrar.start()
            logger.info("broker started", metadata: [
                "address": "\(config.brokerAddress)", "store": "\(config.storePathRootDir)",
                "recovery": "\(store.recovery)",
            ])
            return Broker(context: context, server: server, handler: handler, registrar: registrar)
        } catch {
            store.close()
            throw error
        }
    }

    /// Stops accepting connections, unregisters, answers suspended requests, flushes and closes the store.
    public func shutdown() async {
        await server.stop()
        context.topics.setOnChange(nil)
        await registrar.shutdown()
        handler.shutdown()
        context.store.close()
        context.logger.info("broker stopped")
    }
}

/// Lets the server start before the processors exist (they need the bound port). Requests arriving in the
/// instant before `set` are answered SYSTEM_BUSY.
private final class ProcessorsBox: RemotingRequestHandler {
    private let inner = NIOLockedValueBox<BrokerRequestHandler?>(nil)
    func set(_ h: BrokerRequestHandler) { inner.withLockedValue { $0 = h } }
    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        guard let h = inner.withLockedValue({ $0 }) else {
            responder.respond(code: ResponseCode.systemBusy, remark: "broker is starting")
            return
        }
        h.handle(request, responder: responder)
    }
    func connectionClosed(_ connection: RemotingConnection) {
        inner.withLockedValue { $0 }?.connectionClosed(connection)
    }
}
