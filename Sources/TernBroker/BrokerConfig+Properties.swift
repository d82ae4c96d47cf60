import NIOCore
import TernOps
import TernStorage
import TernCoordination
import TernTransport

/// Reading RocketMQ-style `broker.conf` properties into a ``BrokerConfig``.
///
/// Format: `key=value` lines (also `key: value`), `#` / `!` comments, surrounding blanks ignored. Keys keep
/// RocketMQ's names and units. Unknown keys are reported as warnings (a typo must be visible, but an existing
/// file with keys we ignore must still start); a bad value for a known key is an error naming key and value.
extension BrokerConfig {
    /// RocketMQ keys accepted without effect yet (features of later milestones or Java-only tuning): ignoring
    /// them changes performance or layout, never what is protected or promised.
    static let acceptedButIgnored: Set<String> = [
        "storePathConsumeQueue", "storePathIndex",
        "sendMessageThreadPoolNums", "pullMessageThreadPoolNums",
        "useReentrantLockWhenPutMessage",
        "flushCommitLogTimed",
        "mappedFileSizeConsumeQueue",
    ]

    /// Keys we do not implement whose being ignored would weaken safety (access control, replication
    /// guarantees, disk protection), with the values that are safe to ignore. Any other value stops startup:
    /// failing closed beats a broker that silently does less than its operator configured.
    static let refusedUnlessHarmless: [String: (harmless: Set<String>, why: String)] = [
        "enableDLegerCommitLog": (["false"], "DLedger replication is not implemented"),
    ]

    /// Applies `text` (a whole properties file) over `self`. Returns warnings for unknown or ignored keys.
    @discardableResult
    public mutating func apply(properties text: String) throws(BrokerError) -> [String] {
        var warnings: [String] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingBlanks
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
            guard let sep = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw .badConfigValue(key: "line \(number + 1)", value: String(line), reason: "expected key=value")
            }
            let key = String(line[..<sep]).trimmingBlanks
            let value = String(line[line.index(after: sep)...]).trimmingBlanks
            if let warning = try set(key, value) { warnings.append(warning) }
        }
        return warnings
    }

    /// Sets one key. Returns a warning for an unknown or ignored key; throws for a bad value.
    public mutating func set(_ key: String, _ value: String) throws(BrokerError) -> String? {
        func int(_ range: ClosedRange<Int> = 0...Int.max) throws(BrokerError) -> Int {
            guard let v = Int(value), range.contains(v) else {
                throw .badConfigValue(key: key, value: value, reason: "expected an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return v
        }
        func bool() throws(BrokerError) -> Bool {
            switch value.lowercased() {
            case "true": return true
            case "false": return false
            default: throw .badConfigValue(key: key, value: value, reason: "expected true or false")
            }
        }
        func name() throws(BrokerError) -> String {
            guard !value.isEmpty else { throw .badConfigValue(key: key, value: value, reason: "must not be empty") }
            return value
        }
        switch key {
        case "brokerClusterName": brokerClusterName = try name()
        case "brokerName": brokerName = try name()
        case "brokerId": brokerId = Int64(try int())
        case "namesrvAddr":
            let list = value.split(separator: ";").map { String($0).trimmingBlanks }.filter { !$0.isEmpty }
            for a in list where !Self.isHostPort(a) {
                throw .badConfigValue(key: key, value: value, reason: "\"\(a)\" is not host:port")
            }
            namesrvAddr = list
        case "brokerIP1":
            guard Self.isIPv4(value) else { throw .badConfigValue(key: key, value: value, reason: "expected an IPv4 address") }
            brokerIP1 = value
        case "listenPort": listenPort = try int(0...65535)
        case "storePathRootDir": storePathRootDir = try name()
        case "storePathCommitLog":
            // RocketMQ 4.9 also takes several directories joined by "," (MixAll.MULTI_PATH_SPLITTER): one log here.
            guard !value.contains(",") else {
                throw .badConfigValue(key: key, value: value, reason: "one directory expected (a commit log over several directories is not supported)")
            }
            storePathCommitLog = try name()
        case "flushDiskType":
            guard let t = FlushDiskType(rawValue: value) else {
                throw .badConfigValue(key: key, value: value, reason: "expected ASYNC_FLUSH or SYNC_FLUSH")
            }
            flushDiskType = t
        case "syncFlushTimeout": syncFlushTimeout = try int(1...600_000)
        case "warmMapedFileEnable": warmMapedFileEnable = try bool()
        case "transientStorePoolEnable": transientStorePoolEnable = try bool()
        case "flushIntervalCommitLog": asyncFlush.intervalMillis = try int(1...3_600_000)
        case "flushCommitLogLeastPages": asyncFlush.leastPages = try int(0...(1 << 20))
        case "flushCommitLogThoroughInterval": asyncFlush.thoroughIntervalMillis = try int(0...86_400_000)
        case "autoCreateTopicEnable": autoCreateTopicEnable = try bool()
        case "autoCreateSubscriptionGroup": autoCreateSubscriptionGroup = try bool()
        case "defaultTopicQueueNums": defaultTopicQueueNums = try int(1...1024)
        case "maxMessageSize": maxMessageSize = try int(1...(64 << 20))
        case "longPollingEnable": longPollingEnable = try bool()
        case "registerNameServerPeriod": registerNameServerPeriod = try int(1_000...600_000)
        case "compressedRegister": compressedRegister = try bool()
        case "clientChannelMaxIdleTimeSeconds": clientChannelMaxIdleTimeSeconds = try int(1...86_400)
        case "mappedFileSizeCommitLog": mappedFileSizeCommitLog = try int((1 << 20)...(1 << 32))
        case "cachedCommitLogBytes": cachedCommitLogBytes = try int(0...(1 << 50))
        case "cachedConsumedCommitLogBytes": cachedConsumedCommitLogBytes = try int(0...(1 << 50))
        case "dispatchGatherMicros": dispatchGatherMicros = try int(0...1_000_000)
        case "fileReservedTime": fileReservedTime = try int(1...100_000)
        case "transactionTimeOut": transactionTimeOut = Int64(try int(0...86_400_000))
        case "transactionCheckInterval": transactionCheckInterval = Int64(try int(10...86_400_000))
        case "transactionCheckMax": transactionCheckMax = try int(0...1_000)
        case "rejectTransactionMessage": rejectTransactionMessage = try bool()
        case "storeReplyMessageEnable": storeReplyMessageEnable = try bool()
        case "enablePropertyFilter": enablePropertyFilter = try bool()
        case "environmentIsolationEnable": environmentIsolationEnable = try bool()
        case "traceTopicEnable": traceTopicEnable = try bool()
        case "traceOn": traceOn = try bool()
        // Java starts this many filter-server processes (class filters); Tern has none, so only 0 is true.
        case "filterServerNums":
            guard value == "0" else { throw .badConfigValue(key: key, value: value, reason: "filter servers are not supported") }
        // Java's NettyClientConfig.useTLS: the broker's own connections (to name servers, to the master) use TLS.
        case "useTLS": tls.client.enabled = try bool()
        case "msgTraceTopicName":
            if let why = TopicConfigManager.invalidTopicReason(value) { throw .badConfigValue(key: key, value: value, reason: why) }
            msgTraceTopicName = value
        case "messageDelayLevel": messageDelayLevelMillis = try Self.delayLevels(key, value)
        case "retryMaxTimes": retryMaxTimes = Int32(try int(0...10_000))
        case "timerMaxDelaySec": timerMaxDelaySec = Int64(try int(1...(365 * 86_400)))
        case "serverMaxConnections": connectionLimits.maxConnections = try int(1...1_000_000)
        case "serverPartialFrameTimeoutSeconds":
            connectionLimits.partialFrameTimeout = .seconds(Int64(try int(1...3_600)))
        case "serverPartialFrameBytesMax": connectionLimits.partialFrameBytesMax = try int((1 << 20)...(1 << 34))
        case "deleteWhen": deleteWhen = try Self.hours(key, value)
        case "brokerRole":
            guard let role = BrokerRole(rawValue: value) else {
                throw .badConfigValue(key: key, value: value, reason: "expected ASYNC_MASTER, SYNC_MASTER or SLAVE")
            }
            brokerRole = role
        case "haListenPort": haListenPort = try int(1...65535)
        case "httpPort": httpPort = try int(0...65535)
        case "haMasterAddress":
            guard Self.isHostPort(value) else { throw .badConfigValue(key: key, value: value, reason: "expected host:port") }
            haMasterAddress = value
        case "brokerIP2":
            guard Self.isIPv4(value) else { throw .badConfigValue(key: key, value: value, reason: "expected an IPv4 address") }
            brokerIP2 = value
        case "haSendHeartbeatInterval": haSendHeartbeatInterval = try int(100...600_000)
        case "haHousekeepingInterval": haHousekeepingInterval = try int(1_000...3_600_000)
        case "haTransferBatchSize": haTransferBatchSize = try int(1_024...(64 << 20))
        case "haSlaveFallbehindMax": haSlaveFallbehindMax = Int64(try int(1...Int.max))
        case "haMaxGapNotInSync": haMaxGapNotInSync = Int64(try int(0...Int.max))
        case "allAckInSyncStateSet": allAckInSyncStateSet = try bool()
        case "slaveReadEnable": slaveReadEnable = try bool()
        case "accessMessageInMemoryMaxRatio": accessMessageInMemoryMaxRatio = try int(0...100)
        case "aclEnable": aclEnable = try bool()
        case "aclFilePath": aclFilePath = try name()
        case "aclBenchmarkUnsignedEnable": aclBenchmarkUnsignedEnable = try bool()
        case "accessKey": accessKey = try name()
        case "secretKey": secretKey = try name()
        case "enableControllerMode": enableControllerMode = try bool()
        case "etcdEndpoints":
            guard let endpoints = EtcdEndpoint.parseList(value) else {
                throw .badConfigValue(key: key, value: value, reason: "expected http://host:port[;http://host:port...]")
            }
            etcdEndpoints = endpoints
        case "controllerLeaseTtlSeconds": controllerLeaseTtlSeconds = try int(2...60)
        case "controllerFenceMarginMillis": controllerFenceMarginMillis = try int(100...30_000)
        case "diskMaxUsedSpaceRatio": diskMaxUsedSpaceRatio = try int(10...95)
        case "cleanFileForciblyEnable": cleanFileForciblyEnable = try bool()
        // RocketMQ 4.9 reads these two as JVM system properties (-Drocketmq.broker.diskSpace…); either name works.
        case "diskSpaceWarningLevelRatio", "rocketmq.broker.diskSpaceWarningLevelRatio":
            diskSpaceWarningLevelRatio = try Self.ratio(key, value)
        case "diskSpaceCleanForciblyRatio", "rocketmq.broker.diskSpaceCleanForciblyRatio":
            diskSpaceCleanForciblyRatio = try Self.ratio(key, value)
        default:
            if try flow.set(key, value) { return nil }
            do { if try tls.set(key, value) { return nil } } catch {
                guard case .badValue(_, _, let reason) = error else { throw .badConfigValue(key: key, value: value, reason: "\(error)") }
                throw .badConfigValue(key: key, value: value, reason: reason)
            }
            do { if try metrics.set(key, value) { return nil } } catch { throw .badConfigValue(key: key, value: value, reason: error.reason) }
            if let refused = Self.refusedUnlessHarmless[key] {
                guard refused.harmless.contains(value) else {
                    throw .badConfigValue(key: key, value: value, reason: "not supported (\(refused.why))")
                }
                return "\(key)=\(value) is accepted but has no effect"
            }
            if Self.acceptedButIgnored.contains(key) { return "\(key) is accepted but has no effect yet" }
            return "unknown key \(key) ignored"
        }
        return nil
    }

    /// `messageDelayLevel`'s units, largest first.
    static let delayUnits: [(name: Character, millis: Int64)] = [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)]

    /// `messageDelayLevel`: blank-separated durations, each a positive integer with unit s, m, h or d.
    static func delayLevels(_ key: String, _ value: String) throws(BrokerError) -> [Int64] {
        var out: [Int64] = []
        for token in value.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            guard let unit = token.last.flatMap({ u in delayUnits.first { $0.name == u }?.millis }),
                  let n = Int64(token.dropLast()), n > 0 else {
                throw .badConfigValue(key: key, value: value,
                                      reason: "\"\(token)\" is not a duration like 5s, 1m, 2h or 1d")
            }
            out.append(n * unit)
        }
        guard !out.isEmpty else { throw .badConfigValue(key: key, value: value, reason: "needs at least one level") }
        return out
    }

    /// `deleteWhen`: hours of the day separated by `;` ("04", "04;16").
    static func hours(_ key: String, _ value: String) throws(BrokerError) -> Set<Int> {
        var out = Set<Int>()
        for token in value.split(separator: ";") {
            guard let h = Int(token.trimmingBlanks), (0...23).contains(h) else {
                throw .badConfigValue(key: key, value: value, reason: "expected hours 0...23 separated by ;")
            }
            out.insert(h)
        }
        guard !out.isEmpty else { throw .badConfigValue(key: key, value: value, reason: "needs at least one hour") }
        return out
    }

    /// A disk ratio as a fraction in (0, 1].
    static func ratio(_ key: String, _ value: String) throws(BrokerError) -> Double {
        guard let v = Double(value), v > 0, v <= 1 else {
            throw .badConfigValue(key: key, value: value, reason: "expected a fraction like 0.90")
        }
        return v
    }

    static func isIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in p.count <= 3 && UInt8(p) != nil }
    }

    static func isHostPort(_ s: String) -> Bool {
        guard let colon = s.lastIndex(of: ":"), colon != s.startIndex, let port = Int(s[s.index(after: colon)...]) else { return false }
        return (1...65535).contains(port)
    }
}

extension StringProtocol {
    var trimmingBlanks: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
