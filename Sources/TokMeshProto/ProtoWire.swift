// ProtoWire: the protobuf binary wire format (spec/06 §4) that every hand-maintained codec in
// this module is written against. `ProtoWriter` appends tags and values (varint, zigzag, fixed,
// length-delimited, packed); `ProtoReader` walks fields of a buffer and never traps: truncation,
// over-long varints, a wire type the schema contradicts, field numbers 0 or 19000-19999,
// invalid UTF-8 in strings, lengths past the buffer and nesting deeper than 64 are errors.
// `UnknownFields` keeps fields a codec does not know as raw bytes, to be re-emitted.

/// The wire types of protobuf (groups, 3 and 4, are not supported: proto3 has none).
public enum WireType: UInt8, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case fixed32 = 5
}

public struct ProtoDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case truncated
        case malformedVarint
        case invalidFieldNumber(Int)
        case invalidWireType(UInt8)
        case wrongWireType(field: Int, expected: WireType, got: WireType)
        case invalidUTF8(field: Int)
        case tooDeep
        case invalidValue(field: Int, String)
    }

    public var kind: Kind
    public var message: String
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// Fields a codec did not recognise, kept as their original bytes (tag included).
public struct UnknownFields: Sendable, Hashable {
    public var bytes: [UInt8] = []
    public init() {}
    public var isEmpty: Bool { bytes.isEmpty }
}

public struct ProtoWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    public mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func writeTag(_ field: Int, _ type: WireType) {
        writeVarint(UInt64(field) << 3 | UInt64(type.rawValue))
    }

    public static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    public static func unzigzag(_ v: UInt64) -> Int64 { Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1) }

    public mutating func writeFixed32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
    public mutating func writeFixed64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }

    public mutating func writeLengthDelimited(_ payload: some Collection<UInt8>) {
        writeVarint(UInt64(payload.count))
        bytes.append(contentsOf: payload)
    }

    // Field writers in proto3 style: default values (0, false, "", empty) are not written.

    public mutating func write(_ field: Int, int64 v: Int64) { if v != 0 { writeTag(field, .varint); writeVarint(UInt64(bitPattern: v)) } }
    /// int32 negatives are sign-extended to ten bytes, as the spec requires.
    public mutating func write(_ field: Int, int32 v: Int32) { if v != 0 { writeTag(field, .varint); writeVarint(UInt64(bitPattern: Int64(v))) } }
    public mutating func write(_ field: Int, uint64 v: UInt64) { if v != 0 { writeTag(field, .varint); writeVarint(v) } }
    public mutating func write(_ field: Int, uint32 v: UInt32) { if v != 0 { writeTag(field, .varint); writeVarint(UInt64(v)) } }
    public mutating func write(_ field: Int, sint64 v: Int64) { if v != 0 { writeTag(field, .varint); writeVarint(Self.zigzag(v)) } }
    public mutating func write(_ field: Int, sint32 v: Int32) { if v != 0 { writeTag(field, .varint); writeVarint(Self.zigzag(Int64(v))) } }
    public mutating func write(_ field: Int, bool v: Bool) { if v { writeTag(field, .varint); bytes.append(1) } }
    public mutating func write(_ field: Int, fixed64 v: UInt64) { if v != 0 { writeTag(field, .fixed64); writeFixed64(v) } }
    public mutating func write(_ field: Int, fixed32 v: UInt32) { if v != 0 { writeTag(field, .fixed32); writeFixed32(v) } }
    public mutating func write(_ field: Int, double v: Double) { if v.bitPattern != 0 { writeTag(field, .fixed64); writeFixed64(v.bitPattern) } }
    public mutating func write(_ field: Int, float v: Float) { if v.bitPattern != 0 { writeTag(field, .fixed32); writeFixed32(v.bitPattern) } }
    public mutating func write(_ field: Int, string v: String) { if !v.isEmpty { writeTag(field, .lengthDelimited); writeLengthDelimited(v.utf8) } }
    public mutating func write(_ field: Int, bytes v: [UInt8]) { if !v.isEmpty { writeTag(field, .lengthDelimited); writeLengthDelimited(v) } }

    /// A nested message (written even when empty: presence matters for message fields).
    public mutating func write(_ field: Int, message encoded: [UInt8]) {
        writeTag(field, .lengthDelimited)
        writeLengthDelimited(encoded)
    }

    /// Repeated varint scalars, packed (spec/06 §4: repeated scalars are written packed).
    public mutating func writePacked(_ field: Int, varints values: [UInt64]) {
        guard !values.isEmpty else { return }
        var inner = ProtoWriter()
        for v in values { inner.writeVarint(v) }
        writeTag(field, .lengthDelimited)
        writeLengthDelimited(inner.bytes)
    }

    /// A `map<string, string>` field: one entry per key, sorted by key, key 1 and value 2.
    public mutating func write(_ field: Int, stringMap map: [String: String]) {
        for key in map.keys.sorted() {
            var entry = ProtoWriter()
            entry.write(1, string: key)
            entry.write(2, string: map[key]!)
            writeTag(field, .lengthDelimited)
            writeLengthDelimited(entry.bytes)
        }
    }

    public mutating func append(_ unknown: UnknownFields) { bytes.append(contentsOf: unknown.bytes) }
}

public struct ProtoReader: Sendable {
    public static let nestingMax = 64

    private let buffer: [UInt8]
    private var position: Int
    private let end: Int
    public let depth: Int
    /// Where the current field's tag started (for unknown-field capture).
    private var fieldStart = 0

    public init(_ bytes: [UInt8], depth: Int = 0) throws(ProtoDecodingError) {
        guard depth <= ProtoReader.nestingMax else { throw ProtoDecodingError(.tooDeep, "messages nested deeper than \(ProtoReader.nestingMax)") }
        buffer = bytes
        position = 0
        end = bytes.count
        self.depth = depth
    }

    public var isAtEnd: Bool { position >= end }

    public mutating func readVarint() throws(ProtoDecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        for i in 0..<10 {
            guard position < end else { throw ProtoDecodingError(.truncated, "truncated varint") }
            let byte = buffer[position]
            position += 1
            if i == 9 && byte > 1 { throw ProtoDecodingError(.malformedVarint, "varint longer than 64 bits") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        throw ProtoDecodingError(.malformedVarint, "varint longer than 10 bytes")
    }

    /// The next field's number and wire type, or nil at the end of the buffer.
    public mutating func nextField() throws(ProtoDecodingError) -> (number: Int, type: WireType)? {
        guard position < end else { return nil }
        fieldStart = position
        let tag = try readVarint()
        let number = tag >> 3
        guard number >= 1, number <= 536_870_911, !(19000...19999).contains(number) else {
            throw ProtoDecodingError(.invalidFieldNumber(Int(min(number, UInt64(Int32.max)))), "invalid field number \(number)")
        }
        guard let type = WireType(rawValue: UInt8(tag & 7)) else {
            throw ProtoDecodingError(.invalidWireType(UInt8(tag & 7)), "unsupported wire type \(tag & 7)")
        }
        return (Int(number), type)
    }

    public mutating func readFixed32() throws(ProtoDecodingError) -> UInt32 {
        guard end - position >= 4 else { throw ProtoDecodingError(.truncated, "truncated fixed32") }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(buffer[position + i]) << (8 * UInt32(i)) }
        position += 4
        return v
    }

    public mutating func readFixed64() throws(ProtoDecodingError) -> UInt64 {
        guard end - position >= 8 else { throw ProtoDecodingError(.truncated, "truncated fixed64") }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(buffer[position + i]) << (8 * UInt64(i)) }
        position += 8
        return v
    }

    public mutating func readLengthDelimited() throws(ProtoDecodingError) -> ArraySlice<UInt8> {
        let length = try readVarint()
        guard length <= UInt64(end - position) else { throw ProtoDecodingError(.truncated, "length past the end of the buffer") }
        let slice = buffer[position..<position + Int(length)]
        position += Int(length)
        return slice
    }

    /// Skips the current field's value, appending the whole field to `unknown`.
    public mutating func skip(_ type: WireType, into unknown: inout UnknownFields) throws(ProtoDecodingError) {
        switch type {
        case .varint: _ = try readVarint()
        case .fixed64: _ = try readFixed64()
        case .fixed32: _ = try readFixed32()
        case .lengthDelimited: _ = try readLengthDelimited()
        }
        unknown.bytes.append(contentsOf: buffer[fieldStart..<position])
    }

    private static func expect(_ field: Int, _ type: WireType, _ expected: WireType) throws(ProtoDecodingError) {
        guard type == expected else {
            throw ProtoDecodingError(.wrongWireType(field: field, expected: expected, got: type), "field \(field): wrong wire type")
        }
    }

    // Typed readers for the current field (checked against the schema's wire type).

    public mutating func int64(_ field: Int, _ type: WireType) throws(ProtoDecodingError) -> Int64 {
        try Self.expect(field, type, .varint)
        return Int64(bitPattern: try readVarint())
    }

    public mutating func int32(_ field: Int, _ type: WireType) throws(ProtoDecodingError) -> Int32 {
        try Self.expect(field, type, .varint)
        return Int32(truncatingIfNeeded: try readVarint())
    }

    public mutating func uint64(_ field: Int, _ type: WireType) throws(ProtoDecodingError) -> UInt64 {
        try Self.expect(field, type, .varint)
        return try readVarint()
    }

    public mutating func uint32(_ field: Int, _ type: WireType) throws(ProtoDecodingError) -> UInt32 {
        try Self.expect(field, type, .varint)
        return UInt32(truncatingIfNeeded: try readVarint())
    }

    public mutating func sint64(_ field: Int, _ type: WireType) throws(ProtoDecodingError) -> Int64 {
        try Self.expect(field, type, .varint)
        return ProtoWriter.unzigzag(try readVarint())
    }

    public mutating func bool(_ field: Int, _ type: WireType) throws(ProtoDecodingError) -> Bool {
        try Self.expect(field, type, .varint)
        return try readVarint() != 0
    }

    public mutating func double(_ field: Int, _ type: WireType) throws(ProtoDecodingError) -> Double {
        try Self.expect(field, type, .fixed64)
        return Double(bitPattern: try readFixed64())
    }

    public mutating func string(_ field: Int, _ type: WireType) throws(ProtoDecodingError) -> String {
        try Self.expect(field, type, .lengthDelimited)
        let raw = try readLengthDelimited()
        guard let s = String(validating: raw, as: UTF8.self) else { throw ProtoDecodingError(.invalidUTF8(field: field), "field \(field): invalid UTF-8") }
        return s
    }

    public mutating func bytes(_ field: Int, _ type: WireType) throws(ProtoDecodingError) -> [UInt8] {
        try Self.expect(field, type, .lengthDelimited)
        return Array(try readLengthDelimited())
    }

    /// A nested message's reader, one level deeper.
    public mutating func message(_ field: Int, _ type: WireType) throws(ProtoDecodingError) -> ProtoReader {
        try Self.expect(field, type, .lengthDelimited)
        return try ProtoReader(Array(try readLengthDelimited()), depth: depth + 1)
    }

    /// Repeated varints: packed or one per field occurrence (both must be accepted).
    public mutating func appendVarints(_ field: Int, _ type: WireType, to values: inout [UInt64]) throws(ProtoDecodingError) {
        switch type {
        case .varint:
            values.append(try readVarint())
        case .lengthDelimited:
            var inner = try ProtoReader(Array(try readLengthDelimited()), depth: depth + 1)
            while !inner.isAtEnd { values.append(try inner.readVarint()) }
        default:
            throw ProtoDecodingError(.wrongWireType(field: field, expected: .varint, got: type), "field \(field): wrong wire type")
        }
    }

    /// One `map<string, string>` entry: missing key or value = "", the caller keeps the last.
    public mutating func stringMapEntry(_ field: Int, _ type: WireType) throws(ProtoDecodingError) -> (String, String) {
        var entry = try message(field, type)
        var key = "", value = ""
        var ignored = UnknownFields()
        while let (n, t) = try entry.nextField() {
            switch n {
            case 1: key = try entry.string(field, t)
            case 2: value = try entry.string(field, t)
            default: try entry.skip(t, into: &ignored)
            }
        }
        return (key, value)
    }
}
