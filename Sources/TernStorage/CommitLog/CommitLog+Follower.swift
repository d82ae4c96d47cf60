import Synchronization
import TernMessage
import TernSystem

/// Whether a store writes its own records or copies its leader's.
public enum StoreRole: Sendable, Equatable {
    /// Assigns queue offsets, store times and positions (`append`).
    case leader
    /// Writes the leader's bytes at the leader's offsets (`appendReplicated`); refuses leader appends.
    case follower
}

/// Follower path: the leader's raw log bytes written at the same physical offsets.
///
/// The leader streams its log in chunks that may cut a record (or the blank end-of-segment filler) anywhere.
/// Each chunk is copied into the mapped segments at `received`; then every record that is complete is
/// validated (bounds, magic, lengths, body CRC, its own physical offset, its queue offset following the
/// queue's last one) and only then published, so readers, the dispatcher and the flusher never see a byte of
/// a record that has not checked. A partial tail stays written but unpublished until a later chunk completes
/// it. A blank filler, once complete, rolls the writer to the next segment exactly where the leader rolled
/// (both sides use the same segment size, and a leader's records always leave 8 bytes for the filler).
extension CommitLog {
    /// Where the follower stands after a chunk.
    struct ReplicatedAppend: Equatable {
        /// Readers, dispatcher and flusher see every byte below.
        var published: Int64
        /// The next chunk must start here (a held partial record lies between `published` and this).
        var received: Int64
    }

    /// The role without taking the writer (read per send): `isFollower` mirrors `WriterState.role`, stored
    /// under the writer wherever the role changes.
    var role: StoreRole { isFollower.load(ordering: .acquiring) ? .follower : .leader }
    /// End of the bytes received from the leader (a follower's replication offset); a leader's write position.
    var receivedPosition: Int64 { writer.withLock { max($0.position, $0.received) } }

    /// Writes `bytes` at `offset` (which must be the follower's `received` end) and publishes every record
    /// they complete. On an invalid record the records before it stay published, the bytes from it on are
    /// erased, and the error names its offset; the leader must resend from `published`.
    func appendReplicated(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws -> ReplicatedAppend {
        try writer.withLock { w in
            guard w.role == .follower else { throw StoreError.notFollower }
            guard offset == w.received else {
                throw StoreError.replicationOffsetMismatch(expected: w.received, received: offset)
            }
            do {
                var from = 0
                while from < bytes.count {
                    guard let seg = w.current, w.received < seg.end else {
                        throw StoreError.replicatedRecordInvalid(offset: w.position,
                                                                 reason: "record crosses the segment end")
                    }
                    let count = min(bytes.count - from, Int(seg.end - w.received))
                    seg.mutableBytes(w.received..<(w.received + Int64(count)))
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[from..<(from + count)]))
                    w.received += Int64(count)
                    from += count
                    try publishComplete(&w)
                }
            } catch {
                erase(w.position..<w.received)
                w.received = w.position
                published.store(w.position, ordering: .releasing)
                throw error
            }
            published.store(w.position, ordering: .releasing)
            return ReplicatedAppend(published: w.position, received: w.received)
        }
    }

    /// Moves an empty follower's log to start at `base`, a segment boundary: a slave that reports offset 0 is
    /// sent its leader's log from the start of the leader's newest segment. Returns false (changing nothing)
    /// unless the log holds no byte at all. The caller holds the writer and rewinds the dispatcher.
    func restartEmpty(at base: Int64, _ w: inout WriterState) throws -> Bool {
        guard w.role == .follower, base % Int64(segmentSize) == 0, base > 0, w.received == w.position,
              let only = segmentList.withLock({ $0.count == 1 ? $0[0] : nil }), w.position == only.base
        else { return false }
        try truncate(from: -1, discardTail: false)  // deletes the empty segment and syncs the directory
        try seed(&w, position: base, nextQueueOffsets: [:], lastStoreTimestamp: 0)
        return true
    }

    /// Becomes the leader: a held partial record is erased (its leader is gone; our own records go there),
    /// and appends continue every queue's offsets from the writer state the follower path kept current.
    func promote() {
        writer.withLock { w in
            erase(w.position..<w.received)
            w.received = w.position
            w.role = .leader
            isFollower.store(false, ordering: .releasing)
        }
    }

    /// Becomes a follower that continues from the current write position.
    func demote() {
        writer.withLock { w in
            w.received = w.position
            w.role = .follower
            isFollower.store(true, ordering: .releasing)
        }
    }

    /// Sets the role at open (before any append).
    func setRole(_ role: StoreRole) {
        writer.withLock { w in
            w.role = role
            isFollower.store(role == .follower, ordering: .releasing)
        }
    }

    // MARK: Validation

    /// Advances `w.position` over the complete records in `[position, received)` of the current segment,
    /// rolling to the next segment after a complete blank filler.
    private func publishComplete(_ w: inout WriterState) throws {
        while w.position < w.received, let seg = w.current {
            switch classifyReceived(seg, at: w.position, end: min(w.received, seg.end)) {
            case .incomplete:
                return
            case let .record(size):
                let view = RecordView(seg.bytes(w.position..<(w.position + Int64(size))))
                try observeReplicated(view, at: w.position, &w)
                w.position += Int64(size)
                if !w.requestedPrepare, w.position - seg.base > Int64(segmentSize / 2) { w.requestedPrepare = true }
            case .blank:
                let next = try takeOrCreateSegment(base: seg.end)
                segmentList.withLock { $0.append(next) }
                w.current = next
                w.position = next.base
                w.requestedPrepare = false
            case let .invalid(reason):
                throw StoreError.replicatedRecordInvalid(offset: w.position, reason: reason)
            }
        }
    }

    private enum Received {
        case record(size: Int)
        case blank
        case incomplete
        case invalid(String)
    }

    /// What the received bytes `[position, end)` of `seg` hold at `position`. Bounds are checked on the
    /// header alone so a cut record is told apart from a bad one; a complete record goes through the one
    /// record scanner, CRC included.
    private func classifyReceived(_ seg: Segment, at position: Int64, end: Int64) -> Received {
        guard position + 8 <= seg.end else { return .invalid("fewer than 8 bytes before the segment end") }
        guard end - position >= 8 else { return .incomplete }
        let header = seg.bytes(position..<(position + 8))
        let size = Int64(header.loadBigEndian(Int32.self, at: RecordLayout.totalSizeOffset))
        switch header.loadBigEndian(UInt32.self, at: RecordLayout.magicOffset) {
        case RecordLayout.blankMagic:
            guard size == seg.end - position else {
                return .invalid("blank filler of \(size) bytes does not end the segment")
            }
            return end == seg.end ? .blank : .incomplete
        case RecordLayout.messageMagic:
            // A leader's record always leaves 8 bytes of its segment for the blank filler.
            guard size >= Int64(RecordLayout.fixedSize), size <= Int64(maxRecordSize), position + size + 8 <= seg.end
            else {
                return .invalid("record size \(size) out of bounds")
            }
            guard end - position >= size else { return .incomplete }
            let bytes = seg.bytes(position..<(position + size))
            switch RecordScanner.scan(bytes, at: 0, checkCRC: true, maxRecordSize: maxRecordSize) {
            case .record: return .record(size: Int(size))
            case let .invalid(error): return .invalid("\(error)")
            case .blank, .endOfData: return .invalid("scanner disagrees with the header")
            }
        case let magic:
            return .invalid("bad magic \(magic) (zeros: nothing was written there on the leader)")
        }
    }

    /// Folds a validated leader record into the writer state: its queue's next offset and the last store time.
    /// The queue offset must follow the queue's last one (a queue first seen here may start anywhere: a
    /// follower can start at a later segment of its leader).
    private func observeReplicated(_ r: RecordView, at position: Int64, _ w: inout WriterState) throws {
        guard r.physicalOffset == position else {
            throw StoreError.replicatedRecordInvalid(offset: position,
                                                     reason: "record says it is at \(r.physicalOffset)")
        }
        let tt = SysFlag.transactionType(r.sysFlag)
        if tt == SysFlag.transactionNot || tt == SysFlag.transactionCommit {
            let key = QueueSlotKey(topic: Array(r.topic), queueId: r.queueId)
            if let next = w.nextQueueOffset[key], next != r.queueOffset {
                let reason = "queue offset \(r.queueOffset) in \(r.topicString)/\(r.queueId), expected \(next)"
                throw StoreError.replicatedRecordInvalid(offset: position, reason: reason)
            }
            w.nextQueueOffset[key] = r.queueOffset + 1
        }
        w.lastStoreTimestamp = max(w.lastStoreTimestamp, r.storeTimestamp)
    }

    // MARK: Segments and erasing

    /// The segment at `base`: the one prepared ahead by housekeeping when it matches, else a new one (the
    /// leader's roll, `preparedOrCreate`, one way).
    func takeOrCreateSegment(base: Int64) throws -> Segment {
        let next = try preparedOrCreate(base: base, byWriter: true)
        preparation.withLock { $0.ready = nil }
        return next
    }

    /// Zeros `range` (within the listed segments) through the mapping. The caller holds the writer and the
    /// range lies at or past `published`, so no new reader walks into it.
    func erase(_ range: Range<Int64>) {
        var at = range.lowerBound
        while at < range.upperBound, let seg = segment(containing: at) {
            let upTo = min(range.upperBound, seg.end)
            seg.mutableBytes(at..<upTo).initializeMemory(as: UInt8.self, repeating: 0)
            at = upTo
        }
    }
}
