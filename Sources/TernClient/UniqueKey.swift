import Foundation
import Synchronization
import TernRemoting

/// Client message ids (`UNIQ_KEY`): 32 uppercase hex chars = 8 bytes fixed per process (pid, random) + an
/// 8-byte counter seeded with the start time in ms shifted left 16 bits.
///
/// Unique within the process because the counter only increases; across processes because of the random part.
public enum UniqueKey {
    /// The fixed 8 bytes, big-endian: pid (2 bytes), then 6 random bytes.
    static let prefix: UInt64 = {
        let pid = UInt16(truncatingIfNeeded: ProcessInfo.processInfo.processIdentifier)
        var g = SystemRandomNumberGenerator()
        return UInt64(pid) << 48 | UInt64.random(in: 0 ... (1 << 48) - 1, using: &g)
    }()
    private static let counter = Atomic<UInt64>(UInt64(Date().timeIntervalSince1970 * 1000) << 16)

    /// A new id.
    public static func next() -> String { string(nextWords()) }

    /// A new id as its two 8-byte halves (prefix, counter): its text is ``string(_:)``, 16 hex digits each.
    /// A send header's template writes the digits straight into the frame (no String per message).
    static func nextWords() -> (UInt64, UInt64) {
        (prefix, counter.wrappingAdd(1, ordering: .relaxed).newValue)
    }

    /// The id's text: both halves as 16 uppercase hex digits, big-endian (as a template's hex128 value).
    static func string(_ words: (UInt64, UInt64)) -> String {
        RemotingExtFields.hex128(words.0, words.1)
    }
}
