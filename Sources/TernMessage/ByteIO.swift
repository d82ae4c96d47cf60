// Big-endian, unaligned loads and stores on raw buffers. Bounds are the caller's job: every call site checks
// (or has a precondition covering) `offset + MemoryLayout<T>.size <= count` first.

extension UnsafeRawBufferPointer {
    @inline(__always)
    func loadBigEndian<T: FixedWidthInteger>(at offset: Int, as type: T.Type = T.self) -> T {
        T(bigEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always)
    func storeBigEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
    }

    /// Copies `source` to `offset` (no-op for an empty array, whose base address may be nil).
    @inline(__always)
    func copy(_ source: [UInt8], at offset: Int) {
        source.withUnsafeBytes { copy($0, at: offset) }
    }

    /// Copies `source` to `offset` (no-op when empty: its base address may be nil).
    @inline(__always)
    func copy(_ source: UnsafeRawBufferPointer, at offset: Int) {
        guard let from = source.baseAddress, source.count > 0 else { return }
        baseAddress!.advanced(by: offset).copyMemory(from: from, byteCount: source.count)
    }

    @inline(__always)
    func storeHost(_ host: HostAddress, at offset: Int) {
        storeBytes(of: host.ip.0, toByteOffset: offset, as: UInt8.self)
        storeBytes(of: host.ip.1, toByteOffset: offset + 1, as: UInt8.self)
        storeBytes(of: host.ip.2, toByteOffset: offset + 2, as: UInt8.self)
        storeBytes(of: host.ip.3, toByteOffset: offset + 3, as: UInt8.self)
        storeBigEndian(host.port, at: offset + 4)
    }
}

extension UnsafeRawBufferPointer {
    @inline(__always)
    func loadHost(at offset: Int) -> HostAddress {
        HostAddress(ip: (self[offset], self[offset + 1], self[offset + 2], self[offset + 3]),
                    port: loadBigEndian(at: offset + 4))
    }

    /// `count` bytes at `offset` as a sub-buffer (shares memory).
    @inline(__always)
    func slice(_ offset: Int, _ count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: self[offset ..< offset + count])
    }
}
