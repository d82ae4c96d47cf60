import Synchronization
import TernSystem

/// One term of a replica group: `epoch` began (its master's first record) at commit-log offset `startOffset`.
public struct EpochEntry: Sendable, Equatable, Codable, CustomStringConvertible {
    public var epoch: Int64
    public var startOffset: Int64

    public init(epoch: Int64, startOffset: Int64) {
        self.epoch = epoch
        self.startOffset = startOffset
    }

    public var description: String { "epoch \(epoch)@\(startOffset)" }
}

/// Why an epoch history was refused.
public enum EpochError: Error, Equatable, CustomStringConvertible {
    /// `begin` with an epoch not above the current one, or an offset below its start.
    case goesBack(current: EpochEntry, requested: EpochEntry)
    /// A history whose epochs do not increase or whose offsets decrease (a file or peer answer).
    case notMonotonic([EpochEntry])
    /// The epoch file is not in the format below.
    case malformedFile(path: String, line: Int)
    case io(SystemError)

    public var description: String {
        switch self {
        case let .goesBack(c, r): "\(r) goes back from the current \(c)"
        case let .notMonotonic(h): "epoch history is not monotonic: \(h)"
        case let .malformedFile(p, l): "malformed epoch file \(p) at line \(l)"
        case let .io(e): "\(e)"
        }
    }
}

/// The replica's epoch history, durable in `<store root>/epochs` (RocketMQ 5's `EpochFileCache`).
///
/// Invariants: epochs strictly increase; start offsets never decrease (two elections without a write
/// between them start at the same offset); an entry's range ends where the next begins, the last one at the
/// log's end. Bytes below the first entry are epoch 0: history from before any election (fixed roles),
/// which every replica of a group shares.
///
/// File format (text, rewritten whole via temp + fsync + rename, so it is never torn):
///
///     tern-epochs 1
///     <epoch> <startOffset>        one line per entry, ascending
///
/// Thread-safety: one mutex; a change is on disk before it is visible.
public final class EpochStore: Sendable {
    public static let fileName = "epochs"
    public let path: String
    private let state: Mutex<[EpochEntry]>

    /// Loads `<directory>/epochs` (an empty history when the file does not exist).
    public init(directory: String) throws(EpochError) {
        path = directory + "/" + Self.fileName
        let entries: [EpochEntry]
        do {
            entries = FileSystem.fileExists(path) ? try Self.parse(FileSystem.readFile(path), path: path) : []
        } catch let error as EpochError {
            throw error
        } catch {
            throw .io(Self.systemError(error, "read", path))
        }
        state = Mutex(entries)
    }

    /// Every entry, ascending.
    public var entries: [EpochEntry] { state.withLock { $0 } }
    /// The newest entry (nil before the first election).
    public var current: EpochEntry? { state.withLock { $0.last } }

    /// Records that `epoch` began at `offset` (a new master calls it with its log end before its first
    /// append). Repeating the current entry is a no-op (a retried call); anything going back is refused.
    public func begin(epoch: Int64, at offset: Int64) throws(EpochError) {
        precondition(epoch > 0 && offset >= 0, "epochs start at 1, offsets at 0")
        let entry = EpochEntry(epoch: epoch, startOffset: offset)
        try state.withLock { (entries: inout [EpochEntry]) throws(EpochError) in
            if let last = entries.last {
                if last == entry { return }
                guard epoch > last.epoch, offset >= last.startOffset else {
                    throw .goesBack(current: last, requested: entry)
                }
            }
            try write(entries + [entry])
            entries.append(entry)
        }
    }

    /// Replaces the history with `history` (a rejoined replica adopts its master's: after truncating to the
    /// divergence its log is a prefix of the master's, so the master's history describes its bytes).
    public func adopt(_ history: [EpochEntry]) throws(EpochError) {
        guard Self.isMonotonic(history) else { throw .notMonotonic(history) }
        try state.withLock { (entries: inout [EpochEntry]) throws(EpochError) in
            guard entries != history else { return }
            try write(history)
            entries = history
        }
    }

    /// The first offset where this log (ending at `localMax`) and a log with history `other` (ending at
    /// `otherMax`; a live master's log keeps growing, hence the default) may differ. RocketMQ 5's rule: the
    /// newest epoch both histories hold with the same start is the last common one; both logs agree up to
    /// the lower of its two end offsets. 0 when nothing is common.
    public func divergence(with other: [EpochEntry], localMax: Int64, otherMax: Int64 = .max) -> Int64 {
        Self.divergence(entries, localMax: localMax, other, otherMax: otherMax)
    }

    public static func divergence(_ local: [EpochEntry], localMax: Int64, _ other: [EpochEntry],
                                  otherMax: Int64 = .max) -> Int64 {
        let mine = withEpochZero(local), theirs = withEpochZero(other)
        for i in mine.indices.reversed() {
            guard let j = theirs.firstIndex(where: { $0.epoch == mine[i].epoch }),
                  theirs[j].startOffset == mine[i].startOffset else { continue }
            let localEnd = i + 1 < mine.count ? mine[i + 1].startOffset : localMax
            let otherEnd = j + 1 < theirs.count ? theirs[j + 1].startOffset : otherMax
            return min(localEnd, otherEnd, localMax)
        }
        return 0
    }

    /// The history with the implicit epoch 0 (from offset 0) in front unless it starts there.
    private static func withEpochZero(_ history: [EpochEntry]) -> [EpochEntry] {
        history.first.map { $0.epoch == 0 } == true ? history : [EpochEntry(epoch: 0, startOffset: 0)] + history
    }

    static func isMonotonic(_ history: [EpochEntry]) -> Bool {
        zip(history, history.dropFirst()).allSatisfy { $0.epoch < $1.epoch && $0.startOffset <= $1.startOffset }
            && history.allSatisfy { $0.epoch >= 0 && $0.startOffset >= 0 }
    }

    private func write(_ history: [EpochEntry]) throws(EpochError) {
        precondition(Self.isMonotonic(history), "epoch history must be monotonic")
        var text = "tern-epochs 1\n"
        for e in history { text += "\(e.epoch) \(e.startOffset)\n" }
        do {
            try FileSystem.writeAtomically(path, Array(text.utf8))
        } catch {
            throw .io(Self.systemError(error, "write", path))
        }
    }

    /// TernSystem's file helpers throw only `SystemError`; anything else is wrapped, never lost.
    private static func systemError(_ error: any Error, _ operation: String, _ path: String) -> SystemError {
        error as? SystemError ?? SystemError(operation: operation, path: path, errno: 0, message: "\(error)")
    }

    static func parse(_ bytes: [UInt8], path: String) throws(EpochError) -> [EpochEntry] {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first == "tern-epochs 1" else { throw .malformedFile(path: path, line: 1) }
        var history: [EpochEntry] = []
        for (n, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let epoch = Int64(fields[0]), let start = Int64(fields[1]) else {
                throw .malformedFile(path: path, line: n + 1)
            }
            history.append(EpochEntry(epoch: epoch, startOffset: start))
        }
        guard isMonotonic(history) else { throw .notMonotonic(history) }
        return history
    }
}
