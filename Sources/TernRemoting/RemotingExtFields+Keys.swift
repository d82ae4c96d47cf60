extension RemotingExtFields {
    /// A fixed list of up to 16 keys, located in a table in one pass (``locate(_:)``) with their signatures
    /// computed once: a typed header reads a dozen fields of a table of about as many, and a lookup per field
    /// computed the key's signature and scanned the table each time.
    public struct KeySet: Sendable {
        let keys: [String]
        let signatures: [UInt32]

        /// - Precondition: at most 16 keys, no two equal.
        public init(_ keys: [String]) {
            precondition(keys.count <= 16 && Set(keys).count == keys.count, "a key set holds 16 distinct keys")
            self.keys = keys
            signatures = keys.map(RemotingExtFields.signature)
        }
    }

    /// Where the keys of one ``KeySet`` are in one table: the field index (for the `at:` accessors) of each key.
    public struct Positions: Sendable {
        fileprivate var slots = SIMD16<Int16>(repeating: -1)

        /// The field index of the set's key number `key`, nil when the table lacks it.
        public subscript(key: Int) -> Int? { slots[key] < 0 ? nil : Int(slots[key]) }
    }

    /// The position of every key of `set` in this table, in one pass over the fields.
    ///
    /// Clients write a header's keys in one fixed order, mostly the set's, so the key after the last one found
    /// is tried first (one compare per field instead of a scan of the set); any other order falls back to the
    /// scan, with the same result.
    public func locate(_ set: KeySet) -> Positions {
        var positions = Positions()
        let count = set.keys.count
        var next = 0
        set.signatures.withUnsafeBufferPointer { signatures in
            for index in entries.indices {
                let signature = entries[index].signature
                if next < count, signature != 0, signatures[next] == signature, positions.slots[next] < 0,
                   set.keys[next] == entries[index].key {
                    positions.slots[next] = Int16(index)
                    next += 1
                    continue
                }
                for k in 0 ..< count where signatures[k] == signature || signatures[k] == 0 || signature == 0 {
                    // Keys are unique in both the table and the set, so the first equal key is the only one.
                    if positions.slots[k] < 0, set.keys[k] == entries[index].key {
                        positions.slots[k] = Int16(index)  // extFieldsCountMax keeps an index within Int16
                        next = k + 1
                        break
                    }
                }
            }
        }
        return positions
    }

    /// The position of `set`'s key number `key` in this table, nil when absent: one scan comparing precomputed
    /// signatures (for one or two keys, cheaper than ``locate(_:)``'s pass over the whole set per field).
    public func index(ofKey key: Int, in set: KeySet) -> Int? {
        index(of: set.keys[key], signature: set.signatures[key])
    }

    /// The signature of field `index`'s key (``signature(_:)``: UTF-8 length and first and last bytes, 0 for an
    /// empty or non-ASCII key), kept since the field was set: no pass over the key.
    @inlinable public func keySignature(at index: Int) -> UInt32 { entries[index].signature }

    /// True when field `index`'s key is the UTF-8 `bytes`, byte for byte (not String `==`, which is canonical
    /// equivalence).
    @inlinable
    public func key(at index: Int, isUTF8 bytes: UnsafeRawBufferPointer) -> Bool {
        let key = entries[index].key.utf8
        return key.withContiguousStorageIfAvailable { Self.equal(UnsafeRawBufferPointer($0), bytes) }
            ?? Array(key).withUnsafeBytes { Self.equal($0, bytes) }
    }

    /// The interned String and signature of the header key `bytes` when it is one that requests carry all the
    /// time (no String built or signature computed per key and request; keys over 15 bytes were allocations).
    static func knownKey(_ bytes: UnsafeRawBufferPointer) -> (key: String, signature: UInt32)? {
        if bytes.count == 1 {
            let byte = bytes[0]
            guard byte >= UInt8(ascii: "a"), byte <= UInt8(ascii: "z") else { return nil }
            return KnownKeys.letters[Int(byte - UInt8(ascii: "a"))]
        }
        // A signed request's two keys first, by their bytes (every signed request decodes both).
        if bytes.count == 9 {
            let head = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self)), last = bytes[8]
            for acl in KnownKeys.acl where acl.head == head && acl.last == last { return acl.named }
        }
        let signature = Self.signature(bytes)
        // The tables opened once: an access per candidate went through their lazy initializers again.
        return KnownKeys.words.withUnsafeBufferPointer { words in
            KnownKeys.utf8.withUnsafeBufferPointer { utf8 in
                for i in 0 ..< words.count where words[i].signature == signature {
                    if utf8[i].withUnsafeBytes({ equal($0, bytes) }) { return words[i] }
                }
                return nil
            }
        }
    }
}

/// The interned keys of ``RemotingExtFields/knownKey(_:)``: SEND_MESSAGE_V2's one-letter names, the long names
/// of SEND_MESSAGE, PULL_MESSAGE and the ACL fields, then the keys of the send and pull answers a client reads
/// per message (last: a request's keys are found before them; "suggestWhichBrokerId" was a heap String per pull).
private enum KnownKeys {
    static let letters: [(key: String, signature: UInt32)] = (UInt8(ascii: "a") ... UInt8(ascii: "z")).map {
        let key = String(decoding: [$0], as: UTF8.self)
        return (key: key, signature: RemotingExtFields.signature(key))
    }

    /// The ACL fields' keys (both 9 bytes), matched before the table: their first 8 bytes as one word (byte i
    /// in bits 8i, as a little-endian load reads them) and their last byte.
    static let acl: [(head: UInt64, last: UInt8, named: (key: String, signature: UInt32))] =
        ["AccessKey", "Signature"].map { key in
            let utf8 = Array(key.utf8)
            let head = (0 ..< 8).reduce(UInt64(0)) { $0 | UInt64(utf8[$1]) << UInt64(8 * $1) }
            return (head: head, last: utf8[8], named: (key: key, signature: RemotingExtFields.signature(key)))
        }

    static let words: [(key: String, signature: UInt32)] = [
        "producerGroup", "topic", "defaultTopic", "defaultTopicQueueNums", "queueId", "sysFlag", "bornTimestamp",
        "flag", "properties", "reconsumeTimes", "unitMode", "maxReconsumeTimes", "batch", "brokerName",
        "consumerGroup", "queueOffset", "maxMsgNums", "commitOffset", "suspendTimeoutMillis", "subscription",
        "subVersion", "expressionType",
        "msgId", "MSG_REGION", "TRACE_ON", "suggestWhichBrokerId", "nextBeginOffset", "minOffset", "maxOffset",
        "traceReceived", "traceArrived", "traceHandled", "traceStored", "traceWoken", "traceAnswered",
    ].map { (key: $0, signature: RemotingExtFields.signature($0)) }

    /// `words`' UTF-8, compared without touching the Strings (no reference count per candidate).
    static let utf8: [[UInt8]] = words.map { Array($0.key.utf8) }
}
