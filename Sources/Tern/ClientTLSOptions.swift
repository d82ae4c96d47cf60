import ArgumentParser
import TernClient

/// TLS flags of the client commands, after RocketMQ's client keys (`tls.enable`, `tls.client.trustCertPath`,
/// `tls.test.mode.enable`, `tls.config.file`).
struct ClientTLSOptions: ParsableArguments {
    @Flag(name: .customLong("tls"), help: "Connect with TLS (tls.enable).")
    var enabled = false
    @Option(name: .customLong("tls-trust-cert"), help: "CA certificate (PEM) servers are verified against (tls.client.trustCertPath).")
    var trustCertPath: String?
    @Flag(name: .customLong("tls-test-mode"), help: "Accept any server certificate (tls.test.mode.enable); tests only.")
    var testMode = false
    @Option(name: .customLong("tls-config"), help: "Properties file with tls.client.* keys (tls.config.file).")
    var configFile: String?

    func apply(to options: inout ClientOptions) throws {
        guard enabled || trustCertPath != nil || testMode || configFile != nil else { return }
        do { try options.enableTLS(trustCertPath: trustCertPath, testMode: testMode, configFile: configFile) } catch {
            throw ValidationError("\(error)")
        }
    }
}
