import Foundation
import NIOCore
import NIOPosix
@testable import TernBroker
import TernMessage
import TernRemoting
import TernStorage
import TernSystem
import TernTransport
import Testing

/// Half-message state survives `kill -9` of a real `tern broker` process (the binary built next to the tests).
@Suite struct TransactionCrashTests {
    static var ternPath: String {
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("tern").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("tern").path
    }

    /// Starts `tern broker` on a free port over `store` (`config`: more broker.conf lines); returns the process
    /// and its address once it is ready.
    static func startBroker(store: String, config: String = "") throws -> (Process, String) {
        let conf = store + ".conf"
        try ("brokerIP1=127.0.0.1\nmappedFileSizeCommitLog=67108864\ntransactionCheckInterval=600000\n" + config)
            .write(toFile: conf, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ternPath)
        p.arguments = ["broker", "-c", conf, "--store", store, "--broker-port", "0"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        var text = ""
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !text.contains("ready") {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        guard let line = text.split(separator: "\n").first(where: { $0.contains("ready") }),
              let address = line.split(separator: " ").first(where: { $0.hasPrefix("127.0.0.1:") }) else {
            p.terminate()
            throw ClientFailure("tern broker did not start: \(text)")
        }
        return (p, String(address))
    }

    struct ClientFailure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    @Test func halfMessageStateSurvivesKill9() async throws {
        let dir = NSTemporaryDirectory() + "tern-txn-crash-\(UUID().uuidString)"
        let (process, address) = try Self.startBroker(store: dir)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let c = try await RemotingClient.connect(to: address, group: group)
        func send() async throws -> RemotingCommand {
            let props = SendFrames.properties([("TRAN_MSG", "true"), ("PGROUP", "PG"), ("UNIQ_KEY", UUID().uuidString)])
            return try await c.request(RemotingCommand(code: RequestCode.sendMessage, language: .cpp, version: 64,
                                                       extFields: SendFrames.javaFields(topic: "TX", queueId: 1, properties: props),
                                                       body: SendFrames.buffer("crash")), timeout: .seconds(5))
        }
        func end(_ sent: RemotingCommand, _ outcome: Int32) async throws -> Int {
            try await c.request(RemotingCommand(code: RequestCode.endTransaction, extFields: try TransactionTests.endFields(sent, outcome: outcome)),
                                timeout: .seconds(5)).code
        }
        let open = try await send(), committed = try await send(), rolledBack = try await send()
        #expect(try await end(committed, SysFlag.transactionCommit) == ResponseCode.success)
        #expect(try await end(rolledBack, SysFlag.transactionRollback) == ResponseCode.success)
        try ProcessSignals.killHard(process.processIdentifier)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        c.close()
        try? await group.shutdownGracefully()

        func offset(_ r: RemotingCommand) throws -> Int64 {
            try #require(MessageId.decodeOffsetId(r.extFields["msgId"] ?? "")).physicalOffset
        }
        let f = try await BrokerFixture.start(storeDir: dir)
        #expect(try TransactionTests.state(f, try offset(open)) == .half)
        #expect(try TransactionTests.state(f, try offset(committed)) == .committed)
        #expect(try TransactionTests.state(f, try offset(rolledBack)) == .rolledBack)
        #expect(try TransactionTests.messages(f, "TX").count == 1)
        let r = try await f.call(RequestCode.endTransaction, try TransactionTests.endFields(open, outcome: SysFlag.transactionCommit))
        #expect(r.code == ResponseCode.success)
        #expect(try TransactionTests.messages(f, "TX").count == 2)
        await f.stop()
        try? FileManager.default.removeItem(atPath: dir + ".conf")
    }
}
