// JSONWriter: renders JSONValue as compact UTF-8 JSON, escaping per RFC 8259. Used for every
// response body, audit record and log line, so it appends into one byte buffer without
// intermediate strings.

public enum JSONWriter {
    public static func write(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out)
        return out
    }

    public static func string(_ value: JSONValue) -> String {
        String(decoding: write(value), as: UTF8.self)
    }

    public static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d):
            if d.isFinite { out.append(contentsOf: "\(d)".utf8) } else { out.append(contentsOf: "null".utf8) }
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (i, pair) in object.pairs.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeString(pair.key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(pair.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    public static func writeString(_ s: String, into out: inout [UInt8]) {
        var s = s
        s.withUTF8 { writeString(bytes: UnsafeRawBufferPointer($0), into: &out) }
    }

    /// An integer in decimal, without building a String.
    public static func writeDecimal(_ value: Int64, into out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var n = 20
            repeat {
                n -= 1
                digits[n] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[n..<20]))
        }
    }

    /// A JSON string from UTF-8 bytes: runs that need no escape are copied whole.
    public static func writeString(bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        for (i, byte) in bytes.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F {
            if i > runStart { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<i])) }
            runStart = i + 1
            switch byte {
            case UInt8(ascii: "\""): out.append(0x5C); out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C); out.append(0x5C)
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            default:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            }
        }
        if bytes.count > runStart { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart...])) }
        out.append(UInt8(ascii: "\""))
    }

    /// Digits (and sign) of an integer in decimal.
    public static func decimalCount(_ value: Int64) -> Int {
        var magnitude = value.magnitude, n = value < 0 ? 2 : 1
        while magnitude >= 10 { magnitude /= 10; n += 1 }
        return n
    }

    /// The length of bytes as JSON string content (without the quotes).
    public static func escapedCount(_ bytes: UnsafeRawBufferPointer) -> Int {
        var n = bytes.count
        var i = nextEscape(bytes, from: 0)
        while i < bytes.count {
            switch bytes[i] {
            case 0x22, 0x5C, 0x0A, 0x0D, 0x09: n += 1
            default: n += 5
            }
            i = nextEscape(bytes, from: i + 1)
        }
        return n
    }

    /// The index of the first byte at or after `start` that JSON must escape (a control byte,
    /// `"`, `\` or DEL), or `bytes.count`. Eight bytes at a time while none needs it.
    @inline(__always)
    static func nextEscape(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZero(_ v: UInt64) -> Bool { (v &- ones) & ~v & highs != 0 }
        var i = start
        while i + 8 <= bytes.count {
            let x = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            // A byte below 0x20, or equal to 0x22, 0x5C or 0x7F, somewhere in the word.
            let below = (x &- 0x20 &* ones) & ~x & highs
            if below != 0 || hasZero(x ^ (0x22 &* ones)) || hasZero(x ^ (0x5C &* ones)) || hasZero(x ^ (0x7F &* ones)) { break }
            i += 8
        }
        while i < bytes.count {
            let b = bytes[i]
            if b < 0x20 || b == 0x22 || b == 0x5C || b == 0x7F { return i }
            i += 1
        }
        return i
    }

    /// Writes JSON pieces into a buffer sized in advance (the caller computed the length):
    /// no capacity checks or reallocation per piece.
    public struct Cursor {
        let out: UnsafeMutableRawBufferPointer
        public private(set) var offset = 0

        public init(_ out: UnsafeMutableRawBufferPointer) { self.out = out }

        public mutating func byte(_ b: UInt8) {
            out[offset] = b
            offset += 1
        }

        public mutating func literal(_ text: StaticString) {
            (out.baseAddress! + offset).copyMemory(from: text.utf8Start, byteCount: text.utf8CodeUnitCount)
            offset += text.utf8CodeUnitCount
        }

        public mutating func reserve(_ n: Int) -> UnsafeMutableRawBufferPointer {
            defer { offset += n }
            return UnsafeMutableRawBufferPointer(rebasing: out[offset..<offset + n])
        }

        public mutating func decimal(_ value: Int64) {
            if value < 0 { byte(UInt8(ascii: "-")) }
            var magnitude = value.magnitude
            var digits = 1, rest = magnitude
            while rest >= 10 { rest /= 10; digits += 1 }
            var i = offset + digits
            offset = i
            repeat {
                i -= 1
                out[i] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
        }

        /// A quoted JSON string from UTF-8 bytes.
        public mutating func string(_ bytes: UnsafeRawBufferPointer) {
            byte(UInt8(ascii: "\""))
            var runStart = 0
            while true {
                let i = JSONWriter.nextEscape(bytes, from: runStart)
                if i > runStart {
                    (out.baseAddress! + offset).copyMemory(from: bytes.baseAddress! + runStart, byteCount: i - runStart)
                    offset += i - runStart
                }
                guard i < bytes.count else { break }
                let b = bytes[i]
                switch b {
                case 0x22: byte(0x5C); byte(0x22)
                case 0x5C: byte(0x5C); byte(0x5C)
                case 0x0A: byte(0x5C); byte(UInt8(ascii: "n"))
                case 0x0D: byte(0x5C); byte(UInt8(ascii: "r"))
                case 0x09: byte(0x5C); byte(UInt8(ascii: "t"))
                default:
                    literal("\\u00")
                    byte(JSONWriter.hex[Int(b >> 4)])
                    byte(JSONWriter.hex[Int(b & 0xF)])
                }
                runStart = i + 1
            }
            byte(UInt8(ascii: "\""))
        }
    }
}
