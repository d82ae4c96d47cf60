import Foundation
import NIOCore
import NIOPosix
import TernCoordination

/// A real single-member `etcd` (Debian's etcd-server, installed by tools/setup) on loopback with a temporary
/// data directory and free ports; ``stop()`` kills it and removes the directory.
final class EtcdProcess: Sendable {
    let endpoint: EtcdEndpoint
    private let process: Process
    private let directory: URL

    struct NotReady: Error, CustomStringConvertible {
        var description: String
    }

    private init(endpoint: EtcdEndpoint, process: Process, directory: URL) {
        self.endpoint = endpoint
        self.process = process
        self.directory = directory
    }

    static func binary() -> String? {
        ["/usr/bin/etcd", "/usr/local/bin/etcd"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts etcd and waits (deadline 20 s) until it answers a range request.
    static func start(group: any EventLoopGroup) async throws -> EtcdProcess {
        guard let binary = binary() else { throw NotReady(description: "etcd not installed (run tools/setup)") }
        let client = try await freePort(group), peer = try await freePort(group)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tern-etcd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--name", "tern-test", "--data-dir", directory.appendingPathComponent("data").path,
            "--listen-client-urls", "http://127.0.0.1:\(client)", "--advertise-client-urls", "http://127.0.0.1:\(client)",
            "--listen-peer-urls", "http://127.0.0.1:\(peer)", "--initial-advertise-peer-urls", "http://127.0.0.1:\(peer)",
            "--initial-cluster", "tern-test=http://127.0.0.1:\(peer)",
        ]
        let log = directory.appendingPathComponent("etcd.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = process.standardOutput
        try process.run()
        let etcd = EtcdProcess(endpoint: EtcdEndpoint(host: "127.0.0.1", port: client), process: process, directory: directory)
        let probe = EtcdClient(endpoints: [etcd.endpoint], group: group, requestTimeout: .milliseconds(500))
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if await probe.answers() { return etcd }
            try await Task.sleep(for: .milliseconds(50))
        }
        etcd.stop()
        throw NotReady(description: "etcd did not answer within 20 s")
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// A port nobody listens on now, below the kernel's ephemeral range (32768 up): a port picked by a bind to 0
    /// is ephemeral, and an outgoing connection may take it as its local port before etcd binds it.
    static func freePort(_ group: any EventLoopGroup) async throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 20_000..<32_000)
            guard let channel = try? await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: port).get()
            else { continue }
            try await channel.close()
            return port
        }
        throw IOError(errnoCode: EADDRINUSE, reason: "no free port below the ephemeral range")
    }
}

extension EtcdClient {
    /// Whether a range request succeeds now.
    func answers() async -> Bool {
        do {
            _ = try await get("/health-probe")
            return true
        } catch {
            return false
        }
    }
}
