// ProtoJSON: the proto3 JSON mapping of spec/06 §4, driven by the schema tables rather than by
// the codecs, so the RPC layer can turn a Connect/gRPC JSON body into protobuf bytes and protobuf
// bytes into JSON for any message a `ProtoSchemaRegistry` knows. It follows protobuf's canonical
// mapping as protoc and Go's protojson apply it: lowerCamelCase names out, JSON or proto names in,
// defaults omitted (oneof members kept), 64-bit integers as strings, enums by name, bytes as
// base64, maps as objects with string keys, `null` = default. Unknown or duplicate JSON fields,
// wrong JSON types, out-of-range numbers, bad base64 and wire types the schema contradicts are
// errors naming the field path; unknown binary fields are dropped. Binary output is canonical
// proto3: field-number order, defaults omitted, repeated scalars packed, map entries sorted by key.
import TokMeshCore

/// Message and enum tables of a set of `.proto` files, by fully qualified name (no leading dot).
public struct ProtoSchemaRegistry: Sendable {
    struct MessageInfo: Sendable {
        let schema: ProtoMessageSchema
        /// Field index by JSON name and by proto name.
        let byKey: [String: Int]
        let byNumber: [Int: Int]
    }

    struct EnumInfo: Sendable {
        let schema: ProtoEnumSchema
        let byName: [String: Int32]
        /// The first name of each number (aliases share a number).
        let byNumber: [Int32: String]
    }

    private(set) var messages: [String: MessageInfo] = [:]
    private(set) var enums: [String: EnumInfo] = [:]

    public init(_ files: [ProtoFileSchema]) {
        for file in files {
            for m in file.messages {
                var byKey: [String: Int] = [:], byNumber: [Int: Int] = [:]
                for (i, f) in m.fields.enumerated() {
                    byKey[f.jsonName] = byKey[f.jsonName] ?? i
                    byKey[f.name] = byKey[f.name] ?? i
                    byNumber[f.number] = byNumber[f.number] ?? i
                }
                messages[m.name] = MessageInfo(schema: m, byKey: byKey, byNumber: byNumber)
            }
            for e in file.enums {
                var byName: [String: Int32] = [:], byNumber: [Int32: String] = [:]
                for v in e.values {
                    byName[v.name] = v.number
                    byNumber[v.number] = byNumber[v.number] ?? v.name
                }
                enums[e.name] = EnumInfo(schema: e, byName: byName, byNumber: byNumber)
            }
        }
    }

    public func message(_ name: String) -> ProtoMessageSchema? { messages[name]?.schema }
    public func enumeration(_ name: String) -> ProtoEnumSchema? { enums[name]?.schema }
}

public struct ProtoJSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The body is not JSON.
        case syntax
        /// A JSON value the schema does not allow: wrong type, out of range, bad base64 or enum name.
        case invalidValue
        /// A JSON key that names no field of its message.
        case unknownField
        /// Binary input that is malformed or contradicts the schema (wire type, UTF-8).
        case malformedBinary
        /// Messages nested deeper than `ProtoJSONCodec.depthMax`.
        case tooDeep
        /// A message or enum name the registry does not know (a schema or caller bug).
        case unknownType
    }

    public var kind: Kind
    /// Where in the message, e.g. `items[2].data["k"]`; empty for the top level.
    public var path: String
    public var reason: String

    public init(_ kind: Kind, _ path: String, _ reason: String) {
        self.kind = kind
        self.path = path
        self.reason = reason
    }

    public var description: String { path.isEmpty ? reason : "\(path): \(reason)" }
}

/// A field value as the wire carries it (the payload after a tag).
enum WireValue: Sendable, Equatable {
    case varint(UInt64), fixed32(UInt32), fixed64(UInt64), bytes([UInt8]), message([UInt8])

    static func zero(_ type: ProtoFieldType) -> WireValue {
        switch ProtoJSONCodec.wireType(type) {
        case .varint: .varint(0)
        case .fixed32: .fixed32(0)
        case .fixed64: .fixed64(0)
        case .lengthDelimited: if case .message = type { .message([]) } else { .bytes([]) }
        }
    }

    /// proto3 implicit presence: zero scalars are absent; a message is present even when empty.
    var isDefault: Bool {
        switch self {
        case .varint(let v), .fixed64(let v): v == 0
        case .fixed32(let v): v == 0
        case .bytes(let b): b.isEmpty
        case .message: false
        }
    }

    var wireType: WireType {
        switch self {
        case .varint: .varint
        case .fixed32: .fixed32
        case .fixed64: .fixed64
        case .bytes, .message: .lengthDelimited
        }
    }

    func appendPayload(to w: inout ProtoWriter) {
        switch self {
        case .varint(let v): w.writeVarint(v)
        case .fixed32(let v): w.writeFixed32(v)
        case .fixed64(let v): w.writeFixed64(v)
        case .bytes(let b), .message(let b): w.writeLengthDelimited(b)
        }
    }

    func write(_ number: Int, to w: inout ProtoWriter, always: Bool = false) {
        guard always || !isDefault else { return }
        w.writeTag(number, wireType)
        appendPayload(to: &w)
    }

    /// A message seen twice is merged (its bytes concatenated); any other value replaces.
    func merged(after old: WireValue?) -> WireValue {
        if case .message(let new) = self, case .message(let before)? = old { return .message(before + new) }
        return self
    }
}

/// A typed map key, ordered as the binary writer sorts entries (numbers numerically).
enum MapKey: Hashable, Comparable {
    case signed(Int64), unsigned(UInt64), bool(Bool), string(String)

    var text: String {
        switch self {
        case .signed(let v): String(v)
        case .unsigned(let v): String(v)
        case .bool(let v): v ? "true" : "false"
        case .string(let v): v
        }
    }

    static func < (a: MapKey, b: MapKey) -> Bool {
        switch (a, b) {
        case (.signed(let x), .signed(let y)): x < y
        case (.unsigned(let x), .unsigned(let y)): x < y
        case (.bool(let x), .bool(let y)): !x && y
        case (.string(let x), .string(let y)): x < y
        default: false
        }
    }
}

/// Converts between proto3 JSON and protobuf binary for the messages of a registry.
public struct ProtoJSONCodec: Sendable {
    public static let depthMax = 64
    public let registry: ProtoSchemaRegistry

    public init(registry: ProtoSchemaRegistry) { self.registry = registry }

    // MARK: JSON → binary

    public func jsonToBinary(_ json: [UInt8], message: String) throws(ProtoJSONError) -> [UInt8] {
        let value: JSONValue
        do throws(JSONParseError) {
            value = try JSONParser.parse(json)
        } catch {
            throw ProtoJSONError(.syntax, error.field ?? "", "invalid JSON: \(error.reason)")
        }
        return try jsonToBinary(value, message: message)
    }

    public func jsonToBinary(_ json: JSONValue, message: String) throws(ProtoJSONError) -> [UInt8] {
        try encode(json, message: message, path: "", depth: 0)
    }

    private func encode(_ json: JSONValue, message name: String, path: String, depth: Int) throws(ProtoJSONError) -> [UInt8] {
        guard depth <= Self.depthMax else { throw ProtoJSONError(.tooDeep, path, "messages nested deeper than \(Self.depthMax)") }
        let info = try messageInfo(name, path)
        guard case .object(let object) = json else { throw ProtoJSONError(.invalidValue, path, "expected an object") }
        var present: [(field: ProtoField, value: JSONValue)] = []
        var seen = Set<Int>(), oneofs = Set<String>()
        for (key, value) in object.pairs {
            guard let i = info.byKey[key] else { throw ProtoJSONError(.unknownField, Self.join(path, key), "unknown field") }
            let field = info.schema.fields[i]
            guard seen.insert(i).inserted else { throw ProtoJSONError(.invalidValue, Self.join(path, field.jsonName), "field given twice") }
            guard value != .null else { continue }
            if let oneof = field.oneof, !oneofs.insert(oneof).inserted {
                throw ProtoJSONError(.invalidValue, Self.join(path, field.jsonName), "another member of oneof \(oneof) is already set")
            }
            present.append((field, value))
        }
        var w = ProtoWriter()
        for (field, value) in present.sorted(by: { $0.field.number < $1.field.number }) {
            let p = Self.join(path, field.jsonName)
            if case .map(let keyType, let valueType) = field.type {
                guard case .object(let entries) = value else { throw ProtoJSONError(.invalidValue, p, "expected an object") }
                var encoded: [MapKey: [UInt8]] = [:]
                for (text, item) in entries.pairs {
                    let ep = "\(p)[\"\(text)\"]"
                    let (key, keyValue) = try mapKey(text, keyType, ep)
                    guard encoded[key] == nil else { throw ProtoJSONError(.invalidValue, ep, "map key given twice") }
                    guard item != .null else { throw ProtoJSONError(.invalidValue, ep, "null is not a map value") }
                    var entry = ProtoWriter()
                    keyValue.write(1, to: &entry)
                    try wireValue(item, valueType, ep, depth).write(2, to: &entry)
                    encoded[key] = entry.bytes
                }
                for key in encoded.keys.sorted() { WireValue.bytes(encoded[key]!).write(field.number, to: &w, always: true) }
            } else if field.repeated {
                guard case .array(let items) = value else { throw ProtoJSONError(.invalidValue, p, "expected an array") }
                if Self.wireType(field.type) != .lengthDelimited {
                    var packed = ProtoWriter()
                    for (i, item) in items.enumerated() { try wireValue(item, field.type, "\(p)[\(i)]", depth).appendPayload(to: &packed) }
                    if !items.isEmpty { WireValue.bytes(packed.bytes).write(field.number, to: &w) }
                } else {
                    for (i, item) in items.enumerated() { try wireValue(item, field.type, "\(p)[\(i)]", depth).write(field.number, to: &w, always: true) }
                }
            } else {
                try wireValue(value, field.type, p, depth).write(field.number, to: &w, always: field.oneof != nil)
            }
        }
        return w.bytes
    }

    /// One JSON value (not null, not a map) in the wire form of `type`.
    private func wireValue(_ json: JSONValue, _ type: ProtoFieldType, _ path: String, _ depth: Int) throws(ProtoJSONError) -> WireValue {
        func bad(_ reason: String) -> ProtoJSONError { ProtoJSONError(.invalidValue, path, reason) }
        switch type {
        case .string:
            guard case .string(let s) = json else { throw bad("expected a string") }
            return .bytes(Array(s.utf8))
        case .bytes:
            guard case .string(let s) = json else { throw bad("expected a base64 string") }
            guard let b = Self.base64Decode(s) else { throw bad("invalid base64") }
            return .bytes(b)
        case .bool:
            guard case .bool(let b) = json else { throw bad("expected true or false") }
            return .varint(b ? 1 : 0)
        case .double:
            return .fixed64(try Self.floating(json, path, "double").bitPattern)
        case .float:
            let d = try Self.floating(json, path, "float")
            let f = Float(d)
            guard f.isFinite || !d.isFinite else { throw bad("out of range for float") }
            return .fixed32(f.bitPattern)
        case .enumeration(let name):
            let info = try enumInfo(name, path)
            if case .string(let label) = json {
                guard let n = info.byName[label] else { throw bad("unknown value \"\(label)\" of enum \(name)") }
                return .varint(UInt64(bitPattern: Int64(n)))
            }
            switch json {
            case .int, .double: return .varint(UInt64(bitPattern: try Self.signed(json, 32, path)))
            default: throw bad("expected an enum name or number")
            }
        case .message(let name):
            return .message(try encode(json, message: name, path: path, depth: depth + 1))
        case .map:
            throw bad("a map cannot be a map value or list element")
        case .int32: return .varint(UInt64(bitPattern: try Self.signed(json, 32, path)))
        case .int64: return .varint(UInt64(bitPattern: try Self.signed(json, 64, path)))
        case .sint32, .sint64: return .varint(ProtoWriter.zigzag(try Self.signed(json, type == .sint32 ? 32 : 64, path)))
        case .sfixed32: return .fixed32(UInt32(truncatingIfNeeded: try Self.signed(json, 32, path)))
        case .sfixed64: return .fixed64(UInt64(bitPattern: try Self.signed(json, 64, path)))
        case .uint32, .uint64: return .varint(try Self.unsigned(json, type == .uint32 ? 32 : 64, path))
        case .fixed32: return .fixed32(UInt32(try Self.unsigned(json, 32, path)))
        case .fixed64: return .fixed64(try Self.unsigned(json, 64, path))
        }
    }

    /// A JSON object key as a map key of `type` (integers as decimal strings, bools as "true"/"false").
    private func mapKey(_ text: String, _ type: ProtoFieldType, _ path: String) throws(ProtoJSONError) -> (MapKey, WireValue) {
        switch type {
        case .string: return (.string(text), .bytes(Array(text.utf8)))
        case .bool:
            guard text == "true" || text == "false" else { throw ProtoJSONError(.invalidValue, path, "expected \"true\" or \"false\" as map key") }
            return (.bool(text == "true"), .varint(text == "true" ? 1 : 0))
        default:
            let value = try wireValue(.string(text), type, path, 0)
            guard let key = Self.integer(value, type) else { throw ProtoJSONError(.invalidValue, path, "\(type) cannot be a map key") }
            return (key, value)
        }
    }

    // MARK: binary → JSON

    public func binaryToJSON(_ bytes: [UInt8], message: String) throws(ProtoJSONError) -> [UInt8] {
        JSONWriter.write(try binaryToJSONValue(bytes, message: message))
    }

    public func binaryToJSONValue(_ bytes: [UInt8], message: String) throws(ProtoJSONError) -> JSONValue {
        .object(try decode(bytes, message: message, path: "", depth: 0))
    }

    /// Field values of one message in wire form, per field index: the last (or merged) value of a
    /// singular field, every element of a repeated one, every (key, value) entry of a map.
    /// A oneof member is present even when it holds the default value.
    private struct Collected {
        var values: [[WireValue]]
        var entries: [[(key: WireValue, value: WireValue)]]
    }

    private func decode(_ bytes: [UInt8], message name: String, path: String, depth: Int) throws(ProtoJSONError) -> JSONObject {
        guard depth <= Self.depthMax else { throw ProtoJSONError(.tooDeep, path, "messages nested deeper than \(Self.depthMax)") }
        let info = try messageInfo(name, path)
        let collected: Collected
        do throws(ProtoDecodingError) {
            collected = try Self.collect(bytes, info)
        } catch {
            var p = path
            if case .wrongWireType(let n, _, _) = error.kind, let i = info.byNumber[n] { p = Self.join(path, info.schema.fields[i].jsonName) }
            throw ProtoJSONError(.malformedBinary, p, error.message)
        }
        var object = JSONObject()
        for (i, field) in info.schema.fields.enumerated() {
            let p = Self.join(path, field.jsonName)
            if case .map(let keyType, let valueType) = field.type {
                guard !collected.entries[i].isEmpty else { continue }
                var last: [MapKey: WireValue] = [:]
                for (key, value) in collected.entries[i] {
                    switch (keyType, key) {
                    case (.string, .bytes(let b)):
                        guard let s = String(validating: b, as: UTF8.self) else { throw ProtoJSONError(.malformedBinary, p, "invalid UTF-8 in map key") }
                        last[.string(s)] = value
                    case (.bool, .varint(let v)): last[.bool(v != 0)] = value
                    default:
                        guard let k = Self.integer(key, keyType) else { throw ProtoJSONError(.malformedBinary, p, "\(keyType) cannot be a map key") }
                        last[k] = value
                    }
                }
                var map = JSONObject()
                for key in last.keys.sorted() {
                    map.append(key.text, try json(last[key]!, valueType, "\(p)[\"\(key.text)\"]", depth))
                }
                object.append(field.jsonName, .object(map))
            } else if field.repeated {
                guard !collected.values[i].isEmpty else { continue }
                var items: [JSONValue] = []
                for (n, v) in collected.values[i].enumerated() { items.append(try json(v, field.type, "\(p)[\(n)]", depth)) }
                object.append(field.jsonName, .array(items))
            } else if let v = collected.values[i].first, !v.isDefault || field.oneof != nil {
                object.append(field.jsonName, try json(v, field.type, p, depth))
            }
        }
        return object
    }

    private static func collect(_ bytes: [UInt8], _ info: ProtoSchemaRegistry.MessageInfo) throws(ProtoDecodingError) -> Collected {
        let count = info.schema.fields.count
        var out = Collected(values: Array(repeating: [], count: count), entries: Array(repeating: [], count: count))
        var reader = try ProtoReader(bytes)
        var dropped = UnknownFields()
        while let (number, type) = try reader.nextField() {
            guard let i = info.byNumber[number] else {
                try reader.skip(type, into: &dropped)
                continue
            }
            let field = info.schema.fields[i]
            if case .map(let keyType, let valueType) = field.type {
                guard type == .lengthDelimited else { throw wrongWireType(number, .lengthDelimited, type) }
                var entry = try ProtoReader(Array(try reader.readLengthDelimited()))
                var key = WireValue.zero(keyType), value = WireValue.zero(valueType)
                while let (n, t) = try entry.nextField() {
                    switch n {
                    case 1: key = try read(keyType, number, t, &entry)
                    case 2: value = try read(valueType, number, t, &entry).merged(after: value)
                    default: try entry.skip(t, into: &dropped)
                    }
                }
                out.entries[i].append((key, value))
            } else if field.repeated, type == .lengthDelimited, wireType(field.type) != .lengthDelimited {
                var packed = try ProtoReader(Array(try reader.readLengthDelimited()))
                while !packed.isAtEnd { out.values[i].append(try read(field.type, number, wireType(field.type), &packed)) }
            } else if field.repeated {
                out.values[i].append(try read(field.type, number, type, &reader))
            } else {
                out.values[i] = [try read(field.type, number, type, &reader).merged(after: out.values[i].first)]
                if let oneof = field.oneof {  // the last member on the wire wins
                    for (j, other) in info.schema.fields.enumerated() where j != i && other.oneof == oneof { out.values[j] = [] }
                }
            }
        }
        return out
    }

    private static func wrongWireType(_ field: Int, _ expected: WireType, _ got: WireType) -> ProtoDecodingError {
        ProtoDecodingError(.wrongWireType(field: field, expected: expected, got: got), "wrong wire type \(got) for field \(field) (expected \(expected))")
    }

    private static func read(_ type: ProtoFieldType, _ field: Int, _ got: WireType, _ r: inout ProtoReader) throws(ProtoDecodingError) -> WireValue {
        let expected = wireType(type)
        guard got == expected else { throw wrongWireType(field, expected, got) }
        switch expected {
        case .varint: return .varint(try r.readVarint())
        case .fixed32: return .fixed32(try r.readFixed32())
        case .fixed64: return .fixed64(try r.readFixed64())
        case .lengthDelimited:
            let payload = Array(try r.readLengthDelimited())
            if case .message = type { return .message(payload) }
            return .bytes(payload)
        }
    }

    /// One wire value (already checked against the schema's wire type) as JSON.
    private func json(_ v: WireValue, _ type: ProtoFieldType, _ path: String, _ depth: Int) throws(ProtoJSONError) -> JSONValue {
        switch (type, v) {
        case (.bool, .varint(let x)): return .bool(x != 0)
        case (.float, .fixed32(let x)): return Self.number(Float(bitPattern: x))
        case (.double, .fixed64(let x)): return Self.number(Double(bitPattern: x))
        case (.string, .bytes(let b)):
            guard let s = String(validating: b, as: UTF8.self) else { throw ProtoJSONError(.malformedBinary, path, "invalid UTF-8") }
            return .string(s)
        case (.bytes, .bytes(let b)): return .string(Self.base64Encode(b))
        case (.enumeration(let name), .varint(let x)):
            let n = Int32(truncatingIfNeeded: x)
            if let label = try enumInfo(name, path).byNumber[n] { return .string(label) }
            return .int(Int64(n))
        case (.message(let name), .message(let b)):
            return .object(try decode(b, message: name, path: path, depth: depth + 1))
        default:
            let wide: Bool
            switch type {
            case .int64, .uint64, .sint64, .fixed64, .sfixed64: wide = true
            default: wide = false
            }
            switch Self.integer(v, type) {
            case .signed(let i)?: return wide ? .string(String(i)) : .int(i)
            case .unsigned(let u)?: return wide ? .string(String(u)) : .int(Int64(u))
            default: throw ProtoJSONError(.malformedBinary, path, "\(type) does not fit its wire value")
            }
        }
    }

    // MARK: scalars

    static func wireType(_ type: ProtoFieldType) -> WireType {
        switch type {
        case .int32, .int64, .uint32, .uint64, .sint32, .sint64, .bool, .enumeration: .varint
        case .fixed32, .sfixed32, .float: .fixed32
        case .fixed64, .sfixed64, .double: .fixed64
        case .string, .bytes, .message, .map: .lengthDelimited
        }
    }

    /// The value of an integer field from its wire form (nil for other types).
    static func integer(_ v: WireValue, _ type: ProtoFieldType) -> MapKey? {
        switch (type, v) {
        case (.int32, .varint(let x)): .signed(Int64(Int32(truncatingIfNeeded: x)))
        case (.int64, .varint(let x)): .signed(Int64(bitPattern: x))
        case (.sint32, .varint(let x)): .signed(ProtoWriter.unzigzag(UInt64(UInt32(truncatingIfNeeded: x))))
        case (.sint64, .varint(let x)): .signed(ProtoWriter.unzigzag(x))
        case (.sfixed32, .fixed32(let x)): .signed(Int64(Int32(bitPattern: x)))
        case (.sfixed64, .fixed64(let x)): .signed(Int64(bitPattern: x))
        case (.uint32, .varint(let x)): .unsigned(UInt64(UInt32(truncatingIfNeeded: x)))
        case (.uint64, .varint(let x)), (.fixed64, .fixed64(let x)): .unsigned(x)
        case (.fixed32, .fixed32(let x)): .unsigned(UInt64(x))
        default: nil
        }
    }

    /// A JSON number or numeric string as an exact integer: sign and magnitude.
    static func integerParts(_ json: JSONValue, _ path: String) throws(ProtoJSONError) -> (negative: Bool, magnitude: UInt64) {
        switch json {
        case .int(let i):
            return (i < 0, i.magnitude)
        case .double(let d):
            guard d == d.rounded(.towardZero) else { throw ProtoJSONError(.invalidValue, path, "expected an integer") }
            guard d.magnitude <= 0x1p53 else {
                throw ProtoJSONError(.invalidValue, path, "integer beyond 2^53 as a JSON number is not exact; send it as a string")
            }
            return (d < 0, UInt64(d.magnitude))
        case .string(let s):
            guard let (negative, digits, exponent) = decimal(s) else { throw ProtoJSONError(.invalidValue, path, "expected an integer") }
            guard let first = digits.firstIndex(where: { $0 != 0 }) else { return (negative, 0) }
            var significant = digits[first...]
            var e = exponent
            while e < 0, significant.last == 0 { significant.removeLast(); e += 1 }
            guard e >= 0 else { throw ProtoJSONError(.invalidValue, path, "expected an integer") }
            let tooLarge = ProtoJSONError(.invalidValue, path, "integer out of range")
            guard significant.count + e <= 20 else { throw tooLarge }
            var m: UInt64 = 0
            for d in significant + repeatElement(0, count: e) {
                let (times, o1) = m.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(UInt64(d))
                guard !o1, !o2 else { throw tooLarge }
                m = sum
            }
            return (negative, m)
        default:
            throw ProtoJSONError(.invalidValue, path, "expected an integer")
        }
    }

    static func signed(_ json: JSONValue, _ bits: Int, _ path: String) throws(ProtoJSONError) -> Int64 {
        let (negative, magnitude) = try integerParts(json, path)
        let limit = UInt64(1) << (bits - 1)
        guard negative ? magnitude <= limit : magnitude < limit else { throw ProtoJSONError(.invalidValue, path, "out of range for int\(bits)") }
        return negative ? Int64(bitPattern: 0 &- magnitude) : Int64(magnitude)
    }

    static func unsigned(_ json: JSONValue, _ bits: Int, _ path: String) throws(ProtoJSONError) -> UInt64 {
        let (negative, magnitude) = try integerParts(json, path)
        guard !negative || magnitude == 0, bits == 64 || magnitude < UInt64(1) << bits else {
            throw ProtoJSONError(.invalidValue, path, "out of range for uint\(bits)")
        }
        return magnitude
    }

    static func floating(_ json: JSONValue, _ path: String, _ name: String) throws(ProtoJSONError) -> Double {
        switch json {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .string("NaN"): return .nan
        case .string("Infinity"): return .infinity
        case .string("-Infinity"): return -.infinity
        case .string(let s) where decimal(s) != nil:
            guard let d = Double(s), d.isFinite else { throw ProtoJSONError(.invalidValue, path, "out of range for \(name)") }
            return d
        default: throw ProtoJSONError(.invalidValue, path, "expected a number")
        }
    }

    /// JSON number syntax split into sign, digit values and a power of ten; nil if `text` is not one.
    static func decimal(_ text: String) -> (negative: Bool, digits: [UInt8], exponent: Int)? {
        let s = Array(text.utf8)
        var i = 0
        func digit() -> UInt8? { i < s.count && (48...57).contains(s[i]) ? s[i] - 48 : nil }
        let negative = s.first == UInt8(ascii: "-")
        if negative { i += 1 }
        var digits: [UInt8] = []
        let start = i
        while let d = digit() { digits.append(d); i += 1 }
        guard i > start, digits.count == 1 || digits[0] != 0 else { return nil }
        var exponent = 0
        if i < s.count, s[i] == UInt8(ascii: ".") {
            i += 1
            let fraction = i
            while let d = digit() { digits.append(d); exponent -= 1; i += 1 }
            guard i > fraction else { return nil }
        }
        if i < s.count, s[i] == UInt8(ascii: "e") || s[i] == UInt8(ascii: "E") {
            i += 1
            let minus = i < s.count && s[i] == UInt8(ascii: "-")
            if i < s.count, s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+") { i += 1 }
            let digitsStart = i
            var e = 0
            while let d = digit() { e = min(e * 10 + Int(d), 1_000_000); i += 1 }
            guard i > digitsStart else { return nil }
            exponent += minus ? -e : e
        }
        return i == s.count ? (negative, digits, exponent) : nil
    }

    /// A float or double as JSON: integral values as integers, the rest in shortest form, and
    /// "NaN", "Infinity", "-Infinity" as strings.
    static func number(_ d: Double) -> JSONValue {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        if d.magnitude < 0x1p53, d == d.rounded(.towardZero), !(d == 0 && d.sign == .minus) { return .int(Int64(d)) }
        return .double(d)
    }

    /// Via the float's own shortest digits, so 0.1f is written 0.1, not 0.10000000149011612.
    static func number(_ f: Float) -> JSONValue { number(f.isFinite ? Double("\(f)") ?? Double(f) : Double(f)) }

    private static let base64Alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard alphabet, padded.
    static func base64Encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            var v = UInt32(bytes[i]) << 16
            if n > 1 { v |= UInt32(bytes[i + 1]) << 8 }
            if n > 2 { v |= UInt32(bytes[i + 2]) }
            for j in 0..<4 { out.append(j <= n ? base64Alphabet[Int(v >> (18 - 6 * UInt32(j)) & 63)] : UInt8(ascii: "=")) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Standard or URL-safe alphabet, padded or not; nil on any other character or a bad length.
    static func base64Decode(_ text: String) -> [UInt8]? {
        var chars = Array(text.utf8)
        if chars.count % 4 == 0 {
            for _ in 0..<2 where chars.last == UInt8(ascii: "=") { chars.removeLast() }
        }
        guard chars.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count * 3 / 4)
        var acc: UInt32 = 0, bits: UInt32 = 0
        for c in chars {
            let v: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(c) - 65
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c) - 71
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(c) + 4
            case UInt8(ascii: "+"), UInt8(ascii: "-"): v = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): v = 63
            default: return nil
            }
            acc = acc << 6 | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> bits))
            }
        }
        return out
    }

    // MARK: lookups

    static func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : path + "." + name }

    private func messageInfo(_ name: String, _ path: String) throws(ProtoJSONError) -> ProtoSchemaRegistry.MessageInfo {
        guard let info = registry.messages[name] else { throw ProtoJSONError(.unknownType, path, "unknown message type \(name)") }
        return info
    }

    private func enumInfo(_ name: String, _ path: String) throws(ProtoJSONError) -> ProtoSchemaRegistry.EnumInfo {
        guard let info = registry.enums[name] else { throw ProtoJSONError(.unknownType, path, "unknown enum type \(name)") }
        return info
    }
}
