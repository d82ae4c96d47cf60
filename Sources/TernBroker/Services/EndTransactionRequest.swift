import TernMessage
import TernRemoting

/// END_TRANSACTION's verdict on a half message, whatever transport carried it (features.md §2).
struct EndTransactionRequest: Sendable, Equatable {
    /// Commit-log offset and half-queue offset of the half message; both must match it.
    var halfOffset: Int64
    var queueOffset: Int64
    var producerGroup: String
    var outcome: TransactionService.Outcome
    /// Sent in answer to a check-back (logged only).
    var fromCheck: Bool

    /// The typed request; nil for "unknown" (commitOrRollback 0: the broker waits for its check-back and, as
    /// Java, answers nothing); SYSTEM_ERROR naming what is missing or malformed.
    static func parse(_ f: RemotingExtFields) -> Result<EndTransactionRequest?, RequestRejection> {
        guard let kind = f.int64("commitOrRollback") else {
            return .failure(RequestRejection(ResponseCode.systemError, "the custom field <commitOrRollback> is missing"))
        }
        let outcome: TransactionService.Outcome
        switch Int32(truncatingIfNeeded: kind) {
        case SysFlag.transactionNot: return .success(nil)
        case SysFlag.transactionCommit: outcome = .commit
        case SysFlag.transactionRollback: outcome = .rollback
        default:
            return .failure(RequestRejection(ResponseCode.systemError, "commitOrRollback \(kind) is not 0, 8 or 12"))
        }
        guard let halfOffset = f.int64("commitLogOffset"), let queueOffset = f.int64("tranStateTableOffset") else {
            return .failure(RequestRejection(ResponseCode.systemError,
                                             "commitLogOffset and tranStateTableOffset are required"))
        }
        return .success(EndTransactionRequest(halfOffset: halfOffset, queueOffset: queueOffset,
                                              producerGroup: f.string("producerGroup") ?? "", outcome: outcome,
                                              fromCheck: f.bool("fromTransactionCheck") ?? false))
    }
}
