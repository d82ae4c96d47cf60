import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import TernBroker
import TernNameServer
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

    /// The config from the file, then the flags over it. Warnings about the file go to the log.
    func brokerConfig(logger: Logger) throws -> BrokerConfig {
        var config = BrokerConfig()
        config.storePathRootDir = NSHomeDirectory() + "/tern-store"
        if let configFile {
            guard let text = try? String(contentsOfFile: configFile, encoding: .utf8) else {
                throw ValidationError("cannot read config file \(configFile)")
            }
            do {
                for warning in try config.apply(properties: text) {
                    logger.warning("\(configFile): \(warning)")
                }
            } catch {
                throw ValidationError("\(configFile): \(error)")
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

    /// Suspends until SIGTERM or SIGINT.
    static func waitForTermination() async {
        for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) { return }
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

    @Option(name: .customLong("http-port"), help: "Serve the name-server address document (/rocketmq/nsaddr) on this port.")
    var httpPort: Int?

    func run() async throws {
        let logger = try Runtime.makeLogger(level: broker.logLevel)
        var config = try broker.brokerConfig(logger: logger)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        var ns = NameServerConfig()
        ns.listenHost = "127.0.0.1"
        ns.listenPort = namesrvPort
        ns.httpPort = httpPort
        let nameServer = try await NameServer.start(config: ns, group: group, logger: logger)
        config.listenHost = "127.0.0.1"
        config.namesrvAddr = ["127.0.0.1:\(nameServer.port)"]
        let broker: Broker
        do {
            broker = try await Broker.start(config: config, group: group, logger: logger)
        } catch {
            await nameServer.shutdown()
            try? await group.shutdownGracefully()
            throw ValidationError("cannot start the broker: \(error)")
        }
        Runtime.announce("tern standalone ready: namesrv 127.0.0.1:\(nameServer.port) broker \(broker.context.config.brokerAddress) store \(config.storePathRootDir)")
        await Runtime.waitForTermination()
        logger.info("stopping")
        await broker.shutdown()
        await nameServer.shutdown()
        try? await group.shutdownGracefully()
        Runtime.announce("tern standalone stopped")
    }
}

struct NamesrvCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "namesrv", abstract: "Run a name server.")

    @Option(name: .long, help: "Listen port. Default: 9876.")
    var port: Int = 9876

    @Option(name: .long, help: "Listen address. Default: 0.0.0.0.")
    var host: String = "0.0.0.0"

    @Option(name: .customLong("http-port"), help: "Serve the name-server address document (/rocketmq/nsaddr) on this port.")
    var httpPort: Int?

    @Option(name: .customLong("address-doc"), help: "Addresses published by the HTTP document, ';'-separated.")
    var addressDocument: String?

    @Option(name: .customLong("log-level"))
    var logLevel: String = "info"

    func run() async throws {
        let logger = try Runtime.makeLogger(level: logLevel)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        var ns = NameServerConfig()
        ns.listenHost = host
        ns.listenPort = port
        ns.httpPort = httpPort
        if let addressDocument {
            ns.addressDocument = addressDocument.split(separator: ";").map(String.init)
        }
        let nameServer = try await NameServer.start(config: ns, group: group, logger: logger)
        Runtime.announce("tern namesrv ready: \(host):\(nameServer.port)")
        await Runtime.waitForTermination()
        await nameServer.shutdown()
        try? await group.shutdownGracefully()
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
            _ = try config.set("namesrvAddr", namesrv)
        }
        if config.namesrvAddr.isEmpty { logger.warning("no namesrvAddr: the broker will not register anywhere") }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let b = try await Broker.start(config: config, group: group, logger: logger)
        Runtime.announce("tern broker ready: \(b.context.config.brokerAddress) store \(config.storePathRootDir)")
        await Runtime.waitForTermination()
        await b.shutdown()
        try? await group.shutdownGracefully()
        Runtime.announce("tern broker stopped")
    }
}
