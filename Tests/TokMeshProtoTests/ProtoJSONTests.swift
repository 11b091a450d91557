// Tests for the schema-driven proto3 JSON mapping (`ProtoJSONCodec`): exact JSON for small
// TokMeshV1 messages built with the hand-written codecs, byte-exact round trips binary → JSON →
// binary (seeded random messages of every file in `ProtoFiles.all`), name variants and number
// forms on input, and the error paths (wrong JSON types, unknown and duplicate fields, ranges,
// base64, wire types, depth). A small test schema covers enums, bytes, packed and unpacked
// repeated scalars, int/bool-keyed maps, floats, sint/fixed types and oneofs.
import Testing
import TokMeshCore
@testable import TokMeshProto

@Suite struct ProtoJSONTests {
    static let sample = ProtoFileSchema(path: "test/sample.proto", package: "test", messages: [
        ProtoMessageSchema("test.Sample", [
            ProtoField("color", 1, .enumeration("test.Color")),
            ProtoField("colors", 2, .enumeration("test.Color"), repeated: true),
            ProtoField("blob", 3, .bytes),
            ProtoField("numbers", 4, .int32, repeated: true),
            ProtoField("names", 5, .string, repeated: true),
            ProtoField("small", 6, .int32),
            ProtoField("tiny", 7, .sint32),
            ProtoField("ratio", 8, .float),
            ProtoField("score", 9, .double),
            ProtoField("big", 10, .fixed64),
            ProtoField("delta", 11, .sfixed64),
            ProtoField("counts", 12, .map(key: .int32, value: .uint64)),
            ProtoField("flags", 13, .map(key: .bool, value: .message("test.Sample"))),
            ProtoField("child", 14, .message("test.Sample")),
            ProtoField("on", 15, .bool),
            ProtoField("u32", 16, .uint32),
            ProtoField("f32", 17, .sfixed32),
            ProtoField("pick_name", 18, .string, oneof: "pick"),
            ProtoField("pick_number", 19, .int64, oneof: "pick"),
        ]),
    ], enums: [ProtoEnumSchema("test.Color", [("COLOR_UNSPECIFIED", 0), ("COLOR_RED", 1), ("COLOR_BLUE", 2)])], services: [])

    static let codec = ProtoJSONCodec(registry: ProtoSchemaRegistry(ProtoFiles.all + [sample]))

    static func json(_ bytes: [UInt8], _ message: String) throws -> String {
        String(decoding: try codec.binaryToJSON(bytes, message: message), as: UTF8.self)
    }

    static func binary(_ json: String, _ message: String) throws -> [UInt8] {
        try codec.jsonToBinary(Array(json.utf8), message: message)
    }

    /// The error converting `json`, or nil when it converts.
    static func failure(_ json: String, _ message: String) -> ProtoJSONError? {
        do {
            _ = try codec.jsonToBinary(Array(json.utf8), message: message)
            return nil
        } catch {
            return error
        }
    }

    static func binaryFailure(_ bytes: [UInt8], _ message: String) -> ProtoJSONError? {
        do {
            _ = try codec.binaryToJSON(bytes, message: message)
            return nil
        } catch {
            return error
        }
    }

    static let sampleName = "test.Sample"

    @Test("a small session converts to exact JSON and back to the same bytes")
    func exactSession() throws {
        var session = TokMeshV1.Session()
        session.id = "s1"
        session.userId = "u1"
        session.createdAt = -5
        session.data = ["b": "2", "a": "1"]
        session.version = .max
        var response = TokMeshV1.GetSessionResponse()
        response.session = session
        let bytes = response.serializedBytes()
        let text = try Self.json(bytes, TokMeshV1.GetSessionResponse.protoName)
        #expect(text == #"{"session":{"id":"s1","userId":"u1","createdAt":"-5","data":{"a":"1","b":"2"},"version":"18446744073709551615"}}"#)
        let back = try Self.binary(text, TokMeshV1.GetSessionResponse.protoName)
        #expect(back == bytes)
        #expect(try TokMeshV1.GetSessionResponse(serializedBytes: back) == response)
        // An empty but present message is kept; an absent one is left out.
        #expect(try Self.json(TokMeshV1.GetSessionResponse().serializedBytes(), TokMeshV1.GetSessionResponse.protoName) == "{}")
        response.session = TokMeshV1.Session()
        #expect(try Self.json(response.serializedBytes(), TokMeshV1.GetSessionResponse.protoName) == #"{"session":{}}"#)
        #expect(try Self.binary(#"{"session":{}}"#, TokMeshV1.GetSessionResponse.protoName) == [0x0A, 0x00])
    }

    @Test("a list response with items, maps and extreme 64-bit values round-trips")
    func listSessions() throws {
        var list = TokMeshV1.ListSessionsResponse()
        for i in 0..<3 {
            var s = TokMeshV1.Session()
            s.id = "tmss-\(i)"
            s.userId = "user \"\(i)\"\n"
            s.data = ["k\(i)": "v\(i)", "é": "ü", "": "empty key"]
            s.createdAt = i == 1 ? .min : Int64(i) * 1_700_000_000_000
            s.expiresAt = .max
            s.version = i == 2 ? .max : UInt64(i)
            s.status = i == 0 ? "" : "active"
            list.items.append(s)
        }
        var pagination = TokMeshV1.Pagination()
        pagination.page = 2
        pagination.size = 50
        pagination.total = UInt64(Int64.max) + 1
        list.pagination = pagination
        let name = TokMeshV1.ListSessionsResponse.protoName
        let bytes = list.serializedBytes()
        let value = try Self.codec.binaryToJSONValue(bytes, message: name)
        let items = try #require(value.objectValue?["items"]?.arrayValue)
        #expect(items.count == 3)
        #expect(items[1].objectValue?["createdAt"] == "-9223372036854775808")
        #expect(items[2].objectValue?["version"] == "18446744073709551615")
        #expect(items[0].objectValue?["version"] == nil && items[0].objectValue?["status"] == nil)
        #expect(items[0].objectValue?["data"]?.objectValue?[""] == "empty key")
        #expect(value.objectValue?["pagination"] == .object(["page": 2, "size": 50, "total": "9223372036854775808"]))
        let back = try Self.codec.jsonToBinary(try Self.codec.binaryToJSON(bytes, message: name), message: name)
        #expect(back == bytes)
        #expect(try TokMeshV1.ListSessionsResponse(serializedBytes: back) == list)
    }

    /// Canonical proto3 bytes of a random `name` (what the writer must produce): fields in number
    /// order, non-default singular values, packed scalars, map entries sorted by key with default
    /// keys and values left out, at most one member per oneof (kept even when default).
    static func random(_ name: String, _ rng: inout SplitMix64, depth: Int = 0) -> [UInt8] {
        func put(_ number: Int, _ v: WireValue, _ w: inout ProtoWriter, always: Bool) {
            let zero: Bool = switch v {
            case .varint(let x), .fixed64(let x): x == 0
            case .fixed32(let x): x == 0
            case .bytes(let b): b.isEmpty
            case .message: false
            }
            guard always || !zero else { return }
            switch v {
            case .varint: w.writeTag(number, .varint)
            case .fixed32: w.writeTag(number, .fixed32)
            case .fixed64: w.writeTag(number, .fixed64)
            case .bytes, .message: w.writeTag(number, .lengthDelimited)
            }
            payload(v, &w)
        }
        func payload(_ v: WireValue, _ w: inout ProtoWriter) {
            switch v {
            case .varint(let x): w.writeVarint(x)
            case .fixed32(let x): w.writeFixed32(x)
            case .fixed64(let x): w.writeFixed64(x)
            case .bytes(let b), .message(let b): w.writeLengthDelimited(b)
            }
        }
        func value(_ type: ProtoFieldType, _ rng: inout SplitMix64) -> WireValue {
            let r = rng.next()
            switch type {
            case .string: return .bytes(Array(String((0..<Int(r % 6)).map { _ in Character(Unicode.Scalar(UInt32(0x20 + rng.next() % 0x500))!) }).utf8))
            case .bytes: return .bytes((0..<Int(r % 6)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            case .bool: return .varint(r % 2)
            case .int32, .enumeration: return .varint(UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: r) >> Int32(r % 31))))
            case .sint32: return .varint(UInt64(UInt32(truncatingIfNeeded: r)))
            case .uint32: return .varint(UInt64(UInt32(truncatingIfNeeded: r)))
            case .int64, .uint64, .sint64: return .varint(r >> (r % 64))
            case .fixed32, .sfixed32: return .fixed32(UInt32(truncatingIfNeeded: r))
            case .fixed64, .sfixed64: return .fixed64(r)
            case .float: return .fixed32(Float(bitPattern: UInt32(truncatingIfNeeded: r)).isFinite ? UInt32(truncatingIfNeeded: r) : 0x3F80_0000)
            case .double: return .fixed64(Double(bitPattern: r).isFinite ? r : 0x3FF0_0000_0000_0000)
            case .message(let name): return .message(depth < 3 ? random(name, &rng, depth: depth + 1) : [])
            case .map: return .bytes([])
            }
        }
        var w = ProtoWriter()
        var oneofs = Set<String>()
        for field in codec.registry.message(name)!.fields.sorted(by: { $0.number < $1.number }) where rng.next() % 3 != 0 {
            if let oneof = field.oneof, !oneofs.insert(oneof).inserted { continue }
            if case .map(let keyType, let valueType) = field.type {
                var entries: [MapKey: [UInt8]] = [:]
                for _ in 0..<(1 + rng.next() % 3) {
                    let key = value(keyType, &rng)
                    let sortKey: MapKey = switch (keyType, key) {
                    case (.bool, .varint(let x)): .bool(x != 0)
                    case (.string, .bytes(let b)): .string(String(decoding: b, as: UTF8.self))
                    default: ProtoJSONCodec.integer(key, keyType)!
                    }
                    var entry = ProtoWriter()
                    put(1, key, &entry, always: false)
                    put(2, value(valueType, &rng), &entry, always: false)
                    entries[sortKey] = entry.bytes
                }
                for key in entries.keys.sorted() { put(field.number, .bytes(entries[key]!), &w, always: true) }
            } else if field.repeated {
                let items = (0..<rng.next() % 4).map { _ in value(field.type, &rng) }
                if ProtoJSONCodec.wireType(field.type) == .lengthDelimited {
                    for item in items { put(field.number, item, &w, always: true) }
                } else if !items.isEmpty {
                    var packed = ProtoWriter()
                    for item in items { payload(item, &packed) }
                    put(field.number, .bytes(packed.bytes), &w, always: true)
                }
            } else {
                put(field.number, value(field.type, &rng), &w, always: field.oneof != nil)
            }
        }
        return w.bytes
    }

    @Test("random messages of every schema file go binary → JSON → identical binary")
    func randomRoundTrips() throws {
        var rng = SplitMix64(seed: 0x150A)
        for message in (ProtoFiles.all + [Self.sample]).flatMap(\.messages) {
            for _ in 0..<150 {
                let bytes = Self.random(message.name, &rng)
                let json = try Self.codec.binaryToJSON(bytes, message: message.name)
                #expect(try Self.codec.jsonToBinary(json, message: message.name) == bytes, "\(message.name)")
            }
        }
        // The hand-written codecs read the same bytes back to the same message.
        for _ in 0..<100 {
            let bytes = Self.random(TokMeshV1.ListSessionsResponse.protoName, &rng)
            let json = try Self.codec.binaryToJSON(bytes, message: TokMeshV1.ListSessionsResponse.protoName)
            let back = try Self.codec.jsonToBinary(json, message: TokMeshV1.ListSessionsResponse.protoName)
            #expect(try TokMeshV1.ListSessionsResponse(serializedBytes: back) == TokMeshV1.ListSessionsResponse(serializedBytes: bytes))
        }
    }

    @Test("input accepts JSON and proto names and 64-bit integers as strings or numbers")
    func nameAndNumberVariants() throws {
        var request = TokMeshV1.CreateSessionRequest()
        request.userId = "u"
        request.ttlSeconds = 3600
        let expected = request.serializedBytes()
        let name = TokMeshV1.CreateSessionRequest.protoName
        for text in [#"{"user_id":"u","ttlSeconds":"3600"}"#, #"{"userId":"u","ttl_seconds":3600}"#,
                     #"{"userId":"u","ttlSeconds":3.6e3}"#, #"{"userId":"u","ttlSeconds":"3.6e3"}"#,
                     #"{"userId":"u","ttlSeconds":"360000e-2","deviceId":null,"data":null}"#] {
            #expect(try Self.binary(text, name) == expected, "\(text)")
        }
        var renew = TokMeshV1.RenewSessionRequest()
        renew.expectedVersion = .max
        renew.ttlSeconds = .min
        let renewName = TokMeshV1.RenewSessionRequest.protoName
        #expect(try Self.binary(#"{"ttlSeconds":"-9223372036854775808","expectedVersion":"18446744073709551615"}"#, renewName)
            == renew.serializedBytes())
        #expect(try Self.binary(#"{"ttlSeconds":-9223372036854775808,"expectedVersion":"18446744073709551615"}"#, renewName)
            == renew.serializedBytes())
        #expect(try Self.binary(#"{"ttlSeconds":"-0","expectedVersion":0}"#, renewName) == [])
    }

    @Test("wrong types, unknown or repeated fields and bad numbers are errors naming the field")
    func jsonErrors() throws {
        let create = TokMeshV1.CreateSessionRequest.protoName
        #expect(Self.failure(#"{"userId":5}"#, create)?.description == "userId: expected a string")
        #expect(Self.failure(#"{"userId":"a","user_id":"b"}"#, create)?.description == "userId: field given twice")
        let unknown = Self.failure(#"{"userId":"a","nope":1}"#, create)
        #expect(unknown?.kind == .unknownField && unknown?.path == "nope")
        #expect(Self.failure(#"{"data":["a"]}"#, create)?.description == "data: expected an object")
        #expect(Self.failure(#"[]"#, create)?.description == "expected an object")
        #expect(Self.failure(#"{"userId":"a","userId":"b"}"#, create)?.kind == .syntax)
        #expect(Self.failure(#"{"userId":"#, create)?.kind == .syntax)
        #expect(Self.failure("{}", "tokmesh.v1.Nope")?.kind == .unknownType)

        let list = TokMeshV1.ListSessionsResponse.protoName
        #expect(Self.failure(#"{"items":[{},{},{"data":{"k":1}}]}"#, list)?.description == #"items[2].data["k"]: expected a string"#)
        #expect(Self.failure(#"{"items":[{},null]}"#, list)?.description == "items[1]: expected an object")
        #expect(Self.failure(#"{"items":{}}"#, list)?.description == "items: expected an array")
        #expect(Self.failure(#"{"items":[{"userID":"x"}]}"#, list)?.description == "items[0].userID: unknown field")
        #expect(Self.failure(#"{"pagination":{"page":-1}}"#, list)?.description == "pagination.page: out of range for uint32")
        #expect(Self.failure(#"{"pagination":{"total":"-1"}}"#, list)?.description == "pagination.total: out of range for uint64")
        #expect(Self.failure(#"{"pagination":{"total":true}}"#, list)?.description == "pagination.total: expected an integer")

        let renew = TokMeshV1.RenewSessionRequest.protoName
        #expect(Self.failure(#"{"ttlSeconds":"9223372036854775808"}"#, renew)?.description == "ttlSeconds: out of range for int64")
        #expect(Self.failure(#"{"ttlSeconds":"1.5"}"#, renew)?.description == "ttlSeconds: expected an integer")
        #expect(Self.failure(#"{"ttlSeconds":1.5}"#, renew)?.description == "ttlSeconds: expected an integer")
        #expect(Self.failure(#"{"ttlSeconds":" 1"}"#, renew)?.description == "ttlSeconds: expected an integer")
        #expect(Self.failure(#"{"ttlSeconds":"0x10"}"#, renew)?.description == "ttlSeconds: expected an integer")
        #expect(Self.failure(#"{"expectedVersion":"1e20"}"#, renew)?.description == "expectedVersion: integer out of range")
        // Beyond 2^53 a JSON number has already lost digits: it must come as a string.
        #expect(Self.failure(#"{"expectedVersion":18446744073709551615}"#, renew)?.path == "expectedVersion")
        #expect(Self.failure(#"{"sync":1}"#, TokMeshV1.RevokeSessionRequest.protoName)?.description == "sync: expected true or false")

        let s = Self.sampleName
        #expect(Self.failure(#"{"small":2147483648}"#, s)?.description == "small: out of range for int32")
        #expect(Self.failure(#"{"small":"-2147483649"}"#, s)?.description == "small: out of range for int32")
        #expect(Self.failure(#"{"u32":4294967296}"#, s)?.description == "u32: out of range for uint32")
        #expect(Self.failure(#"{"blob":"!!!!"}"#, s)?.description == "blob: invalid base64")
        #expect(Self.failure(#"{"blob":"abcde"}"#, s)?.description == "blob: invalid base64")
        #expect(Self.failure(#"{"blob":"ab=c"}"#, s)?.description == "blob: invalid base64")
        #expect(Self.failure(#"{"blob":5}"#, s)?.description == "blob: expected a base64 string")
        #expect(Self.failure(#"{"ratio":1e39}"#, s)?.description == "ratio: out of range for float")
        #expect(Self.failure(#"{"score":"nan"}"#, s)?.description == "score: expected a number")
        #expect(Self.failure(#"{"score":"1e400"}"#, s)?.description == "score: out of range for double")
        #expect(Self.failure(#"{"numbers":[1,"x"]}"#, s)?.description == "numbers[1]: expected an integer")
        #expect(Self.failure(#"{"child":{"child":{"names":[7]}}}"#, s)?.description == "child.child.names[0]: expected a string")
    }

    @Test("enums are written by name (unknown numbers as numbers) and read by name or number")
    func enums() throws {
        let s = Self.sampleName
        #expect(try Self.json([0x08, 0x02], s) == #"{"color":"COLOR_BLUE"}"#)
        #expect(try Self.json([0x08, 0x07], s) == #"{"color":7}"#)
        #expect(try Self.json([0x08, 0x00], s) == "{}")
        #expect(try Self.binary(#"{"color":"COLOR_RED"}"#, s) == [0x08, 0x01])
        #expect(try Self.binary(#"{"color":1}"#, s) == [0x08, 0x01])
        #expect(try Self.binary(#"{"color":"COLOR_UNSPECIFIED"}"#, s) == [])
        let negative = try Self.binary(#"{"color":-1}"#, s)
        #expect(negative == [0x08] + Array(repeating: 0xFF, count: 9) + [0x01])
        #expect(try Self.json(negative, s) == #"{"color":-1}"#)
        #expect(Self.failure(#"{"color":"COLOR_GREEN"}"#, s)?.description == #"color: unknown value "COLOR_GREEN" of enum test.Color"#)
        #expect(Self.failure(#"{"color":"1"}"#, s)?.kind == .invalidValue)
        #expect(Self.failure(#"{"color":true}"#, s)?.description == "color: expected an enum name or number")
        // Repeated enums are packed, and unknown numbers survive.
        let colors = try Self.binary(#"{"colors":["COLOR_RED",2,9,0]}"#, s)
        #expect(colors == [0x12, 0x04, 0x01, 0x02, 0x09, 0x00])
        #expect(try Self.json(colors, s) == #"{"colors":["COLOR_RED","COLOR_BLUE",9,"COLOR_UNSPECIFIED"]}"#)
    }

    @Test("repeated scalars are written packed and read packed or unpacked; strings one per element")
    func repeatedFields() throws {
        let s = Self.sampleName
        let packed = try Self.binary(#"{"numbers":[1,-1,"300"]}"#, s)
        #expect(packed == [0x22, 13, 0x01] + Array(repeating: 0xFF, count: 9) + [0x01, 0xAC, 0x02])
        let unpacked: [UInt8] = [0x20, 0x01, 0x20] + Array(repeating: 0xFF, count: 9) + [0x01, 0x20, 0xAC, 0x02]
        #expect(try Self.json(packed, s) == #"{"numbers":[1,-1,300]}"#)
        #expect(try Self.json(unpacked, s) == #"{"numbers":[1,-1,300]}"#)
        #expect(try Self.json([0x20, 0x05, 0x22, 0x02, 0x06, 0x07], s) == #"{"numbers":[5,6,7]}"#)
        #expect(try Self.binary(#"{"numbers":[]}"#, s) == [])
        #expect(try Self.binary(#"{"names":["a",""]}"#, s) == [0x2A, 0x01, 0x61, 0x2A, 0x00])
        #expect(try Self.json([0x2A, 0x01, 0x61, 0x2A, 0x00], s) == #"{"names":["a",""]}"#)
        #expect(Self.binaryFailure([0x22, 0x01, 0x80], s)?.kind == .malformedBinary)  // a varint cut off inside a packed run
        #expect(Self.binaryFailure([0x2D, 0x00, 0x00, 0x00, 0x00], s)?.path == "names")  // a string as fixed32
    }

    @Test("scalars: bytes as base64, floats with NaN/Infinity, sint/fixed/bool forms")
    func scalars() throws {
        let s = Self.sampleName
        #expect(try Self.json([0x1A, 0x02, 0xFB, 0xFF], s) == #"{"blob":"+/8="}"#)
        for text in ["+/8=", "+/8", "-_8", "-_8="] { #expect(try Self.binary(#"{"blob":"\#(text)"}"#, s) == [0x1A, 0x02, 0xFB, 0xFF]) }
        #expect(try Self.json([0x1A, 0x03, 0x61, 0x62, 0x63], s) == #"{"blob":"YWJj"}"#)
        #expect(try Self.binary(#"{"blob":""}"#, s) == [])

        #expect(try Self.json(try Self.binary(#"{"ratio":0.1}"#, s), s) == #"{"ratio":0.1}"#)
        #expect(try Self.json(try Self.binary(#"{"score":"2.5","ratio":"-Infinity"}"#, s), s) == #"{"ratio":"-Infinity","score":2.5}"#)
        #expect(try Self.json(try Self.binary(#"{"score":"NaN"}"#, s), s) == #"{"score":"NaN"}"#)
        #expect(try Self.json(try Self.binary(#"{"score":"Infinity"}"#, s), s) == #"{"score":"Infinity"}"#)
        #expect(try Self.json(try Self.binary(#"{"score":3}"#, s), s) == #"{"score":3}"#)
        let tiny = try Self.binary(#"{"score":1e-300}"#, s)
        #expect(try Self.codec.binaryToJSONValue(tiny, message: s) == .object(["score": .double(1e-300)]))
        #expect(try Self.binary(#"{"score":0,"ratio":0.0}"#, s) == [])

        #expect(try Self.binary(#"{"tiny":-2,"on":true,"f32":-1}"#, s) == [0x38, 0x03, 0x78, 0x01, 0x8D, 0x01, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(try Self.json([0x38, 0x03, 0x78, 0x01, 0x8D, 0x01, 0xFF, 0xFF, 0xFF, 0xFF], s) == #"{"tiny":-2,"on":true,"f32":-1}"#)
        let wide = try Self.binary(#"{"big":"18446744073709551615","delta":-2,"u32":"4294967295","small":"7"}"#, s)
        #expect(try Self.json(wide, s) == #"{"small":7,"big":"18446744073709551615","delta":"-2","u32":4294967295}"#)
        #expect(try Self.binary(#"{"on":false,"small":0,"names":null}"#, s) == [])
    }

    @Test("maps: integer and bool keys as strings, sorted numerically, values always present")
    func maps() throws {
        let s = Self.sampleName
        let counts = try Self.binary(#"{"counts":{"10":"5","-1":1,"2":"0"}}"#, s)
        #expect(try Self.json(counts, s) == #"{"counts":{"-1":"1","2":"0","10":"5"}}"#)
        // Entries sorted by numeric key; the zero value is left out of its entry.
        #expect(counts == [0x62, 0x0D, 0x08] + Array(repeating: 0xFF, count: 9) + [0x01, 0x10, 0x01,
                           0x62, 0x02, 0x08, 0x02,
                           0x62, 0x04, 0x08, 0x0A, 0x10, 0x05])
        let flags = try Self.binary(#"{"flags":{"true":{"small":1},"false":{}}}"#, s)
        #expect(try Self.json(flags, s) == #"{"flags":{"false":{},"true":{"small":1}}}"#)
        // A duplicate key on the wire keeps the last entry; a missing key or value is the default.
        #expect(try Self.json([0x62, 0x04, 0x08, 0x01, 0x10, 0x02, 0x62, 0x04, 0x08, 0x01, 0x10, 0x03, 0x62, 0x00], s)
            == #"{"counts":{"0":"0","1":"3"}}"#)
        #expect(Self.failure(#"{"counts":{"x":1}}"#, s)?.description == #"counts["x"]: expected an integer"#)
        #expect(Self.failure(#"{"counts":{"1":1,"1.0":2}}"#, s)?.description == #"counts["1.0"]: map key given twice"#)
        #expect(Self.failure(#"{"counts":{"1":null}}"#, s)?.description == #"counts["1"]: null is not a map value"#)
        #expect(Self.failure(#"{"flags":{"yes":{}}}"#, s)?.description == #"flags["yes"]: expected "true" or "false" as map key"#)
        #expect(Self.failure(#"{"flags":{"true":{"tiny":"x"}}}"#, s)?.description == #"flags["true"].tiny: expected an integer"#)
    }

    @Test("oneof members are kept when default, the last on the wire wins, two in JSON are an error")
    func oneofs() throws {
        let s = Self.sampleName
        #expect(try Self.binary(#"{"pickName":""}"#, s) == [0x92, 0x01, 0x00])
        #expect(try Self.json([0x92, 0x01, 0x00], s) == #"{"pickName":""}"#)
        #expect(try Self.json([0x92, 0x01, 0x01, 0x61, 0x98, 0x01, 0x00], s) == #"{"pickNumber":"0"}"#)
        #expect(try Self.json([0x98, 0x01, 0x05, 0x92, 0x01, 0x01, 0x61], s) == #"{"pickName":"a"}"#)
        #expect(Self.failure(#"{"pickName":"a","pick_number":1}"#, s)?.description == "pickNumber: another member of oneof pick is already set")
        #expect(try Self.binary(#"{"pickName":null,"pick_number":1}"#, s) == [0x98, 0x01, 0x01])
    }

    @Test("binary input: unknown fields dropped, messages merged, wire types and UTF-8 checked")
    func binaryInput() throws {
        var session = TokMeshV1.Session()
        session.id = "x"
        var w = ProtoWriter()
        session.encode(into: &w)
        w.write(40, string: "from a newer schema")
        w.write(41, uint64: 7)
        #expect(try Self.json(w.bytes, TokMeshV1.Session.protoName) == #"{"id":"x"}"#)

        // A message field seen twice is merged.
        let merged: [UInt8] = [0x0A, 0x03, 0x0A, 0x01, 0x61, 0x0A, 0x03, 0x12, 0x01, 0x62]
        #expect(try Self.json(merged, TokMeshV1.GetSessionResponse.protoName) == #"{"session":{"id":"a","userId":"b"}}"#)

        let wrongType = Self.binaryFailure([0x08, 0x01], TokMeshV1.CreateSessionRequest.protoName)
        #expect(wrongType?.kind == .malformedBinary && wrongType?.path == "userId")
        let nested = Self.binaryFailure([0x0A, 0x02, 0x48, 0x01, 0x0A, 0x02, 0x10, 0x01], TokMeshV1.GetSessionResponse.protoName)
        #expect(nested?.kind == .malformedBinary && nested?.path == "session.userId")
        #expect(Self.binaryFailure([0x0A, 0x05, 0x61], TokMeshV1.Session.protoName)?.kind == .malformedBinary)
        #expect(Self.binaryFailure([0x0A, 0x01, 0xFF], TokMeshV1.Session.protoName)?.description == "id: invalid UTF-8")
        #expect(Self.binaryFailure([0x62, 0x03, 0x0A, 0x01, 0xC0], TokMeshV1.Session.protoName)?.kind == .malformedBinary)
    }

    @Test("nesting is bounded in both directions")
    func depth() throws {
        let s = Self.sampleName
        func nestedBinary(_ levels: Int) -> [UInt8] {
            var bytes: [UInt8] = [0x30, 0x01]
            for _ in 0..<levels {
                var w = ProtoWriter()
                w.write(14, message: bytes)
                bytes = w.bytes
            }
            return bytes
        }
        func nestedJSON(_ levels: Int) -> JSONValue {
            var value: JSONValue = .object(["small": 1])
            for _ in 0..<levels { value = .object(["child": value]) }
            return value
        }
        #expect(try Self.codec.jsonToBinary(try Self.codec.binaryToJSONValue(nestedBinary(60), message: s), message: s) == nestedBinary(60))
        #expect(Self.binaryFailure(nestedBinary(70), s)?.kind == .tooDeep)
        #expect(try Self.codec.jsonToBinary(nestedJSON(60), message: s) == nestedBinary(60))
        #expect(throws: ProtoJSONError(.tooDeep, Array(repeating: "child", count: 65).joined(separator: "."), "messages nested deeper than 64")) {
            try Self.codec.jsonToBinary(nestedJSON(70), message: s)
        }
    }
}
