// Codec tests for `TokMeshV1`: the schema-driven random round trip (SchemaRoundTrip) over every
// message of session.proto, and unknown fields surviving a decode and re-encode.
import Testing
@testable import TokMeshProto

@Suite struct TokMeshV1CodecTests {
    static let codecs = codecProbes([
        TokMeshV1.Session.self, TokMeshV1.CreateSessionRequest.self, TokMeshV1.CreateSessionResponse.self,
        TokMeshV1.GetSessionRequest.self, TokMeshV1.GetSessionResponse.self, TokMeshV1.ValidateTokenRequest.self,
        TokMeshV1.ValidateTokenResponse.self, TokMeshV1.TouchSessionRequest.self, TokMeshV1.TouchSessionResponse.self,
        TokMeshV1.RenewSessionRequest.self, TokMeshV1.RenewSessionResponse.self, TokMeshV1.RevokeSessionRequest.self,
        TokMeshV1.RevokeSessionResponse.self, TokMeshV1.RevokeUserSessionsRequest.self, TokMeshV1.RevokeUserSessionsResponse.self,
        TokMeshV1.ListSessionsRequest.self, TokMeshV1.ListSessionsResponse.self, TokMeshV1.Pagination.self, TokMeshV1.ErrorDetail.self,
    ])

    @Test("every message has a codec, and 200 random instances of each round-trip byte for byte")
    func roundTrips() throws {
        try SchemaRoundTrip([TokMeshV1Schema.file]).check(files: [TokMeshV1Schema.file], codecs: Self.codecs, seed: 0x5E55)
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
