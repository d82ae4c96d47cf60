import Synchronization
import Foundation

/// Output of an executable run by a test.
public struct ProcessRun: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any] ?? [:] }
}

public struct MissingExecutable: Error, CustomStringConvertible {
    public let path: String
    public var description: String { "no executable at \(path) (the test target must depend on it)" }
}

/// Runs an executable built next to the test bundle (a product the test target depends on) and waits for it.
/// Both pipes are drained concurrently so a chatty stderr cannot block the child.
public func runSibling(_ name: String, _ arguments: [String]) throws -> ProcessRun {
    let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let binary = directory.appendingPathComponent(name)
    guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw MissingExecutable(path: binary.path) }
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let errData = Mutex(Data())
    let reading = DispatchGroup()
    DispatchQueue.global().async(group: reading) {
        let data = err.fileHandleForReading.readDataToEndOfFile()
        errData.withLock { $0 = data }
    }
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    reading.wait()
    process.waitUntilExit()
    return ProcessRun(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: errData.withLock { $0 }, as: UTF8.self))
}
