// Offset message ids (message-format.md §2) and "a.b.c.d:port" host text.

enum OffsetIdCodec {
    private static let hexDigits: StaticString = "0123456789ABCDEF"

    static func encode(storeHost: HostAddress, physicalOffset: Int64) -> String {
        let port = UInt32(bitPattern: storeHost.port)
        let offset = UInt64(bitPattern: physicalOffset)
        let ip = storeHost.ip
        return String(unsafeUninitializedCapacity: 32) { out in
            hexDigits.withUTF8Buffer { hex in
                var at = 0
                func put(_ value: UInt64, bytes: Int) {
                    var shift = bytes * 8 - 4
                    while shift >= 0 {
                        out[at] = hex[Int((value >> UInt64(shift)) & 0xF)]
                        at += 1
                        shift -= 4
                    }
                }
                put(UInt64(ip.0), bytes: 1); put(UInt64(ip.1), bytes: 1)
                put(UInt64(ip.2), bytes: 1); put(UInt64(ip.3), bytes: 1)
                put(UInt64(port), bytes: 4)
                put(offset, bytes: 8)
            }
            return 32
        }
    }

    static func decode(_ id: String) -> (storeHost: HostAddress, physicalOffset: Int64)? {
        guard id.utf8.count == 32 else { return nil }
        var id = id
        return id.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
    }

    private static func decode(_ hex: UnsafeRawBufferPointer) -> (storeHost: HostAddress, physicalOffset: Int64)? {
        func value(_ from: Int, _ digits: Int) -> UInt64? {
            var v: UInt64 = 0
            for i in from ..< from + digits {
                guard let nibble = nibble(hex[i]) else { return nil }
                v = v << 4 | UInt64(nibble)
            }
            return v
        }
        guard let a = value(0, 2), let b = value(2, 2), let c = value(4, 2), let d = value(6, 2),
              let port = value(8, 8), let offset = value(16, 16) else { return nil }
        let host = HostAddress(ip: (UInt8(a), UInt8(b), UInt8(c), UInt8(d)),
                               port: Int32(bitPattern: UInt32(port)))
        return (host, Int64(bitPattern: offset))
    }

    @inline(__always)
    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0") ... UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "A") ... UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a") ... UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

enum HostAddressParser {
    /// "a.b.c.d:port": four decimal octets 0...255 (1-3 digits), port 0...65535 (1-5 digits).
    static func parse(_ text: String) -> HostAddress? {
        var parts: [UInt32] = []
        parts.reserveCapacity(5)
        var current: UInt32 = 0
        var digits = 0
        var seenColon = false
        for c in text.utf8 {
            switch c {
            case UInt8(ascii: "0") ... UInt8(ascii: "9"):
                digits += 1
                guard digits <= (seenColon ? 5 : 3) else { return nil }
                current = current * 10 + UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "."), UInt8(ascii: ":"):
                let colon = c == UInt8(ascii: ":")
                guard digits > 0, !seenColon, colon == (parts.count == 3), current <= 255 else { return nil }
                parts.append(current)
                current = 0
                digits = 0
                seenColon = colon
            default:
                return nil
            }
        }
        guard seenColon, digits > 0, current <= 65535 else { return nil }
        return HostAddress(ip: (UInt8(parts[0]), UInt8(parts[1]), UInt8(parts[2]), UInt8(parts[3])),
                           port: Int32(current))
    }
}
