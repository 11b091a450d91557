// HealthStubs: `grpc.health.v1.Health` (proto/grpc/health/v1/health.proto, spec/06 §5) in the
// shape generated code would have, written by hand next to the hand-maintained codecs:
// `GrpcHealthV1Health` names the service table and one method descriptor per RPC; a server
// implements `GrpcHealthV1HealthHandler` — Check and List unary (answered now or later), Watch
// server streaming through a typed writer — and hands `GrpcHealthV1Health.registration(handler)`
// to the RPCRouter. `GrpcHealthV1HealthClient` calls Check (retried after `unavailable`: no side
// effects) and List over an RPCChannel; it has no Watch because RPCChannel has no
// server-streaming calls yet.
import NIOCore
import TokMeshProto

public enum GrpcHealthV1Health {
    public static let schema = GrpcHealthV1Schema.file.services.first { $0.name == "grpc.health.v1.Health" }!

    public enum Method {
        public static let check = RPCMethodDescriptor<GrpcHealthV1.HealthCheckRequest, GrpcHealthV1.HealthCheckResponse>(schema, "Check")
        public static let list = RPCMethodDescriptor<GrpcHealthV1.HealthListRequest, GrpcHealthV1.HealthListResponse>(schema, "List")
        public static let watch = RPCMethodDescriptor<GrpcHealthV1.HealthCheckRequest, GrpcHealthV1.HealthCheckResponse>(schema, "Watch")
    }

    /// Every method of the service, served by `handler`.
    public static func registration(_ handler: some GrpcHealthV1HealthHandler) -> RPCServiceRegistration {
        (schema, [
            Method.check.name: .typedUnary(Method.check) { handler.check($0, $1) },
            Method.list.name: .typedUnary(Method.list) { handler.list($0, $1) },
            Method.watch.name: .typedServerStreaming(Method.watch) { handler.watch($0, $1, $2) },
        ])
    }
}

/// The server side of `grpc.health.v1.Health`.
public protocol GrpcHealthV1HealthHandler: Sendable {
    func check(_ request: GrpcHealthV1.HealthCheckRequest, _ call: RPCCall) -> RPCTypedReply<GrpcHealthV1.HealthCheckResponse>
    func list(_ request: GrpcHealthV1.HealthListRequest, _ call: RPCCall) -> RPCTypedReply<GrpcHealthV1.HealthListResponse>
    /// Sends through `writer` until the status watch ends; runs on `call.eventLoop`.
    func watch(_ request: GrpcHealthV1.HealthCheckRequest, _ call: RPCCall, _ writer: RPCTypedStreamWriter<GrpcHealthV1.HealthCheckResponse>)
}

/// The client side of `grpc.health.v1.Health` (unary methods; see the file comment).
public struct GrpcHealthV1HealthClient: Sendable {
    typealias Method = GrpcHealthV1Health.Method

    public let channel: RPCChannel

    public init(channel: RPCChannel) { self.channel = channel }

    public func check(_ request: GrpcHealthV1.HealthCheckRequest, metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> GrpcHealthV1.HealthCheckResponse {
        try await channel.unary(Method.check, request, metadata: metadata, timeout: timeout)
    }

    public func list(_ request: GrpcHealthV1.HealthListRequest, metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> GrpcHealthV1.HealthListResponse {
        try await channel.unary(Method.list, request, metadata: metadata, timeout: timeout)
    }
}
