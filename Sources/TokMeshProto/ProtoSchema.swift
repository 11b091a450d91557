// ProtoSchema: the Swift side of the proto contract as data — each message's field table and
// each service's method table, written by hand next to the codecs and compared with what
// `protoc` makes of `proto/` by the descriptor drift test (spec/06 §4). The tables also drive
// the proto3 JSON mapping (field and JSON names).

public enum ProtoFieldType: Sendable, Hashable {
    case double, float, int64, uint64, int32, fixed64, fixed32, bool, string, bytes, uint32, sfixed32, sfixed64, sint32, sint64
    /// A message field; the fully qualified name without the leading dot (`tokmesh.v1.Session`).
    case message(String)
    case enumeration(String)
    /// `map<K, V>` (on the wire: a repeated entry message with key 1 and value 2).
    indirect case map(key: ProtoFieldType, value: ProtoFieldType)
}

public struct ProtoField: Sendable, Hashable {
    public var name: String
    public var number: Int
    public var type: ProtoFieldType
    public var repeated: Bool
    /// The oneof this field belongs to (its name in the file, `message_request`), or nil.
    public var oneof: String?

    public init(_ name: String, _ number: Int, _ type: ProtoFieldType, repeated: Bool = false, oneof: String? = nil) {
        self.name = name
        self.number = number
        self.type = type
        self.repeated = repeated
        self.oneof = oneof
    }

    /// proto3 JSON name: lowerCamelCase of the field name (protoc's json_name rule).
    public var jsonName: String {
        var out = ""
        var upper = false
        for ch in name {
            if ch == "_" {
                upper = true
            } else {
                out.append(upper ? Character(ch.uppercased()) : ch)
                upper = false
            }
        }
        return out
    }
}

public struct ProtoMessageSchema: Sendable, Hashable {
    /// Fully qualified name without the leading dot.
    public var name: String
    public var fields: [ProtoField]

    public init(_ name: String, _ fields: [ProtoField]) {
        self.name = name
        self.fields = fields
    }
}

public struct ProtoMethodSchema: Sendable, Hashable {
    public enum Idempotency: Sendable, Hashable { case unknown, noSideEffects, idempotent }

    public var name: String
    public var input: String
    public var output: String
    public var clientStreaming: Bool
    public var serverStreaming: Bool
    public var idempotency: Idempotency

    public init(_ name: String, _ input: String, _ output: String, clientStreaming: Bool = false, serverStreaming: Bool = false,
                idempotency: Idempotency = .unknown) {
        self.name = name
        self.input = input
        self.output = output
        self.clientStreaming = clientStreaming
        self.serverStreaming = serverStreaming
        self.idempotency = idempotency
    }
}

public struct ProtoServiceSchema: Sendable, Hashable {
    public var name: String
    public var methods: [ProtoMethodSchema]

    public init(_ name: String, _ methods: [ProtoMethodSchema]) {
        self.name = name
        self.methods = methods
    }

    /// The HTTP path of a method: `/<package>.<Service>/<Method>`.
    public func path(_ method: ProtoMethodSchema) -> String { "/\(name)/\(method.name)" }
}

/// A proto3 enum: value names (with their prefix, as in the file) and numbers.
public struct ProtoEnumSchema: Sendable, Hashable {
    /// Fully qualified name without the leading dot.
    public var name: String
    public var values: [(name: String, number: Int32)]

    public init(_ name: String, _ values: [(String, Int32)]) {
        self.name = name
        self.values = values.map { (name: $0.0, number: $0.1) }
    }

    public static func == (lhs: ProtoEnumSchema, rhs: ProtoEnumSchema) -> Bool {
        lhs.name == rhs.name && lhs.values.elementsEqual(rhs.values) { $0.name == $1.name && $0.number == $1.number }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        for v in values { hasher.combine(v.name); hasher.combine(v.number) }
    }
}

/// One `.proto` file's schema.
public struct ProtoFileSchema: Sendable, Hashable {
    public var path: String
    public var package: String
    /// Imported files (paths under proto/), as `import` lines name them.
    public var dependencies: [String]
    public var messages: [ProtoMessageSchema]
    public var enums: [ProtoEnumSchema]
    public var services: [ProtoServiceSchema]

    public init(path: String, package: String, dependencies: [String] = [], messages: [ProtoMessageSchema],
                enums: [ProtoEnumSchema] = [], services: [ProtoServiceSchema]) {
        self.path = path
        self.package = package
        self.dependencies = dependencies
        self.messages = messages
        self.enums = enums
        self.services = services
    }
}
