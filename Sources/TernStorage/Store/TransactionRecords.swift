import TernMessage

/// How transaction state is written to the log, so the dispatcher can derive it (features.md §2):
///
/// - a half message is an ordinary (transaction type NOT) record in `RMQ_SYS_TRANS_HALF_TOPIC` queue 0 → `.half`;
/// - every later event about it is an op record in `RMQ_SYS_TRANS_OP_HALF_TOPIC` queue 0 whose PREPARED
///   TRANSACTION OFFSET is the half's commit-log offset (body = the half's queue offset, tag `d`, as Java) and
///   whose `TRAN_OUTCOME` property says what happened: `commit`, `rollback`, `discard`, or `check` with
///   `TRANSACTION_CHECK_TIMES` = checks sent so far.
///
/// The committed real message (sysflag COMMIT + PREPARED TRANSACTION OFFSET) also marks its half committed,
/// so a crash between it and its op record loses nothing.
public enum TransactionRecords {
    public static let halfTopic = "RMQ_SYS_TRANS_HALF_TOPIC"
    public static let opTopic = "RMQ_SYS_TRANS_OP_HALF_TOPIC"
    public static let discardTopic = "TRANS_CHECK_MAX_TIME_TOPIC"
    static let topicPrefix = "RMQ_SYS_TRANS_"

    public static let outcomeProperty = "TRAN_OUTCOME"
    public static let checkTimesProperty = "TRANSACTION_CHECK_TIMES"

    public enum Outcome: String, Sendable {
        case commit, rollback, discard, check
        var state: TransactionState {
            switch self {
            case .commit: .committed
            case .rollback: .rolledBack
            case .discard: .discarded
            case .check: .half
            }
        }
    }

    /// Adds what a half or op record (of `topic`) says about its transaction to `d`.
    static func derive(_ d: inout DispatchRecord, _ topic: String, _ offset: Int64, _ r: RecordView) {
        if topic == halfTopic {
            d.transactionState = .half
            d.transactionOffset = offset
            return
        }
        guard topic == opTopic else { return }
        let props = PropertyList(r.properties)
        guard let outcome = props[outcomeProperty].flatMap(Outcome.init(rawValue:)) else { return }
        let checks = props[checkTimesProperty].flatMap { Int32($0) } ?? 0
        if outcome == .check && checks <= 0 { return }
        d.transactionState = outcome.state
        d.transactionOffset = r.preparedTransactionOffset
        d.transactionChecks = outcome == .check ? checks : 0
    }
}
