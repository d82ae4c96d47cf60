import TernMessage
import TernRemoting
import TernStorage
import TernSystem

/// GET_BROKER_RUNTIME_INFO (28): the `KVTable` Java's `AdminBrokerProcessor.prepareRuntimeInfo` and
/// `DefaultMessageStore.getRuntimeInfo` fill, with every key `mqadmin clusterList` / `brokerStatus` parse.
///
/// Tern's figures where it has them: puts and gets counted since start (Java also restarts them), TPS of the
/// last stats period (the same figure for Java's 10 s / 60 s / 600 s windows), disk usage of the store's file
/// system. Tern has no send / pull / query thread-pool queues and no page-cache lock timer: those keys are 0.
enum BrokerRuntimeInfo {
    static func table(_ context: BrokerContext, messagesAtStart: Int64, bootMillis: Int64) -> [String: String] {
        let store = context.store
        let stored = (try? AdminService.storedMessageCount(store)) ?? messagesAtStart
        let (puts, gets) = context.flow.stats.totals()
        func tps(_ v: Double) -> String { [v, v, v].map { "\($0)" }.joined(separator: " ") }
        let earliest = store.message(at: store.minPhysicalOffset)?.record.storeTimestamp ?? -1
        let now = context.clock.wallMillis()
        var t: [String: String] = [
            "brokerVersionDesc": AdminService.versionDesc,
            "brokerVersion": String(RemotingCommand.defaultVersion),
            "bootTimestamp": String(bootMillis),
            "runtime": runtime(millis: now - bootMillis),
            "msgPutTotalYesterdayMorning": "0", "msgPutTotalTodayMorning": "0",
            "msgPutTotalTodayNow": String(max(0, stored - messagesAtStart)),
            "msgGetTotalYesterdayMorning": "0", "msgGetTotalTodayMorning": "0",
            "msgGetTotalTodayNow": String(gets.total),
            "putTps": tps(puts.tps), "getTransferedTps": tps(gets.tps), "getTotalTps": tps(gets.tps),
            "getFoundTps": tps(gets.tps), "getMissTps": tps(0),
            "sendThreadPoolQueueSize": "0", "pullThreadPoolQueueSize": "0", "queryThreadPoolQueueSize": "0",
            "EndTransactionQueueSize": "0",
            "sendThreadPoolQueueHeadWaitTimeMills": "0", "pullThreadPoolQueueHeadWaitTimeMills": "0",
            "queryThreadPoolQueueHeadWaitTimeMills": "0", "pageCacheLockTimeMills": "0",
            "earliestMessageTimeStamp": String(earliest),
            "startAcceptSendRequestTimeStamp": "0",
            "commitLogMaxOffset": String(store.maxPhysicalOffset),
            "commitLogMinOffset": String(store.minPhysicalOffset),
            "dispatchBehindBytes": String(max(0, store.maxPhysicalOffset - store.dispatchedOffset)),
            "remainHowManyDataToFlush": humanReadable(max(0, store.maxPhysicalOffset - store.flushedOffset)),
        ]
        // The log's file system and the root's (consume queues live in the index there), as Java reports them.
        let logPath = store.config.commitLogPath
        if let (total, free) = try? FileSystem.diskSpace(context.config.storePathRootDir) {
            t["consumeQueueDiskRatio"] = String(DiskUsage(total: total, free: free).usedRatio)
        }
        if let (total, free) = try? FileSystem.diskSpace(logPath) {
            let disk = DiskUsage(total: total, free: free)
            let ratio = String(disk.usedRatio)
            t["commitLogDiskRatio"] = ratio
            t["commitLogDiskRatio_" + logPath] = ratio
            t["commitLogDirCapacity"] = "Total : \(humanReadable(disk.total)), Free : \(humanReadable(disk.free))."
        } else {
            t["commitLogDiskRatio"] = "-1.0"
        }
        return t
    }

    /// Java's `MixAll.humanReadableByteCount(bytes, false)`: `512 B`, `1.5 KiB`, `99.9 GiB`.
    static func humanReadable(_ bytes: Int64) -> String {
        guard bytes >= 1024 else { return "\(bytes) B" }
        var exp = 0
        var v = Double(bytes)
        while v >= 1024, exp < 6 {
            v /= 1024
            exp += 1
        }
        let unit = Array("KMGTPE")[exp - 1]
        let tenths = (v * 10).rounded()
        return "\(Int(tenths) / 10).\(Int(tenths) % 10) \(unit)iB"
    }

    /// `StoreStatsService.getFormatRuntime`: `[ 0 days, 1 hours, 2 minutes, 3 seconds ]`.
    static func runtime(millis: Int64) -> String {
        let s = max(0, millis) / 1000
        return "[ \(s / 86_400) days, \(s % 86_400 / 3_600) hours, \(s % 3_600 / 60) minutes, \(s % 60) seconds ]"
    }
}
