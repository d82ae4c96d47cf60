import Foundation
import Synchronization

/// Client message ids (`UNIQ_KEY`): 32 uppercase hex chars = 8 bytes fixed per process (pid, random) + an
/// 8-byte counter seeded with the start time in ms shifted left 16 bits.
///
/// Unique within the process because the counter only increases; across processes because of the random part.
public enum UniqueKey {
    private static let prefix: [UInt8] = {
        var bytes = [UInt8](repeating: 0, count: 8)
        let pid = UInt16(truncatingIfNeeded: ProcessInfo.processInfo.processIdentifier)
        bytes[0] = UInt8(pid >> 8)
        bytes[1] = UInt8(pid & 0xFF)
        var g = SystemRandomNumberGenerator()
        for i in 2 ..< 8 { bytes[i] = UInt8.random(in: 0 ... 255, using: &g) }
        return hex(bytes)
    }()
    private static let counter = Atomic<UInt64>(UInt64(Date().timeIntervalSince1970 * 1000) << 16)
    private static let digits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// A new id.
    public static func next() -> String {
        let n = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return String(unsafeUninitializedCapacity: 32) { out in
            for i in 0 ..< 16 { out[i] = prefix[i] }
            for i in 0 ..< 16 { out[16 + i] = digits[Int((n >> UInt64(60 - 4 * i)) & 0xF)] }
            return 32
        }
    }

    private static func hex(_ bytes: [UInt8]) -> [UInt8] {
        bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] }
    }
}
