import CompressNIO
import NIOCore
import TernMessage

/// Turns a batch send body (message-format.md §5) into drafts: inflated first when the header's sysFlag has
/// the COMPRESSED bit (C++ 1.2.3 deflates whole batches >= 4 KiB), split into items, each stored with the
/// header's topic, queue, sysFlag (COMPRESSED cleared), born time and reconsume count.
enum SendBatch {
    struct Rejected: Error {
        let remark: String
    }

    static func drafts(body: ByteBuffer?, header: SendRequestHeader, queueId: Int32, bornHost: HostAddress,
                       storeHost: HostAddress, maxMessageSize: Int) throws(Rejected) -> [MessageDraft] {
        guard var body, body.readableBytes > 0 else { throw Rejected(remark: "the batch body is empty") }
        if header.sysFlag & SysFlag.compressed != 0 {
            do {
                // One byte over the limit lets an exactly full output finish; larger bodies fail below.
                body = try body.decompress(with: .zlib(), maxSize: maxMessageSize + 1)
            } catch let e as CompressNIOError where e == .bufferOverflow {
                throw Rejected(remark: "the inflated batch body exceeds the max message size \(maxMessageSize)")
            } catch {
                throw Rejected(remark: "the compressed batch body cannot be inflated: \(error)")
            }
        }
        guard body.readableBytes <= maxMessageSize else {
            throw Rejected(remark: "the batch body size \(body.readableBytes) exceeds the max message size \(maxMessageSize)")
        }
        let items: [BatchItem]
        do {
            items = try body.withUnsafeReadableBytes { try BatchCodec.decode($0) }
        } catch {
            throw Rejected(remark: "malformed batch body: \(error)")
        }
        guard !items.isEmpty else { throw Rejected(remark: "the batch body holds no message") }
        let topic = header.topicUTF8
        let sysFlag = header.sysFlag & ~SysFlag.compressed
        let batchProperties = header.properties
        return items.map { item in
            MessageDraft(topic: topic, queueId: queueId, flag: item.flag, sysFlag: sysFlag,
                         bornTimestamp: header.bornTimestamp, bornHost: bornHost, storeHost: storeHost,
                         reconsumeTimes: header.reconsumeTimes, body: item.body,
                         properties: appending(batchProperties, to: item.properties))
        }
    }

    /// Java's broker appends the batch header's properties to every item (a 0x02 inserted when the item's
    /// string lacks its trailing separator); on duplicate names the batch value, written last, wins.
    static func appending(_ batch: [UInt8], to item: [UInt8]) -> [UInt8] {
        if batch.isEmpty { return item }
        if item.isEmpty { return batch }
        var out = item
        out.reserveCapacity(item.count + 1 + batch.count)
        if item.last != MessageProperties.entrySeparator { out.append(MessageProperties.entrySeparator) }
        out.append(contentsOf: batch)
        return out
    }
}
