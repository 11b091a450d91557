// ClusterStubs: `tokmesh.cluster.v1` ClusterService, RaftService and DataService
// (proto/tokmesh/cluster/v1/cluster.proto, spec/07 §6 and §12) in the shape generated code would
// have, written by hand next to the hand-maintained codecs. Each service has a namespace
// (`TokMeshClusterV1ClusterService`, …) with its table and one method descriptor per RPC, a
// handler protocol, a router registration and a client struct. Unlike the public services, these
// grow method by method with the cluster work, so a server may serve a subset: each RPC has its
// own protocol (`TokMeshClusterV1ClusterService.PingHandler`, …, all refining the service's
// `PartialHandler`), a handler conforms to the ones it serves, and `registration(handler)` covers
// exactly those — the router answers the rest `unimplemented` as for unknown methods (no
// default implementations returning `unimplemented`: grpc-swift does not generate them, and a
// missing method must not look served). The full protocol (`TokMeshClusterV1ClusterServiceHandler`)
// refines every per-RPC protocol, so a complete handler is checked by the compiler. Unary RPCs
// answer now or later; client-streaming RPCs (TransferShard, InstallSnapshot, Replicate) get a
// typed responder when the call opens and return the typed inbound for the requests; the clients
// give a typed stream for them. The cluster port puts its interceptor in front of every method
// (`RPCImplementation.intercepted`). Only GetShardMap is retried by the client after
// `unavailable` (no side effects); the others are not idempotent by the table.
import NIOCore
import TokMeshProto

// MARK: ClusterService

public enum TokMeshClusterV1ClusterService {
    public static let schema = TokMeshClusterV1Schema.file.services.first { $0.name == "tokmesh.cluster.v1.ClusterService" }!

    public enum Method {
        public static let join = RPCMethodDescriptor<TokMeshClusterV1.JoinRequest, TokMeshClusterV1.JoinResponse>(schema, "Join")
        public static let leave = RPCMethodDescriptor<TokMeshClusterV1.LeaveRequest, TokMeshClusterV1.LeaveResponse>(schema, "Leave")
        public static let getShardMap =
            RPCMethodDescriptor<TokMeshClusterV1.GetShardMapRequest, TokMeshClusterV1.GetShardMapResponse>(schema, "GetShardMap")
        public static let transferShard =
            RPCMethodDescriptor<TokMeshClusterV1.TransferShardRequest, TokMeshClusterV1.TransferShardResponse>(schema, "TransferShard")
        public static let ping = RPCMethodDescriptor<TokMeshClusterV1.PingRequest, TokMeshClusterV1.PingResponse>(schema, "Ping")
        public static let propose = RPCMethodDescriptor<TokMeshClusterV1.ProposeRequest, TokMeshClusterV1.ProposeResponse>(schema, "Propose")
    }

    /// A handler of some of the service's methods: it conforms to the per-RPC protocols it serves.
    public protocol PartialHandler: Sendable {}

    public protocol JoinHandler: PartialHandler {
        func join(_ request: TokMeshClusterV1.JoinRequest, _ call: RPCCall) -> RPCTypedReply<TokMeshClusterV1.JoinResponse>
    }

    public protocol LeaveHandler: PartialHandler {
        func leave(_ request: TokMeshClusterV1.LeaveRequest, _ call: RPCCall) -> RPCTypedReply<TokMeshClusterV1.LeaveResponse>
    }

    public protocol GetShardMapHandler: PartialHandler {
        func getShardMap(_ request: TokMeshClusterV1.GetShardMapRequest, _ call: RPCCall) -> RPCTypedReply<TokMeshClusterV1.GetShardMapResponse>
    }

    public protocol TransferShardHandler: PartialHandler {
        /// Opens the call on `call.eventLoop`: requests arrive at the returned inbound, the one answer goes through `responder`.
        func transferShard(_ call: RPCCall, _ responder: RPCTypedResponder<TokMeshClusterV1.TransferShardResponse>)
            -> any RPCTypedInbound<TokMeshClusterV1.TransferShardRequest>
    }

    public protocol PingHandler: PartialHandler {
        func ping(_ request: TokMeshClusterV1.PingRequest, _ call: RPCCall) -> RPCTypedReply<TokMeshClusterV1.PingResponse>
    }

    public protocol ProposeHandler: PartialHandler {
        func propose(_ request: TokMeshClusterV1.ProposeRequest, _ call: RPCCall) -> RPCTypedReply<TokMeshClusterV1.ProposeResponse>
    }

    /// The methods `handler` serves: those whose per-RPC protocol it conforms to.
    public static func registration(_ handler: some PartialHandler) -> RPCServiceRegistration {
        var implementations: [String: RPCImplementation] = [:]
        if let handler = handler as? any JoinHandler {
            implementations[Method.join.name] = .typedUnary(Method.join) { handler.join($0, $1) }
        }
        if let handler = handler as? any LeaveHandler {
            implementations[Method.leave.name] = .typedUnary(Method.leave) { handler.leave($0, $1) }
        }
        if let handler = handler as? any GetShardMapHandler {
            implementations[Method.getShardMap.name] = .typedUnary(Method.getShardMap) { handler.getShardMap($0, $1) }
        }
        if let handler = handler as? any TransferShardHandler {
            implementations[Method.transferShard.name] = .typedClientStreaming(Method.transferShard) { handler.transferShard($0, $1) }
        }
        if let handler = handler as? any PingHandler {
            implementations[Method.ping.name] = .typedUnary(Method.ping) { handler.ping($0, $1) }
        }
        if let handler = handler as? any ProposeHandler {
            implementations[Method.propose.name] = .typedUnary(Method.propose) { handler.propose($0, $1) }
        }
        return (schema, implementations)
    }
}

/// The server side of `tokmesh.cluster.v1.ClusterService`, every RPC.
public protocol TokMeshClusterV1ClusterServiceHandler:
    TokMeshClusterV1ClusterService.JoinHandler,
    TokMeshClusterV1ClusterService.LeaveHandler,
    TokMeshClusterV1ClusterService.GetShardMapHandler,
    TokMeshClusterV1ClusterService.TransferShardHandler,
    TokMeshClusterV1ClusterService.PingHandler,
    TokMeshClusterV1ClusterService.ProposeHandler {}

/// The client side of `tokmesh.cluster.v1.ClusterService`.
public struct TokMeshClusterV1ClusterServiceClient: Sendable {
    typealias Method = TokMeshClusterV1ClusterService.Method

    public let channel: RPCChannel

    public init(channel: RPCChannel) { self.channel = channel }

    public func join(_ request: TokMeshClusterV1.JoinRequest, metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> TokMeshClusterV1.JoinResponse {
        try await channel.unary(Method.join, request, metadata: metadata, timeout: timeout)
    }

    public func leave(_ request: TokMeshClusterV1.LeaveRequest, metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> TokMeshClusterV1.LeaveResponse {
        try await channel.unary(Method.leave, request, metadata: metadata, timeout: timeout)
    }

    public func getShardMap(_ request: TokMeshClusterV1.GetShardMapRequest, metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> TokMeshClusterV1.GetShardMapResponse {
        try await channel.unary(Method.getShardMap, request, metadata: metadata, timeout: timeout)
    }

    /// Opens the stream: `send` each request, then `finish` for the response.
    public func transferShard(metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> RPCTypedClientStream<TokMeshClusterV1.TransferShardRequest, TokMeshClusterV1.TransferShardResponse> {
        try await channel.clientStream(Method.transferShard, metadata: metadata, timeout: timeout)
    }

    public func ping(_ request: TokMeshClusterV1.PingRequest, metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> TokMeshClusterV1.PingResponse {
        try await channel.unary(Method.ping, request, metadata: metadata, timeout: timeout)
    }

    public func propose(_ request: TokMeshClusterV1.ProposeRequest, metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> TokMeshClusterV1.ProposeResponse {
        try await channel.unary(Method.propose, request, metadata: metadata, timeout: timeout)
    }
}

// MARK: RaftService

public enum TokMeshClusterV1RaftService {
    public static let schema = TokMeshClusterV1Schema.file.services.first { $0.name == "tokmesh.cluster.v1.RaftService" }!

    public enum Method {
        public static let requestVote =
            RPCMethodDescriptor<TokMeshClusterV1.RequestVoteRequest, TokMeshClusterV1.RequestVoteResponse>(schema, "RequestVote")
        public static let appendEntries =
            RPCMethodDescriptor<TokMeshClusterV1.AppendEntriesRequest, TokMeshClusterV1.AppendEntriesResponse>(schema, "AppendEntries")
        public static let installSnapshot =
            RPCMethodDescriptor<TokMeshClusterV1.InstallSnapshotRequest, TokMeshClusterV1.InstallSnapshotResponse>(schema, "InstallSnapshot")
        public static let timeoutNow =
            RPCMethodDescriptor<TokMeshClusterV1.TimeoutNowRequest, TokMeshClusterV1.TimeoutNowResponse>(schema, "TimeoutNow")
    }

    /// A handler of some of the service's methods: it conforms to the per-RPC protocols it serves.
    public protocol PartialHandler: Sendable {}

    public protocol RequestVoteHandler: PartialHandler {
        func requestVote(_ request: TokMeshClusterV1.RequestVoteRequest, _ call: RPCCall) -> RPCTypedReply<TokMeshClusterV1.RequestVoteResponse>
    }

    public protocol AppendEntriesHandler: PartialHandler {
        func appendEntries(_ request: TokMeshClusterV1.AppendEntriesRequest, _ call: RPCCall) -> RPCTypedReply<TokMeshClusterV1.AppendEntriesResponse>
    }

    public protocol InstallSnapshotHandler: PartialHandler {
        /// Opens the call on `call.eventLoop`: requests arrive at the returned inbound, the one answer goes through `responder`.
        func installSnapshot(_ call: RPCCall, _ responder: RPCTypedResponder<TokMeshClusterV1.InstallSnapshotResponse>)
            -> any RPCTypedInbound<TokMeshClusterV1.InstallSnapshotRequest>
    }

    public protocol TimeoutNowHandler: PartialHandler {
        func timeoutNow(_ request: TokMeshClusterV1.TimeoutNowRequest, _ call: RPCCall) -> RPCTypedReply<TokMeshClusterV1.TimeoutNowResponse>
    }

    /// The methods `handler` serves: those whose per-RPC protocol it conforms to.
    public static func registration(_ handler: some PartialHandler) -> RPCServiceRegistration {
        var implementations: [String: RPCImplementation] = [:]
        if let handler = handler as? any RequestVoteHandler {
            implementations[Method.requestVote.name] = .typedUnary(Method.requestVote) { handler.requestVote($0, $1) }
        }
        if let handler = handler as? any AppendEntriesHandler {
            implementations[Method.appendEntries.name] = .typedUnary(Method.appendEntries) { handler.appendEntries($0, $1) }
        }
        if let handler = handler as? any InstallSnapshotHandler {
            implementations[Method.installSnapshot.name] = .typedClientStreaming(Method.installSnapshot) { handler.installSnapshot($0, $1) }
        }
        if let handler = handler as? any TimeoutNowHandler {
            implementations[Method.timeoutNow.name] = .typedUnary(Method.timeoutNow) { handler.timeoutNow($0, $1) }
        }
        return (schema, implementations)
    }
}

/// The server side of `tokmesh.cluster.v1.RaftService`, every RPC.
public protocol TokMeshClusterV1RaftServiceHandler:
    TokMeshClusterV1RaftService.RequestVoteHandler,
    TokMeshClusterV1RaftService.AppendEntriesHandler,
    TokMeshClusterV1RaftService.InstallSnapshotHandler,
    TokMeshClusterV1RaftService.TimeoutNowHandler {}

/// The client side of `tokmesh.cluster.v1.RaftService`.
public struct TokMeshClusterV1RaftServiceClient: Sendable {
    typealias Method = TokMeshClusterV1RaftService.Method

    public let channel: RPCChannel

    public init(channel: RPCChannel) { self.channel = channel }

    public func requestVote(_ request: TokMeshClusterV1.RequestVoteRequest, metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> TokMeshClusterV1.RequestVoteResponse {
        try await channel.unary(Method.requestVote, request, metadata: metadata, timeout: timeout)
    }

    public func appendEntries(_ request: TokMeshClusterV1.AppendEntriesRequest, metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> TokMeshClusterV1.AppendEntriesResponse {
        try await channel.unary(Method.appendEntries, request, metadata: metadata, timeout: timeout)
    }

    /// Opens the stream: `send` each request, then `finish` for the response.
    public func installSnapshot(metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> RPCTypedClientStream<TokMeshClusterV1.InstallSnapshotRequest, TokMeshClusterV1.InstallSnapshotResponse> {
        try await channel.clientStream(Method.installSnapshot, metadata: metadata, timeout: timeout)
    }

    public func timeoutNow(_ request: TokMeshClusterV1.TimeoutNowRequest, metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> TokMeshClusterV1.TimeoutNowResponse {
        try await channel.unary(Method.timeoutNow, request, metadata: metadata, timeout: timeout)
    }
}

// MARK: DataService

public enum TokMeshClusterV1DataService {
    public static let schema = TokMeshClusterV1Schema.file.services.first { $0.name == "tokmesh.cluster.v1.DataService" }!

    public enum Method {
        public static let forward = RPCMethodDescriptor<TokMeshClusterV1.ForwardRequest, TokMeshClusterV1.ForwardResponse>(schema, "Forward")
        public static let replicate = RPCMethodDescriptor<TokMeshClusterV1.ReplicateRequest, TokMeshClusterV1.ReplicateResponse>(schema, "Replicate")
    }

    /// A handler of some of the service's methods: it conforms to the per-RPC protocols it serves.
    public protocol PartialHandler: Sendable {}

    public protocol ForwardHandler: PartialHandler {
        func forward(_ request: TokMeshClusterV1.ForwardRequest, _ call: RPCCall) -> RPCTypedReply<TokMeshClusterV1.ForwardResponse>
    }

    public protocol ReplicateHandler: PartialHandler {
        /// Opens the call on `call.eventLoop`: requests arrive at the returned inbound, the one answer goes through `responder`.
        func replicate(_ call: RPCCall, _ responder: RPCTypedResponder<TokMeshClusterV1.ReplicateResponse>)
            -> any RPCTypedInbound<TokMeshClusterV1.ReplicateRequest>
    }

    /// The methods `handler` serves: those whose per-RPC protocol it conforms to.
    public static func registration(_ handler: some PartialHandler) -> RPCServiceRegistration {
        var implementations: [String: RPCImplementation] = [:]
        if let handler = handler as? any ForwardHandler {
            implementations[Method.forward.name] = .typedUnary(Method.forward) { handler.forward($0, $1) }
        }
        if let handler = handler as? any ReplicateHandler {
            implementations[Method.replicate.name] = .typedClientStreaming(Method.replicate) { handler.replicate($0, $1) }
        }
        return (schema, implementations)
    }
}

/// The server side of `tokmesh.cluster.v1.DataService`, every RPC.
public protocol TokMeshClusterV1DataServiceHandler: TokMeshClusterV1DataService.ForwardHandler, TokMeshClusterV1DataService.ReplicateHandler {}

/// The client side of `tokmesh.cluster.v1.DataService`.
public struct TokMeshClusterV1DataServiceClient: Sendable {
    typealias Method = TokMeshClusterV1DataService.Method

    public let channel: RPCChannel

    public init(channel: RPCChannel) { self.channel = channel }

    public func forward(_ request: TokMeshClusterV1.ForwardRequest, metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> TokMeshClusterV1.ForwardResponse {
        try await channel.unary(Method.forward, request, metadata: metadata, timeout: timeout)
    }

    /// Opens the stream: `send` each request, then `finish` for the response.
    public func replicate(metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> RPCTypedClientStream<TokMeshClusterV1.ReplicateRequest, TokMeshClusterV1.ReplicateResponse> {
        try await channel.clientStream(Method.replicate, metadata: metadata, timeout: timeout)
    }
}
