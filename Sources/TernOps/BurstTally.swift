import NIOCore
import Prometheus
import TernTransport

/// One connection's request metrics, added up per read burst and added to the shared instruments once when the
/// burst ends: the request path then does plain additions in memory only its event loop touches, instead of
/// atomics, table lookups and clock reads per request.
///
/// The connection's observer (``BrokerMetrics/burstTally(on:)``, `RemotingConnection.responseObserver`), so the
/// transport hands it to every responder and calls its burst hooks itself: no per-request lookup finds it. The
/// burst closes before the burst's coalesced answers are written: a client that has its answer finds its
/// messages counted. Work outside the open burst (deferred answers, another thread, requests dispatched after
/// the burst) records straight into the instruments.
///
/// Per burst: message / byte counts and size buckets per topic and message type, answers per request and
/// response code (each observed at the burst's end minus its start: the coalesced answers leave then), and
/// whether the burst's append is timed. The instruments of the topics and codes seen stay cached here across
/// bursts, so a steady producer costs no table lookup at all.
///
/// Thread-safety: `@unchecked Sendable` because every mutable field is read and written only on `eventLoop`:
/// the burst hooks run there (the transport's contract), and ``answered(requestCode:responseCode:receivedNanos:)``
/// and ``inBurst`` check `inEventLoop` before touching anything; every other caller goes through ``inBurst``.
public final class BurstTally: RemotingResponseObserver, @unchecked Sendable {
    /// Cached instruments per distinct topic / code pair, at most this many each; more go straight through.
    static let slots = 16
    /// At most one timed append per connection per this many ns of burst starts (no clock read decides it).
    static let appendSampleNanos: UInt64 = 1_000_000

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

    let metrics: BrokerMetrics
    let eventLoop: any EventLoop
    private var open = false
    /// `RemotingConnection.readBurstStartNanos` of the open (or last) burst.
    private var burstStart: UInt64 = 0
    /// The open burst's append is to be timed (and not yet taken).
    private var timesAppend = false
    /// Start of the last burst whose append was timed.
    private var lastTimedBurst: UInt64 = 0
    private var inflows: [Inflow] = []
    /// Non-cumulative size bucket counts, `sizeBucketCount` per inflow.
    private var sizes: [Int] = []
    private let sizeBucketCount = BrokerMetrics.messageSizeBuckets.count + 1
    private var answers: [Answers] = []
    /// The open burst counted an answer / anything.
    private var answered = false
    private var dirty = false

    init(metrics: BrokerMetrics, eventLoop: any EventLoop) {
        self.metrics = metrics
        self.eventLoop = eventLoop
    }

    /// This tally when the caller runs inside its open burst (on its loop), else nil.
    var inBurst: BurstTally? { eventLoop.inEventLoop && open ? self : nil }

    public func readBurstBegan(startNanos: UInt64) {
        if open { readBurstEnded() }
        // Paused: no burst opens, so sends take the metering's paused path (``BrokerMetrics/isRecording``).
        guard metrics.isRecording else { return }
        open = true
        burstStart = startNanos
        timesAppend = startNanos &- lastTimedBurst >= Self.appendSampleNanos
    }

    /// Adds the burst's figures to the instruments (the answers observed now) and closes the burst.
    public func readBurstEnded() {
        guard open else { return }
        open = false
        timesAppend = false
        guard dirty else { return }
        dirty = false
        if answered {
            answered = false
            let now = RequestLatency.now()
            let waited = Int(truncatingIfNeeded: now > burstStart ? now - burstStart : 0)
            for i in answers.indices where answers[i].count > 0 {
                answers[i].histogram.record(waited, count: answers[i].count)
                answers[i].count = 0
            }
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
    }

    /// An answer: counted in the open burst when given on the loop while the burst that delivered the request
    /// is open, else observed now.
    public func answered(requestCode: Int, responseCode: Int, receivedNanos: UInt64) {
        guard metrics.isRecording else { return }
        let codes = RequestLatency.Codes(request: requestCode, response: responseCode)
        if eventLoop.inEventLoop, open, receivedNanos == burstStart, count(codes) { return }
        // A request answered before its burst's start was read (never on a server) counts as 0 ms.
        let now = RequestLatency.now()
        metrics.rpc.record(codes, nanos: now > receivedNanos ? now - receivedNanos : 0)
    }

    /// Takes the open burst's timed append: true once per sampled burst (call ``inBurst`` first).
    func takeAppendTiming() -> Bool {
        guard timesAppend else { return false }
        timesAppend = false
        lastTimedBurst = burstStart
        return true
    }

    /// Counts one stored message (call ``inBurst`` first); false when the topic has no slot (the caller
    /// records it directly).
    func stored(topic: String, type: BrokerMetrics.MessageType, bodyBytes: Int) -> Bool {
        var i = 0
        while i < inflows.count, inflows[i].type != type || inflows[i].topic != topic { i += 1 }
        if i == inflows.count {
            guard i < Self.slots else { return false }
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
    private func count(_ codes: RequestLatency.Codes) -> Bool {
        var i = 0
        while i < answers.count, answers[i].codes != codes { i += 1 }
        if i == answers.count {
            guard i < Self.slots else { return false }
            answers.append(Answers(codes: codes, histogram: metrics.rpc.histogram(codes)))
        }
        answers[i].count += 1
        answered = true
        dirty = true
        return true
    }
}
