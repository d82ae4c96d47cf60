/// One finding of `verify`.
public struct VerifyProblem: Sendable, Codable, Equatable, CustomStringConvertible {
    /// Every way verify can find a store broken, one name each (after Redpanda's parser_errc).
    public enum Kind: String, Sendable, Codable {
        /// A torn tail: a record that fails validation (the reason says how: CRC, magic, lengths) with nothing
        /// valid after it; recovery truncates the log there.
        case invalidRecord
        /// Damage in the middle of the log: invalid bytes between two valid records; those records are lost.
        case damagedRange
        /// The index checkpoint lies past the log's valid end.
        case checkpointBeyondValidEnd
        /// The record the checkpoint names as the last one indexed is not intact.
        case checkpointRecordInvalid
        /// A consume-queue entry points where no valid record starts.
        case entryTargetInvalid
        /// A consume-queue entry disagrees with its record (queue, queue offset, size, tag code, store time).
        case entryMismatch
        /// A consume-queue entry points at or past the checkpoint (entries and checkpoint commit together).
        case entryBeyondCheckpoint
        /// Queue offsets are not dense between the queue's min and max.
        case queueGap
        /// A consumable record below the checkpoint has no consume-queue entry pointing back at it.
        case missingEntry
        /// A KEYS or UNIQ_KEY value of a record below the checkpoint is not found by the key index.
        case missingKey
    }

    /// The physical offset the problem concerns (a record or the target of an entry); -1 when none applies.
    public var offset: Int64
    public var kind: Kind
    public var message: String

    public var description: String { "\(offset) \(kind.rawValue): \(message)" }
}

/// What `verify` checked and found.
public struct VerifyReport: Sendable, Codable, Equatable {
    public var segmentsScanned: Int
    /// Records that passed validation, in every segment (also after an invalid record's segment).
    public var recordsScanned: Int
    /// End of the log's valid prefix.
    public var validEnd: Int64
    /// The index checkpoint; nil when the store has no index (then only the log was checked).
    public var checkpoint: Int64?
    public var entriesChecked: Int
    public var keysChecked: Int
    /// All problems found; `problems` keeps the first `maxProblems` of them, sorted by offset.
    public var problemCount: Int
    public var problems: [VerifyProblem]
    public var isClean: Bool { problemCount == 0 }
}
