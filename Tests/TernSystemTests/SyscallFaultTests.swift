import Glibc
import Testing
import TernSystem

/// Every file operation the store writes through, with an errno forced by `SystemFaults`: EINTR is retried
/// (the operation completes), any other errno surfaces as a `SystemError` naming the C function, the path, the
/// errno (and the offset where one means something), and nothing already durable is lost or left half-made.
/// Faults are scoped to each test's directory; the suite runs serialized.
@Suite("Forced errno on every file operation", .serialized)
struct SyscallFaultTests {
    static let size = 4 * MappedFile.pageSize

    /// One operation under test: `run` performs it in `dir` (where `prepare` left durable state), `intact` checks
    /// after a failed run that the earlier state is whole and no partial file is left.
    struct Scenario: Sendable, CustomTestStringConvertible {
        var operation: String
        var errno: Int32
        var offset: Int64?
        var prepare: @Sendable (String) throws -> Void = { _ in }
        var run: @Sendable (String) throws -> Void
        var intact: @Sendable (String) throws -> Bool
        var testDescription: String { "\(operation) \(errnoName)" }
        var errnoName: String { SystemError(operation: operation, path: nil, errno: errno, message: "").errnoName }
    }

    /// writeAtomically over an existing "old" state file: a failure keeps "old" and leaves no temporary.
    static func stateFile(_ operation: String, _ errno: Int32) -> Scenario {
        Scenario(operation: operation, errno: errno,
                 prepare: { dir in try FileSystem.writeAtomically(dir + "/state.json", Array("old".utf8)) },
                 run: { dir in try FileSystem.writeAtomically(dir + "/state.json", Array("new".utf8)) },
                 intact: { dir in
                     try FileSystem.readFile(dir + "/state.json") == Array("old".utf8)
                         && FileSystem.listDirectory(dir) == ["state.json"]
                 })
    }

    /// A new mapped file: a failure leaves neither the file nor its temporary.
    static func newMapping(_ operation: String, _ errno: Int32) -> Scenario {
        Scenario(operation: operation, errno: errno,
                 run: { dir in _ = try MappedFile.open(path: dir + "/segment", size: size, create: true) },
                 intact: { dir in try FileSystem.listDirectory(dir).isEmpty })
    }

    /// discardTail of a written mapped file: a failed ftruncate changes nothing.
    static func discardTail(_ errno: Int32) -> Scenario {
        Scenario(operation: "ftruncate", errno: errno, offset: Int64(MappedFile.pageSize),
                 prepare: { dir in
                     let file = try MappedFile.open(path: dir + "/segment", size: size, create: true)
                     file.mutableBytes(0..<size).initializeMemory(as: UInt8.self, repeating: 7)
                     try file.sync(0..<size)
                 },
                 run: { dir in
                     try MappedFile.open(path: dir + "/segment", size: size, create: false)
                         .discardTail(from: MappedFile.pageSize)
                 },
                 intact: { dir in
                     try FileSystem.fileSize(dir + "/segment") == size
                         && FileSystem.readFile(dir + "/segment").allSatisfy { $0 == 7 }
                 })
    }

    static let scenarios: [Scenario] = [
        stateFile("open", EACCES), stateFile("write", ENOSPC), stateFile("write", EIO), stateFile("fsync", EIO),
        stateFile("rename", EXDEV),
        newMapping("open", EMFILE), newMapping("posix_fallocate", ENOSPC), newMapping("mmap", ENOMEM),
        newMapping("rename", EIO), discardTail(EIO),
    ]

    @Test(arguments: scenarios)
    func errnoSurfacesWithOperationPathAndErrnoAndLosesNothing(_ s: Scenario) throws {
        try withTemporaryDirectory { dir throws in
            defer { SystemFaults.reset(scope: dir) }
            try s.prepare(dir)
            SystemFaults.inject(s.operation, errno: s.errno, pathContains: dir)
            let error = #expect(throws: SystemError.self) { try s.run(dir) }
            #expect(error?.operation == s.operation)
            #expect(error?.errno == s.errno)
            #expect(error?.path?.hasPrefix(dir + "/") == true)
            #expect(error?.description.contains(s.errnoName) == true)
            if let offset = s.offset { #expect(error?.offset == offset) }
            #expect(try s.intact(dir), "earlier state damaged or a partial file left after a failed \(s.operation)")
            // The fault was used once: the same operation now succeeds.
            try s.run(dir)
        }
    }

    @Test(arguments: scenarios)
    func eintrIsRetried(_ s: Scenario) throws {
        try withTemporaryDirectory { dir throws in
            defer { SystemFaults.reset(scope: dir) }
            try s.prepare(dir)
            SystemFaults.inject(s.operation, errno: EINTR, times: 3, pathContains: dir)
            try s.run(dir)
            // The operation was really reached: all three EINTRs were consumed by retries.
            #expect(!SystemFaults.isArmed(s.operation, scope: dir))
        }
    }
}
