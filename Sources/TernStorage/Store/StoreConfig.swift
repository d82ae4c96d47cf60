import TernSystem
import TernMessage

/// How a store is laid out and behaves. Defaults mirror RocketMQ 4.9's `MessageStoreConfig`.
public struct StoreConfig: Sendable {
    public enum FlushMode: Sendable, Equatable {
        /// Appends return once the record is in the mapping (page cache: survives `kill -9`, not a power loss).
        /// A background thread flushes per ``StoreConfig/asyncFlush``.
        case async
        /// Group commit: a waiting append is released when the flushed offset passes its record; one msync
        /// serves every append that arrived meanwhile. After `timeoutMillis` the waiter gets a timeout
        /// (the record stays stored), like RocketMQ's FLUSH_DISK_TIMEOUT.
        case sync(timeoutMillis: Int = 5_000)

        public static let defaultAsync = FlushMode.async
        public static let defaultSync = FlushMode.sync()
    }

    public enum IndexBackend: Sendable, Equatable {
        case lmdb
        /// For tests: derived state in process memory (rebuilt from the whole log at every open).
        case inMemory
    }

    /// Store root; the commit log lives in `<root>/commitlog` (unless `commitLogDirectory` says otherwise), LMDB in
    /// `<root>/index`.
    public var root: String
    /// The commit log's directory when not `<root>/commitlog` (RocketMQ's `storePathCommitLog`: the log on its own
    /// disk). Such a directory gets its own lock file (``commitLogLockPath``), so two stores never share one log.
    public var commitLogDirectory: String?
    /// Commit-log segment size (RocketMQ: `mappedFileSizeCommitLog`, 1 GiB).
    public var segmentSize: Int = 1 << 30
    /// Largest body accepted (`maxMessageSize`, 4 MiB).
    public var maxMessageSize: Int = 4 << 20
    public var flushMode: FlushMode = .defaultAsync
    /// The async flush's initial settings (`MessageStore.setAsyncFlush` changes them while the store runs).
    /// Kept but unused in sync mode, as RocketMQ keeps `flushIntervalCommitLog` under SYNC_FLUSH.
    public var asyncFlush = AsyncFlushSettings()
    /// A follower takes only its leader's replicated bytes until promoted (`MessageStore.promote`).
    public var role: StoreRole = .leader
    public var indexBackend: IndexBackend = .lmdb
    /// Records per index transaction at most (the dispatcher's group commit).
    public var dispatchBatchLimit: Int = 8_192
    /// Woken from idle, the dispatcher waits up to this long for more records (or 64 KiB of them) before its index
    /// commit, so one commit covers several records at moderate rates; 0: it commits what it finds at once.
    public var dispatchGatherMicros: Int = 200
    /// Retention: segments whose last modification is older are deleted (`fileReservedTime`, 72 h).
    public var retentionMillis: Int64 = 72 * 3_600_000
    /// Retention deletes expired segments during these local hours (`deleteWhen`, "04"); nil: any hour.
    public var deleteWhenHours: Set<Int>? = [4]
    /// Disk thresholds: early expiry, forcible cleaning, refusing sends (DiskSpace.swift).
    public var diskSpace = DiskSpacePolicy()
    /// Whether segments may be deleted before they expire when the disk passes `diskSpace.cleanForciblyRatio`
    /// (`cleanFileForciblyEnable`); never those still needed by a consumer group.
    public var cleanFileForciblyEnable = true
    /// Most segments deleted in one retention pass (`deleteCommitLogFilesInterval` batch of 10).
    public var retentionBatch: Int = 10
    /// Appends wait while the indexes lag the log by more than this many bytes. Bounds the tail that a
    /// restart after `kill -9` must replay (restart time), and the memory of pending index work.
    public var maxDispatchLagBytes: Int64 = 32 << 20
    /// Fault in the next segment's pages ahead of the writer.
    public var prefaultSegments: Bool = true
    /// With `prefaultSegments`: also write the faulted-in pages back ahead of the writer (`warmMapedFileEnable`,
    /// RocketMQ's name for writing a new mapped file's pages ahead). The disk writes each log byte at least twice
    /// (zeros first; pages the writer reaches only after the kernel's periodic write-back, three times), and each
    /// group commit then writes into blocks the file system has already converted.
    public var warmMappedFile: Bool = false
    /// Encode records into private memory and write them into the log with pwrite(2) instead of storing them
    /// through the mapping (`transientStorePoolEnable`, RocketMQ's name for committing records with a file write):
    /// no write faults on pages a flush has cleaned, for a system call per append call; a failed write is an errno,
    /// never a SIGBUS. Off by default (measured costs and gains: `CommitLog+WriteThrough.swift`).
    public var writeThrough: Bool = false
    /// How far ahead of the writer log pages are faulted in (and, for a new segment, how much of it is faulted
    /// in before the writer reaches it). Bounds the idle resident set: an idle broker maps about this much log.
    public var prefaultWindowBytes: Int = 16 << 20
    /// Flushed log pages of the active segment further than this behind the writer are unmapped
    /// (MADV_DONTNEED: they stay in the page cache, readers take a minor fault), so the resident set stays
    /// bounded instead of growing to the 1 GiB segment size; recent messages, which consumers read, stay mapped.
    public var residentTailBytes: Int = 32 << 20
    /// Flushed log further than this behind the writer is dropped from the page cache, so the memory of old
    /// pages is reused for the next ones (a fresh page cost the prefault ~9 µs of zero-filling on the benchmark
    /// VMs, a recycled one ~0.6 µs: see `CommitLog.dropCachedLog`). Consumers within this many bytes of the
    /// writer read from memory; deeper backlogs read from disk. nil (the store's default; a broker sets 40 % of
    /// RAM): never drop, the kernel's LRU decides.
    public var cachedLogBytes: Int? = nil
    /// Within `cachedLogBytes` (the cap; nil turns this off too): log that every consumer group has read leaves
    /// the page cache once it is this far behind the writer, so a broker whose consumers keep up recycles its
    /// pages after this much writing instead of after the whole cap. What counts as read: in each queue of a
    /// consumer topic, the messages before its slowest group's committed offset; a queue no group has committed
    /// on keeps all its messages (a new group may drain them). System topics (schedule, timer, transactions,
    /// trace, dead letters) do not hold the cache: their readers read from disk when due. nil: the cap alone.
    public var cachedConsumedLogBytes: Int? = 64 << 20
    /// Delay-level table in ms (`messageDelayLevel`): the due-time tag codes of schedule-topic records.
    public var delayLevelMillis: [Int64] = DelayedDelivery.defaultLevelMillis
    /// LMDB map size (virtual address space; the file grows as needed).
    public var lmdbMapSize: Int = LMDBIndexStore.defaultMapSize

    /// The store's time source: store timestamps of appended records, retention's "now", sync-flush deadlines and
    /// the segment-preparation retry interval (the threads' sleep intervals stay on the system clock).
    public var clock: any TernClock = SystemClock()
    /// Flush and dispatch timings (metrics); nil: nobody listens.
    public var observer: (any StoreObserver)?

    public init(root: String) { self.root = root }

    public var commitLogPath: String { commitLogDirectory ?? root + "/commitlog" }
    /// The lock taken in a commit-log directory of its own; nil when the log is the root's (the root's lock covers it).
    public var commitLogLockPath: String? {
        guard let commitLogDirectory, commitLogDirectory != root + "/commitlog" else { return nil }
        return commitLogDirectory + "/" + CommitLog.lockFileName
    }
    public var indexPath: String { root + "/index" }
    public var lockPath: String { root + "/lock" }
    /// What the dispatcher derives index entries with (recorded in the index; see `DerivationConfig`).
    var derivation: DerivationConfig { DerivationConfig(delayLevelMillis: delayLevelMillis) }
    /// Largest record the log accepts: body limit + the largest header, topic and properties.
    public var maxRecordSize: Int {
        RecordLayout.recordSize(bodyLength: maxMessageSize, topicLength: RecordLayout.maxTopicLength,
                                propertiesLength: RecordLayout.maxPropertiesLength)
    }
}

/// When the async flush msyncs the log (RocketMQ's `FlushRealTimeService` with `flushCommitLogTimed`: the thread
/// sleeps the interval, it is not woken by appends). Every `intervalMillis` it flushes if at least `leastPages`
/// pages are dirty, and whatever is dirty every `thoroughIntervalMillis` (which also syncs the index).
public struct AsyncFlushSettings: Sendable, Equatable {
    /// `flushIntervalCommitLog` (500 ms).
    public var intervalMillis: Int
    /// `flushCommitLogLeastPages` (4); 0 flushes whatever is dirty every interval.
    public var leastPages: Int
    /// `flushCommitLogThoroughInterval` (10 s).
    public var thoroughIntervalMillis: Int

    public init(intervalMillis: Int = 500, leastPages: Int = 4, thoroughIntervalMillis: Int = 10_000) {
        precondition(intervalMillis > 0 && leastPages >= 0 && thoroughIntervalMillis >= 0)
        self.intervalMillis = intervalMillis
        self.leastPages = leastPages
        self.thoroughIntervalMillis = thoroughIntervalMillis
    }
}
