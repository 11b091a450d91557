// RPCCompression: message compression for gRPC and Connect (spec/06 §5) — gzip through
// compress-nio and identity, nothing else. Decompression is bounded by the message limit, so a
// small compressed message cannot expand past `max_message_size`; replies are compressed only
// when the client accepts gzip and the message is at least `compression_min_size`.
import CompressNIO
import NIOCore

public enum RPCCompression {
    public static let supported = "gzip, identity"

    /// True when an `accept-encoding`-style header lists gzip.
    static func accepts(_ header: String?) -> Bool {
        guard let header else { return false }
        return header.split(separator: ",").contains { $0.split(separator: ";").first?.trimmingSpaces.lowercased() == "gzip" }
    }

    /// nil for identity, `gzip`, or throws `unimplemented` for any other encoding.
    static func encoding(_ header: String?) throws(RPCError) -> Bool {
        guard let header else { return false }
        switch header.trimmingSpaces.lowercased() {
        case "", "identity": return false
        case "gzip": return true
        default: throw RPCError(.unimplemented, "encoding \(header.prefix(32)) is not supported; supported: \(supported)")
        }
    }

    static func gunzip(_ bytes: [UInt8], maxSize: Int, requestID: String) throws(RPCError) -> [UInt8] {
        var buffer = ByteBuffer(bytes: bytes)
        do {
            let out = try buffer.decompress(with: .gzip(), maxSize: maxSize + 1)
            guard out.readableBytes <= maxSize else {
                throw RPCError(.resourceExhausted, "decompressed message exceeds the limit of \(maxSize) bytes")
            }
            return Array(out.readableBytesView)
        } catch let error as RPCError {
            throw error
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw RPCError(.resourceExhausted, "decompressed message exceeds the limit of \(maxSize) bytes")
        } catch {
            throw RPCError.malformed("message is not valid gzip", requestID: requestID)
        }
    }

    static func gzip(_ bytes: [UInt8]) -> [UInt8]? {
        var buffer = ByteBuffer(bytes: bytes)
        guard let out = try? buffer.compress(with: .gzip()) else { return nil }
        return Array(out.readableBytesView)
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (byte-level: header values are ASCII).
    var trimmingSpaces: String {
        let bytes = Array(utf8)
        var start = 0, end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
