import TernMessage
import TernSystem

/// Write-through appends (`StoreConfig.writeThrough`, broker.conf `transientStorePoolEnable`).
///
/// A leader's records are encoded into the writer's `WriteStage` and written into the segment file with one
/// pwrite(2) per append call, before `published` moves past them; readers keep reading the mapping, which shows
/// the written bytes (one page cache). Why: a store through a shared mapping faults on every page a write-back
/// has cleaned (write-protected again), and such a fault waits for that write-back; sync flush's group commits and
/// async flush's periodic msync both make the writer pay it. pwrite copies into the page cache without faults
/// (`tools/sync-extent-probe.c`: 48 KB + sync per round 0.33 ms with pwrite vs 0.73 ms through the mapping), at
/// the price of a system call per append call, made under the writer lock (~0.9 µs: 128 B single appends run at
/// half the rate; a broker spends ~1-2 µs more per send than on the mapped path with single-page prefault), so it is
/// off by default. It pays where group commits dominate (storage bench sync: +8-36 % over the mapped path) and
/// where a failing disk must surface as an errno rather than a SIGBUS.
/// The log is prefaulted for reading only and in single pages (`CommitLog.fault`): writable entries would be
/// write-protected by every write-back, and a pwrite into a large folio walks all of its blocks.
///
/// Invariants: the stage holds records placed since the last commit, contiguous from `stageStart`, all in the
/// current segment (`roomFor` commits before it rolls); it is empty whenever the writer lock is free. A failed
/// pwrite takes the writer back to `stageStart` (position and queue offsets), so nothing unwritten is ever
/// published and the failed records' queue offsets are assigned again. The leader's blank filler and a
/// follower's replicated bytes still go through the mapping (rare, or not on a group-commit path).
extension CommitLog {
    /// Writes the staged records into the current segment. On failure the writer forgets them (see the type's
    /// invariants) and the error names the file, the errno and the offset the failing write started at.
    func commitStage(_ w: inout WriterState) throws {
        guard let stage = w.stage, stage.count > 0 else { return }
        defer { stage.clear() }
        guard let seg = w.current else { preconditionFailure("staged records without a segment") }
        do {
            let file: PositionalFile
            if let open = w.stageFile, open.base == seg.base {
                file = open.file
            } else {
                file = try PositionalFile.open(path: seg.file.path)
                w.stageFile = (seg.base, file)
            }
            try file.write(stage.staged, at: Int(w.stageStart - seg.base))
        } catch {
            // A short write before the failure left part of the stage in the file: erase it (those pages are
            // cached, so zeroing them through the mapping reads nothing from the disk), or a recovery after a
            // crash could find a whole record of it beyond the records written after the retreat.
            if let failedAt = (error as? SystemError)?.offset, seg.base + failedAt > w.stageStart {
                seg.mutableBytes(w.stageStart..<(seg.base + failedAt)).initializeMemory(as: UInt8.self, repeating: 0)
            }
            forgetStaged(stage.staged, &w)
            throw StoreError.wrap(error)
        }
    }

    /// Undoes the placement of the staged records: the write position goes back to their start and each queue's
    /// next offset to its first staged record's (offsets rise in log order, so that is the smallest).
    private func forgetStaged(_ staged: UnsafeRawBufferPointer, _ w: inout WriterState) {
        var at = 0
        while at < staged.count {
            let size = Int(RecordView(UnsafeRawBufferPointer(rebasing: staged[at...])).totalSize)
            let view = RecordView(UnsafeRawBufferPointer(rebasing: staged[at..<(at + size)]))
            let tt = SysFlag.transactionType(view.sysFlag)
            if tt == SysFlag.transactionNot || tt == SysFlag.transactionCommit {
                let key = QueueSlotKey(topic: Array(view.topic), queueId: view.queueId)
                if let next = w.nextQueueOffset[key], view.queueOffset < next { w.nextQueueOffset[key] = view.queueOffset }
            }
            at += size
        }
        w.position = w.stageStart
    }
}
