import NIOConcurrencyHelpers
import NIOCore
import TernProtocol
import TernRemoting
import TernTransport

/// A replica's remoting connection to its master's broker port: the master's epochs (GET_BROKER_EPOCH_CACHE)
/// and the metadata a slave copies (topic configs, consumer and delay offsets). One cached connection,
/// replaced when the address changes or a call fails.
public final class MasterClient: Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case refused(code: Int, remark: String?)
        public var description: String {
            switch self {
            case let .refused(code, remark): "master answered \(code): \(remark ?? "")"
            }
        }
    }

    private let group: any EventLoopGroup
    private let cached = NIOLockedValueBox<(address: String, connection: RemotingConnection)?>(nil)
    public static let timeout: TimeAmount = .seconds(3)

    public init(group: any EventLoopGroup) {
        self.group = group
    }

    /// Sends `code` to the broker at `address` ("host:port") and returns a successful answer; anything else
    /// throws (the connection is dropped on a transport error, so the next call reconnects).
    public func call(_ code: Int, extFields: RemotingExtFields = [:], to address: String) async throws -> RemotingCommand {
        let connection = try await connection(to: address)
        let response: RemotingCommand
        do {
            response = try await connection.request(RemotingCommand(code: code, extFields: extFields), timeout: Self.timeout)
        } catch {
            drop(connection)
            throw error
        }
        guard response.code == ResponseCode.success else { throw Failure.refused(code: response.code, remark: response.remark) }
        return response
    }

    /// The master's epoch history, log end and in-sync set.
    public func epochCache(at address: String) async throws -> EpochCacheBody {
        try JSONBody.decode(EpochCacheBody.self, from: try await call(RequestCode.getBrokerEpochCache, to: address).body)
    }

    public func close() {
        cached.withLockedValue { c in
            c?.connection.close()
            c = nil
        }
    }

    private func connection(to address: String) async throws -> RemotingConnection {
        if let c = cached.withLockedValue({ $0 }), c.address == address, c.connection.isActive { return c.connection }
        let fresh = try await RemotingClient.connect(to: address, group: group)
        let replaced = cached.withLockedValue { c -> RemotingConnection? in
            defer { c = (address, fresh) }
            return c?.connection
        }
        replaced?.close()
        return fresh
    }

    private func drop(_ connection: RemotingConnection) {
        cached.withLockedValue { c in
            if c?.connection === connection { c = nil }
        }
        connection.close()
    }
}
