import TernRemoting
import TernStorage

extension StoreError {
    /// The RocketMQ response code a sender hears for this store error (the remark is `description`, which names
    /// the failed operation, file and errno when a system call is the cause):
    /// - MESSAGE_ILLEGAL: the message itself is refused (size, topic, properties);
    /// - SERVICE_NOT_AVAILABLE: the store takes no appends now (closed, write path fenced after a failed flush,
    ///   indexing stopped, disk full, a follower store), as RocketMQ answers when its store is not writeable;
    /// - SYSTEM_ERROR: this append failed (segment preparation, I/O), a later one may succeed.
    var responseCode: Int {
        switch self {
        case .messageTooLarge, .messageIllegal: ResponseCode.messageIllegal
        case .closed, .writeFailed, .indexingStopped, .diskFull, .notLeader: ResponseCode.serviceNotAvailable
        default: ResponseCode.systemError
        }
    }

    /// The answer a sender hears: `responseCode` and `description`, except on a follower, which answers with
    /// RocketMQ's remark for a send to a slave (`handlePutMessageResult`).
    var rejection: RequestRejection {
        switch self {
        case .notLeader: RequestRejection(responseCode, Self.followerRemark)
        default: RequestRejection(responseCode, description)
        }
    }

    static let followerRemark = "service not available now. It may be caused by one of the following reasons: "
        + "the broker's disk is full, messages are put to the slave, message store has been shut down, etc."
}
