// Tests of the protobuf wire runtime (spec/06 §4): known encodings from the protobuf
// documentation, round trips over seeded random values, packed and unpacked repeated fields,
// maps, unknown-field preservation, and every malformed input rejected without a trap.
import Testing
import TokMeshCore
@testable import TokMeshProto

@Suite struct ProtoWireTests {
    @Test("encodings match the protobuf documentation's examples")
    func knownEncodings() {
        var w = ProtoWriter()
        w.write(1, int64: 150)
        #expect(w.bytes == [0x08, 0x96, 0x01])
        w = ProtoWriter()
        w.write(2, string: "testing")
        #expect(w.bytes == [0x12, 0x07] + Array("testing".utf8))
        w = ProtoWriter()
        w.write(1, int32: -2)  // sign-extended to ten bytes
        #expect(w.bytes == [0x08, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        w = ProtoWriter()
        w.write(1, sint64: -2)
        #expect(w.bytes == [0x08, 0x03])
        w = ProtoWriter()
        w.writePacked(4, varints: [3, 270, 86942])
        #expect(w.bytes == [0x22, 0x06, 0x03, 0x8E, 0x02, 0x9E, 0xA7, 0x05])
        w = ProtoWriter()
        w.write(1, int64: 0)
        w.write(2, string: "")
        w.write(3, bool: false)
        #expect(w.bytes.isEmpty, "proto3 defaults are not written")
        #expect(ProtoWriter.zigzag(Int64.min) == UInt64.max && ProtoWriter.unzigzag(UInt64.max) == Int64.min)
    }

    @Test("seeded random values of every scalar kind round-trip")
    func roundTrip() throws {
        var rng = SplitMix64(seed: 0x7E57)
        for _ in 0..<2000 {
            let i64 = Int64(bitPattern: rng.next()), u64 = rng.next(), i32 = Int32(truncatingIfNeeded: rng.next())
            let d = Double(bitPattern: rng.next()), u32 = UInt32(truncatingIfNeeded: rng.next())
            let s = String((0..<Int(rng.next() % 20)).map { _ in Character(Unicode.Scalar(UInt32(0x20 + rng.next() % 0x2000))!) })
            let blob = (0..<Int(rng.next() % 40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var w = ProtoWriter()
            w.write(1, int64: i64)
            w.write(2, uint64: u64)
            w.write(3, int32: i32)
            w.write(4, sint64: i64)
            w.write(5, double: d)
            w.write(6, fixed32: u32)
            w.write(7, string: s)
            w.write(8, bytes: blob)
            w.write(9, bool: true)
            var r = try ProtoReader(w.bytes)
            var got: (Int64, UInt64, Int32, Int64, UInt64, UInt32, String, [UInt8], Bool) = (0, 0, 0, 0, 0, 0, "", [], false)
            var unknown = UnknownFields()
            while let (n, t) = try r.nextField() {
                switch n {
                case 1: got.0 = try r.int64(n, t)
                case 2: got.1 = try r.uint64(n, t)
                case 3: got.2 = try r.int32(n, t)
                case 4: got.3 = try r.sint64(n, t)
                case 5: got.4 = try r.double(n, t).bitPattern
                case 6:
                    guard t == .fixed32 else { Issue.record("fixed32 wire type"); return }
                    got.5 = try r.readFixed32()
                case 7: got.6 = try r.string(n, t)
                case 8: got.7 = try r.bytes(n, t)
                case 9: got.8 = try r.bool(n, t)
                default: try r.skip(t, into: &unknown)
                }
            }
            #expect(got.0 == i64 && got.1 == u64 && got.2 == i32 && got.3 == i64 && got.4 == d.bitPattern && got.5 == u32)
            #expect(got.6 == s && got.7 == blob && got.8 && unknown.isEmpty)
        }
    }

    @Test("repeated varints are read packed and unpacked; maps keep the last duplicate; unknown fields survive")
    func repeatedMapsUnknown() throws {
        var w = ProtoWriter()
        w.writePacked(1, varints: [1, 2, 300])
        w.writeTag(1, .varint)
        w.writeVarint(4)
        w.write(2, stringMap: ["b": "2", "a": "1"])
        w.write(2, stringMap: ["a": "again"])
        w.write(99, string: "from a newer schema")
        w.write(100, fixed64: 7)
        var r = try ProtoReader(w.bytes)
        var values: [UInt64] = []
        var map: [String: String] = [:]
        var unknown = UnknownFields()
        while let (n, t) = try r.nextField() {
            switch n {
            case 1: try r.appendVarints(n, t, to: &values)
            case 2:
                let (k, v) = try r.stringMapEntry(n, t)
                map[k] = v
            default: try r.skip(t, into: &unknown)
            }
        }
        #expect(values == [1, 2, 300, 4])
        #expect(map == ["a": "again", "b": "2"])
        var reference = ProtoWriter()
        reference.write(99, string: "from a newer schema")
        reference.write(100, fixed64: 7)
        #expect(unknown.bytes == reference.bytes)
        // Maps are written sorted by key.
        var sorted = ProtoWriter()
        sorted.write(2, stringMap: ["b": "2", "a": "1"])
        var expected = ProtoWriter()
        expected.write(2, message: [0x0A, 0x01, 0x61, 0x12, 0x01, 0x31])
        expected.write(2, message: [0x0A, 0x01, 0x62, 0x12, 0x01, 0x32])
        #expect(sorted.bytes == expected.bytes)
    }

    func firstError(_ bytes: [UInt8], string field: Int = 1) -> ProtoDecodingError.Kind? {
        do {
            var r = try ProtoReader(bytes)
            var unknown = UnknownFields()
            while let (n, t) = try r.nextField() {
                if n == field { _ = try r.string(n, t) } else { try r.skip(t, into: &unknown) }
            }
            return nil
        } catch {
            return error.kind
        }
    }

    @Test("malformed input is an error, never a trap")
    func malformed() throws {
        #expect(firstError([0x10]) == .truncated)
        #expect(firstError([0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02]) == .malformedVarint)
        #expect(firstError([0x00, 0x01]) == .invalidFieldNumber(0))
        #expect(firstError([0xC0, 0xA3, 0x09, 0x01]) == .invalidFieldNumber(19_000))
        #expect(firstError([0x0B]) == .invalidWireType(3))
        #expect(firstError([0x08, 0x01]) == .wrongWireType(field: 1, expected: .lengthDelimited, got: .varint))
        #expect(firstError([0x0A, 0x05, 0x61]) == .truncated)
        #expect(firstError([0x0A, 0x02, 0xC3, 0x28]) == .invalidUTF8(field: 1))
        #expect(firstError([0x11, 0x01, 0x02]) == .truncated)
        // Nesting: 65 levels of a message inside field 1.
        var inner: [UInt8] = []
        for _ in 0..<70 {
            var w = ProtoWriter()
            w.write(1, message: inner)
            inner = w.bytes
        }
        func depthOf(_ r: inout ProtoReader) throws(ProtoDecodingError) -> Int {
            var deepest = r.depth
            while let (n, t) = try r.nextField() {
                var child = try r.message(n, t)
                deepest = max(deepest, try depthOf(&child))
            }
            return deepest
        }
        var top = try ProtoReader(inner)
        #expect(throws: ProtoDecodingError.self) { try depthOf(&top) }
        // Seeded random bytes never trap.
        var rng = SplitMix64(seed: 42)
        for _ in 0..<5000 {
            let junk = (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            _ = firstError(junk)
        }
    }
}

