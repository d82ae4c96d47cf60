/// A transaction: `compares` all hold → `success` runs, else `failure` runs (etcd's `If/Then/Else`).
public struct EtcdTxn: Sendable {
    public var compares: [Compare]
    public var success: [Operation]
    public var failure: [Operation]

    public init(if compares: [Compare], then success: [Operation], else failure: [Operation] = []) {
        self.compares = compares
        self.success = success
        self.failure = failure
    }

    public enum Compare: Sendable {
        /// The key's creation revision equals the given one; 0 means "the key does not exist".
        case createRevision(String, equals: Int64)
        /// The key was last modified at the given revision (unchanged since it was read).
        case modRevision(String, equals: Int64)
        case value(String, equals: [UInt8])

        var wire: Wire.Compare {
            switch self {
            case let .createRevision(key, r): Wire.Compare(target: "CREATE", key: Wire.b64(key), create_revision: String(r))
            case let .modRevision(key, r): Wire.Compare(target: "MOD", key: Wire.b64(key), mod_revision: String(r))
            case let .value(key, v): Wire.Compare(target: "VALUE", key: Wire.b64(key), value: Wire.b64(v))
            }
        }
    }

    public enum Operation: Sendable {
        case put(String, [UInt8], lease: Int64? = nil)
        case get(String)
        case delete(String)

        var wire: Wire.RequestOp {
            switch self {
            case let .put(key, value, lease):
                Wire.RequestOp(request_put: Wire.PutRequest(key: Wire.b64(key), value: Wire.b64(value), lease: lease.map(String.init)))
            case let .get(key): Wire.RequestOp(request_range: Wire.RangeRequest(key: Wire.b64(key)))
            case let .delete(key): Wire.RequestOp(request_delete_range: Wire.DeleteRangeRequest(key: Wire.b64(key)))
            }
        }
    }
}

public struct EtcdTxnResult: Sendable, Equatable {
    public var succeeded: Bool
    /// The store's revision after the transaction.
    public var revision: Int64
    /// The keys read by the branch that ran (its `.get` operations), in order.
    public var kvs: [EtcdKeyValue]
}
