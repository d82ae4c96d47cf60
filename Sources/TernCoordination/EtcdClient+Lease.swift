/// A lease granted by etcd: keys attached to it are deleted when it expires or is revoked.
public struct EtcdLease: Sendable, Equatable {
    public var id: Int64
    /// Seconds etcd keeps the lease after a grant or keep-alive (it may raise a too-small request).
    public var ttlSeconds: Int64
}

extension EtcdClient {
    public func grantLease(ttlSeconds: Int64) async throws(EtcdError) -> EtcdLease {
        let answer: Wire.LeaseGrantResponse = try await call("lease/grant", Wire.LeaseGrantRequest(TTL: ttlSeconds))
        let id = Wire.int(answer.ID)
        guard id != 0 else {
            throw EtcdError(operation: "lease/grant", endpoint: "\(currentEndpoint)", kind: .malformed(answer.error ?? "no lease id"))
        }
        return EtcdLease(id: id, ttlSeconds: Wire.int(answer.TTL))
    }

    /// Renews `lease` once; returns its TTL from now, 0 when the lease has expired (or was revoked).
    public func keepAlive(_ lease: Int64) async throws(EtcdError) -> Int64 {
        let answer: Wire.LeaseKeepAliveResponse = try await call("lease/keepalive", Wire.LeaseIDRequest(ID: String(lease)))
        return max(0, Wire.int(answer.result?.TTL))
    }

    /// Revokes `lease` (its keys are deleted now); an already expired lease is not an error.
    public func revokeLease(_ lease: Int64) async throws(EtcdError) {
        do {
            let _: Wire.Empty = try await call("lease/revoke", Wire.LeaseIDRequest(ID: String(lease)))
        } catch where error.isNotFound {
            return
        }
    }

    /// Seconds left on `lease`; -1 when it has expired.
    public func timeToLive(_ lease: Int64) async throws(EtcdError) -> Int64 {
        let answer: Wire.LeaseTimeToLiveResponse = try await call("lease/timetolive", Wire.LeaseIDRequest(ID: String(lease)))
        return Wire.int(answer.TTL)
    }
}
