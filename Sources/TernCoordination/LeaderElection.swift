import Synchronization
import TernSystem

/// One replica's view of its group's election in etcd (keys in ``ElectionKeys``).
///
/// Each replica holds one lease (TTL `ttlSeconds`) for its ``ReplicaStatus`` key and, while master, the
/// leader key. ``heartbeat(_:)`` renews the lease (granting a new one after expiry) and republishes the
/// status; every successful renewal moves the ``fence``, which only a master consults. ``campaign(_:)`` is
/// one attempt at the leader key: a transaction that creates it only when absent and bumps the epoch key
/// only when unchanged since read, so two contenders can never both win an epoch.
///
/// One task (the broker's failover service) drives it; ``fence`` is read from any thread (the send path).
public final class LeaderElection: Sendable {
    public let etcd: EtcdClient
    public let keys: ElectionKeys
    public let brokerId: Int
    public let ttlSeconds: Int64
    public let fence: LeaseFence
    private let lease = Mutex<EtcdLease?>(nil)

    public init(etcd: EtcdClient, keys: ElectionKeys, brokerId: Int, ttlSeconds: Int64, margin: Duration,
                clock: any TernClock) {
        self.etcd = etcd
        self.keys = keys
        self.brokerId = brokerId
        self.ttlSeconds = ttlSeconds
        self.fence = LeaseFence(clock: clock, margin: margin)
    }

    public var leaseID: Int64? { lease.withLock { $0?.id } }

    public enum Outcome: Sendable, Equatable {
        case won(LeaderRecord)
        /// Somebody else holds the key (nil: it vanished between the attempt and the read).
        case lost(LeaderRecord?)
    }

    /// Renews this replica's lease (a new one if it expired: the fence is dropped then, since a leader key
    /// under the old lease is gone) and writes `status` under it. Returns whether the old lease survived.
    @discardableResult
    public func heartbeat(_ status: ReplicaStatus) async throws(EtcdError) -> Bool {
        let kept = try await renew()
        try await etcd.put(keys.replica(brokerId), RecordCodec.encode(status), lease: lease.withLock { $0?.id })
        return kept
    }

    /// Keeps the lease alive once; grants one when there is none or it expired. Returns whether the previous
    /// lease was still alive.
    private func renew() async throws(EtcdError) -> Bool {
        let sent = fence.clock.monotonicNanos()
        if let current = lease.withLock({ $0 }) {
            let ttl = try await etcd.keepAlive(current.id)
            if ttl > 0 {
                fence.renewed(sentAt: sent, ttlSeconds: ttl)
                return true
            }
            fence.drop()
        }
        let sentGrant = fence.clock.monotonicNanos()
        let granted = try await etcd.grantLease(ttlSeconds: ttlSeconds)
        lease.withLock { $0 = granted }
        fence.renewed(sentAt: sentGrant, ttlSeconds: granted.ttlSeconds)
        return false
    }

    /// The current master, if any.
    public func leader() async throws(EtcdError) -> (record: LeaderRecord, lease: Int64)? {
        guard let kv = try await etcd.get(keys.leader), let record = RecordCodec.decode(LeaderRecord.self, kv.value) else {
            return nil
        }
        return (record, kv.lease)
    }

    public func syncSet() async throws(EtcdError) -> SyncSet? {
        try await etcd.get(keys.syncSet).flatMap { RecordCodec.decode(SyncSet.self, $0.value) }
    }

    /// The live replicas (their status keys expire with their leases).
    public func replicas() async throws(EtcdError) -> [ReplicaStatus] {
        try await etcd.get(prefix: keys.replicas).compactMap { RecordCodec.decode(ReplicaStatus.self, $0.value) }
    }

    /// One attempt to become master as `addr`/`haAddr`, epoch = last epoch + 1 (the winner records where it
    /// begins in its own epoch history). The lease is renewed first, so a winner's fence starts a full TTL
    /// (minus margin) ahead.
    public func campaign(addr: String, haAddr: String) async throws(EtcdError) -> Outcome {
        _ = try await renew()
        guard let leaseID else { return .lost(nil) }
        let epochKV = try await etcd.get(keys.epoch)
        let last = epochKV.flatMap { Int64(String(decoding: $0.value, as: UTF8.self)) } ?? 0
        let record = LeaderRecord(brokerId: brokerId, addr: addr, haAddr: haAddr, epoch: last + 1)
        let result = try await etcd.txn(EtcdTxn(
            if: [.createRevision(keys.leader, equals: 0), .modRevision(keys.epoch, equals: epochKV?.modRevision ?? 0)],
            then: [.put(keys.leader, RecordCodec.encode(record), lease: leaseID), .put(keys.epoch, Array(String(last + 1).utf8))],
            else: [.get(keys.leader)]))
        if result.succeeded { return .won(record) }
        return .lost(result.kvs.first.flatMap { RecordCodec.decode(LeaderRecord.self, $0.value) })
    }

    /// The replica an operator asked to become master, if any.
    public func handoverTarget() async throws(EtcdError) -> Int? {
        try await etcd.get(keys.handover).flatMap { Int(String(decoding: $0.value, as: UTF8.self)) }
    }

    /// Asks the master to hand over to `brokerId` (it stops acknowledging, waits until `brokerId` has its
    /// whole log, then resigns; only `brokerId` contends).
    public func requestHandover(to brokerId: Int) async throws(EtcdError) {
        try await etcd.put(keys.handover, Array(String(brokerId).utf8))
    }

    public func clearHandover() async throws(EtcdError) {
        try await etcd.delete(keys.handover)
    }

    /// Whether `record` still is the leader key's value (the master checks it every heartbeat).
    public func stillLeader(_ record: LeaderRecord) async throws(EtcdError) -> Bool {
        try await leader()?.record == record
    }

    /// The master publishes its in-sync set; written only while `record` is the leader key's value.
    @discardableResult
    public func publish(_ set: SyncSet, as record: LeaderRecord) async throws(EtcdError) -> Bool {
        try await etcd.txn(EtcdTxn(if: [.value(keys.leader, equals: RecordCodec.encode(record))],
                                   then: [.put(keys.syncSet, RecordCodec.encode(set))])).succeeded
    }

    /// Gives up mastership (planned switch, shutdown): deletes the leader key if it is still `record`. The
    /// fence is dropped first, so no acknowledgement follows the resignation.
    public func resign(_ record: LeaderRecord) async throws(EtcdError) {
        fence.drop()
        _ = try await etcd.txn(EtcdTxn(if: [.value(keys.leader, equals: RecordCodec.encode(record))],
                                       then: [.delete(keys.leader)]))
    }

    /// Revokes the lease (shutdown): the status key and, on a master, the leader key go at once.
    public func close() async {
        fence.drop()
        guard let id = lease.withLock({ l in defer { l = nil }; return l?.id }) else { return }
        try? await etcd.revokeLease(id)
    }
}
