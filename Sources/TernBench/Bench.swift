import ArgumentParser
import TernClient

@main
struct TernBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tern-bench",
        abstract: "Load generator for RocketMQ-protocol brokers: throughput and latency percentiles.",
        subcommands: [Produce.self, Consume.self, EndToEnd.self])
}

/// Options every mode takes.
struct CommonOptions: ParsableArguments {
    @Option(help: "Name server address (host:port; several separated by ';').")
    var namesrv = "127.0.0.1:9876"
    @Option(help: "Topic to use.")
    var topic = "TernBench"
    @Flag(help: "Print the summary as one JSON object.")
    var json = false
    @Flag(help: "Connect with TLS (RocketMQ's tls.enable).")
    var tls = false
    @Option(name: .customLong("tls-trust-cert"), help: "CA certificate (PEM) to verify servers against (tls.client.trustCertPath).")
    var tlsTrustCert: String?
    @Flag(name: .customLong("tls-test-mode"), help: "With --tls: accept any server certificate (tls.test.mode.enable).")
    var tlsTestMode = false

    /// Client options for `namesrv`, with TLS when asked for.
    func clientOptions() throws -> ClientOptions {
        var options = ClientOptions(nameServer: namesrv)
        if tls {
            do { try options.enableTLS(trustCertPath: tlsTrustCert, testMode: tlsTestMode) } catch {
                throw ValidationError("\(error)")
            }
        }
        return options
    }
}

/// How long a run lasts: a message count or a wall-clock duration.
enum RunLimit: Sendable {
    case count(Int)
    case duration(seconds: Double)

    init(count: Int?, duration: Double?, defaultSeconds: Double? = 10) throws {
        switch (count, duration) {
        case (let n?, nil):
            guard n > 0 else { throw ValidationError("--count must be positive") }
            self = .count(n)
        case (nil, let s?):
            guard s > 0 else { throw ValidationError("--duration must be positive") }
            self = .duration(seconds: s)
        case (nil, nil):
            guard let defaultSeconds else { throw ValidationError("give --count or --duration") }
            self = .duration(seconds: defaultSeconds)
        default:
            throw ValidationError("give either --count or --duration, not both")
        }
    }
}
