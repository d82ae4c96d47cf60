/// An editable property list that keeps the original order (new names go last); names are unique. The one way
/// to read and edit a message's properties as strings (broker, store, client): a name that occurs twice keeps
/// its first position and its last value, as in the Java and C++ clients' property maps and
/// `MessageProperties.value(of:in:)` (the raw-bytes lookup of the hot paths).
///
/// Cost: one pass to decode; lookups are linear (a message carries a handful of properties).
public struct PropertyList: Sendable {
    public private(set) var entries: [(String, String)]

    public init(_ bytes: UnsafeRawBufferPointer) {
        var out: [(String, String)] = []
        for (k, v) in MessageProperties.decode(bytes) {
            if let i = out.firstIndex(where: { $0.0 == k }) { out[i].1 = v } else { out.append((k, v)) }
        }
        entries = out
    }

    public init(_ bytes: [UInt8]) { self = bytes.withUnsafeBytes { PropertyList($0) } }

    public subscript(name: String) -> String? {
        get { entries.first { $0.0 == name }?.1 }
        set {
            if let i = entries.firstIndex(where: { $0.0 == name }) {
                if let newValue { entries[i].1 = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append((name, newValue))
            }
        }
    }

    /// The encoded properties, in order (what `MessageProperties.encode` writes).
    public var encoded: [UInt8] { MessageProperties.encode(entries) }

    /// Name → value (clients' `ReceivedMessage.properties`).
    public var dictionary: [String: String] { Dictionary(entries, uniquingKeysWith: { _, last in last }) }
}
