import TernStorage
import TernTransport

/// The broker's settings as GET_BROKER_CONFIG (26) reports them: every key `set(_:_:)` reads, with its
/// current value in the form `set` accepts, so the text round-trips through `apply(properties:)`.
extension BrokerConfig {
    public var properties: [(key: String, value: String)] {
        var p: [(String, String)] = [
            ("brokerClusterName", brokerClusterName), ("brokerName", brokerName), ("brokerId", "\(brokerId)"),
            ("namesrvAddr", namesrvAddr.joined(separator: ";")), ("brokerIP1", brokerIP1), ("listenPort", "\(listenPort)"),
            ("storePathRootDir", storePathRootDir), ("storePathCommitLog", storeConfig.commitLogPath),
            ("flushDiskType", flushDiskType.rawValue),
            ("syncFlushTimeout", "\(syncFlushTimeout)"), ("warmMapedFileEnable", "\(warmMapedFileEnable)"),
            ("transientStorePoolEnable", "\(transientStorePoolEnable)"),
            ("flushIntervalCommitLog", "\(asyncFlush.intervalMillis)"),
            ("flushCommitLogLeastPages", "\(asyncFlush.leastPages)"),
            ("flushCommitLogThoroughInterval", "\(asyncFlush.thoroughIntervalMillis)"),
            ("autoCreateTopicEnable", "\(autoCreateTopicEnable)"),
            ("autoCreateSubscriptionGroup", "\(autoCreateSubscriptionGroup)"),
            ("defaultTopicQueueNums", "\(defaultTopicQueueNums)"), ("maxMessageSize", "\(maxMessageSize)"),
            ("longPollingEnable", "\(longPollingEnable)"), ("registerNameServerPeriod", "\(registerNameServerPeriod)"),
            ("compressedRegister", "\(compressedRegister)"),
            ("clientChannelMaxIdleTimeSeconds", "\(clientChannelMaxIdleTimeSeconds)"),
            ("mappedFileSizeCommitLog", "\(mappedFileSizeCommitLog)"), ("fileReservedTime", "\(fileReservedTime)"),
            ("transactionTimeOut", "\(transactionTimeOut)"), ("transactionCheckInterval", "\(transactionCheckInterval)"),
            ("transactionCheckMax", "\(transactionCheckMax)"), ("rejectTransactionMessage", "\(rejectTransactionMessage)"),
            ("storeReplyMessageEnable", "\(storeReplyMessageEnable)"), ("enablePropertyFilter", "\(enablePropertyFilter)"),
            ("environmentIsolationEnable", "\(environmentIsolationEnable)"), ("traceTopicEnable", "\(traceTopicEnable)"),
            ("msgTraceTopicName", msgTraceTopicName), ("traceOn", "\(traceOn)"), ("filterServerNums", "0"),
            ("useTLS", "\(tls.client.enabled)"), ("messageDelayLevel", Self.delayLevelText(messageDelayLevelMillis)),
            ("retryMaxTimes", "\(retryMaxTimes)"),
            ("timerMaxDelaySec", "\(timerMaxDelaySec)"), ("serverMaxConnections", "\(connectionLimits.maxConnections)"),
            ("deleteWhen", deleteWhen.sorted().map { $0 < 10 ? "0\($0)" : "\($0)" }.joined(separator: ";")),
            ("brokerRole", brokerRole.rawValue), 
            ("haSendHeartbeatInterval", "\(haSendHeartbeatInterval)"),
            ("haHousekeepingInterval", "\(haHousekeepingInterval)"), ("haTransferBatchSize", "\(haTransferBatchSize)"),
            ("haSlaveFallbehindMax", "\(haSlaveFallbehindMax)"), ("slaveReadEnable", "\(slaveReadEnable)"),
            ("diskMaxUsedSpaceRatio", "\(diskMaxUsedSpaceRatio)"), ("cleanFileForciblyEnable", "\(cleanFileForciblyEnable)"),
            ("diskSpaceWarningLevelRatio", "\(diskSpaceWarningLevelRatio)"),
            ("diskSpaceCleanForciblyRatio", "\(diskSpaceCleanForciblyRatio)"),
            ("brokerFastFailureEnable", "\(flow.brokerFastFailureEnable)"),
            ("waitTimeMillsInSendQueue", "\(flow.waitTimeMillsInSendQueue)"),
            ("defaultTopicRateLimit", "\(flow.defaultTopicRateLimit)"), ("sendBackRateLimit", "\(flow.sendBackRateLimit)"),
            ("sendBackQueueCapacity", "\(flow.sendBackQueueCapacity)"),
            ("rateLimitBreakerMillis", "\(flow.rateLimitBreakerMillis)"),
            ("defaultGroupPullRateLimit", "\(flow.defaultGroupPullRateLimit)"),
            ("statsLogEnable", "\(flow.statsLogEnable)"), ("statsPeriodMillis", "\(flow.statsPeriodMillis)"),
        ]
        if let haMasterAddress { p.append(("haMasterAddress", haMasterAddress)) }
        if let haListenPort { p.append(("haListenPort", "\(haListenPort)")) }
        if let httpPort { p.append(("httpPort", "\(httpPort)")) }
        if let brokerIP2 { p.append(("brokerIP2", brokerIP2)) }
        return p.map { (key: $0.0, value: $0.1) }
    }

    /// `messageDelayLevel` as broker.conf writes it ("1s 5s ... 2h"): each level in the largest unit that divides
    /// it (levels are whole seconds: the only durations broker.conf can state).
    static func delayLevelText(_ levels: [Int64]) -> String {
        levels.map { ms in
            let unit = delayUnits.first { ms % $0.millis == 0 } ?? delayUnits[delayUnits.count - 1]
            return "\(ms / unit.millis)\(unit.name)"
        }.joined(separator: " ")
    }

    /// Java's `MixAll.properties2String`: one `key=value` line per setting (sorted here, Java's is hash order),
    /// which the admin client reads back with `string2Properties`.
    public var propertiesText: String {
        properties.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)\n" }.joined()
    }
}
