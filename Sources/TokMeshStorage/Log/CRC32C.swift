// CRC32C: the Castagnoli CRC (polynomial 0x1EDC6F41, reflected 0x82F63B78) that protects every
// log frame and segment header (spec/02 §3.2). Table-driven, slicing by 8 bytes, over raw
// memory: recovery checks every frame of the WAL with it.

public enum CRC32C {
    /// Eight 256-entry tables, back to back: entry `i` of table `k` is at `k * 256 + i`.
    nonisolated(unsafe) static let tables: UnsafePointer<UInt32> = {
        let t = UnsafeMutablePointer<UInt32>.allocate(capacity: 8 * 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            t[i] = c
        }
        for k in 1..<8 {
            for i in 0..<256 { t[k * 256 + i] = (t[(k - 1) * 256 + i] >> 8) ^ t[Int(t[(k - 1) * 256 + i] & 0xFF)] }
        }
        return UnsafePointer(t)
    }()

    /// CRC32C of `bytes`, continuing from `crc` (0 for a fresh checksum).
    public static func checksum<C: Collection<UInt8>>(_ bytes: C, continuing crc: UInt32 = 0) -> UInt32 {
        if let sum = bytes.withContiguousStorageIfAvailable({ checksum(UnsafeRawBufferPointer($0), continuing: crc) }) { return sum }
        return Array(bytes).withUnsafeBytes { checksum($0, continuing: crc) }
    }

    /// CRC32C of the bytes at `raw`, continuing from `crc`.
    public static func checksum(_ raw: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        var c = ~crc
        let t = tables
        var offset = 0
        let count = raw.count
        while count - offset >= 8 {
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            let lo = UInt32(truncatingIfNeeded: word) ^ c
            let hi = UInt32(truncatingIfNeeded: word >> 32)
            c = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)] ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)] ^ t[256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
            offset += 8
        }
        while offset < count {
            c = t[Int((c ^ UInt32(raw[offset])) & 0xFF)] ^ (c >> 8)
            offset += 1
        }
        return ~c
    }
}
