/// Request codes (RocketMQ 4.x `RequestCode`), as listed in the wire reference (remoting.md §5).
///
/// Plain `Int` constants because `RemotingCommand.code` is an `Int` that holds request codes in requests and
/// response codes in responses; unknown codes must stay representable so the broker can answer
/// ``ResponseCode/requestCodeNotSupported``. Only the codes the reference names are here; admin ranges that
/// the reference lists without names are answered "not supported" by the broker and need no constant.
public enum RequestCode {
    // Producer.
    public static let sendMessage = 10
    public static let endTransaction = 37
    public static let checkTransactionState = 39
    public static let sendMessageV2 = 310
    public static let sendBatchMessage = 320
    public static let sendReplyMessage = 324
    public static let sendReplyMessageV2 = 325

    // Consumer.
    public static let pullMessage = 11
    public static let queryConsumerOffset = 14
    public static let updateConsumerOffset = 15
    public static let searchOffsetByTimestamp = 29
    public static let getMaxOffset = 30
    public static let getMinOffset = 31
    public static let getEarliestMsgStoretime = 32
    public static let heartBeat = 34
    public static let unregisterClient = 35
    public static let consumerSendMsgBack = 36
    public static let getConsumerListByGroup = 38
    public static let notifyConsumerIdsChanged = 40
    public static let lockBatchMQ = 41
    public static let unlockBatchMQ = 42
    public static let checkClientConfig = 46
    public static let resetConsumerClientOffset = 220
    public static let getConsumerRunningInfo = 307
    public static let consumeMessageDirectly = 309

    // Query and admin.
    public static let queryMessage = 12
    public static let queryBrokerOffset = 13
    public static let updateAndCreateTopic = 17
    public static let getAllTopicConfig = 21
    public static let viewMessageById = 33
    public static let getAllConsumerOffset = 43
    public static let getAllDelayOffset = 45
    public static let getAllSubscriptionGroupConfig = 201
    /// RocketMQ 5's GET_BROKER_EPOCH_CACHE: a replica reads its master's epoch history (JSON body).
    public static let getBrokerEpochCache = 1007
    public static let getTopicsByCluster = 224
    public static let queryDataVersion = 322

    // Name server.
    public static let registerBroker = 103
    public static let unregisterBroker = 104
    public static let getRouteInfoByTopic = 105
    public static let getBrokerClusterInfo = 106
    public static let getAllTopicListFromNameServer = 206
}
