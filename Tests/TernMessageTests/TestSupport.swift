import TernTestSupport
import TernMessage


/// Hand-rolled big-endian byte writer, independent of the codec under test.
struct ByteBuilder {
    var bytes: [UInt8] = []
    mutating func be<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
    mutating func raw(_ more: [UInt8]) { bytes.append(contentsOf: more) }
    mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }
}

extension Array where Element == UInt8 {
    func storeBE<T: FixedWidthInteger>(_ value: T, at offset: Int) -> [UInt8] {
        var copy = self
        Swift.withUnsafeBytes(of: value.bigEndian) { for (i, b) in $0.enumerated() { copy[offset + i] = b } }
        return copy
    }
}

func scan(_ bytes: [UInt8], at offset: Int = 0, checkCRC: Bool = true, max: Int = 1 << 22) -> RecordScanResult {
    bytes.withUnsafeBytes { RecordScanner.scan($0, at: offset, checkCRC: checkCRC, maxRecordSize: max) }
}

extension HostAddress {
    static let producer = HostAddress(ip: (10, 0, 0, 7), port: 53211)
    static let broker = HostAddress(ip: (192, 168, 1, 10), port: 10911)
}

func sampleDraft(body: [UInt8] = Array("Hello".utf8)) -> MessageDraft {
    MessageDraft(topic: Array("TopicTest".utf8), queueId: 3, flag: 0, sysFlag: 0, bornTimestamp: 1_700_000_000_123,
                 bornHost: .producer, storeHost: .broker, reconsumeTimes: 0, preparedTransactionOffset: 0,
                 body: body,
                 properties: MessageProperties.encode([("KEYS", "order-1"), ("TAGS", "TagA"),
                                                       ("UNIQ_KEY", "0A00000700002A9F0000000000000001")]))
}
