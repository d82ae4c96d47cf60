import Foundation

/// etcd v3's JSON gateway encoding (grpc-gateway with original proto field names): bytes are base64, int64s
/// are decimal strings, zero values are omitted. Internal: callers see ``EtcdKeyValue`` and Swift integers.
enum Wire {
    static func b64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
    static func b64(_ text: String) -> String { b64(Array(text.utf8)) }
    static func bytes(_ b64: String?) -> [UInt8] { b64.flatMap { Data(base64Encoded: $0) }.map { Array($0) } ?? [] }
    static func int(_ text: String?) -> Int64 { text.flatMap { Int64($0) } ?? 0 }

    struct Header: Decodable { var revision: String? }

    struct KeyValue: Decodable {
        var key: String?
        var value: String?
        var create_revision: String?
        var mod_revision: String?
        var version: String?
        var lease: String?

        var model: EtcdKeyValue {
            EtcdKeyValue(key: String(decoding: Wire.bytes(key), as: UTF8.self), value: Wire.bytes(value),
                         createRevision: Wire.int(create_revision), modRevision: Wire.int(mod_revision),
                         version: Wire.int(version), lease: Wire.int(lease))
        }
    }

    struct RangeRequest: Encodable {
        var key: String
        var range_end: String?
    }

    struct RangeResponse: Decodable {
        var header: Header?
        var kvs: [KeyValue]?
    }

    struct PutRequest: Encodable {
        var key: String
        var value: String
        var lease: String?
    }

    struct PutResponse: Decodable { var header: Header? }

    struct DeleteRangeRequest: Encodable {
        var key: String
        var range_end: String?
    }

    struct DeleteRangeResponse: Decodable {
        var header: Header?
        var deleted: String?
    }

    struct Compare: Encodable {
        var result = "EQUAL"
        var target: String
        var key: String
        var create_revision: String?
        var mod_revision: String?
        var value: String?
    }

    struct RequestOp: Encodable {
        var request_put: PutRequest?
        var request_range: RangeRequest?
        var request_delete_range: DeleteRangeRequest?
    }

    struct TxnRequest: Encodable {
        var compare: [Compare]
        var success: [RequestOp]
        var failure: [RequestOp]
    }

    struct ResponseOp: Decodable { var response_range: RangeResponse? }

    struct TxnResponse: Decodable {
        var header: Header?
        var succeeded: Bool?
        var responses: [ResponseOp]?
    }

    struct LeaseGrantRequest: Encodable { var TTL: Int64 }

    struct LeaseGrantResponse: Decodable {
        var ID: String?
        var TTL: String?
        var error: String?
    }

    struct LeaseIDRequest: Encodable { var ID: String }

    struct LeaseKeepAliveResponse: Decodable {
        struct Result: Decodable {
            var ID: String?
            var TTL: String?
        }
        var result: Result?
    }

    struct LeaseTimeToLiveResponse: Decodable { var TTL: String? }

    struct Empty: Decodable {}

    /// A gRPC status carried by a non-200 answer.
    struct Status: Decodable {
        var code: Int?
        var message: String?
        var error: String?
    }

    /// etcd's prefix end: the key with its last byte below 0xff incremented, the rest dropped.
    static func prefixEnd(_ prefix: String) -> [UInt8] {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xff {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return [0]  // every key
    }
}
