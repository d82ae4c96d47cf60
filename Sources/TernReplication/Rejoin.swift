import TernStorage

/// A replica (re)joining a master whose history may differ from its own: an old master coming back with a
/// tail nobody acknowledged, a slave that followed a master which lost an election.
public enum Rejoin {
    /// What ``truncateToDivergence(store:epochs:masterEpochs:)`` did.
    public struct Outcome: Sendable, Equatable {
        /// The first offset where the logs may differ.
        public var divergence: Int64
        /// The log's end before (the received end, a held partial record included) and after.
        public var endBefore: Int64
        public var endAfter: Int64
        public var truncatedBytes: Int64 { endBefore - endAfter }
    }

    public enum Failure: Error, CustomStringConvertible {
        case store(StoreError)
        case epochs(EpochError)

        public var description: String {
            switch self {
            case let .store(e): "truncation failed: \(e)"
            case let .epochs(e): "epoch history: \(e)"
            }
        }
    }

    /// Makes `store` a follower whose log is a prefix of the master's: demotes it (no own append may land
    /// meanwhile), truncates it durably to the divergence with `masterEpochs` (bytes erased on disk, indexes
    /// and consumer offsets cut; see `MessageStore.truncate(to:)`), then adopts the master's history. A
    /// divergence below the log's start erases everything it holds (the follower restarts where the master
    /// sends from). Order matters for crashes: the log is cut before the epoch file changes, so a crash in
    /// between leaves the old history over a shorter log, and the next rejoin computes the same cut.
    @discardableResult
    public static func truncateToDivergence(store: MessageStore, epochs: EpochStore,
                                            masterEpochs: [EpochEntry]) throws(Failure) -> Outcome {
        do {
            if store.role == .leader { try store.demote() }
            let published = store.maxPhysicalOffset, received = store.replicationOffset
            let divergence = epochs.divergence(with: masterEpochs, localMax: published)
            let cut = max(min(divergence, published), store.minPhysicalOffset)
            if cut < received { try store.truncate(to: cut) }
            try epochs.adopt(masterEpochs)
            return Outcome(divergence: divergence, endBefore: received, endAfter: store.replicationOffset)
        } catch let error as StoreError {
            throw .store(error)
        } catch let error as EpochError {
            throw .epochs(error)
        } catch {
            preconditionFailure("unexpected error \(error)")
        }
    }
}
