import Dispatch
import Synchronization
import Testing
@testable import TernOps

/// The lock-free recording parts: ``AtomicHistogram`` rendered as the registry renders histograms, and
/// ``LabelledCache`` resolving one instrument per key under concurrent lookups.
@Suite struct LockFreeMetricsTests {
    @Test func histogramRendersCumulativeBucketsInItsUnit() {
        let family = HistogramFamily("tern_test_seconds", "test", bounds: [0.001, 0.01], scale: 1e9)
        let h = family.makeHistogram(labels: [("q", "a\"b")])
        for nanos in [500_000, 1_000_000, 2_000_000, 50_000_000] { h.record(nanos) }
        var bytes: [UInt8] = []
        family.emit(into: &bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("# HELP tern_test_seconds test\n# TYPE tern_test_seconds histogram\n"))
        // Bounds are inclusive: 1 ms lands in le="0.001".
        #expect(text.contains("tern_test_seconds_bucket{q=\"a\\\"b\",le=\"0.001\"} 2\n"))
        #expect(sample(text, "tern_test_seconds_bucket", ["le": "0.01"]) == 3)
        #expect(sample(text, "tern_test_seconds_bucket", ["le": "+Inf"]) == 4)
        #expect(sample(text, "tern_test_seconds_count") == 4)
        #expect(sample(text, "tern_test_seconds_sum") == 0.0535)
    }

    @Test func familyWithoutSeriesRendersNothing() {
        var bytes: [UInt8] = []
        HistogramFamily("tern_unused", "unused", bounds: [1]).emit(into: &bytes)
        #expect(bytes.isEmpty)
    }

    @Test func concurrentLookupsShareOneInstrumentPerKey() async {
        final class Made: Sendable { let n = Atomic<Int>(0) }
        let made = Made()
        let cache = LabelledCache<Int, Made>(limit: 50, overflowKey: -1) { _ in
            made.n.wrappingAdd(1, ordering: .relaxed)
            return Made()
        }
        let seen = Mutex<[Int: Set<ObjectIdentifier>]>([:])
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            var mine: [Int: Set<ObjectIdentifier>] = [:]
            for round in 0..<2_000 {
                let key = (round * 7 + worker) % 40
                mine[key, default: []].insert(ObjectIdentifier(cache[key]))
            }
            seen.withLock { all in all.merge(mine) { $0.union($1) } }
        }
        let all = seen.withLock { $0 }
        #expect(all.count == 40)
        #expect(all.values.allSatisfy { $0.count == 1 })
        #expect(Set(all.values.map { $0.first! }).count == 40)
        #expect(made.n.load(ordering: .relaxed) == 40)
        #expect(cache.count == 40)
    }

    @Test func floodOfKeysSharesTheOverflowInstrument() {
        final class Box: Sendable { let key: Int; init(_ key: Int) { self.key = key } }
        let cache = LabelledCache<Int, Box>(limit: 3, overflowKey: -1) { Box($0) }
        for key in 0..<3 { #expect(cache[key].key == key) }
        // Far past the slots reserved for overflow keys: every one still resolves, to the shared instrument.
        for key in 3..<200 { #expect(cache[key].key == -1) }
        for key in 0..<3 { #expect(cache[key].key == key) }
        #expect(cache.count == 4)
    }
}
