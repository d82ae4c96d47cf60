import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import TernBroker
import TernNameServer
import TernTransport
import ServiceLifecycle
import TernOps
import UnixSignals

/// Options shared by the commands that run a broker.
struct BrokerOptions: ParsableArguments {
    @Option(name: [.customShort("c"), .customLong("config")], help: "RocketMQ-style broker.conf (key=value properties).")
    var configFile: String?

    @Option(name: .long, help: "Store directory (overrides storePathRootDir). Default: ~/tern-store.")
    var store: String?

    @Option(name: .customLong("broker-port"), help: "Broker listen port (overrides listenPort). Default: 10911.")
    var brokerPort: Int?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    /// The config from the file, then the flags over it. Warnings about the file go to the log; a bad file
    /// is a `StartupError` (no usage text: the arguments were fine).
    func brokerConfig(logger: Logger) throws -> BrokerConfig {
        var config = BrokerConfig()
        config.storePathRootDir = NSHomeDirectory() + "/tern-store"
        if let configFile {
            guard let text = try? String(contentsOfFile: configFile, encoding: .utf8) else {
                throw StartupError("cannot read config file \(configFile)")
            }
            do {
                for warning in try config.apply(properties: text) {
                    logger.warning("\(configFile): \(warning)")
                }
            } catch {
                throw StartupError("\(configFile): \(error)")
            }
        }
        if let store { config.storePathRootDir = store }
        if let brokerPort {
            guard (0...65535).contains(brokerPort) else { throw ValidationError("--broker-port \(brokerPort) is not a port") }
            config.listenPort = brokerPort
        }
        return config
    }
}

/// A failure after the arguments were accepted (configuration content, startup, runtime): ArgumentParser
/// prints it without the usage text, which only argument errors (`ValidationError`) get.
struct StartupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Prints the ready line from inside the running group: its signal handlers are installed by then, so a
/// SIGTERM right after "ready" is a graceful shutdown, not the default action (death).
struct ReadyLine: Service {
    let line: String
    /// The HTTP port binds inside the group: "ready" waits until it listens (clients use it right after).
    let http: OpsHTTPServer?

    func run() async throws {
        _ = await http?.listening()
        Runtime.announce(line)
        try? await gracefulShutdown()
    }
}

enum Runtime {
    static func makeLogger(level: String) throws -> Logger {
        guard let l = Logger.Level(rawValue: level) else { throw ValidationError("unknown log level \(level)") }
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = l
            return h
        }
        return Logger(label: "tern")
    }

    /// Runs `services` in the process's one service group until SIGTERM / SIGINT, then shuts them down
    /// gracefully in reverse order and stops the event loops. `ready` is printed once the group runs.
    static func run(_ services: [any Service], http: OpsHTTPServer? = nil, ready: String, group: MultiThreadedEventLoopGroup,
                    logger: Logger) async throws {
        var configuration = ServiceGroupConfiguration(
            services: services + (http.map { [$0] } ?? []) + [ReadyLine(line: ready, http: http)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // A shutdown step that hangs is cancelled after this; the store is closed either way.
        configuration.maximumGracefulShutdownDuration = .seconds(60)
        let serviceGroup = ServiceGroup(configuration: configuration)
        do {
            try await serviceGroup.run()
        } catch {
            try? await group.shutdownGracefully()
            throw StartupError("stopped after a failure: \(error)")
        }
        try? await group.shutdownGracefully()
    }

    /// Runs `body` (binding, recovery); on failure runs `cleanup`, stops the event loops and reports what could
    /// not start as a `StartupError`.
    static func prepare<T>(_ what: String, group: MultiThreadedEventLoopGroup, cleanup: () async -> Void = {},
                           _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            await cleanup()
            try? await group.shutdownGracefully()
            throw StartupError("cannot start the \(what): \(error)")
        }
    }

    /// Prints a line on stdout and flushes it (scripts wait for "ready").
    static func announce(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

struct StandaloneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "standalone",
        abstract: "Name server and broker in one process on 127.0.0.1."
    )

    @OptionGroup var broker: BrokerOptions

    @Option(name: .customLong("namesrv-port"), help: "Name server port. Default: 9876.")
    var namesrvPort: Int = 9876

    @Option(name: .customLong("http-port"),
            help: "The HTTP port (httpPort): the console at /, the name-server address document at /rocketmq/nsaddr.")
    var httpPort: Int?

    func run() async throws {
        let logger = try Runtime.makeLogger(level: broker.logLevel)
        var config = try broker.brokerConfig(logger: logger)
        if let httpPort { config.httpPort = httpPort }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        var ns = NameServerConfig()
        ns.listenHost = "127.0.0.1"
        ns.listenPort = namesrvPort
        // One process, one HTTP server: the broker's httpPort serves the address document too (below).
        // One process, one certificate: the name server's ports follow the broker's tls.server.* keys.
        ns.tls = config.tls
        if config.tls.server.mode == .enforcing, !config.tls.client.enabled {
            logger.warning("tls.server.mode=enforcing without tls.enable=true: the broker cannot register with its name server")
        }
        // One ACL file for both: the broker signs its registrations with an admin account of it.
        ns.aclFilePath = config.aclEnable ? config.aclFile : nil
        let nameServer = try await Runtime.prepare("name server", group: group) {
            try await NameServer.prepare(config: ns, group: group, logger: logger)
        }
        config.listenHost = "127.0.0.1"
        config.namesrvAddr = ["127.0.0.1:\(nameServer.port)"]
        let broker = try await Runtime.prepare("broker", group: group, cleanup: { await nameServer.abandon() }) { [config] in
            try await Broker.prepare(config: config, group: group, logger: logger)
        }
        let http = try await Runtime.prepare("HTTP port", group: group, cleanup: {
            await broker.abandon()
            await nameServer.abandon()
        }) { [config] in
            try HTTPSurface.server(config: config, broker: broker, logger: logger,
                                   extra: [AddressDocumentRoutes(addresses: ["127.0.0.1:\(nameServer.port)"])])
        }
        // The broker's services stop before the name server's: it unregisters while the name server listens.
        // The HTTP port, a client of the broker, stops first.
        try await Runtime.run(nameServer.services + broker.services, http: http,
                              ready: "tern standalone ready: namesrv 127.0.0.1:\(nameServer.port) broker \(broker.context.config.brokerAddress) store \(config.storePathRootDir)",
                              group: group, logger: logger)
        Runtime.announce("tern standalone stopped")
    }
}

struct NamesrvCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "namesrv", abstract: "Run a name server.")

    @Option(name: .long, help: "Listen port. Default: 9876.")
    var port: Int = 9876

    @Option(name: .long, help: "Listen address. Default: 127.0.0.1 (0.0.0.0: every interface).")
    var host: String = "127.0.0.1"

    @Option(name: .customLong("http-port"), help: "Serve the name-server address document (/rocketmq/nsaddr) on this port.")
    var httpPort: Int?

    @Option(name: .customLong("address-doc"), help: "Addresses published by the HTTP document, ';'-separated.")
    var addressDocument: String?

    @Option(name: [.customShort("c"), .customLong("config")], help: "namesrv properties file (its tls.* keys are used).")
    var configFile: String?
    @Option(name: .customLong("metrics-prom-port"), help: "Serve Prometheus /metrics on this port (metricsExporterType=PROM, metricsPromExporterPort).")
    var metricsPromPort: Int?

    @Option(name: .customLong("log-level"))
    var logLevel: String = "info"

    @Option(name: .customLong("acl-file"),
            help: "A plain_acl.yml: registering brokers and deleting topics then need an admin account's signature.")
    var aclFile: String?

    func run() async throws {
        let logger = try Runtime.makeLogger(level: logLevel)
        var ns = NameServerConfig()
        if let configFile {
            guard let text = try? String(contentsOfFile: configFile, encoding: .utf8) else {
                throw StartupError("cannot read config file \(configFile)")
            }
            do {
                for key in try ns.tls.apply(properties: text, source: configFile) {
                    logger.warning("\(configFile): key \(key) ignored")
                }
            } catch {
                throw StartupError("\(configFile): \(error)")
            }
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        ns.aclFilePath = aclFile
        ns.listenHost = host
        ns.listenPort = port
        ns.httpPort = httpPort
        if let addressDocument {
            ns.addressDocument = addressDocument.split(separator: ";").map(String.init)
        }
        if let metricsPromPort {
            ns.metrics.exporterType = .prom
            (ns.metrics.host, ns.metrics.port) = (host, metricsPromPort)
        }
        let nameServer = try await Runtime.prepare("name server", group: group) {
            try await NameServer.prepare(config: ns, group: group, logger: logger)
        }
        try await Runtime.run(nameServer.services, ready: "tern namesrv ready: \(host):\(nameServer.port)", group: group, logger: logger)
        Runtime.announce("tern namesrv stopped")
    }
}

struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "broker", abstract: "Run a broker.")

    @OptionGroup var broker: BrokerOptions

    @Option(name: .customLong("namesrv"), help: "Name servers, ';'-separated (overrides namesrvAddr).")
    var namesrv: String?

    func run() async throws {
        let logger = try Runtime.makeLogger(level: broker.logLevel)
        var config = try broker.brokerConfig(logger: logger)
        if let namesrv {
            do { _ = try config.set("namesrvAddr", namesrv) } catch { throw ValidationError("--namesrv: \(error)") }
        }
        if config.namesrvAddr.isEmpty { logger.warning("no namesrvAddr: the broker will not register anywhere") }
        // Bind the address clients are told to use: loopback unless brokerIP1 says otherwise.
        config.listenHost = config.brokerIP1
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let b = try await Runtime.prepare("broker", group: group) { [config] in
            try await Broker.prepare(config: config, group: group, logger: logger)
        }
        let http = try await Runtime.prepare("HTTP port", group: group, cleanup: { await b.abandon() }) { [config] in
            try HTTPSurface.server(config: config, broker: b, logger: logger)
        }
        try await Runtime.run(b.services, http: http, ready: "tern broker ready: \(b.context.config.brokerAddress) store \(config.storePathRootDir)",
                              group: group, logger: logger)
        Runtime.announce("tern broker stopped")
    }
}
