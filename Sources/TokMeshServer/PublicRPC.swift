// PublicRPC: the RPC services of the public API ports (spec/06 §1, §5) — SessionService on top
// of the JSON API's pipeline, grpc.health.v1 tied to `/ready`, and reflection v1/v1alpha over
// the committed descriptor set — assembled into the responder those ports use.
import NIOCore
import TokMeshProto
import TokMeshRPC

enum PublicRPC {
    static func responder(node: NodeContext, api: APIResponder) -> PortResponder {
        var limits = RPCLimits()
        limits.maxMessageSize = node.config.rpcMaxMessageBytes
        limits.compressionMinSize = node.config.rpcCompressionMinBytes
        limits.defaultTimeout = .milliseconds(node.config.rpcDefaultTimeoutMillis)
        let names = [TokMeshV1SessionService.schema, GrpcHealthV1Health.schema, GrpcReflectionV1ServerReflection.schema,
                     GrpcReflectionV1AlphaServerReflection.schema].map(\.name)
        let reflection = ReflectionService(serviceNames: names)
        let router = RPCRouter(services: [
            TokMeshV1SessionService.registration(SessionRPC(responder: api)),
            GrpcHealthV1Health.registration(HealthService(serviceNames: names, isServing: { node.isReady })),
            GrpcReflectionV1ServerReflection.registration(reflection),
            GrpcReflectionV1AlphaServerReflection.registration(reflection),
        ], limits: limits, schemas: ProtoFiles.all)
        return PortResponder(api: api, rpc: RPCDispatcher(router: router))
    }
}
