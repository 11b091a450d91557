// ClusterRPC: the cluster port (spec/06 §1, §8-§9; 5343, `cluster.listen_address`) — mTLS
// and HTTP/2 only, RPC only. It registers ClusterService, RaftService and DataService (Ping is
// served now; the other methods answer `unimplemented` until the cluster work brings them),
// health and reflection. Every cluster call passes the port's interceptor: no API-key
// credentials (`permission_denied`), the client certificate's CN must equal `tokmesh-node-id`
// (`permission_denied`), and `tokmesh-cluster-id` must equal the local cluster ID
// (`failed_precondition`, an ERROR log and the mismatch counter); an empty ID is accepted on
// Ping and Join, and a node without an ID accepts any. The services are the typed stubs'
// registrations (a handler serves the subset of methods it conforms to) behind the interceptor.
import NIOCore
import NIOHTTP1
import Synchronization
import TokMeshCore
import TokMeshHTTP
import TokMeshProto
import TokMeshRPC

final class ClusterPort: StreamResponder {
    let rpc: RPCDispatcher
    let guardRail: ClusterGuard

    init(node: NodeContext, clusterID: String, incarnation: UInt64) {
        var limits = RPCLimits()
        limits.maxMessageSize = node.config.clusterMaxMessageBytes
        limits.compressionMinSize = node.config.rpcCompressionMinBytes
        limits.defaultTimeout = .milliseconds(node.config.rpcDefaultTimeoutMillis)
        let cluster = [TokMeshClusterV1ClusterService.schema, TokMeshClusterV1RaftService.schema, TokMeshClusterV1DataService.schema]
        let names = cluster.map(\.name) + [GrpcHealthV1Health.schema, GrpcReflectionV1ServerReflection.schema,
                                           GrpcReflectionV1AlphaServerReflection.schema].map(\.name)
        let reflection = ReflectionService(serviceNames: names)
        let guardRail = ClusterGuard(localClusterID: clusterID, logger: node.logger)
        self.guardRail = guardRail
        let ping = ClusterPing(nodeID: node.nodeID, clusterID: clusterID, incarnation: incarnation, now: { node.clock.nowMillis() })
        let services: [RPCServiceRegistration] = [
            guardRail.guarding(TokMeshClusterV1ClusterService.registration(ping)),
            guardRail.guarding((TokMeshClusterV1RaftService.schema, [:])),
            guardRail.guarding((TokMeshClusterV1DataService.schema, [:])),
            GrpcHealthV1Health.registration(HealthService(serviceNames: names, isServing: { node.isReady })),
            GrpcReflectionV1ServerReflection.registration(reflection),
            GrpcReflectionV1AlphaServerReflection.registration(reflection),
        ]
        rpc = RPCDispatcher(router: RPCRouter(services: services, limits: limits, schemas: ProtoFiles.all))
    }

    // MARK: StreamResponder (RPC only: anything else is 404)

    func bodyLimit(method: HTTPMethod, uri: String) -> Int { rpc.router.limits.maxMessageSize }

    func bodyTooLarge(method: HTTPMethod, uri: String, headers: HTTPHeaders, peer: PeerKind) -> ServerResponse {
        rpc.errorResponse(RPCError(.resourceExhausted, "message exceeds the limit of \(rpc.router.limits.maxMessageSize) bytes"),
                          requestID: Identifiers.requestID(incoming: headers.first(name: "x-request-id")))
    }

    func malformed() -> ServerResponse { ServerResponse(status: .badRequest) }

    func respond(to request: ServerRequest, on eventLoop: any EventLoop) -> ResponderResult {
        guard rpc.handles(request) else {
            return .now(ServerResponse(status: .notFound, headers: HTTPHeaders([("content-type", "text/plain")]),
                                       body: ByteBuffer(string: "the cluster port serves RPC only\n")))
        }
        return rpc.respond(to: request, on: eventLoop)
    }

    func openStream(_ head: ServerRequest, response: any ResponseStream) -> (any StreamHandler)? {
        rpc.handles(head) ? rpc.openStream(head, response: response) : nil
    }
}

/// ClusterService.Ping: this node's ID, cluster ID, incarnation and membership, and its clock.
struct ClusterPing: TokMeshClusterV1ClusterService.PingHandler {
    let nodeID: String
    let clusterID: String
    let incarnation: UInt64
    let now: @Sendable () -> Int64

    func ping(_ request: TokMeshClusterV1.PingRequest, _ call: RPCCall) -> RPCTypedReply<TokMeshClusterV1.PingResponse> {
        var out = TokMeshClusterV1.PingResponse()
        out.nodeId = nodeID
        out.timestamp = now()
        out.clusterId = clusterID
        out.incarnation = incarnation
        out.membership = clusterID.isEmpty ? .uninitialized : .member
        return .success(out)
    }
}

/// The cluster port's interceptor (spec/06 §9), applied to every cluster method.
final class ClusterGuard: Sendable {
    let localClusterID: String
    let logger: Logger
    /// `tokmesh_cluster_id_mismatch_total`.
    let mismatches = Atomic<UInt64>(0)

    init(localClusterID: String, logger: Logger) {
        self.localClusterID = localClusterID
        self.logger = logger
    }

    /// Methods whose callers may not know the cluster ID yet.
    static let emptyIDAllowed: Set<String> = ["Ping", "Join"]

    /// The service with the interceptor in front of every method it serves (before the request is decoded).
    func guarding(_ registration: RPCServiceRegistration) -> RPCServiceRegistration {
        let (service, implementations) = registration
        return (service, implementations.mapValues { implementation in
            implementation.intercepted { [self] call in check(call, emptyIDAllowed: ClusterGuard.emptyIDAllowed.contains(call.method.name)) }
        })
    }

    func check(_ call: RPCCall, emptyIDAllowed: Bool) -> RPCError? {
        if call.headers.contains(name: "authorization") || call.headers.contains(name: "x-api-key") {
            return RPCError(.permissionDenied, "API-key credentials are not accepted on the cluster port")
        }
        let caller = call.headers.first(name: "tokmesh-node-id") ?? ""
        guard let name = call.peerCommonName, name == caller else {
            return RPCError(.permissionDenied, "tokmesh-node-id does not match the client certificate")
        }
        let claimed = call.headers.first(name: "tokmesh-cluster-id") ?? ""
        if localClusterID.isEmpty || claimed == localClusterID || (claimed.isEmpty && emptyIDAllowed) { return nil }
        mismatches.wrappingAdd(1, ordering: .relaxed)
        logger.log(.error, "tokmesh.cluster", "cluster id mismatch", [
            "event": "cluster_id_mismatch", "peer_node_id": .string(caller), "method": .string(call.method.name),
            "expected_cluster_id": .string(localClusterID), "received_cluster_id": .string(String(claimed.prefix(64))),
        ])
        return RPCError(.failedPrecondition, "tokmesh-cluster-id \(claimed.prefix(64)) is not this cluster's (\(localClusterID))")
    }
}
