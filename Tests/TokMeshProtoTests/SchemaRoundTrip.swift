// SchemaRoundTrip: the schema-driven random round trip shared by the codec tests of every
// `.proto` file. Seeded random messages are written field by field from a schema table (the one
// the drift test ties to the .proto) in canonical form — fields in number order, proto3 defaults
// left out, repeated elements and oneof members written even when default, at most one member
// per oneof, map entries sorted by key with default keys and scalar values left out — then
// decoded by a hand-written codec and re-encoded. The bytes must come back identical with
// nothing left unknown, so a codec that misses a field, or uses another number or type than the
// table, fails.
import Testing
import TokMeshCore
@testable import TokMeshProto

/// decode → (re-encoded bytes, nothing unknown) for one message type.
typealias CodecProbe = @Sendable ([UInt8]) throws -> ([UInt8], Bool)

func codecProbe<M: ProtoMessage>(_ type: M.Type) -> CodecProbe {
    { bytes in
        let m = try M(serializedBytes: bytes)
        return (m.serializedBytes(), m.unknownFields.isEmpty)
    }
}

/// Probes by the messages' `protoName`; `package` replaces the package prefix of each name (for a
/// codec set shared by two packages, such as reflection v1 and v1alpha).
func codecProbes(_ types: [any ProtoMessage.Type], package: (from: String, to: String)? = nil) -> [String: CodecProbe] {
    Dictionary(uniqueKeysWithValues: types.map { type in
        var name = type.protoName
        if let package, name.hasPrefix(package.from + ".") { name = package.to + name.dropFirst(package.from.count) }
        return (name, codecProbe(type))
    })
}

struct SchemaRoundTrip {
    /// Every message of these files by name; nested message types are looked up here.
    let messages: [String: ProtoMessageSchema]
    let enums: [String: ProtoEnumSchema]
    /// With `extremes`, about a quarter of the integers are boundary values (min, max, -1, 2^63)
    /// and some strings and bytes are long (two-byte lengths) or use four-byte UTF-8. Off by
    /// default, so the codec tests' seeded sequences stay as they were.
    var extremes = false

    init(_ files: [ProtoFileSchema]) {
        messages = Dictionary(uniqueKeysWithValues: files.flatMap(\.messages).map { ($0.name, $0) })
        enums = Dictionary(uniqueKeysWithValues: files.flatMap(\.enums).map { ($0.name, $0) })
    }

    /// Canonical bytes of a random instance of `name`.
    func randomMessage(_ name: String, _ rng: inout SplitMix64, depth: Int = 0) -> [UInt8] {
        guard let schema = messages[name] else {
            Issue.record("no schema for \(name)")
            return []
        }
        // One member (or none) per oneof.
        var chosen: [String: Int] = [:]
        for group in Set(schema.fields.compactMap(\.oneof)) {
            let members = schema.fields.filter { $0.oneof == group }
            let pick = Int(rng.next() % UInt64(members.count + 1))
            if pick < members.count { chosen[group] = members[pick].number }
        }
        var w = ProtoWriter()
        for field in schema.fields.sorted(by: { $0.number < $1.number }) {
            if let group = field.oneof {
                if chosen[group] == field.number { writeElement(field.number, field.type, &w, &rng, depth: depth, allowDefault: true) }
                continue
            }
            if rng.next() % 4 == 0 { continue }
            switch field.type {
            case .map(let key, let value):
                writeMap(field.number, key, value, &w, &rng, depth: depth)
            case _ where field.repeated:
                writeRepeated(field.number, field.type, &w, &rng, depth: depth)
            default:
                writeElement(field.number, field.type, &w, &rng, depth: depth, allowDefault: false)
            }
        }
        return w.bytes
    }

    static func randomString(_ rng: inout SplitMix64, allowEmpty: Bool = false) -> String {
        let count = allowEmpty ? Int(rng.next() % 12) : Int(1 + rng.next() % 12)
        var utf8: [UInt8] = []
        for _ in 0..<count { appendUTF8(UInt32(0x21 + rng.next() % 0x500), to: &utf8) }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// One scalar (never a surrogate) as UTF-8: cheaper than building Characters in debug builds.
    static func appendUTF8(_ v: UInt32, to out: inout [UInt8]) {
        if v < 0x80 {
            out.append(UInt8(v))
            return
        }
        if v < 0x800 {
            out.append(UInt8(0xC0 | v >> 6))
        } else {
            if v < 0x10000 {
                out.append(UInt8(0xE0 | v >> 12))
            } else {
                out.append(UInt8(0xF0 | v >> 18))
                out.append(UInt8(0x80 | v >> 12 & 0x3F))
            }
            out.append(UInt8(0x80 | v >> 6 & 0x3F))
        }
        out.append(UInt8(0x80 | v & 0x3F))
    }

    static func randomBytes(_ rng: inout SplitMix64, allowEmpty: Bool = false) -> [UInt8] {
        let count = allowEmpty ? Int(rng.next() % 24) : Int(1 + rng.next() % 24)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    /// A string: usually `randomString`; with `extremes`, sometimes 60-180 scalars mixing
    /// ASCII, two- and four-byte UTF-8 (over 127 bytes: a two-byte length).
    func string(_ rng: inout SplitMix64, allowEmpty: Bool = false) -> String {
        guard extremes, rng.next() % 16 == 0 else { return Self.randomString(&rng, allowEmpty: allowEmpty) }
        var utf8: [UInt8] = []
        for _ in 0..<Int(60 + rng.next() % 120) {
            let (low, size): (UInt32, UInt64) = [(0x20, 0x5F), (0x80, 0x780), (0x1F300, 0x350)][Int(rng.next() % 3)]
            Self.appendUTF8(low + UInt32(rng.next() % size), to: &utf8)
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// Bytes: usually `randomBytes`; with `extremes`, sometimes 128-400 of them.
    func bytes(_ rng: inout SplitMix64, allowEmpty: Bool = false) -> [UInt8] {
        guard extremes, rng.next() % 16 == 0 else { return Self.randomBytes(&rng, allowEmpty: allowEmpty) }
        return (0..<Int(128 + rng.next() % 273)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    /// With `extremes`, now and then a boundary value of an integer type, as its varint; never 0.
    func extremeVarint(_ type: ProtoFieldType, _ rng: inout SplitMix64) -> UInt64? {
        guard extremes, rng.next() % 4 == 0 else { return nil }
        let signed32: [Int32] = [.min, .max, -1, 1]
        let pick = Int(rng.next() % 4)
        switch type {
        case .int64: return UInt64(bitPattern: [Int64.min, .max, -1, 1][pick])
        case .uint64: return [UInt64.max, 1 << 63, 128, 1][pick]
        case .int32, .enumeration: return UInt64(bitPattern: Int64(signed32[pick]))
        case .uint32: return UInt64([UInt32.max, 1 << 31, 128, 1][pick])
        default: return nil
        }
    }

    /// A random non-zero enum number: usually a named one, sometimes one the schema does not name.
    func randomEnum(_ name: String, _ rng: inout SplitMix64) -> Int32 {
        let named = enums[name]?.values.map(\.number).filter { $0 != 0 } ?? []
        if named.isEmpty || rng.next() % 5 == 0 { return [Int32(77), -3, Int32.max][Int(rng.next() % 3)] }
        return named[Int(rng.next() % UInt64(named.count))]
    }

    /// One value with its tag: a singular field (non-default, as proto3 would write it) or,
    /// with `allowDefault`, a repeated element or oneof member (written even when default).
    func writeElement(_ number: Int, _ type: ProtoFieldType, _ w: inout ProtoWriter, _ rng: inout SplitMix64, depth: Int,
                      allowDefault: Bool) {
        let zero = allowDefault && rng.next() % 6 == 0
        if !zero, let extreme = extremeVarint(type, &rng) {
            w.write(number, varintElement: extreme)
            return
        }
        switch type {
        case .string: w.write(number, stringElement: zero ? "" : string(&rng))
        case .bytes: w.write(number, bytesElement: zero ? [] : bytes(&rng))
        case .int64: w.write(number, varintElement: zero ? 0 : rng.next() | 1)
        case .uint64: w.write(number, varintElement: zero ? 0 : rng.next() | 1)
        case .int32: w.write(number, varintElement: zero ? 0 : UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: rng.next()) | 1)))
        case .uint32: w.write(number, varintElement: zero ? 0 : UInt64(UInt32(truncatingIfNeeded: rng.next()) | 1))
        case .bool: w.write(number, varintElement: zero ? 0 : 1)
        case .enumeration(let name): w.write(number, varintElement: zero ? 0 : UInt64(bitPattern: Int64(randomEnum(name, &rng))))
        case .message(let name) where depth < 3 && !zero:
            w.write(number, message: randomMessage(name, &rng, depth: depth + 1))
        case .message:
            w.write(number, message: [])
        default:
            Issue.record("the test has no generator for \(type)")
        }
    }

    func writeRepeated(_ number: Int, _ type: ProtoFieldType, _ w: inout ProtoWriter, _ rng: inout SplitMix64, depth: Int) {
        let count = Int(rng.next() % 4)
        switch type {
        case .int32:
            w.writePacked(number, int32s: (0..<count).map { _ in Int32(truncatingIfNeeded: rng.next()) })
        case .int64, .uint64, .uint32, .bool, .enumeration:
            Issue.record("the test has no packed generator for \(type)")
        default:
            for _ in 0..<count { writeElement(number, type, &w, &rng, depth: depth, allowDefault: true) }
        }
    }

    func writeMap(_ number: Int, _ key: ProtoFieldType, _ value: ProtoFieldType, _ w: inout ProtoWriter, _ rng: inout SplitMix64,
                  depth: Int) {
        let count = Int(1 + rng.next() % 3)
        switch key {
        case .string:
            var entries: [String: [UInt8]] = [:]
            for _ in 0..<count { entries[string(&rng, allowEmpty: true)] = mapValue(value, &rng, depth: depth) }
            w.writeMap(number, entries, key: { $0.write(1, string: $1) }, value: { $0.append(raw: $1) })
        case .uint32:
            var entries: [UInt32: [UInt8]] = [:]
            for _ in 0..<count { entries[rng.next() % 5 == 0 ? 0 : UInt32(truncatingIfNeeded: rng.next())] = mapValue(value, &rng, depth: depth) }
            w.writeMap(number, entries, key: { $0.write(1, uint32: $1) }, value: { $0.append(raw: $1) })
        default:
            Issue.record("the test has no generator for map keys of \(key)")
        }
    }

    /// A map entry's value field (number 2), as the codecs write it: scalar defaults left out,
    /// message values always present.
    func mapValue(_ type: ProtoFieldType, _ rng: inout SplitMix64, depth: Int) -> [UInt8] {
        var w = ProtoWriter()
        switch type {
        case .string: w.write(2, string: string(&rng, allowEmpty: true))
        case .int64: w.write(2, int64: rng.next() % 5 == 0 ? 0 : Int64(bitPattern: rng.next()))
        case .message(let name): w.write(2, message: depth < 3 ? randomMessage(name, &rng, depth: depth + 1) : [])
        default: Issue.record("the test has no generator for map values of \(type)")
        }
        return w.bytes
    }

    /// Runs `count` random instances of every message named in `codecs` through its codec.
    /// `codecs` must cover exactly the messages of `files` (names as in the schema).
    func check(files: [ProtoFileSchema], codecs: [String: CodecProbe], seed: UInt64, count: Int = 200) throws {
        let names = Set(files.flatMap(\.messages).map(\.name))
        #expect(Set(codecs.keys) == names, "codecs missing: \(names.subtracting(codecs.keys)), extra: \(Set(codecs.keys).subtracting(names))")
        var rng = SplitMix64(seed: seed)
        for name in names.sorted() {
            let codec = try #require(codecs[name])
            for _ in 0..<count {
                let bytes = randomMessage(name, &rng)
                let (again, nothingUnknown) = try codec(bytes)
                #expect(again == bytes, "\(name) did not round-trip")
                #expect(nothingUnknown, "\(name) left a schema field unknown")
                if again != bytes || !nothingUnknown { return }
            }
        }
    }
}

extension ProtoWriter {
    /// Already-encoded fields, appended as they are.
    mutating func append(raw: [UInt8]) {
        var fields = UnknownFields()
        fields.bytes = raw
        append(fields)
    }
}
