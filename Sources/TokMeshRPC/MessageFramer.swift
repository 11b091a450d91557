// MessageFramer: the length-prefixed message framing gRPC and Connect streaming share — one flag
// byte (bit 0: compressed; Connect bit 1: end of stream) and a 4-byte big-endian length, then
// the message. A pure, incremental parser: bytes go in as they arrive, whole messages come out,
// and a length over the limit is refused from the prefix before anything is buffered.
import NIOCore

public struct FramedMessage: Sendable, Equatable {
    public var flags: UInt8
    public var payload: [UInt8]
    public var compressed: Bool { flags & 0x01 != 0 }
    public var endOfStream: Bool { flags & 0x02 != 0 }
}

public enum FramingError: Error, Equatable, Sendable {
    /// The prefix announces more than the limit (bytes announced, limit).
    case tooLarge(Int, Int)
    /// Flag bits this protocol does not define.
    case badFlags(UInt8)
}

public struct MessageFramer: Sendable {
    public let maxMessageSize: Int
    /// Flag bits a message may carry (gRPC 0x01; Connect streaming 0x03).
    public let allowedFlags: UInt8
    private var buffer: [UInt8] = []
    private var offset = 0

    public init(maxMessageSize: Int, allowedFlags: UInt8 = 0x01) {
        self.maxMessageSize = maxMessageSize
        self.allowedFlags = allowedFlags
    }

    /// True when bytes of an incomplete message are held (a truncated stream at its end).
    public var hasPartialMessage: Bool { buffer.count > offset }

    public mutating func append(_ bytes: ByteBuffer) {
        buffer.append(contentsOf: bytes.readableBytesView)
    }

    public mutating func append(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
    }

    /// The next whole message, nil when more bytes are needed.
    public mutating func next() throws(FramingError) -> FramedMessage? {
        let available = buffer.count - offset
        guard available >= 5 else { compact(); return nil }
        let flags = buffer[offset]
        guard flags & ~allowedFlags == 0 else { throw .badFlags(flags) }
        let length = Int(buffer[offset + 1]) << 24 | Int(buffer[offset + 2]) << 16 | Int(buffer[offset + 3]) << 8 | Int(buffer[offset + 4])
        guard length <= maxMessageSize else { throw .tooLarge(length, maxMessageSize) }
        guard available >= 5 + length else { compact(); return nil }
        let payload = Array(buffer[(offset + 5)..<(offset + 5 + length)])
        offset += 5 + length
        if offset == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            offset = 0
        }
        return FramedMessage(flags: flags, payload: payload)
    }

    private mutating func compact() {
        if offset > 0 {
            buffer.removeFirst(offset)
            offset = 0
        }
    }

    /// One framed message as bytes.
    public static func frame(_ payload: [UInt8], flags: UInt8 = 0, into out: inout ByteBuffer) {
        out.writeInteger(flags)
        out.writeInteger(UInt32(payload.count))
        out.writeBytes(payload)
    }
}
