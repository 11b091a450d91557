// TraceParent: the W3C Trace Context header (`traceparent: 00-<32 hex>-<16 hex>-<2 hex>`) parsed
// and written, with `tracestate` carried along verbatim (spec/10 §5). Invalid headers (wrong
// length, upper-case hex, all-zero IDs, version ff) are ignored, as the recommendation says.

public struct TraceParent: Sendable, Equatable {
    public var traceID: [UInt8]
    public var spanID: [UInt8]
    public var sampled: Bool
    public var traceState: String?

    public init(traceID: [UInt8], spanID: [UInt8], sampled: Bool, traceState: String? = nil) {
        self.traceID = traceID
        self.spanID = spanID
        self.sampled = sampled
        self.traceState = traceState
    }

    /// Parses a `traceparent` value; nil when it is not a valid version-00 (or later) header.
    public init?(header: String, traceState: String? = nil) {
        let b = Array(header.utf8)
        guard b.count >= 55, b[2] == 0x2D, b[35] == 0x2D, b[52] == 0x2D else { return nil }
        guard let version = Self.hex(b[0..<2]), version != [0xFF] else { return nil }
        if version == [0] && b.count != 55 { return nil }
        if b.count > 55 && b[55] != 0x2D { return nil }
        guard let trace = Self.hex(b[3..<35]), let span = Self.hex(b[36..<52]), let flags = Self.hex(b[53..<55]) else { return nil }
        guard trace.contains(where: { $0 != 0 }), span.contains(where: { $0 != 0 }) else { return nil }
        self.traceID = trace
        self.spanID = span
        self.sampled = flags[0] & 1 == 1
        self.traceState = traceState.flatMap { $0.isEmpty || $0.utf8.count > 512 ? nil : $0 }
    }

    public var header: String { "00-" + Self.hexString(traceID) + "-" + Self.hexString(spanID) + (sampled ? "-01" : "-00") }

    public static func hexString(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Lower-case hex only (the spec forbids upper case).
    private static func hex(_ s: ArraySlice<UInt8>) -> [UInt8]? {
        guard s.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(s.count / 2)
        var i = s.startIndex
        while i < s.endIndex {
            guard let hi = nibble(s[i]), let lo = nibble(s[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}
