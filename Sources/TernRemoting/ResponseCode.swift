/// Response codes (RocketMQ 4.x `ResponseCode`), from the wire reference (remoting.md §4).
///
/// Plain `Int` constants, for the reason given on ``RequestCode``. Codes 209-211 (ACL configuration failures)
/// are listed in the reference without names and have no constant.
public enum ResponseCode {
    public static let success = 0
    public static let systemError = 1
    public static let systemBusy = 2
    /// Remark: `" request type <code> not supported"`.
    public static let requestCodeNotSupported = 3
    public static let transactionFailed = 4

    /// Stored, but the flush did not finish in time (the client treats it as a non-OK send status).
    public static let flushDiskTimeout = 10
    /// Stored on the master, no usable slave.
    public static let slaveNotAvailable = 11
    /// Stored on the master, the slave did not acknowledge in time.
    public static let flushSlaveTimeout = 12
    public static let messageIllegal = 13
    public static let serviceNotAvailable = 14
    public static let versionNotSupported = 15
    public static let noPermission = 16
    public static let topicNotExist = 17
    public static let topicExistAlready = 18

    /// Pull: no new message at the requested offset (`NO_NEW_MSG` to the client).
    public static let pullNotFound = 19
    /// Pull: retry at `nextBeginOffset` right away.
    public static let pullRetryImmediately = 20
    /// Pull: the requested offset is out of range; continue from `nextBeginOffset`.
    public static let pullOffsetMoved = 21
    public static let queryNotFound = 22

    public static let subscriptionParseFailed = 23
    public static let subscriptionNotExist = 24
    public static let subscriptionNotLatest = 25
    public static let subscriptionGroupNotExist = 26
    public static let filterDataNotExist = 27
    public static let filterDataNotLatest = 28

    public static let transactionShouldCommit = 200
    public static let transactionShouldRollback = 201
    public static let transactionStateUnknow = 202
    public static let transactionStateGroupWrong = 203
    public static let noBuyerId = 204
    public static let notInCurrentUnit = 205
    public static let consumerNotOnline = 206
    public static let consumeMsgTimeout = 207
    public static let noMessage = 208
    public static let flowControl = 215
}
