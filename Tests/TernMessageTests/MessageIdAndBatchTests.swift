import TernTestSupport
import Testing
import TernMessage

@Suite struct MessageIdTests {
    @Test func goldenOffsetId() {
        // ip C0 A8 01 0A, port 10911 = 0x00002A9F, offset 0x0000000123456789.
        let id = MessageId.offsetId(storeHost: .broker, physicalOffset: 0x1_2345_6789)
        #expect(id == "C0A8010A00002A9F0000000123456789")
        let decoded = MessageId.decodeOffsetId(id)
        #expect(decoded?.storeHost == .broker)
        #expect(decoded?.physicalOffset == 0x1_2345_6789)
        #expect(MessageId.decodeOffsetId("c0a8010a00002a9f0000000123456789")?.physicalOffset == 0x1_2345_6789)
    }

    @Test func roundTripsRandomValues() {
        var rng = SplitMix64(seed: 0x1D)
        for _ in 0 ..< 500 {
            let host = HostAddress(ip: (rng.int(), rng.int(), rng.int(), rng.int()), port: rng.int())
            let offset: Int64 = rng.int()
            let id = MessageId.offsetId(storeHost: host, physicalOffset: offset)
            #expect(id.utf8.count == 32)
            #expect(id.utf8.allSatisfy { (48 ... 57).contains($0) || (65 ... 70).contains($0) })
            let decoded = MessageId.decodeOffsetId(id)
            #expect(decoded?.storeHost == host)
            #expect(decoded?.physicalOffset == offset)
        }
    }

    @Test func rejectsMalformedIds() {
        for bad in ["", "C0A8010A00002A9F000000012345678", "C0A8010A00002A9F00000001234567890",
                    "G0A8010A00002A9F0000000123456789", "C0A8010A00002A9F000000012345678 ",
                    "C0A8010A00002A9F00000001234567é"] {
            #expect(MessageId.decodeOffsetId(bad) == nil, "\(bad)")
        }
    }
}

@Suite struct HostAddressTests {
    @Test func parses() {
        #expect(HostAddress("192.168.1.10:10911") == .broker)
        #expect(HostAddress("0.0.0.0:0") == HostAddress(ip: (0, 0, 0, 0), port: 0))
        #expect(HostAddress("255.255.255.255:65535") == HostAddress(ip: (255, 255, 255, 255), port: 65535))
        #expect(HostAddress.broker.description == "192.168.1.10:10911")
        #expect(HostAddress(HostAddress.producer.description) == .producer)
    }

    @Test func rejectsMalformed() {
        for bad in ["", "1.2.3.4", "1.2.3.4:", ":80", "1.2.3:80", "1.2.3.4.5:80", "256.1.1.1:80", "1.2.3.4:65536",
                    "1.2.3.4:80:81", "1..3.4:80", "a.b.c.d:80", " 1.2.3.4:80", "1.2.3.4:80 ", "1.2.3.4:-1",
                    "0001.2.3.4:80", "1.2.3.4:000080", "[::1]:80", "localhost:80"] {
            #expect(HostAddress(bad) == nil, "\(bad)")
        }
    }
}

@Suite struct BatchCodecTests {
    static func decode(_ bytes: [UInt8]) -> Result<[BatchItem], BatchCodec.Error> {
        bytes.withUnsafeBytes { raw in Result { () throws(BatchCodec.Error) in try BatchCodec.decode(raw) } }
    }

    @Test func goldenItem() throws {
        var b = ByteBuilder()
        b.be(Int32(20 + 2 + 2 + 5))   // TOTALSIZE
        b.be(Int32(0)); b.be(Int32(0)) // MAGICCODE, BODYCRC
        b.be(Int32(7))                 // FLAG
        b.be(Int32(2)); b.raw("hi")    // BODYLENGTH + BODY
        b.be(Int16(5)); b.raw("A\u{1}b\u{2}c")
        let item = BatchItem(flag: 7, body: Array("hi".utf8), properties: Array("A\u{1}b\u{2}c".utf8))
        #expect(BatchCodec.encode([item]) == b.bytes)
        #expect(try Self.decode(b.bytes).get() == [item])
        #expect(try Self.decode([]).get() == [])
    }

    @Test func randomBatchesRoundTrip() throws {
        var rng = SplitMix64(seed: 0xBA7C)
        for _ in 0 ..< 200 {
            let items = (0 ..< Int.random(in: 0 ... 6, using: &rng)).map { _ in
                BatchItem(flag: rng.int(), body: rng.bytes(Int.random(in: 0 ... 300, using: &rng)),
                          properties: rng.bytes(Int.random(in: 0 ... 100, using: &rng)))
            }
            let encoded = BatchCodec.encode(items)
            #expect(encoded.count == items.reduce(0) { $0 + 22 + $1.body.count + $1.properties.count })
            #expect(try Self.decode(encoded).get() == items)
        }
    }

    @Test func truncatedAndInconsistentInputsThrow() throws {
        let items = [BatchItem(flag: 1, body: Array("one".utf8), properties: Array("K\u{1}v".utf8)),
                     BatchItem(flag: 2, body: Array("second".utf8), properties: [])]
        let encoded = BatchCodec.encode(items)
        let first = 22 + 3 + 3
        for cut in 0 ..< encoded.count {
            let result = Self.decode(Array(encoded.prefix(cut)))
            switch cut {
            case 0: #expect(try result.get() == [])
            case first: #expect(try result.get() == [items[0]])
            case 1 ..< first: #expect(result == .failure(.truncated(at: 0)))
            default: #expect(result == .failure(.truncated(at: first)))
            }
        }
        #expect(Self.decode(encoded.storeBE(Int32(21), at: 0)) == .failure(.badItemSize(at: 0)))
        #expect(Self.decode(encoded.storeBE(Int32(-1), at: 0)) == .failure(.badItemSize(at: 0)))
        #expect(Self.decode(encoded.storeBE(Int32(4), at: 16)) == .failure(.badItemSize(at: 0)))
        #expect(Self.decode(encoded.storeBE(Int32(-1), at: 16)) == .failure(.badItemSize(at: 0)))
        #expect(Self.decode(encoded.storeBE(Int32.max, at: 16)) == .failure(.badItemSize(at: 0)))
        #expect(Self.decode(encoded.storeBE(UInt16(4), at: 23)) == .failure(.badItemSize(at: 0)))
        #expect(Self.decode(encoded.storeBE(UInt16(0xFFFF), at: 23)) == .failure(.badItemSize(at: 0)))
        #expect(Self.decode(encoded.storeBE(Int32(7), at: first + 16)) == .failure(.badItemSize(at: first)))
    }

    @Test func randomGarbageNeverCrashes() {
        var rng = SplitMix64(seed: 0x6A2B)
        for i in 0 ..< 3000 {
            var bytes = rng.bytes(Int.random(in: 0 ... 80, using: &rng))
            if i % 2 == 0, bytes.count >= 4 { bytes = bytes.storeBE(Int32.random(in: 0 ... 90, using: &rng), at: 0) }
            _ = Self.decode(bytes)
        }
    }
}
