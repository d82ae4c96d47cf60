import TernMessage
import TernProtocol

/// A TAG subscription as the broker applies it to consume-queue tag codes (features.md §5): nil codes = all
/// messages; else the Java `String.hashCode` of each tag. Codes are recomputed from the expression, never taken
/// from a heartbeat's `codeSet` (C++ fills it with `atoi(tag)`).
struct TagFilter: Sendable, Equatable {
    let codes: Set<Int64>?

    init(subString: String?) {
        // "*" (nearly every pull) without Foundation's trimming and splitting, which cost a drain ~4 % of its CPU.
        guard let subString, subString != "*" else { codes = nil; return }
        let tags = SubscriptionData.tags(of: subString)
        codes = tags.isEmpty ? nil : Set(tags.map { Int64(TagHash.javaHashCode($0)) })
    }

    /// The store's filter closure; nil when everything matches (lets the store skip the per-entry check).
    var predicate: (@Sendable (Int64) -> Bool)? {
        guard let codes else { return nil }
        return { codes.contains($0) }
    }
}
