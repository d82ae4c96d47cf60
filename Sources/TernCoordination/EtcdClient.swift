import Foundation
import NIOCore
import Synchronization

/// A key as etcd stores it: value bytes and the revisions a compare-and-put checks.
public struct EtcdKeyValue: Sendable, Equatable {
    public var key: String
    public var value: [UInt8]
    /// Revision of the key's creation (0: absent, which is what a create-if-absent compares).
    public var createRevision: Int64
    public var modRevision: Int64
    public var version: Int64
    /// The lease the key is attached to (0: none); the key is deleted when the lease expires.
    public var lease: Int64
}

/// An etcd v3 client over the JSON gateway (`/v3/kv/*`, `/v3/lease/*`), enough for leader election: get,
/// put, delete, prefix ranges, transactions (compare-and-put) and leases.
///
/// Endpoints: each call goes to the endpoint that answered last; an unreachable endpoint (no connection, no
/// answer within `requestTimeout`) or one answering gRPC `Unavailable` / `DeadlineExceeded` (no etcd leader)
/// hands the call to the next, so a member's loss costs one timeout. When every endpoint failed the error
/// names them all. Calls hold no connection between them (one short HTTP connection per call).
public final class EtcdClient: Sendable {
    public let endpoints: [EtcdEndpoint]
    private let http: EtcdHTTP
    private let preferred = Atomic<Int>(0)

    public init(endpoints: [EtcdEndpoint], group: any EventLoopGroup, requestTimeout: Duration = .seconds(1)) {
        precondition(!endpoints.isEmpty, "an etcd client needs an endpoint")
        self.endpoints = endpoints
        self.http = EtcdHTTP(group: group, timeout: requestTimeout)
    }

    /// The endpoint calls go to now (the last one that answered).
    public var currentEndpoint: EtcdEndpoint { endpoints[preferred.load(ordering: .relaxed) % endpoints.count] }

    // MARK: KV

    public func get(_ key: String) async throws(EtcdError) -> EtcdKeyValue? {
        let answer: Wire.RangeResponse = try await call("kv/range", Wire.RangeRequest(key: Wire.b64(key)))
        return answer.kvs?.first?.model
    }

    /// Every key starting with `prefix`, in key order.
    public func get(prefix: String) async throws(EtcdError) -> [EtcdKeyValue] {
        let request = Wire.RangeRequest(key: Wire.b64(prefix), range_end: Wire.b64(Wire.prefixEnd(prefix)))
        let answer: Wire.RangeResponse = try await call("kv/range", request)
        return (answer.kvs ?? []).map(\.model)
    }

    /// Puts `value` at `key`, attached to `lease` when given. Returns the store's revision after the put.
    @discardableResult
    public func put(_ key: String, _ value: [UInt8], lease: Int64? = nil) async throws(EtcdError) -> Int64 {
        let request = Wire.PutRequest(key: Wire.b64(key), value: Wire.b64(value), lease: lease.map(String.init))
        let answer: Wire.PutResponse = try await call("kv/put", request)
        return Wire.int(answer.header?.revision)
    }

    /// Deletes `key`; returns how many keys were deleted (0 or 1).
    @discardableResult
    public func delete(_ key: String) async throws(EtcdError) -> Int {
        let answer: Wire.DeleteRangeResponse = try await call("kv/deleterange", Wire.DeleteRangeRequest(key: Wire.b64(key)))
        return Int(Wire.int(answer.deleted))
    }

    /// Runs `txn` atomically: its `success` operations when every compare holds, else its `failure` ones.
    public func txn(_ txn: EtcdTxn) async throws(EtcdError) -> EtcdTxnResult {
        let request = Wire.TxnRequest(compare: txn.compares.map(\.wire), success: txn.success.map(\.wire),
                                      failure: txn.failure.map(\.wire))
        let answer: Wire.TxnResponse = try await call("kv/txn", request)
        let kvs = (answer.responses ?? []).flatMap { $0.response_range?.kvs ?? [] }.map(\.model)
        return EtcdTxnResult(succeeded: answer.succeeded ?? false, revision: Wire.int(answer.header?.revision), kvs: kvs)
    }

    // MARK: Transport

    /// POSTs `request` to `/v3/<operation>` on the preferred endpoint, then on each other one while they are
    /// unreachable or leaderless.
    private static let repeatable: Set<String> = ["kv/range", "kv/put", "kv/deleterange", "lease/keepalive",
                                                   "lease/revoke", "lease/timetolive"]

    func call<Response: Decodable>(_ operation: String, _ request: some Encodable) async throws(EtcdError) -> Response {
        let body: [UInt8]
        do { body = Array(try JSONEncoder().encode(request)) } catch {
            throw EtcdError(operation: operation, endpoint: "-", kind: .malformed("request: \(error)"))
        }
        let start = preferred.load(ordering: .relaxed)
        var failures: [String] = []
        for step in 0..<endpoints.count {
            let index = (start + step) % endpoints.count
            let endpoint = endpoints[index]
            let answer: EtcdHTTP.Answer
            do {
                answer = try await http.post("/v3/" + operation, body: body, to: endpoint)
            } catch ChannelError.ioOnClosedChannel where Self.repeatable.contains(operation) {
                // The member closed the fresh connection while the request was being written (seen from etcd
                // under load) and no answer began: one more attempt on a new connection, for calls whose
                // repetition changes nothing (a txn's compare or a grant's new lease would).
                do {
                    answer = try await http.post("/v3/" + operation, body: body, to: endpoint)
                } catch {
                    failures.append("\(endpoint): \(error)")
                    continue
                }
            } catch {
                failures.append("\(endpoint): \(error)")
                continue
            }
            if answer.status != 200 {
                let status = try? JSONDecoder().decode(Wire.Status.self, from: Data(answer.body))
                let code = status?.code ?? -answer.status
                let message = status?.message ?? status?.error ?? String(decoding: answer.body.prefix(200), as: UTF8.self)
                // 14 Unavailable, 4 DeadlineExceeded: this member cannot serve now (no leader, partitioned).
                if code == 14 || code == 4 {
                    failures.append("\(endpoint): code \(code): \(message)")
                    continue
                }
                preferred.store(index, ordering: .relaxed)
                throw EtcdError(operation: operation, endpoint: "\(endpoint)", kind: .server(code: code, message: message))
            }
            preferred.store(index, ordering: .relaxed)
            do {
                return try JSONDecoder().decode(Response.self, from: Data(answer.body))
            } catch {
                throw EtcdError(operation: operation, endpoint: "\(endpoint)",
                                kind: .malformed("\(error): \(String(decoding: answer.body.prefix(200), as: UTF8.self))"))
            }
        }
        throw EtcdError(operation: operation, endpoint: endpoints.map(\.description).joined(separator: ";"),
                        kind: .unreachable(failures.joined(separator: "; ")))
    }
}
