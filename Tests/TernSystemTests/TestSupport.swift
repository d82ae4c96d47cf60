import Glibc
import TernSystem

/// Runs `body` with a fresh directory /tmp/tern-system-XXXXXX, removed afterwards (also when `body` throws).
func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    var template = Array("/tmp/tern-system-XXXXXX".utf8CString)
    let directory = template.withUnsafeMutableBufferPointer { buffer -> String? in
        guard let result = mkdtemp(buffer.baseAddress!) else { return nil }
        return String(cString: result)
    }
    guard let directory else {
        throw SystemError(operation: "mkdtemp", path: nil, errno: errno, message: "mkdtemp failed")
    }
    defer { try? FileSystem.removeRecursively(directory) }
    return try body(directory)
}

func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

func string(_ buffer: UnsafeRawBufferPointer?) -> String? {
    buffer.map { String(decoding: $0, as: UTF8.self) }
}
