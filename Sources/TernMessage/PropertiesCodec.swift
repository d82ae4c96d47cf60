// Properties string: `name 0x01 value 0x02` per entry, message-format.md §3.

enum PropertiesCodec {
    static func encode(_ entries: [(String, String)]) -> [UInt8] {
        var size = 0
        for (name, value) in entries { size += name.utf8.count + value.utf8.count + 2 }
        var out = [UInt8]()
        out.reserveCapacity(size)
        for (name, value) in entries {
            out.append(contentsOf: name.utf8)
            out.append(MessageProperties.nameSeparator)
            out.append(contentsOf: value.utf8)
            out.append(MessageProperties.entrySeparator)
        }
        return out
    }

    /// Calls `body(name, value)` for each well-formed entry in order; stops early when `body` returns false.
    /// A fragment (between 0x02 separators) counts when it has >= 3 bytes and a 0x01; it splits at the first 0x01.
    @inline(__always)
    static func forEachEntry(in bytes: UnsafeRawBufferPointer,
                             _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Bool) {
        var start = 0
        let end = bytes.count
        while start < end {
            var stop = start
            var separator = -1
            while stop < end {
                let b = bytes[stop]
                if b == MessageProperties.entrySeparator { break }
                if b == MessageProperties.nameSeparator && separator < 0 { separator = stop }
                stop += 1
            }
            if stop - start >= 3 && separator >= 0 {
                let name = bytes.slice(start, separator - start)
                let value = bytes.slice(separator + 1, stop - separator - 1)
                if !body(name, value) { return }
            }
            start = stop + 1
        }
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) -> [(String, String)] {
        var out: [(String, String)] = []
        forEachEntry(in: bytes) { name, value in
            out.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
            return true
        }
        return out
    }

    /// Last occurrence wins, as in the Java/C++ clients' property maps.
    static func value(of name: StaticString, in bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        name.withUTF8Buffer { wanted in
            var found: UnsafeRawBufferPointer?
            forEachEntry(in: bytes) { candidate, value in
                if candidate.elementsEqual(wanted) { found = value }
                return true
            }
            return found
        }
    }
}
