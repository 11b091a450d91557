// ProtoMessage: what every hand-maintained message codec provides (spec/06 §4) — binary encoding
// and decoding with unknown-field preservation, and the message's field table, which the
// descriptor drift test ties to `proto/` and the codec tests tie to the codec.
public protocol ProtoMessage: Sendable, Hashable {
    /// Fully qualified name without the leading dot (`tokmesh.v1.Session`).
    static var protoName: String { get }
    var unknownFields: UnknownFields { get set }
    init()
    /// Appends the known fields (proto3 defaults omitted) and then the unknown ones.
    func encode(into writer: inout ProtoWriter)
    /// Reads one field the message knows, or returns false to keep it as unknown.
    mutating func decodeField(_ number: Int, _ type: WireType, from reader: inout ProtoReader) throws(ProtoDecodingError) -> Bool
}

extension ProtoMessage {
    public init(serializedBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        var reader = try ProtoReader(bytes)
        try self.init(reader: &reader)
    }

    init(reader: inout ProtoReader) throws(ProtoDecodingError) {
        self.init()
        var unknown = UnknownFields()
        while let (number, type) = try reader.nextField() {
            if try !decodeField(number, type, from: &reader) { try reader.skip(type, into: &unknown) }
        }
        unknownFields = unknown
    }

    public func serializedBytes() -> [UInt8] {
        var writer = ProtoWriter()
        encode(into: &writer)
        return writer.bytes
    }
}

extension ProtoReader {
    /// A nested message field; a message seen twice is merged (spec/06 §4).
    public mutating func merge<M: ProtoMessage>(_ field: Int, _ type: WireType, into existing: M?) throws(ProtoDecodingError) -> M {
        var nested = try message(field, type)
        var value = existing ?? M()
        var unknown = value.unknownFields
        while let (number, t) = try nested.nextField() {
            if try !value.decodeField(number, t, from: &nested) { try nested.skip(t, into: &unknown) }
        }
        value.unknownFields = unknown
        return value
    }
}

extension ProtoWriter {
    /// A nested message field (absent when nil).
    public mutating func write(_ field: Int, _ message: (some ProtoMessage)?) {
        guard let message else { return }
        write(field, message: message.serializedBytes())
    }
}

/// A proto3 enum as an open Int32-backed value: numbers the schema does not name are kept, so
/// they survive a decode and re-encode (proto3 enums are open). Named values are static members.
public protocol ProtoEnum: RawRepresentable, Sendable, Hashable, CustomStringConvertible where RawValue == Int32 {
    /// Fully qualified name without the leading dot (`grpc.health.v1.HealthCheckResponse.ServingStatus`).
    static var protoName: String { get }
    /// Value names as in the file, by number.
    static var valueNames: [Int32: String] { get }
    init(rawValue: Int32)
}

extension ProtoEnum {
    /// The zero value, every proto3 enum's default.
    public init() { self.init(rawValue: 0) }
    /// The value's name in the file, or its number when the schema does not name it.
    public var description: String { Self.valueNames[rawValue] ?? String(rawValue) }
}

extension ProtoReader {
    /// An enum field (a varint, read as int32).
    public mutating func enumValue<E: ProtoEnum>(_ field: Int, _ type: WireType) throws(ProtoDecodingError) -> E {
        E(rawValue: try int32(field, type))
    }

    /// One map entry whose value is a message (merged when the value appears twice in the entry).
    public mutating func messageMapEntry<K, M: ProtoMessage>(_ field: Int, _ type: WireType, defaultKey: K,
                                                             key: (inout ProtoReader, Int, WireType) throws(ProtoDecodingError) -> K)
        throws(ProtoDecodingError) -> (K, M) {
        try mapEntry(field, type, defaultKey: defaultKey, defaultValue: M(), key: key,
                     value: { r, n, t, v throws(ProtoDecodingError) in try r.merge(n, t, into: v) })
    }

    /// One `map<uint32, Message>` entry.
    public mutating func uint32MessageMapEntry<M: ProtoMessage>(_ field: Int, _ type: WireType) throws(ProtoDecodingError) -> (UInt32, M) {
        try messageMapEntry(field, type, defaultKey: 0, key: { r, n, t throws(ProtoDecodingError) in try r.uint32(n, t) })
    }

    /// One `map<string, Message>` entry.
    public mutating func stringMessageMapEntry<M: ProtoMessage>(_ field: Int, _ type: WireType) throws(ProtoDecodingError) -> (String, M) {
        try messageMapEntry(field, type, defaultKey: "", key: { r, n, t throws(ProtoDecodingError) in try r.string(n, t) })
    }
}

extension ProtoWriter {
    /// An enum field (proto3: the zero value is not written; negatives sign-extended like int32).
    public mutating func write(_ field: Int, enum value: some ProtoEnum) { write(field, int32: value.rawValue) }

    /// A oneof member of enum type: written even when zero.
    public mutating func write(_ field: Int, enumElement value: some ProtoEnum) {
        write(field, varintElement: UInt64(bitPattern: Int64(value.rawValue)))
    }

    /// `repeated Message`: one field per element, empty messages included.
    public mutating func write<M: ProtoMessage>(_ field: Int, messages: [M]) {
        for m in messages { write(field, message: m.serializedBytes()) }
    }

    /// A map whose values are messages; the value is written even when empty.
    public mutating func write<M: ProtoMessage>(_ field: Int, uint32MessageMap map: [UInt32: M]) {
        writeMap(field, map, key: { $0.write(1, uint32: $1) }, value: { $0.write(2, message: $1.serializedBytes()) })
    }

    public mutating func write<M: ProtoMessage>(_ field: Int, stringMessageMap map: [String: M]) {
        writeMap(field, map, key: { $0.write(1, string: $1) }, value: { $0.write(2, message: $1.serializedBytes()) })
    }
}
