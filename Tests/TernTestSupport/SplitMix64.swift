/// Deterministic generator shared by the test targets and the crash-test child: every randomized test
/// names its seed and replays exactly.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func bytes(_ count: Int) -> [UInt8] {
        (0 ..< count).map { _ in UInt8.random(in: 0 ... 255, using: &self) }
    }
    public mutating func int<T: FixedWidthInteger>(_: T.Type = T.self) -> T { T.random(in: T.min ... T.max, using: &self) }
    public mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0 ..< 100, using: &self) < percent }
}
