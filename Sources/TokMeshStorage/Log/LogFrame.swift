// LogFrame: one record on disk (spec/02 §3.2, docs/formats.md): u32 length of what follows the
// checksum, u32 CRC32C over type ‖ index ‖ stored payload, u8 record type, u64 record index,
// then the payload as stored (encrypted or not). All integers little-endian.

public struct LogRecord: Sendable, Equatable {
    public var index: UInt64
    public var type: UInt8
    public var payload: [UInt8]

    public init(index: UInt64, type: UInt8, payload: [UInt8]) {
        self.index = index
        self.type = type
        self.payload = payload
    }
}

public enum LogFrame {
    /// length (4) + CRC (4).
    public static let prefixBytes = 8
    /// type (1) + index (8).
    public static let fixedBodyBytes = 9
    /// A payload over 16 MiB is corruption (spec/02 §3.2).
    public static let payloadBytesMax = 16 * 1024 * 1024
    public static let bodyBytesMax = fixedBodyBytes + payloadBytesMax + LogCipher.overheadBytes

    /// Appends one frame with `stored` (already sealed) as its payload.
    public static func encode(type: UInt8, index: UInt64, stored: [UInt8], into out: inout [UInt8]) {
        precondition(stored.count <= payloadBytesMax + LogCipher.overheadBytes, "log payload over 16 MiB")
        precondition(type != 0, "record type 0 is reserved")
        var body: [UInt8] = [type]
        body.reserveCapacity(fixedBodyBytes + stored.count)
        body.appendLE(index)
        body.append(contentsOf: stored)
        out.appendLE(UInt32(body.count))
        out.appendLE(CRC32C.checksum(body))
        out.append(contentsOf: body)
    }

    /// A frame that parses with a correct checksum at `offset` of `raw`: (type, index, the
    /// stored payload's byte range, total frame size), or nil.
    static func parse(_ raw: UnsafeRawBufferPointer, at offset: Int) -> (type: UInt8, index: UInt64, stored: Range<Int>, size: Int)? {
        guard offset >= 0, raw.count - offset >= prefixBytes + fixedBodyBytes else { return nil }
        let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        let crc = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        guard length >= fixedBodyBytes, length <= bodyBytesMax, raw.count - offset - prefixBytes >= length else { return nil }
        let bodyStart = offset + prefixBytes
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[bodyStart..<(bodyStart + length)])) == crc else { return nil }
        let type = raw[bodyStart]
        guard type != 0 else { return nil }
        let index = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: bodyStart + 1, as: UInt64.self))
        return (type, index, (bodyStart + fixedBodyBytes)..<(bodyStart + length), prefixBytes + length)
    }
}
