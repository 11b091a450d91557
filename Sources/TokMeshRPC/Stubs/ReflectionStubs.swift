// ReflectionStubs: `grpc.reflection.v1.ServerReflection` and its `v1alpha` twin
// (proto/grpc/reflection/{v1,v1alpha}/reflection.proto, spec/06 §5) in the shape generated code
// would have, written by hand next to the hand-maintained codecs. The two packages carry the same
// messages, so both are served with the `GrpcReflectionV1` codecs and one handler protocol,
// `GrpcReflectionServerReflectionHandler`: ServerReflectionInfo is bidi — the handler gets a typed
// writer when the call opens and returns the typed inbound for the requests — and
// `GrpcReflectionV1ServerReflection.registration(handler)` /
// `GrpcReflectionV1AlphaServerReflection.registration(handler)` give the router each package's
// service. There is no client struct: the only method is bidi and RPCChannel has unary and
// client-streaming calls only.
import NIOCore
import TokMeshProto

public enum GrpcReflectionV1ServerReflection {
    public static let schema = GrpcReflectionV1Schema.file.services.first { $0.name == "grpc.reflection.v1.ServerReflection" }!

    public enum Method {
        public static let serverReflectionInfo =
            RPCMethodDescriptor<GrpcReflectionV1.ServerReflectionRequest, GrpcReflectionV1.ServerReflectionResponse>(
            schema, "ServerReflectionInfo")
    }

    /// Every method of the service, served by `handler`.
    public static func registration(_ handler: some GrpcReflectionServerReflectionHandler) -> RPCServiceRegistration {
        (schema, [Method.serverReflectionInfo.name: .typedBidi(Method.serverReflectionInfo) { handler.serverReflectionInfo($0, $1) }])
    }
}

public enum GrpcReflectionV1AlphaServerReflection {
    public static let schema = GrpcReflectionV1AlphaSchema.file.services.first { $0.name == "grpc.reflection.v1alpha.ServerReflection" }!

    public enum Method {
        /// v1alpha's messages, served with the v1 codecs (same fields and numbers).
        public static let serverReflectionInfo =
            RPCMethodDescriptor<GrpcReflectionV1.ServerReflectionRequest, GrpcReflectionV1.ServerReflectionResponse>(
            schema, "ServerReflectionInfo")
    }

    /// Every method of the service, served by `handler`.
    public static func registration(_ handler: some GrpcReflectionServerReflectionHandler) -> RPCServiceRegistration {
        (schema, [Method.serverReflectionInfo.name: .typedBidi(Method.serverReflectionInfo) { handler.serverReflectionInfo($0, $1) }])
    }
}

/// The server side of `grpc.reflection.v1.ServerReflection` and `grpc.reflection.v1alpha.ServerReflection`.
public protocol GrpcReflectionServerReflectionHandler: Sendable {
    /// Opens one reflection stream on `call.eventLoop`: answers go through `writer`, requests
    /// arrive at the returned inbound.
    func serverReflectionInfo(_ call: RPCCall, _ writer: RPCTypedStreamWriter<GrpcReflectionV1.ServerReflectionResponse>)
        -> any RPCTypedInbound<GrpcReflectionV1.ServerReflectionRequest>
}
