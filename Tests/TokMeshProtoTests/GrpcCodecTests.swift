// Codec tests for the standard gRPC files: `GrpcHealthV1` and `GrpcReflectionV1` against the
// schema tables of health.proto and of both reflection.proto packages (the v1 codecs serve
// v1alpha), by the schema-driven random round trip, plus the behaviours a random round trip
// does not pin down: oneof last-member-wins and merging, oneof members set to "", open enums,
// and the exact bytes of a well-known health answer.
import Testing
@testable import TokMeshProto

@Suite struct GrpcCodecTests {
    static let healthCodecs = codecProbes([
        GrpcHealthV1.HealthCheckRequest.self, GrpcHealthV1.HealthCheckResponse.self, GrpcHealthV1.HealthListRequest.self,
        GrpcHealthV1.HealthListResponse.self,
    ])

    static let reflectionTypes: [any ProtoMessage.Type] = [
        GrpcReflectionV1.ServerReflectionRequest.self, GrpcReflectionV1.ExtensionRequest.self, GrpcReflectionV1.ServerReflectionResponse.self,
        GrpcReflectionV1.FileDescriptorResponse.self, GrpcReflectionV1.ExtensionNumberResponse.self, GrpcReflectionV1.ListServiceResponse.self,
        GrpcReflectionV1.ServiceResponse.self, GrpcReflectionV1.ErrorResponse.self,
    ]

    @Test("health: every message has a codec and random instances round-trip byte for byte")
    func healthRoundTrips() throws {
        let files = [GrpcHealthV1Schema.file]
        try SchemaRoundTrip(files).check(files: files, codecs: Self.healthCodecs, seed: 0x4EA1)
    }

    @Test("reflection v1 and v1alpha: the one codec set round-trips random instances of both tables")
    func reflectionRoundTrips() throws {
        let v1 = [GrpcReflectionV1Schema.file], alpha = [GrpcReflectionV1AlphaSchema.file]
        try SchemaRoundTrip(v1).check(files: v1, codecs: codecProbes(Self.reflectionTypes), seed: 0x2EF1)
        try SchemaRoundTrip(alpha).check(files: alpha, codecs: codecProbes(Self.reflectionTypes, package: ("grpc.reflection.v1", "grpc.reflection.v1alpha")),
                                         seed: 0x2EF2)
    }

    @Test("health: SERVING is 08 01, unknown statuses are kept, map values are messages")
    func health() throws {
        var response = GrpcHealthV1.HealthCheckResponse()
        response.status = .serving
        #expect(response.serializedBytes() == [0x08, 0x01])
        #expect(try GrpcHealthV1.HealthCheckResponse(serializedBytes: [0x08, 0x02]).status == .notServing)
        let future = try GrpcHealthV1.HealthCheckResponse(serializedBytes: [0x08, 0x09])
        #expect(future.status.rawValue == 9 && future.status.description == "9" && future.serializedBytes() == [0x08, 0x09])
        #expect(GrpcHealthV1.HealthCheckResponse.ServingStatus.serviceUnknown.description == "SERVICE_UNKNOWN")
        #expect(GrpcHealthV1.HealthCheckResponse().serializedBytes().isEmpty, "UNKNOWN is the default and not written")

        var list = GrpcHealthV1.HealthListResponse()
        list.statuses = ["tokmesh.v1.SessionService": response, "": GrpcHealthV1.HealthCheckResponse()]
        let decoded = try GrpcHealthV1.HealthListResponse(serializedBytes: list.serializedBytes())
        #expect(decoded == list)
        // The entry for "" has neither key nor value written inside, but a value message present.
        #expect(list.serializedBytes().starts(with: [0x0A, 0x02, 0x12, 0x00]))
        // Entries missing key and value decode to ("", default).
        #expect(try GrpcHealthV1.HealthListResponse(serializedBytes: [0x0A, 0x00]).statuses == ["": GrpcHealthV1.HealthCheckResponse()])
        #expect(throws: ProtoDecodingError.self) { try GrpcHealthV1.HealthCheckRequest(serializedBytes: [0x08, 0x01]) }
    }

    @Test("reflection: oneof members — last wins, a repeated message member merges, \"\" is still set")
    func reflectionOneofs() throws {
        var request = GrpcReflectionV1.ServerReflectionRequest()
        request.host = "h"
        request.messageRequest = .listServices("")
        let bytes = request.serializedBytes()
        #expect(bytes == [0x0A, 0x01, 0x68, 0x3A, 0x00], "an empty oneof string is written")
        #expect(try GrpcReflectionV1.ServerReflectionRequest(serializedBytes: bytes) == request)

        var w = ProtoWriter()
        w.write(3, string: "tokmesh/v1/session.proto")
        w.write(4, string: "tokmesh.v1.SessionService")
        #expect(try GrpcReflectionV1.ServerReflectionRequest(serializedBytes: w.bytes).messageRequest == .fileContainingSymbol("tokmesh.v1.SessionService"))

        // file_containing_extension twice: the two halves merge.
        var first = ProtoWriter(), second = ProtoWriter()
        first.write(1, string: "tokmesh.v1.Session")
        second.write(2, int32: 7)
        w = ProtoWriter()
        w.write(5, message: first.bytes)
        w.write(5, message: second.bytes)
        var merged = GrpcReflectionV1.ExtensionRequest()
        merged.containingType = "tokmesh.v1.Session"
        merged.extensionNumber = 7
        #expect(try GrpcReflectionV1.ServerReflectionRequest(serializedBytes: w.bytes).messageRequest == .fileContainingExtension(merged))
        // Another member in between: no merge, the last one alone.
        w = ProtoWriter()
        w.write(5, message: first.bytes)
        w.write(7, string: "*")
        w.write(5, message: second.bytes)
        var alone = GrpcReflectionV1.ExtensionRequest()
        alone.extensionNumber = 7
        #expect(try GrpcReflectionV1.ServerReflectionRequest(serializedBytes: w.bytes).messageRequest == .fileContainingExtension(alone))

        var response = GrpcReflectionV1.ServerReflectionResponse()
        response.validHost = "h"
        response.originalRequest = request
        var files = GrpcReflectionV1.FileDescriptorResponse()
        files.fileDescriptorProto = [[1, 2, 3], [], [4]]
        response.messageResponse = .fileDescriptorResponse(files)
        #expect(try GrpcReflectionV1.ServerReflectionResponse(serializedBytes: response.serializedBytes()) == response)
        var error = GrpcReflectionV1.ErrorResponse()
        error.errorCode = 5
        error.errorMessage = "not found"
        response.messageResponse = .errorResponse(error)
        #expect(try GrpcReflectionV1.ServerReflectionResponse(serializedBytes: response.serializedBytes()) == response)
        var numbers = GrpcReflectionV1.ExtensionNumberResponse()
        numbers.extensionNumber = [1, -2, 100]
        // Unpacked elements are accepted as well as packed.
        w = ProtoWriter()
        w.write(2, int32: 1)
        w.write(2, int32: -2)
        w.write(2, int32: 100)
        #expect(try GrpcReflectionV1.ExtensionNumberResponse(serializedBytes: w.bytes) == numbers)
        #expect(try GrpcReflectionV1.ExtensionNumberResponse(serializedBytes: numbers.serializedBytes()) == numbers)
    }
}
