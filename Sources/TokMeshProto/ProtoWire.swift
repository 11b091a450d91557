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

    // Presence writers: repeated elements and oneof members are written even when they hold the
    // default value ("" and empty bytes are real elements; a oneof member set to "" is still set).

    public mutating func write(_ field: Int, stringElement v: String) { writeTag(field, .lengthDelimited); writeLengthDelimited(v.utf8) }
    public mutating func write(_ field: Int, bytesElement v: [UInt8]) { writeTag(field, .lengthDelimited); writeLengthDelimited(v) }
    public mutating func write(_ field: Int, varintElement v: UInt64) { writeTag(field, .varint); writeVarint(v) }

    /// `repeated string`: one field per element, empty strings included.
    public mutating func write(_ field: Int, strings values: [String]) { for v in values { write(field, stringElement: v) } }
    /// `repeated bytes`: one field per element, empty ones included.
    public mutating func write(_ field: Int, bytesList values: [[UInt8]]) { for v in values { write(field, bytesElement: v) } }
    /// `repeated int32`, packed; negatives sign-extended as for a single int32.
    public mutating func writePacked(_ field: Int, int32s values: [Int32]) {
        writePacked(field, varints: values.map { UInt64(bitPattern: Int64($0)) })
    }

    /// One map entry per key, sorted by key: key 1 and value 2, each left out when it is the
    /// default (a reader takes a missing key or value as the default).
    public mutating func writeMap<K: Comparable, V>(_ field: Int, _ map: [K: V], key: (inout ProtoWriter, K) -> Void,
                                                    value: (inout ProtoWriter, V) -> Void) {
        for k in map.keys.sorted() {
            var entry = ProtoWriter()
            key(&entry, k)
            value(&entry, map[k]!)
            writeTag(field, .lengthDelimited)
            writeLengthDelimited(entry.bytes)
        }
    }

    /// A `map<uint32, string>` field.
    public mutating func write(_ field: Int, uint32StringMap map: [UInt32: String]) {
        writeMap(field, map, key: { $0.write(1, uint32: $1) }, value: { $0.write(2, string: $1) })
    }

    /// A `map<string, int64>` field.
    public mutating func write(_ field: Int, stringInt64Map map: [String: Int64]) {
        writeMap(field, map, key: { $0.write(1, string: $1) }, value: { $0.write(2, int64: $1) })
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

    /// Repeated int32: packed or not, negatives as ten-byte varints.
    public mutating func appendInt32s(_ field: Int, _ type: WireType, to values: inout [Int32]) throws(ProtoDecodingError) {
        var raw: [UInt64] = []
        try appendVarints(field, type, to: &raw)
        values.append(contentsOf: raw.map { Int32(truncatingIfNeeded: $0) })
    }

    /// One map entry (key 1, value 2) with the given readers; a missing key or value is
    /// `defaultKey` / `defaultValue`, a repeated one keeps the last (for message values the
    /// value reader merges), other fields are ignored. The caller keeps the last entry per key.
    public mutating func mapEntry<K, V>(_ field: Int, _ type: WireType, defaultKey: K, defaultValue: V,
                                        key: (inout ProtoReader, Int, WireType) throws(ProtoDecodingError) -> K,
                                        value: (inout ProtoReader, Int, WireType, V) throws(ProtoDecodingError) -> V)
        throws(ProtoDecodingError) -> (K, V) {
        var entry = try message(field, type)
        var k = defaultKey, v = defaultValue
        var ignored = UnknownFields()
        while let (n, t) = try entry.nextField() {
            switch n {
            case 1: k = try key(&entry, field, t)
            case 2: v = try value(&entry, field, t, v)
            default: try entry.skip(t, into: &ignored)
            }
        }
        return (k, v)
    }

    /// One `map<uint32, string>` entry.
    public mutating func uint32StringMapEntry(_ field: Int, _ type: WireType) throws(ProtoDecodingError) -> (UInt32, String) {
        try mapEntry(field, type, defaultKey: 0, defaultValue: "",
                     key: { r, n, t throws(ProtoDecodingError) in try r.uint32(n, t) },
                     value: { r, n, t, _ throws(ProtoDecodingError) in try r.string(n, t) })
    }

    /// One `map<string, int64>` entry.
    public mutating func stringInt64MapEntry(_ field: Int, _ type: WireType) throws(ProtoDecodingError) -> (String, Int64) {
        try mapEntry(field, type, defaultKey: "", defaultValue: 0,
                     key: { r, n, t throws(ProtoDecodingError) in try r.string(n, t) },
                     value: { r, n, t, _ throws(ProtoDecodingError) in try r.int64(n, t) })
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
