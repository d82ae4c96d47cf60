/// Properties string: `name 0x01 value 0x02` per entry (trailing 0x02 optional on input). API CONTRACT.
public enum MessageProperties {
    public static let nameSeparator: UInt8 = 0x01
    public static let entrySeparator: UInt8 = 0x02
    public static let keys = "KEYS", tags = "TAGS", uniqueKey = "UNIQ_KEY", wait = "WAIT", delay = "DELAY"
    public static let realTopic = "REAL_TOPIC", realQueueId = "REAL_QID", transactionPrepared = "TRAN_MSG"
    public static let producerGroup = "PGROUP"

    /// Encodes in the given order, each entry followed by 0x02 (what C++ clients send).
    public static func encode(_ entries: [(String, String)]) -> [UInt8] { PropertiesCodec.encode(entries) }
    /// Parses in order; skips fragments shorter than 3 bytes or without a 0x01 separator.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> [(String, String)] { PropertiesCodec.decode(bytes) }
    public static func decode(_ bytes: [UInt8]) -> [(String, String)] { bytes.withUnsafeBytes { decode($0) } }
    /// The raw value bytes of one property without decoding the others (dispatcher hot path); nil if absent.
    /// Same fragment rules as `decode`; when a name occurs twice the last one wins (as in Java's property map).
    /// Visits every well-formed entry (name, value) as raw bytes, in order, without allocating; `body`
    /// returns false to stop. One pass serves a caller that needs several properties.
    public static func forEachEntry(in bytes: UnsafeRawBufferPointer,
                                    _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Bool) {
        PropertiesCodec.forEachEntry(in: bytes, body)
    }

    public static func value(of name: StaticString, in bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        PropertiesCodec.value(of: name, in: bytes)
    }
}

/// Java `String.hashCode` over UTF-16 code units, 32-bit wrap-around, sign-extended to Int64 (consume-queue
/// tag code). Empty -> 0. "TagA" -> 2598919. API CONTRACT.
public enum TagHash {
    public static func javaHashCode(_ s: String) -> Int32 { JavaStringHash.hash(s) }
    /// Fast path for UTF-8 bytes (decodes to UTF-16 units on the fly, handles non-ASCII correctly).
    public static func javaHashCode(utf8 bytes: UnsafeRawBufferPointer) -> Int32 { JavaStringHash.hash(utf8: bytes) }
    public static func tagCode(_ tag: String?) -> Int64 { Int64(tag.map(javaHashCode) ?? 0) }
}

/// One item of a batch body (SEND_BATCH_MESSAGE / batch=true): see message-format.md §5. API CONTRACT.
public struct BatchItem: Sendable, Equatable {
    public var flag: Int32
    public var body: [UInt8]
    public var properties: [UInt8]
    public init(flag: Int32, body: [UInt8], properties: [UInt8]) { self.flag = flag; self.body = body; self.properties = properties }
}
public enum BatchCodec {
    public enum Error: Swift.Error, Equatable { case truncated(at: Int), badItemSize(at: Int) }
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(BatchCodec.Error) -> [BatchItem] { try BatchItemCodec.decode(bytes) }
    public static func encode(_ items: [BatchItem]) -> [UInt8] { BatchItemCodec.encode(items) }
}
