import NIOPosix
import Prometheus

/// What the requests of one read burst record, added to the shared instruments once when the burst ends: the
/// request path then does plain additions in thread-owned memory instead of atomics, table lookups and clock
/// reads per send.
///
/// A server's request handler opens the calling thread's tally when a connection's read burst begins
/// (``BrokerMetrics/burstBegan(startNanos:)``) and closes it when the burst ends, before the burst's coalesced
/// answers are written (``BrokerMetrics/burstEnded()``): a client that has its answer finds its messages
/// counted. Work on a thread without an open tally (deferred answers, send-backs on a thread pool) records
/// straight into the instruments.
///
/// Per burst: message / byte counts and size buckets per topic and message type, answers per request and
/// response code (each observed at the burst's end minus its start: the coalesced answers leave then), and
/// whether the burst's one timed append is taken. The topics' and codes' instruments stay cached here across
/// bursts, so a steady producer costs no table lookup at all.
///
/// Thread-safety: `@unchecked Sendable` because each tally is created by ``current`` for the calling thread and
/// is reachable only through the thread-specific variable `tallies`: only that thread ever reads or writes it.
final class BurstTally: @unchecked Sendable {
    private static let tallies = ThreadSpecificVariable<BurstTally>()

    /// The calling thread's tally.
    static var current: BurstTally {
        if let t = tallies.currentValue { return t }
        let t = BurstTally()
        tallies.currentValue = t
        return t
    }

    /// Cached instruments per distinct topic / code pair, at most this many each; more go straight through.
    static let slots = 16

    private struct Inflow {
        let topic: String
        let type: BrokerMetrics.MessageType
        let inbound: BrokerMetrics.Inbound
        var messages = 0
        var bytes = 0
    }
    private struct Answers {
        let codes: RequestLatency.Codes
        let histogram: AtomicHistogram
        var count = 0
    }

    /// The metrics this burst records for; nil between bursts (closed).
    private(set) var metrics: BrokerMetrics?
    /// `RemotingConnection.readBurstStartNanos` of the open burst.
    private(set) var burstStart: UInt64 = 0
    /// The open burst's one timed append is taken.
    var appendTimed = false
    /// The metrics the cached instruments belong to (another broker in this process opening the tally drops them).
    private weak var cachedFor: BrokerMetrics?
    private var inflows: [Inflow] = []
    /// Non-cumulative size bucket counts, `sizeBucketCount` per inflow.
    private var sizes: [Int] = []
    private var sizeBucketCount = 0
    private var answers: [Answers] = []
    private var dirty = false

    private init() {
        inflows.reserveCapacity(Self.slots)
        answers.reserveCapacity(Self.slots)
    }

    func open(_ metrics: BrokerMetrics, burstStart: UInt64) {
        if self.metrics != nil { close() }
        if cachedFor !== metrics {
            inflows.removeAll(keepingCapacity: true)
            sizes.removeAll(keepingCapacity: true)
            answers.removeAll(keepingCapacity: true)
            sizeBucketCount = BrokerMetrics.messageSizeBuckets.count + 1
            cachedFor = metrics
        }
        self.metrics = metrics
        self.burstStart = burstStart
    }

    /// Adds the burst's figures to the instruments (the answers observed now) and closes the tally.
    func close() {
        guard metrics != nil else { return }
        if dirty {
            let now = RequestLatency.now()
            let waited = Int(truncatingIfNeeded: now > burstStart ? now - burstStart : 0)
            for i in answers.indices where answers[i].count > 0 {
                answers[i].histogram.record(waited, count: answers[i].count)
                answers[i].count = 0
            }
            for i in inflows.indices where inflows[i].messages > 0 {
                let f = inflows[i], base = i * sizeBucketCount
                f.inbound.messages.increment(by: Int64(f.messages))
                f.inbound.bytes.increment(by: Int64(f.bytes))
                f.inbound.size.add(counts: sizes[base..<(base + sizeBucketCount)], sum: f.bytes)
                for b in base..<(base + sizeBucketCount) { sizes[b] = 0 }
                inflows[i].messages = 0
                inflows[i].bytes = 0
            }
            dirty = false
        }
        self.metrics = nil
        appendTimed = false
    }

    /// Counts one stored message; false when the topic has no slot (the caller records it directly).
    func stored(topic: String, type: BrokerMetrics.MessageType, bodyBytes: Int) -> Bool {
        var i = 0
        while i < inflows.count, inflows[i].type != type || inflows[i].topic != topic { i += 1 }
        if i == inflows.count {
            guard i < Self.slots, let metrics else { return false }
            inflows.append(Inflow(topic: topic, type: type, inbound: metrics.inbound(topic: topic, type: type)))
            sizes.append(contentsOf: repeatElement(0, count: sizeBucketCount))
        }
        inflows[i].messages += 1
        inflows[i].bytes += bodyBytes
        sizes[i * sizeBucketCount + inflows[i].inbound.size.bucket(of: bodyBytes)] += 1
        dirty = true
        return true
    }

    /// Counts one answer of the open burst; false when the code pair has no slot.
    func answered(_ codes: RequestLatency.Codes, by latency: RequestLatency) -> Bool {
        var i = 0
        while i < answers.count, answers[i].codes != codes { i += 1 }
        if i == answers.count {
            guard i < Self.slots else { return false }
            answers.append(Answers(codes: codes, histogram: latency.histogram(codes)))
        }
        answers[i].count += 1
        dirty = true
        return true
    }
}
