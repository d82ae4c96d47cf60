import TernReplication

/// GET_BROKER_EPOCH_CACHE (1007)'s answer: RocketMQ 5's `EpochEntryCache` JSON (`epochList` with each
/// entry's end, the log's `maxOffset`), plus Tern's in-sync set on a master (`syncStateSet`: each member's
/// HA link address and acknowledged offset; the master itself is implied and not listed).
public struct EpochCacheBody: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var epoch: Int64
        public var startOffset: Int64
        /// The next entry's start; the log's end for the last one.
        public var endOffset: Int64
    }

    public struct SyncMember: Codable, Sendable, Equatable {
        public var haAddress: String
        public var ackedOffset: Int64
    }

    public var clusterName: String
    public var brokerName: String
    public var brokerId: Int64
    public var epochList: [Entry]
    public var maxOffset: Int64
    public var syncStateSet: [SyncMember]?

    public init(clusterName: String, brokerName: String, brokerId: Int64, epochs: [EpochEntry], maxOffset: Int64,
                inSync: InSyncSet?) {
        self.clusterName = clusterName
        self.brokerName = brokerName
        self.brokerId = brokerId
        self.epochList = epochs.enumerated().map { i, e in
            Entry(epoch: e.epoch, startOffset: e.startOffset,
                  endOffset: i + 1 < epochs.count ? epochs[i + 1].startOffset : maxOffset)
        }
        self.maxOffset = maxOffset
        self.syncStateSet = inSync?.replicas.map { SyncMember(haAddress: $0.peer, ackedOffset: $0.acked) }
    }

    /// The history as an `EpochStore` holds it.
    public var epochs: [EpochEntry] { epochList.map { EpochEntry(epoch: $0.epoch, startOffset: $0.startOffset) } }
}
