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
