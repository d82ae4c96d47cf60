import NIOCore
import TernProtocol
import TernRemoting

extension AdminClient {
    /// GET_BROKER_RUNTIME_INFO (28): the broker's `KVTable` (mqadmin brokerStatus).
    public func brokerRuntimeInfo(address: String) async throws -> [String: String] {
        let r = try await runtime.invoke(address, runtime.makeRequest(code: 28)).get().expectSuccess(from: address)
        return try KVTableBody.decode(from: r.body).table
    }

    /// GET_BROKER_CONFIG (26): the broker's settings, parsed from the properties text (mqadmin getBrokerConfig).
    public func brokerConfig(address: String) async throws -> [String: String] {
        let r = try await runtime.invoke(address, runtime.makeRequest(code: 26)).get().expectSuccess(from: address)
        var out: [String: String] = [:]
        for line in String(buffer: r.body ?? ByteBuffer()).split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            out[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return out
    }
}
