// Tests of the strict JSON rules of spec/04 §4 and the writer's escaping.
import Testing
@testable import TokMeshCore

@Suite struct JSONTests {
    func parse(_ s: String) throws -> JSONValue { try JSONParser.parse(Array(s.utf8)) }

    @Test func roundTrip() throws {
        let text = #"{"a":1,"b":[true,false,null],"c":"x\"y\\z\n","d":-2.5,"e":{"f":"é😀"}}"#
        let value = try parse(text)
        #expect(JSONWriter.string(value) == #"{"a":1,"b":[true,false,null],"c":"x\"y\\z\n","d":-2.5,"e":{"f":"é😀"}}"#)
        #expect(try parse(#""\u00e9\ud83d\ude00""#) == .string("é😀"))
    }

    @Test("duplicate keys, trailing data, bad numbers and deep nesting are refused")
    func strictness() {
        for bad in [#"{"a":1,"a":2}"#, #"{"a":1} x"#, "01", "1.", "-", #"{"a":}"#, "[1,]", #""\ud800""#, "\"a\u{01}\"", "nul", "1e400"] {
            #expect(throws: JSONParseError.self, "\(bad)") { try parse(bad) }
        }
        let deep = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        #expect(throws: JSONParseError.self) { try parse(deep) }
        let ok = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        #expect((try? parse(ok)) != nil)
    }

    @Test("integers stay exact; out-of-int64 numbers become doubles")
    func numbers() throws {
        #expect(try parse("9223372036854775807") == .int(Int64.max))
        #expect(try parse("9223372036854775808") == .double(9223372036854775808))
        #expect(try parse("1.0") == .double(1))
    }

    @Test("JSONBody: unknown fields and wrong types are TM-SYS-4000, null is absent")
    func body() throws {
        #expect(throws: TokMeshError.self) { try JSONBody(bytes: Array(#"{"x":1}"#.utf8), allowed: ["a"]) }
        let b = try JSONBody(bytes: Array(#"{"a":null,"n":1.5,"s":"v"}"#.utf8), allowed: ["a", "n", "s"])
        #expect(try b.string("a") == nil)
        do {
            _ = try b.int("n")
            Issue.record("a non-integral number must be refused")
        } catch {
            #expect(error.code == .sysMalformed && error.details["field"] == .string("n"))
        }
        #expect(try JSONBody(bytes: [], allowed: []).object.isEmpty)
        #expect(throws: TokMeshError.self) { try JSONBody(bytes: Array("[1]".utf8), allowed: []) }
    }
}

@Suite struct SessionJSONTests {
    @Test("the direct writer renders the same bytes as the JSONValue path")
    func directWriterMatches() {
        var s = Session(id: "tmss-01m8dj4p4h417wasvr8hvkxq62", userID: "al\"ice\u{1}", tokenHash: "tmth_x", ipAddress: "::1",
                        userAgent: "ua\\1", deviceID: "d", createdBy: "LOCAL_ADMIN", createdAt: 5, expiresAt: 10,
                        data: ["b": "2", "a": "é"])
        s.version = 3
        for now: Int64 in [6, 10] {
            var direct: [UInt8] = []
            s.writeJSON(now: now, into: &direct)
            #expect(direct == JSONWriter.write(s.json(now: now)))
        }
    }
}

@Suite struct JSONCursorTests {
    @Test("the exact-size cursor writes what writeString writes, eight bytes at a time or not")
    func cursorMatchesWriter() {
        var rng = SplitMix64(seed: 11)
        let alphabet: [UInt8] = [0x00, 0x09, 0x0A, 0x0D, 0x1F, 0x20, 0x22, 0x5C, 0x7E, 0x7F, 0x80, 0xC3, 0xA9, 0x41, 0x61]
        for round in 0..<2000 {
            let length = Int(rng.next() % 40)
            let bytes: [UInt8] = (0..<length).map { _ in
                rng.next() % 3 == 0 ? alphabet[Int(rng.next() % UInt64(alphabet.count))] : UInt8(0x20 + rng.next() % 0x5F)
            }
            var expected: [UInt8] = []
            bytes.withUnsafeBytes { JSONWriter.writeString(bytes: $0, into: &expected) }
            let count = bytes.withUnsafeBytes { JSONWriter.escapedCount($0) }
            #expect(count + 2 == expected.count, "round \(round)")
            var out = [UInt8](repeating: 0, count: expected.count)
            out.withUnsafeMutableBytes { raw in
                var cursor = JSONWriter.Cursor(raw)
                bytes.withUnsafeBytes { cursor.string($0) }
                #expect(cursor.offset == expected.count)
            }
            #expect(out == expected, "round \(round)")
        }
        for value: Int64 in [0, 9, 10, -1, -10, 1_795_790_987_481, .max, .min] {
            var out = [UInt8](repeating: 0, count: JSONWriter.decimalCount(value))
            out.withUnsafeMutableBytes { raw in
                var cursor = JSONWriter.Cursor(raw)
                cursor.decimal(value)
            }
            #expect(String(decoding: out, as: UTF8.self) == String(value))
        }
    }
}
