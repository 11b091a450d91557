// Codec tests for `TokMeshV1`: seeded random messages are written field by field from the
// schema table (the one the drift test ties to the .proto), decoded by the hand-written codec
// and re-encoded; the bytes must come back identical with nothing left unknown, so a codec that
// misses a field, or uses another number or type than the table, fails. Unknown fields survive.
import Testing
@testable import TokMeshProto

@Suite struct TokMeshV1CodecTests {
    /// decode → (re-encoded bytes, unknown fields empty) for every message of the file.
    static let codecs: [String: @Sendable ([UInt8]) throws -> ([UInt8], Bool)] = {
        func entry<M: ProtoMessage>(_ type: M.Type) -> (String, @Sendable ([UInt8]) throws -> ([UInt8], Bool)) {
            (M.protoName, { bytes in
                let m = try M(serializedBytes: bytes)
                return (m.serializedBytes(), m.unknownFields.isEmpty)
            })
        }
        return Dictionary(uniqueKeysWithValues: [
            entry(TokMeshV1.Session.self), entry(TokMeshV1.CreateSessionRequest.self), entry(TokMeshV1.CreateSessionResponse.self),
            entry(TokMeshV1.GetSessionRequest.self), entry(TokMeshV1.GetSessionResponse.self), entry(TokMeshV1.ValidateTokenRequest.self),
            entry(TokMeshV1.ValidateTokenResponse.self), entry(TokMeshV1.TouchSessionRequest.self), entry(TokMeshV1.TouchSessionResponse.self),
            entry(TokMeshV1.RenewSessionRequest.self), entry(TokMeshV1.RenewSessionResponse.self), entry(TokMeshV1.RevokeSessionRequest.self),
            entry(TokMeshV1.RevokeSessionResponse.self), entry(TokMeshV1.RevokeUserSessionsRequest.self),
            entry(TokMeshV1.RevokeUserSessionsResponse.self), entry(TokMeshV1.ListSessionsRequest.self),
            entry(TokMeshV1.ListSessionsResponse.self), entry(TokMeshV1.Pagination.self), entry(TokMeshV1.ErrorDetail.self),
        ])
    }()

    static let schemas = Dictionary(uniqueKeysWithValues: TokMeshV1Schema.file.messages.map { ($0.name, $0) })

    /// Canonical bytes of a random instance of `name`: fields in number order, defaults left out,
    /// map keys sorted, as the codecs write them.
    static func randomMessage(_ name: String, _ rng: inout SplitMix64, depth: Int = 0) -> [UInt8] {
        var w = ProtoWriter()
        for field in schemas[name]!.fields.sorted(by: { $0.number < $1.number }) where rng.next() % 4 != 0 {
            let count = field.repeated ? Int(rng.next() % 3) : 1
            for _ in 0..<count { write(field.number, field.type, &w, &rng, depth: depth) }
        }
        return w.bytes
    }

    static func randomString(_ rng: inout SplitMix64) -> String {
        String((0..<Int(1 + rng.next() % 12)).map { _ in Character(Unicode.Scalar(UInt32(0x21 + rng.next() % 0x500))!) })
    }

    static func write(_ number: Int, _ type: ProtoFieldType, _ w: inout ProtoWriter, _ rng: inout SplitMix64, depth: Int) {
        switch type {
        case .string: w.write(number, string: randomString(&rng))
        case .int64: w.write(number, int64: Int64(bitPattern: rng.next() | 1))
        case .uint64: w.write(number, uint64: rng.next() | 1)
        case .uint32: w.write(number, uint32: UInt32(truncatingIfNeeded: rng.next()) | 1)
        case .bool: w.write(number, bool: true)
        case .map(.string, .string):
            var map: [String: String] = [:]
            for _ in 0..<Int(1 + rng.next() % 3) { map[randomString(&rng)] = randomString(&rng) }
            w.write(number, stringMap: map)
        case .message(let name) where depth < 3:
            w.write(number, message: randomMessage(name, &rng, depth: depth + 1))
        case .message:
            w.write(number, message: [])
        default:
            Issue.record("the test has no generator for \(type)")
        }
    }

    @Test("every message has a codec, and 200 random instances of each round-trip byte for byte")
    func roundTrips() throws {
        #expect(Set(Self.codecs.keys) == Set(Self.schemas.keys))
        var rng = SplitMix64(seed: 0x5E55)
        for name in Self.schemas.keys.sorted() {
            let codec = try #require(Self.codecs[name])
            for _ in 0..<200 {
                let bytes = Self.randomMessage(name, &rng)
                let (again, nothingUnknown) = try codec(bytes)
                #expect(again == bytes, "\(name) did not round-trip")
                #expect(nothingUnknown, "\(name) left a schema field unknown")
            }
        }
    }

    @Test("fields from a newer schema survive a decode and re-encode")
    func unknownFieldsSurvive() throws {
        var s = TokMeshV1.Session()
        s.id = "tmss-x"
        s.data = ["b": "2", "a": "1"]
        var w = ProtoWriter()
        s.encode(into: &w)
        w.write(40, string: "new field")
        w.write(41, uint64: 7)
        let decoded = try TokMeshV1.Session(serializedBytes: w.bytes)
        #expect(decoded.id == "tmss-x" && decoded.data == ["a": "1", "b": "2"] && !decoded.unknownFields.isEmpty)
        #expect(decoded.serializedBytes() == w.bytes)
        var response = TokMeshV1.ValidateTokenResponse()
        response.valid = true
        response.session = decoded
        #expect(try TokMeshV1.ValidateTokenResponse(serializedBytes: response.serializedBytes()) == response)
        #expect(throws: ProtoDecodingError.self) { try TokMeshV1.Session(serializedBytes: [0x08, 0x01]) }  // id as a varint
    }
}
