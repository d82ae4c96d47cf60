import Synchronization

/// A Prometheus histogram recorded without a lock: an observation is two relaxed atomic adds (its bucket and
/// the sum), so the request path never waits for a scrape or for another thread recording.
///
/// Observations are integers in the recording unit (bytes, nanoseconds); the family renders them in its own
/// unit (`HistogramFamily.scale`). Buckets are kept non-cumulative, with the last one for `+Inf`, and summed
/// at scrape time: the count is the sum of the buckets, so `_count` always equals the `+Inf` bucket. A scrape
/// racing a recording may see the bucket without the sum (or the reverse); the next scrape has both.
public final class AtomicHistogram: Sendable {
    /// Inclusive upper bounds in the recording unit, ascending (an observation `v` lands in the first `v <= bound`).
    let limits: [Int]
    private let buckets: [Cell]
    private let total = Atomic<Int>(0)

    final class Cell: Sendable { let value = Atomic<Int>(0) }

    init(limits: [Int]) {
        self.limits = limits
        buckets = (0...limits.count).map { _ in Cell() }
    }

    public func record(_ value: Int) {
        buckets[bucket(of: value)].value.wrappingAdd(1, ordering: .relaxed)
        total.wrappingAdd(value, ordering: .relaxed)
    }

    /// `count` observations of `value` at once.
    func record(_ value: Int, count: Int) {
        buckets[bucket(of: value)].value.wrappingAdd(count, ordering: .relaxed)
        total.wrappingAdd(value &* count, ordering: .relaxed)
    }

    /// Observations already sorted into buckets (`counts[i]` for bucket `i`, as ``bucket(of:)`` numbers them)
    /// whose values add up to `sum`.
    func add(counts: ArraySlice<Int>, sum: Int) {
        for (i, n) in zip(buckets.indices, counts) where n > 0 { buckets[i].value.wrappingAdd(n, ordering: .relaxed) }
        total.wrappingAdd(sum, ordering: .relaxed)
    }

    /// The bucket `value` lands in: the first with `value <= bound`, `limits.count` above every bound.
    func bucket(of value: Int) -> Int {
        var i = 0
        while i < limits.count, value > limits[i] { i += 1 }
        return i
    }

    /// Non-cumulative bucket counts (last: above every bound) and the sum, as of now.
    var snapshot: (buckets: [Int], sum: Int) {
        (buckets.map { $0.value.load(ordering: .relaxed) }, total.load(ordering: .relaxed))
    }
}

/// One histogram family (a name, its help and buckets) and its series, one ``AtomicHistogram`` per label set.
/// Series are made off the hot path (by a ``LabelledCache`` miss) and rendered at scrape time, after the
/// registry's families (``MetricsSource``).
public final class HistogramFamily: Sendable {
    let name: String
    let help: String
    /// Bucket bounds in the rendered unit (RocketMQ's: ms for rpc latency, bytes for message size).
    let bounds: [Double]
    /// Recording units per rendered unit (1e6: nanoseconds recorded, milliseconds rendered).
    let scale: Double
    private let series = Mutex<[(labels: [UInt8], histogram: AtomicHistogram)]>([])

    init(_ name: String, _ help: String, bounds: [Double], scale: Double = 1) {
        self.name = name
        self.help = help
        self.bounds = bounds
        self.scale = scale
    }

    /// A new series with `labels` (call once per label set: the caller caches it).
    func makeHistogram(labels: [(String, String)]) -> AtomicHistogram {
        let h = AtomicHistogram(limits: bounds.map { Int(($0 * scale).rounded()) })
        series.withLock { $0.append((Self.render(labels), h)) }
        return h
    }

    /// The family in Prometheus text format (0.0.4), as the registry renders its histograms.
    func emit(into out: inout [UInt8]) {
        let all = series.withLock { $0 }
        guard !all.isEmpty else { return }
        out.append(contentsOf: "# HELP \(name) \(help)\n# TYPE \(name) histogram\n".utf8)
        for (labels, histogram) in all {
            let (buckets, sum) = histogram.snapshot
            var cumulative = 0
            for (i, bound) in bounds.enumerated() {
                cumulative += buckets[i]
                line(&out, "_bucket", labels, le: "\(bound)", "\(cumulative)")
            }
            cumulative += buckets[bounds.count]
            line(&out, "_bucket", labels, le: "+Inf", "\(cumulative)")
            line(&out, "_sum", labels, le: nil, "\(Double(sum) / scale)")
            line(&out, "_count", labels, le: nil, "\(cumulative)")
        }
    }

    private func line(_ out: inout [UInt8], _ suffix: String, _ labels: [UInt8], le: String?, _ value: String) {
        out.append(contentsOf: name.utf8)
        out.append(contentsOf: suffix.utf8)
        if !labels.isEmpty || le != nil {
            out.append(UInt8(ascii: "{"))
            out.append(contentsOf: labels)
            if let le {
                if !labels.isEmpty { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: "le=\"\(le)\"".utf8)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: value.utf8)
        out.append(UInt8(ascii: "\n"))
    }

    /// `k1="v1",k2="v2"` with values escaped (backslash, double quote, line feed).
    static func render(_ labels: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (i, (key, value)) in labels.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: key.utf8)
            out.append(contentsOf: "=\"".utf8)
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
                case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
                case UInt8(ascii: "\n"): out.append(contentsOf: #"\n"#.utf8)
                default: out.append(byte)
                }
            }
            out.append(UInt8(ascii: "\""))
        }
        return out
    }
}
