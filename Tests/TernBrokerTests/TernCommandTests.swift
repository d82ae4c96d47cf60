import Foundation
import Testing

/// The `tern` executable's startup contract: usage text only for argument errors, loopback by default,
/// configuration we do not implement refused before anything starts, SIGTERM ends with status 0.
@Suite struct TernCommandTests {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `tern arguments` to its end (it must exit by itself).
    static func run(_ arguments: [String]) throws -> Outcome {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TransactionCrashTests.ternPath)
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Outcome(status: p.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func unsupportedConfigurationStopsStartupWithoutUsageText() throws {
        let dir = NSTemporaryDirectory() + "tern-cmd-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir); try? FileManager.default.removeItem(atPath: dir + ".conf") }
        try "enableDLegerCommitLog=true\n".write(toFile: dir + ".conf", atomically: true, encoding: .utf8)
        let r = try Self.run(["standalone", "-c", dir + ".conf", "--store", dir, "--namesrv-port", "0", "--broker-port", "0"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("enableDLegerCommitLog") && r.stderr.contains("not supported"), "\(r.stderr)")
        #expect(!r.stderr.contains("Usage"), "\(r.stderr)")
        #expect(!r.stdout.contains("ready"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/commitlog"), "the store was opened")
    }

    @Test func argumentErrorsStillShowUsage() throws {
        let r = try Self.run(["broker", "--broker-port", "99999"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("is not a port") && r.stderr.contains("Usage"), "\(r.stderr)")
    }

    @Test func nameServerListensOnLoopbackAndStopsOnSigterm() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TransactionCrashTests.ternPath)
        p.arguments = ["namesrv", "--port", "0"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        var text = ""
        while !text.contains("ready") {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        #expect(text.contains("tern namesrv ready: 127.0.0.1:"), "\(text)")
        p.terminate()
        text += String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationReason == .exit && p.terminationStatus == 0)
        #expect(text.contains("tern namesrv stopped"))
    }
}
