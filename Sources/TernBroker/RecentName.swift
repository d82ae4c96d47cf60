import Synchronization
import TernRemoting

/// The last name read from a header field, kept with its UTF-8: a producer's sends name the same topic and group
/// each time, and a hit costs a byte comparison with the header instead of a `String` (a heap allocation when
/// longer than 15 bytes) plus its UTF-8 array (the draft's topic) per send.
///
/// Thread-safety: `Sendable`; one entry behind a `Mutex`, held for the comparison only. Several producers with
/// other names on one broker take turns replacing the entry (a miss costs what no cache costs).
final class RecentName: Sendable {
    private let last = Mutex<(name: String, utf8: [UInt8])?>(nil)

    init() {}

    /// The value of field `index` in `fields` and its UTF-8 (shared with the cached entry on a hit).
    func name(at index: Int, in fields: RemotingExtFields) -> (name: String, utf8: [UInt8]) {
        if let hit = last.withLock({ entry in entry.flatMap { fields.value(at: index, equalsUTF8: $0.utf8) ? $0 : nil } }) {
            return hit
        }
        let entry = SendRequestHeader.name(at: index, in: fields)
        last.withLock { $0 = entry }
        return entry
    }
}
