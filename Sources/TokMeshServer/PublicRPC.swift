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
        let session = TokMeshV1Schema.file.services[0]
        let health = GrpcHealthV1Schema.file.services[0]
        let reflectionV1 = GrpcReflectionV1Schema.file.services[0]
        let reflectionV1Alpha = GrpcReflectionV1AlphaSchema.file.services[0]
        let names = [session.name, health.name, reflectionV1.name, reflectionV1Alpha.name]
        let reflection = ReflectionService(serviceNames: names)
        let router = RPCRouter(services: [
            (session, SessionRPC.implementations(api)),
            (health, HealthService(serviceNames: names, isServing: { node.isReady }).implementations()),
            (reflectionV1, reflection.implementations()),
            (reflectionV1Alpha, reflection.implementations()),
        ], limits: limits, schemas: ProtoFiles.all)
        return PortResponder(api: api, rpc: RPCDispatcher(router: router))
    }
}
