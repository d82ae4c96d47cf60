import Foundation

/// Where a replica group's election lives in etcd: `/tern/<brokerClusterName>/<brokerName>/`
/// - `leader`   ``LeaderRecord`` under the master's lease (gone when the master's lease expires);
/// - `epoch`    the last epoch handed out (no lease: epochs only grow);
/// - `syncset`  ``SyncSet``, the replicas that may contend, written only by the master (no lease);
/// - `replicas/<brokerId>` ``ReplicaStatus`` of each live replica, under its own lease;
/// - `handover` the brokerId an operator asked to become master (`tern admin electMaster`), until it is.
///
/// Epoch histories (where each epoch began) are not here: each replica keeps its own durably beside its log
/// (`EpochStore`), and a rejoining replica compares it with its new master's over the broker protocol.
public struct ElectionKeys: Sendable, Equatable {
    public let prefix: String

    public init(cluster: String, brokerName: String) {
        prefix = "/tern/\(cluster)/\(brokerName)/"
    }

    public var leader: String { prefix + "leader" }
    public var epoch: String { prefix + "epoch" }
    public var syncSet: String { prefix + "syncset" }
    public var handover: String { prefix + "handover" }
    public var replicas: String { prefix + "replicas/" }
    public func replica(_ brokerId: Int) -> String { replicas + String(brokerId) }
}

/// The elected master of a group.
public struct LeaderRecord: Codable, Sendable, Equatable {
    public var brokerId: Int
    /// Remoting address `ip:port` and HA address `ip:haPort`.
    public var addr: String
    public var haAddr: String
    public var epoch: Int64

    public init(brokerId: Int, addr: String, haAddr: String, epoch: Int64) {
        self.brokerId = brokerId
        self.addr = addr
        self.haAddr = haAddr
        self.epoch = epoch
    }
}

/// The in-sync set as the master last published it.
public struct SyncSet: Codable, Sendable, Equatable {
    public var epoch: Int64
    public var masterId: Int
    /// brokerIds, the master's included.
    public var members: [Int]

    public init(epoch: Int64, masterId: Int, members: [Int]) {
        self.epoch = epoch
        self.masterId = masterId
        self.members = members
    }
}

/// What a replica tells the others (and `haStatus`): who it is and how far its log goes.
public struct ReplicaStatus: Codable, Sendable, Equatable {
    public var brokerId: Int
    public var addr: String
    public var haAddr: String
    /// Its commit log's end (a slave: what it received from its master).
    public var offset: Int64
    /// The epoch of its log's last record's leader, as it knows it.
    public var epoch: Int64
    /// While it follows a master: its HA link's local address, which the master sees as the link's peer. The
    /// 4.x HA protocol carries nothing but offsets, so this is how a master tells which replica a link is.
    public var link: String?

    public init(brokerId: Int, addr: String, haAddr: String, offset: Int64, epoch: Int64, link: String? = nil) {
        self.brokerId = brokerId
        self.addr = addr
        self.haAddr = haAddr
        self.offset = offset
        self.epoch = epoch
        self.link = link
    }
}

enum RecordCodec {
    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // These records hold strings and integers only: encoding cannot fail.
        return Array((try? encoder.encode(value)) ?? Data())
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) -> T? {
        try? JSONDecoder().decode(type, from: Data(bytes))
    }
}

/// Who contends when the group has no master: a member of the in-sync set (any replica while no set was ever
/// published, the group's first election), and among those alive the one with the longest log (ties: the
/// lowest brokerId). So the winner holds every record any live eligible replica holds: with a send
/// acknowledged only once a slave has it, the most advanced live slave has every acknowledged record.
public enum ElectionRule {
    /// A planned switch (`handover`) names the only contender while that replica is alive and eligible.
    public static func shouldContend(me: Int, replicas: [ReplicaStatus], syncSet: SyncSet?, handover: Int? = nil) -> Bool {
        let eligible = replicas.filter { syncSet?.members.contains($0.brokerId) ?? true }
        if let handover, eligible.contains(where: { $0.brokerId == handover }) { return me == handover }
        guard let best = eligible.max(by: { ($0.offset, -$0.brokerId) < ($1.offset, -$1.brokerId) }) else { return false }
        return best.brokerId == me
    }

    /// The in-sync set a master publishes: itself, and every replica whose HA link is in the set its own
    /// acknowledgements keep (`linksInSync`: those links' peer addresses; see `InSyncSet`), so the replicas
    /// that may be elected are exactly those a SYNC send with `allAckInSyncStateSet` waits for. A replica's
    /// self-reported offset does not count: it may hold a log it cannot stream from this master.
    public static func inSync(masterId: Int, replicas: [ReplicaStatus], linksInSync: Set<String>) -> [Int] {
        let linked = replicas.filter { r in r.brokerId != masterId && r.link.map { linksInSync.contains($0) } == true }
        return ([masterId] + linked.map(\.brokerId)).sorted()
    }
}
