// DescriptorSet: the test side's reading of a protoc FileDescriptorSet, decoded with our own wire
// reader. Everything the drift comparison needs is parsed into structure (files, dependencies,
// messages with nested types, fields with labels, types, json names and oneofs, enums, services,
// methods with streaming flags and idempotency); every other field is kept as raw bytes, so two
// sets compare equal as parsed descriptors exactly when they describe the same thing, whatever
// order protoc wrote the fields in. `schema(_:)` turns one file into the Swift table shape.
import Testing
@testable import TokMeshProto

enum DescriptorSet {
    struct Field: Hashable { var name = "", number = 0, label = 0, type = 0, typeName = "", jsonName = "", oneofIndex: Int?, rest = UnknownFields() }
    struct EnumValue: Hashable { var name = "", number: Int32 = 0, rest = UnknownFields() }
    struct Enum: Hashable { var name = "", values: [EnumValue] = [], rest = UnknownFields() }
    struct Message: Hashable {
        var name = "", fields: [Field] = [], nested: [Message] = [], enums: [Enum] = [], oneofs: [String] = [], mapEntry = false
        var options = UnknownFields(), rest = UnknownFields()
    }
    struct Method: Hashable {
        var name = "", input = "", output = "", clientStreaming = false, serverStreaming = false, idempotency = 0
        var options = UnknownFields(), rest = UnknownFields()
    }
    struct Service: Hashable { var name = "", methods: [Method] = [], rest = UnknownFields() }
    struct File: Hashable {
        var name = "", package = "", dependencies: [String] = [], messages: [Message] = [], enums: [Enum] = [], services: [Service] = []
        var syntax = "", rest = UnknownFields()
    }

    static func files(_ bytes: [UInt8]) throws -> [File] {
        var r = try ProtoReader(bytes)
        var out: [File] = []
        var skipped = UnknownFields()
        while let (n, t) = try r.nextField() {
            if n == 1 { out.append(try file(try r.message(n, t))) } else { try r.skip(t, into: &skipped) }
        }
        #expect(skipped.isEmpty, "FileDescriptorSet has fields other than file")
        return out
    }

    static func file(_ reader: ProtoReader) throws -> File {
        var r = reader, f = File()
        while let (n, t) = try r.nextField() {
            switch n {
            case 1: f.name = try r.string(n, t)
            case 2: f.package = try r.string(n, t)
            case 3: f.dependencies.append(try r.string(n, t))
            case 4: f.messages.append(try message(try r.message(n, t)))
            case 5: f.enums.append(try enumeration(try r.message(n, t)))
            case 6: f.services.append(try service(try r.message(n, t)))
            case 12: f.syntax = try r.string(n, t)
            default: try r.skip(t, into: &f.rest)
            }
        }
        return f
    }

    static func message(_ reader: ProtoReader) throws -> Message {
        var r = reader, m = Message()
        while let (n, t) = try r.nextField() {
            switch n {
            case 1: m.name = try r.string(n, t)
            case 2: m.fields.append(try field(try r.message(n, t)))
            case 3: m.nested.append(try message(try r.message(n, t)))
            case 4: m.enums.append(try enumeration(try r.message(n, t)))
            case 7:
                var o = try r.message(n, t)
                while let (on, ot) = try o.nextField() {
                    if on == 7 { m.mapEntry = try o.bool(on, ot) } else { try o.skip(ot, into: &m.options) }
                }
            case 8:
                var o = try r.message(n, t), name = ""
                while let (on, ot) = try o.nextField() {
                    if on == 1 { name = try o.string(on, ot) } else { try o.skip(ot, into: &m.rest) }
                }
                m.oneofs.append(name)
            default: try r.skip(t, into: &m.rest)
            }
        }
        return m
    }

    static func field(_ reader: ProtoReader) throws -> Field {
        var r = reader, f = Field()
        while let (n, t) = try r.nextField() {
            switch n {
            case 1: f.name = try r.string(n, t)
            case 3: f.number = Int(try r.int32(n, t))
            case 4: f.label = Int(try r.int32(n, t))
            case 5: f.type = Int(try r.int32(n, t))
            case 6: f.typeName = try r.string(n, t)
            case 9: f.oneofIndex = Int(try r.int32(n, t))
            case 10: f.jsonName = try r.string(n, t)
            default: try r.skip(t, into: &f.rest)
            }
        }
        return f
    }

    static func enumeration(_ reader: ProtoReader) throws -> Enum {
        var r = reader, e = Enum()
        while let (n, t) = try r.nextField() {
            switch n {
            case 1: e.name = try r.string(n, t)
            case 2:
                var vr = try r.message(n, t), v = EnumValue()
                while let (vn, vt) = try vr.nextField() {
                    switch vn {
                    case 1: v.name = try vr.string(vn, vt)
                    case 2: v.number = try vr.int32(vn, vt)
                    default: try vr.skip(vt, into: &v.rest)
                    }
                }
                e.values.append(v)
            default: try r.skip(t, into: &e.rest)
            }
        }
        return e
    }

    static func service(_ reader: ProtoReader) throws -> Service {
        var r = reader, s = Service()
        while let (n, t) = try r.nextField() {
            switch n {
            case 1: s.name = try r.string(n, t)
            case 2:
                var mr = try r.message(n, t), m = Method()
                while let (mn, mt) = try mr.nextField() {
                    switch mn {
                    case 1: m.name = try mr.string(mn, mt)
                    case 2: m.input = try mr.string(mn, mt)
                    case 3: m.output = try mr.string(mn, mt)
                    case 4:
                        var o = try mr.message(mn, mt)
                        while let (on, ot) = try o.nextField() {
                            if on == 34 { m.idempotency = Int(try o.int32(on, ot)) } else { try o.skip(ot, into: &m.options) }
                        }
                    case 5: m.clientStreaming = try mr.bool(mn, mt)
                    case 6: m.serverStreaming = try mr.bool(mn, mt)
                    default: try mr.skip(mt, into: &m.rest)
                    }
                }
                s.methods.append(m)
            default: try r.skip(t, into: &s.rest)
            }
        }
        return s
    }

    /// The descriptor's view of a file as a Swift schema (map entry types folded into `.map`,
    /// nested messages and enums flattened under their qualified names).
    static func schema(_ f: File) -> ProtoFileSchema {
        func strip(_ name: String) -> String { name.hasPrefix(".") ? String(name.dropFirst()) : name }
        func scalar(_ type: Int, _ typeName: String) -> ProtoFieldType? {
            switch type {
            case 1: .double
            case 2: .float
            case 3: .int64
            case 4: .uint64
            case 5: .int32
            case 6: .fixed64
            case 7: .fixed32
            case 8: .bool
            case 9: .string
            case 11: .message(strip(typeName))
            case 12: .bytes
            case 13: .uint32
            case 14: .enumeration(strip(typeName))
            case 15: .sfixed32
            case 16: .sfixed64
            case 17: .sint32
            case 18: .sint64
            default: nil
            }
        }
        var messages: [ProtoMessageSchema] = []
        var enums: [ProtoEnumSchema] = []
        func visit(_ e: Enum, prefix: String) {
            enums.append(ProtoEnumSchema(prefix + e.name, e.values.map { ($0.name, $0.number) }))
        }
        func visit(_ m: Message, prefix: String) {
            let full = prefix + m.name
            var entries: [String: ProtoFieldType] = [:]
            for nested in m.nested where nested.mapEntry {
                let key = nested.fields.first { $0.number == 1 }, value = nested.fields.first { $0.number == 2 }
                if let key, let value, let k = scalar(key.type, key.typeName), let v = scalar(value.type, value.typeName) {
                    entries[full + "." + nested.name] = .map(key: k, value: v)
                }
            }
            let fields = m.fields.map { f -> ProtoField in
                if f.type == 11, let map = entries[strip(f.typeName)] { return ProtoField(f.name, f.number, map) }
                let oneof = f.oneofIndex.flatMap { $0 < m.oneofs.count ? m.oneofs[$0] : "#\($0)" }
                // An unknown type number stays visible as a mismatch instead of passing as bytes.
                let type = scalar(f.type, f.typeName) ?? .message("<descriptor type \(f.type)>")
                return ProtoField(f.name, f.number, type, repeated: f.label == 3, oneof: oneof)
            }
            messages.append(ProtoMessageSchema(full, fields))
            for e in m.enums { visit(e, prefix: full + ".") }
            for nested in m.nested where !nested.mapEntry { visit(nested, prefix: full + ".") }
        }
        let prefix = f.package.isEmpty ? "" : f.package + "."
        for e in f.enums { visit(e, prefix: prefix) }
        for m in f.messages { visit(m, prefix: prefix) }
        let services = f.services.map { s in
            ProtoServiceSchema(prefix + s.name, s.methods.map { m in
                ProtoMethodSchema(m.name, strip(m.input), strip(m.output), clientStreaming: m.clientStreaming, serverStreaming: m.serverStreaming,
                                  idempotency: m.idempotency == 1 ? .noSideEffects : m.idempotency == 2 ? .idempotent : .unknown)
            })
        }
        return ProtoFileSchema(path: f.name, package: f.package, dependencies: f.dependencies, messages: messages, enums: enums,
                               services: services)
    }

    /// Every field of every message of a file, nested ones included, with its message's full name.
    static func allFields(_ f: File) -> [(message: String, field: Field)] {
        var out: [(String, Field)] = []
        func visit(_ m: Message, prefix: String) {
            for field in m.fields { out.append((prefix + m.name, field)) }
            for nested in m.nested { visit(nested, prefix: prefix + m.name + ".") }
        }
        for m in f.messages { visit(m, prefix: f.package + ".") }
        return out
    }
}

/// How a described file and a Swift table differ, one line per difference (empty: they agree).
func schemaDifferences(described: ProtoFileSchema, swift: ProtoFileSchema) -> [String] {
    var out: [String] = []
    let file = swift.path
    if described.path != swift.path { out.append("path: proto/ \(described.path), Swift \(swift.path)") }
    if described.package != swift.package { out.append("\(file): package: proto/ \(described.package), Swift \(swift.package)") }
    if described.dependencies != swift.dependencies {
        out.append("\(file): imports: proto/ \(described.dependencies), Swift \(swift.dependencies)")
    }

    func compareNames<T>(_ kind: String, _ theirs: [T], _ ours: [T], name: (T) -> String) -> [(T, T)] {
        let t = Dictionary(theirs.map { (name($0), $0) }, uniquingKeysWith: { a, _ in a })
        let o = Dictionary(ours.map { (name($0), $0) }, uniquingKeysWith: { a, _ in a })
        if t.count != theirs.count { out.append("\(file): duplicate \(kind) names in proto/") }
        if o.count != ours.count { out.append("\(file): duplicate \(kind) names in Swift") }
        for n in Set(t.keys).subtracting(o.keys).sorted() { out.append("\(file): \(kind) \(n) only in proto/") }
        for n in Set(o.keys).subtracting(t.keys).sorted() { out.append("\(file): \(kind) \(n) only in Swift") }
        return Set(t.keys).intersection(o.keys).sorted().map { (t[$0]!, o[$0]!) }
    }

    for (theirs, ours) in compareNames("message", described.messages, swift.messages, name: \.name) {
        for (a, b) in compareNames("field", theirs.fields, ours.fields, name: { "\(theirs.name).\($0.name)" }) where a != b {
            out.append("\(file): field \(theirs.name).\(a.name): proto/ \(a), Swift \(b)")
        }
    }
    for (theirs, ours) in compareNames("enum", described.enums, swift.enums, name: \.name) where theirs != ours {
        out.append("\(file): enum \(theirs.name) values: proto/ \(theirs.values.map { "\($0.name)=\($0.number)" }), "
                   + "Swift \(ours.values.map { "\($0.name)=\($0.number)" })")
    }
    for (theirs, ours) in compareNames("service", described.services, swift.services, name: \.name) {
        for (a, b) in compareNames("method", theirs.methods, ours.methods, name: { "\(theirs.name)/\($0.name)" }) where a != b {
            out.append("\(file): method \(theirs.name)/\(a.name): proto/ \(a), Swift \(b)")
        }
        if theirs.methods.map(\.name) != ours.methods.map(\.name) { out.append("\(file): method order of \(theirs.name) differs") }
    }
    return out
}
