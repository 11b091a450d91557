// StubTests: the typed service stubs (Sources/TokMeshRPC/Stubs) — typed handlers registered on
// our HTTP/2 server and called through the typed clients over RPCChannel (unary now and later,
// errors with their TokMesh detail, metadata, client streaming, methods a partial handler does
// not serve), bad request bytes answered `invalid_argument` (TM-SYS-4000) before any handler
// runs, the streaming adapters and the interceptor against a recording writer, and every
// service's registration and method descriptors checked against its schema table.
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing
import TokMeshCore
import TokMeshHTTP
import TokMeshProto
@testable import TokMeshRPC

/// The router behind an HTTP/2 port, as on a real port.
final class StubPort: StreamResponder {
    let rpc: RPCDispatcher

    init(_ services: [RPCServiceRegistration]) {
        rpc = RPCDispatcher(router: RPCRouter(services: services, limits: RPCLimits(), schemas: ProtoFiles.all))
    }

    func bodyLimit(method: HTTPMethod, uri: String) -> Int { 4 << 20 }
    func bodyTooLarge(method: HTTPMethod, uri: String, headers: HTTPHeaders, peer: PeerKind) -> ServerResponse { ServerResponse(status: .payloadTooLarge) }
    func malformed() -> ServerResponse { ServerResponse(status: .badRequest) }
    func respond(to request: ServerRequest, on eventLoop: any EventLoop) -> ResponderResult { rpc.respond(to: request, on: eventLoop) }
    func openStream(_ head: ServerRequest, response: any ResponseStream) -> (any StreamHandler)? { rpc.openStream(head, response: response) }
}

/// A SessionService that answers from the request alone; GetSession answers later.
final class FakeSessions: TokMeshV1SessionServiceHandler {
    typealias V1 = TokMeshV1
    /// Handler invocations (bad bytes must not reach a handler).
    let calls = Atomic<Int>(0)

    func createSession(_ request: V1.CreateSessionRequest, _ call: RPCCall) -> RPCTypedReply<V1.CreateSessionResponse> {
        calls.add(1, ordering: .relaxed)
        var out = V1.CreateSessionResponse()
        out.sessionId = "tmss-" + request.userId
        out.userId = request.userId
        out.token = call.headers.first(name: "x-api-key") ?? ""
        out.version = 1
        return .success(out)
    }

    func getSession(_ request: V1.GetSessionRequest, _ call: RPCCall) -> RPCTypedReply<V1.GetSessionResponse> {
        calls.add(1, ordering: .relaxed)
        if request.sessionId == "missing" {
            return .failure(RPCError(TokMeshError(.sessNotFound, "no such session"), requestID: call.requestID))
        }
        var out = V1.GetSessionResponse()
        var session = V1.Session()
        session.id = request.sessionId
        out.session = session
        let reply = out
        return .later(call.eventLoop.scheduleTask(in: .milliseconds(20)) { reply }.futureResult)
    }

    func validateToken(_ request: V1.ValidateTokenRequest, _ call: RPCCall) -> RPCTypedReply<V1.ValidateTokenResponse> {
        calls.add(1, ordering: .relaxed)
        var out = V1.ValidateTokenResponse()
        out.valid = request.token == "good"
        return .success(out)
    }

    func touchSession(_ request: V1.TouchSessionRequest, _ call: RPCCall) -> RPCTypedReply<V1.TouchSessionResponse> {
        calls.add(1, ordering: .relaxed)
        return .success(V1.TouchSessionResponse())
    }

    func renewSession(_ request: V1.RenewSessionRequest, _ call: RPCCall) -> RPCTypedReply<V1.RenewSessionResponse> {
        calls.add(1, ordering: .relaxed)
        var out = V1.RenewSessionResponse()
        out.sessionId = request.sessionId
        out.newExpiresAt = request.ttlSeconds * 1000
        return .success(out)
    }

    func revokeSession(_ request: V1.RevokeSessionRequest, _ call: RPCCall) -> RPCTypedReply<V1.RevokeSessionResponse> {
        calls.add(1, ordering: .relaxed)
        var out = V1.RevokeSessionResponse()
        out.revoked = true
        out.sessionId = request.sessionId
        return .success(out)
    }

    func revokeUserSessions(_ request: V1.RevokeUserSessionsRequest, _ call: RPCCall) -> RPCTypedReply<V1.RevokeUserSessionsResponse> {
        calls.add(1, ordering: .relaxed)
        var out = V1.RevokeUserSessionsResponse()
        out.userId = request.userId
        out.revokedCount = 2
        return .success(out)
    }

    func listSessions(_ request: V1.ListSessionsRequest, _ call: RPCCall) -> RPCTypedReply<V1.ListSessionsResponse> {
        calls.add(1, ordering: .relaxed)
        var out = V1.ListSessionsResponse()
        out.items = (0..<Int(request.size)).map { i in
            var session = V1.Session()
            session.id = "s\(i)"
            session.userId = request.userId
            return session
        }
        return .success(out)
    }
}

/// ClusterService Ping and TransferShard only: the other methods stay unregistered.
struct PingAndTransfer: TokMeshClusterV1ClusterService.PingHandler, TokMeshClusterV1ClusterService.TransferShardHandler {
    func ping(_ request: Cluster.PingRequest, _ call: RPCCall) -> RPCTypedReply<Cluster.PingResponse> {
        var out = Cluster.PingResponse()
        out.nodeId = "echo-" + request.nodeId
        out.timestamp = request.timestamp
        return .success(out)
    }

    func transferShard(_ call: RPCCall, _ responder: RPCTypedResponder<Cluster.TransferShardResponse>)
        -> any RPCTypedInbound<Cluster.TransferShardRequest> {
        var count: UInt64 = 0, last: UInt64 = 0
        return RPCInboundHandlers(receive: { request in
            count += 1
            last = max(last, request.sequence)
        }, end: {
            var out = Cluster.TransferShardResponse()
            out.success = true
            out.transferredItems = count
            out.lastSequence = last
            responder.succeed(out)
        })
    }
}

struct PingOnly: TokMeshClusterV1ClusterService.PingHandler {
    func ping(_ request: Cluster.PingRequest, _ call: RPCCall) -> RPCTypedReply<Cluster.PingResponse> { .success(Cluster.PingResponse()) }
}

/// A RaftService handler serving none of its methods yet.
struct NoRaft: TokMeshClusterV1RaftService.PartialHandler {}

/// Every method of the three cluster services (RequestVote answers; the rest refuse).
struct FullCluster: TokMeshClusterV1ClusterServiceHandler, TokMeshClusterV1RaftServiceHandler, TokMeshClusterV1DataServiceHandler {
    static func no<R: ProtoMessage>() -> RPCTypedReply<R> { .failure(RPCError(.unimplemented, "not in this test")) }
    static func refuse<Req: ProtoMessage, Resp: ProtoMessage>(_ responder: RPCTypedResponder<Resp>) -> any RPCTypedInbound<Req> {
        RPCInboundHandlers(receive: { _ in }, end: { responder.fail(RPCError(.unimplemented, "not in this test")) })
    }

    func join(_ request: Cluster.JoinRequest, _ call: RPCCall) -> RPCTypedReply<Cluster.JoinResponse> { Self.no() }
    func leave(_ request: Cluster.LeaveRequest, _ call: RPCCall) -> RPCTypedReply<Cluster.LeaveResponse> { Self.no() }
    func getShardMap(_ request: Cluster.GetShardMapRequest, _ call: RPCCall) -> RPCTypedReply<Cluster.GetShardMapResponse> { Self.no() }
    func transferShard(_ call: RPCCall, _ responder: RPCTypedResponder<Cluster.TransferShardResponse>)
        -> any RPCTypedInbound<Cluster.TransferShardRequest> { Self.refuse(responder) }
    func ping(_ request: Cluster.PingRequest, _ call: RPCCall) -> RPCTypedReply<Cluster.PingResponse> { Self.no() }
    func propose(_ request: Cluster.ProposeRequest, _ call: RPCCall) -> RPCTypedReply<Cluster.ProposeResponse> { Self.no() }

    func requestVote(_ request: Cluster.RequestVoteRequest, _ call: RPCCall) -> RPCTypedReply<Cluster.RequestVoteResponse> {
        var out = Cluster.RequestVoteResponse()
        out.term = request.term
        out.granted = request.candidateId == "n1"
        out.preVote = request.preVote
        return .success(out)
    }
    func appendEntries(_ request: Cluster.AppendEntriesRequest, _ call: RPCCall) -> RPCTypedReply<Cluster.AppendEntriesResponse> { Self.no() }
    func installSnapshot(_ call: RPCCall, _ responder: RPCTypedResponder<Cluster.InstallSnapshotResponse>)
        -> any RPCTypedInbound<Cluster.InstallSnapshotRequest> { Self.refuse(responder) }
    func timeoutNow(_ request: Cluster.TimeoutNowRequest, _ call: RPCCall) -> RPCTypedReply<Cluster.TimeoutNowResponse> { Self.no() }

    func forward(_ request: Cluster.ForwardRequest, _ call: RPCCall) -> RPCTypedReply<Cluster.ForwardResponse> { Self.no() }
    func replicate(_ call: RPCCall, _ responder: RPCTypedResponder<Cluster.ReplicateResponse>)
        -> any RPCTypedInbound<Cluster.ReplicateRequest> { Self.refuse(responder) }
}

/// A streaming writer that records what the adapters do with it.
final class RecordingWriter: RPCStreamWriter, @unchecked Sendable {
    let eventLoop: any EventLoop
    var sent: [[UInt8]] = []
    /// `.some(nil)` once finished OK, `.some(error)` once failed.
    var finished: RPCError?? = nil

    init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    var isClosed: Bool { finished != nil }
    func send(_ message: [UInt8]) { if !isClosed { sent.append(message) } }
    func finish(_ error: RPCError?) { if !isClosed { finished = .some(error) } }
    func onCancel(_ callback: @escaping () -> Void) {}
}

@Suite(.serialized) struct StubTests {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    static let garbage: [UInt8] = [0xFF, 0xFF, 0xFF]

    static func call(_ method: ProtoMethodSchema, headers: HTTPHeaders = HTTPHeaders()) -> RPCCall {
        RPCCall(method: method, headers: headers, peer: .local, requestID: "req-1", eventLoop: group.next(), peerCommonName: nil)
    }

    /// The RPCError a call throws (Issue recorded when it succeeds).
    func failure<T>(_ body: () async throws(RPCError) -> T) async -> RPCError? {
        do {
            _ = try await body()
            Issue.record("expected an error")
            return nil
        } catch {
            return error
        }
    }

    /// True when `error` is the decoding refusal: invalid_argument with TM-SYS-4000.
    static func isMalformed(_ error: RPCError?) -> Bool {
        error?.status == .invalidArgument && error?.detail?.code == "TM-SYS-4000"
    }

    @Test("typed handlers on our server, called through the typed clients")
    func typedRoundTrips() async throws {
        let sessions = FakeSessions()
        let names = [TokMeshV1SessionService.schema.name, GrpcHealthV1Health.schema.name]
        let port = StubPort([
            TokMeshV1SessionService.registration(sessions),
            GrpcHealthV1Health.registration(HealthService(serviceNames: names, isServing: { true })),
            TokMeshClusterV1ClusterService.registration(PingAndTransfer()),
            TokMeshClusterV1RaftService.registration(FullCluster()),
        ])
        let server = try await HTTPServer.bindTCP(host: "127.0.0.1", port: 0, group: Self.group, responder: port,
                                                  stats: ConnectionStats(), idleTimeout: .seconds(60))
        var options = RPCClientOptions(host: "127.0.0.1", port: server.localPort!)
        options.defaultTimeout = .seconds(60)  // a loaded CI machine runs other suites meanwhile
        let channel = RPCChannel(group: Self.group, options: options)
        do {
            try await roundTrips(channel, sessions: sessions, names: names)
        } catch {
            await channel.close()
            await server.close()
            throw error
        }
        await channel.close()
        await server.close()
    }

    func roundTrips(_ channel: RPCChannel, sessions: FakeSessions, names: [String]) async throws {

        // SessionService: now, later, errors, metadata.
        let client = TokMeshV1SessionServiceClient(channel: channel)
        var create = TokMeshV1.CreateSessionRequest()
        create.userId = "u1"
        let created = try await client.createSession(create, metadata: [("x-api-key", "key-1")])
        #expect(created.sessionId == "tmss-u1" && created.userId == "u1" && created.token == "key-1" && created.version == 1)
        var get = TokMeshV1.GetSessionRequest()
        get.sessionId = "tmss-u1"
        #expect(try await client.getSession(get).session?.id == "tmss-u1")
        get.sessionId = "missing"
        let missing = await failure { () async throws(RPCError) in try await client.getSession(get) }
        #expect(missing?.status == .notFound && missing?.detail?.code == "TM-SESS-4040")
        var validate = TokMeshV1.ValidateTokenRequest()
        validate.token = "good"
        #expect(try await client.validateToken(validate).valid)
        var renew = TokMeshV1.RenewSessionRequest()
        renew.sessionId = "s"
        renew.ttlSeconds = 60
        let renewed = try await client.renewSession(renew)
        #expect(renewed.sessionId == "s" && renewed.newExpiresAt == 60_000)
        var revoke = TokMeshV1.RevokeSessionRequest()
        revoke.sessionId = "s"
        #expect(try await client.revokeSession(revoke).revoked)
        var revokeUser = TokMeshV1.RevokeUserSessionsRequest()
        revokeUser.userId = "u1"
        #expect(try await client.revokeUserSessions(revokeUser).revokedCount == 2)
        _ = try await client.touchSession(TokMeshV1.TouchSessionRequest())
        var list = TokMeshV1.ListSessionsRequest()
        list.userId = "u1"
        list.size = 3
        let listed = try await client.listSessions(list)
        #expect(listed.items.map(\.id) == ["s0", "s1", "s2"] && listed.items.allSatisfy { $0.userId == "u1" })

        // Bad request bytes: invalid_argument before any handler runs.
        let before = sessions.calls.load(ordering: .relaxed)
        for method in [TokMeshV1SessionService.Method.createSession.path, TokMeshV1SessionService.Method.listSessions.path] {
            let bad = await failure { () async throws(RPCError) in try await channel.unary(method, Self.garbage) }
            #expect(Self.isMalformed(bad), "\(method): \(String(describing: bad))")
        }
        #expect(sessions.calls.load(ordering: .relaxed) == before)

        // Health: Check and List.
        let health = GrpcHealthV1HealthClient(channel: channel)
        #expect(try await health.check(GrpcHealthV1.HealthCheckRequest()).status == .serving)
        var unknown = GrpcHealthV1.HealthCheckRequest()
        unknown.service = "no.such.Service"
        let notFound = await failure { () async throws(RPCError) in try await health.check(unknown) }
        #expect(notFound?.status == .notFound)
        let statuses = try await health.list(GrpcHealthV1.HealthListRequest()).statuses
        #expect(Set(statuses.keys) == Set([""] + names) && statuses.values.allSatisfy { $0.status == .serving })

        // ClusterService: a partial handler (Ping, TransferShard); the rest is unimplemented.
        let cluster = TokMeshClusterV1ClusterServiceClient(channel: channel)
        var ping = Cluster.PingRequest()
        ping.nodeId = "n1"
        ping.timestamp = 77
        let pong = try await cluster.ping(ping)
        #expect(pong.nodeId == "echo-n1" && pong.timestamp == 77)
        let stream = try await cluster.transferShard(timeout: .seconds(30))
        var record = Cluster.TransferShardRequest()
        record.sessionData = [UInt8](repeating: 7, count: 4096)
        for sequence in 1...300 {
            record.sequence = UInt64(sequence)
            await stream.send(record)
        }
        let transferred = try await stream.finish()
        #expect(transferred.success && transferred.transferredItems == 300 && transferred.lastSequence == 300)
        let join = await failure { () async throws(RPCError) in try await cluster.join(Cluster.JoinRequest()) }
        #expect(join?.status == .unimplemented)
        let badStream = try await cluster.transferShard()
        await badStream.send(record)
        await badStream.untyped.send(Self.garbage)
        let badTransfer = await failure { () async throws(RPCError) in try await badStream.finish() }
        #expect(Self.isMalformed(badTransfer))

        // RaftService: a full handler; DataService is not registered at all.
        var vote = Cluster.RequestVoteRequest()
        vote.term = 9
        vote.candidateId = "n1"
        vote.preVote = true
        let voted = try await TokMeshClusterV1RaftServiceClient(channel: channel).requestVote(vote)
        #expect(voted.term == 9 && voted.granted && voted.preVote)
        let forward = await failure { () async throws(RPCError) in
            try await TokMeshClusterV1DataServiceClient(channel: channel).forward(Cluster.ForwardRequest())
        }
        #expect(forward?.status == .unimplemented)
    }

    /// Asserts that a registration holds exactly `expected` (all of the schema's methods when nil),
    /// each with the implementation kind its streaming shape needs.
    func expectCovers(_ registration: RPCServiceRegistration, _ schema: ProtoServiceSchema, only expected: Set<String>? = nil,
                      sourceLocation: SourceLocation = #_sourceLocation) {
        let (service, implementations) = registration
        #expect(service == schema, sourceLocation: sourceLocation)
        #expect(Set(implementations.keys) == (expected ?? Set(schema.methods.map(\.name))), "\(schema.name)", sourceLocation: sourceLocation)
        for method in schema.methods {
            guard let implementation = implementations[method.name] else { continue }
            let kind = switch implementation {
            case .unary: "unary"
            case .serverStreaming: "serverStreaming"
            case .bidi: "bidi"
            }
            let wanted = method.clientStreaming ? "bidi" : method.serverStreaming ? "serverStreaming" : "unary"
            #expect(kind == wanted, "\(schema.name)/\(method.name)", sourceLocation: sourceLocation)
        }
    }

    @Test("every service's registration covers its schema's methods, or the partial handler's subset")
    func registrationsCoverSchemas() {
        let reflection = ReflectionService(serviceNames: [])
        expectCovers(TokMeshV1SessionService.registration(FakeSessions()), TokMeshV1Schema.file.services[0])
        expectCovers(GrpcHealthV1Health.registration(HealthService(serviceNames: [], isServing: { true })), GrpcHealthV1Schema.file.services[0])
        expectCovers(GrpcReflectionV1ServerReflection.registration(reflection), GrpcReflectionV1Schema.file.services[0])
        expectCovers(GrpcReflectionV1AlphaServerReflection.registration(reflection), GrpcReflectionV1AlphaSchema.file.services[0])
        let cluster = TokMeshClusterV1Schema.file.services
        #expect(cluster.map(\.name) == ["tokmesh.cluster.v1.ClusterService", "tokmesh.cluster.v1.RaftService", "tokmesh.cluster.v1.DataService"])
        expectCovers(TokMeshClusterV1ClusterService.registration(FullCluster()), cluster[0])
        expectCovers(TokMeshClusterV1RaftService.registration(FullCluster()), cluster[1])
        expectCovers(TokMeshClusterV1DataService.registration(FullCluster()), cluster[2])
        expectCovers(TokMeshClusterV1ClusterService.registration(PingOnly()), cluster[0], only: ["Ping"])
        expectCovers(TokMeshClusterV1ClusterService.registration(PingAndTransfer()), cluster[0], only: ["Ping", "TransferShard"])
        expectCovers(TokMeshClusterV1RaftService.registration(NoRaft()), cluster[1], only: [])
    }

    /// One descriptor's table entry, codecs and idempotency.
    struct Described {
        var service: ProtoServiceSchema
        var name: String
        var path: String
        var input: String
        var output: String
        var idempotent: Bool

        init<Req, Resp>(_ d: RPCMethodDescriptor<Req, Resp>, _ service: ProtoServiceSchema) {
            self.service = service
            name = d.name
            path = d.path
            input = Req.protoName
            output = Resp.protoName
            idempotent = d.isIdempotent
        }
    }

    @Test("method descriptors match their tables: names, paths, codecs, idempotency")
    func descriptorsMatchSchemas() {
        typealias S = TokMeshV1SessionService.Method
        typealias H = GrpcHealthV1Health.Method
        typealias C = TokMeshClusterV1ClusterService.Method
        typealias R = TokMeshClusterV1RaftService.Method
        typealias D = TokMeshClusterV1DataService.Method
        let session = TokMeshV1SessionService.schema, health = GrpcHealthV1Health.schema
        let v1 = GrpcReflectionV1ServerReflection.schema, v1alpha = GrpcReflectionV1AlphaServerReflection.schema
        let cs = TokMeshClusterV1ClusterService.schema, rs = TokMeshClusterV1RaftService.schema, ds = TokMeshClusterV1DataService.schema
        let described: [Described] = [
            .init(S.createSession, session), .init(S.getSession, session), .init(S.validateToken, session), .init(S.touchSession, session),
            .init(S.renewSession, session), .init(S.revokeSession, session), .init(S.revokeUserSessions, session), .init(S.listSessions, session),
            .init(H.check, health), .init(H.list, health), .init(H.watch, health),
            .init(GrpcReflectionV1ServerReflection.Method.serverReflectionInfo, v1),
            .init(GrpcReflectionV1AlphaServerReflection.Method.serverReflectionInfo, v1alpha),
            .init(C.join, cs), .init(C.leave, cs), .init(C.getShardMap, cs), .init(C.transferShard, cs), .init(C.ping, cs), .init(C.propose, cs),
            .init(R.requestVote, rs), .init(R.appendEntries, rs), .init(R.installSnapshot, rs), .init(R.timeoutNow, rs),
            .init(D.forward, ds), .init(D.replicate, ds),
        ]
        let services = [session, health, v1, v1alpha, cs, rs, ds]
        #expect(services == TokMeshV1Schema.file.services + GrpcHealthV1Schema.file.services + GrpcReflectionV1Schema.file.services
                + GrpcReflectionV1AlphaSchema.file.services + TokMeshClusterV1Schema.file.services)
        for service in services {
            // One descriptor per method of the table, no more.
            #expect(described.filter { $0.service == service }.map(\.name).sorted() == service.methods.map(\.name).sorted(), "\(service.name)")
        }
        for d in described {
            let method = d.service.methods.first { $0.name == d.name }!
            #expect(d.path == "/\(d.service.name)/\(d.name)")
            // The v1alpha table is served with the v1 codecs.
            let input = method.input.replacingOccurrences(of: "grpc.reflection.v1alpha.", with: "grpc.reflection.v1.")
            let output = method.output.replacingOccurrences(of: "grpc.reflection.v1alpha.", with: "grpc.reflection.v1.")
            #expect(d.input == input && d.output == output, "\(d.path)")
            #expect(d.idempotent == (method.idempotency != .unknown), "\(d.path)")
        }
        let idempotent = Set(described.filter(\.idempotent).map(\.path))
        #expect(idempotent == [S.getSession.path, S.revokeSession.path, S.revokeUserSessions.path, S.listSessions.path, H.check.path, C.getShardMap.path])
    }

    @Test("streaming adapters decode requests, encode replies and refuse bad bytes")
    func streamingAdapters() async throws {
        // Server streaming: bad bytes finish the call before the handler runs.
        let ran = Atomic<Int>(0)
        let watch = RPCImplementation.typedServerStreaming(GrpcHealthV1Health.Method.watch) { request, _, writer in
            ran.add(1, ordering: .relaxed)
            var out = GrpcHealthV1.HealthCheckResponse()
            out.status = request.service == "up" ? .serving : .notServing
            writer.send(out)
            writer.finish()
        }
        guard case .serverStreaming(let run) = watch else { Issue.record("Watch is not server streaming"); return }
        let call = Self.call(GrpcHealthV1Health.Method.watch.schema)
        let refused = RecordingWriter(eventLoop: call.eventLoop)
        run(call, Self.garbage, refused)
        #expect(Self.isMalformed(refused.finished ?? nil) && refused.sent.isEmpty && ran.load(ordering: .relaxed) == 0)
        let served = RecordingWriter(eventLoop: call.eventLoop)
        var up = GrpcHealthV1.HealthCheckRequest()
        up.service = "up"
        run(call, up.serializedBytes(), served)
        #expect(served.finished != nil && served.finished! == nil)
        #expect(try served.sent.map { try GrpcHealthV1.HealthCheckResponse(serializedBytes: $0).status } == [.serving])

        // Bidi (reflection): typed answers, then bad bytes end the call and nothing more is read.
        let (_, reflection) = GrpcReflectionV1ServerReflection.registration(ReflectionService(serviceNames: ["a.B", "c.D"]))
        guard case .bidi(let open)? = reflection["ServerReflectionInfo"] else { Issue.record("reflection is not bidi"); return }
        let writer = RecordingWriter(eventLoop: call.eventLoop)
        let inbound = open(Self.call(GrpcReflectionV1ServerReflection.Method.serverReflectionInfo.schema), writer)
        var list = GrpcReflectionV1.ServerReflectionRequest()
        list.messageRequest = .listServices("*")
        inbound.receive(list.serializedBytes())
        inbound.receive(Self.garbage)
        inbound.receive(list.serializedBytes())
        #expect(writer.sent.count == 1 && Self.isMalformed(writer.finished ?? nil))
        let answer = try GrpcReflectionV1.ServerReflectionResponse(serializedBytes: writer.sent[0])
        guard case .listServicesResponse(let services)? = answer.messageResponse else { Issue.record("not a service list"); return }
        #expect(services.service.map(\.name) == ["a.B", "c.D"])

        // Client streaming: one response at the end; a later reply completes on the loop.
        let loop = Self.group.next()
        let counted = RecordingWriter(eventLoop: loop)
        try await loop.submit {
            let (_, implementations) = TokMeshClusterV1ClusterService.registration(PingAndTransfer())
            guard case .bidi(let open)? = implementations["TransferShard"] else { return }
            let inbound = open(Self.call(TokMeshClusterV1ClusterService.Method.transferShard.schema), counted)
            var record = Cluster.TransferShardRequest()
            for sequence: UInt64 in [3, 9, 4] {
                record.sequence = sequence
                inbound.receive(record.serializedBytes())
            }
            inbound.receiveEnd()
        }.get()
        let total = try Cluster.TransferShardResponse(serializedBytes: counted.sent.first ?? [])
        #expect(counted.sent.count == 1 && counted.finished != nil && counted.finished! == nil)
        #expect(total.transferredItems == 3 && total.lastSequence == 9)
        let later = RecordingWriter(eventLoop: loop)
        let promise = loop.makePromise(of: Cluster.PingResponse.self)
        try await loop.submit { RPCTypedResponder<Cluster.PingResponse>(later).complete(.later(promise.futureResult)) }.get()
        #expect(later.sent.isEmpty && later.finished == nil)
        var pong = Cluster.PingResponse()
        pong.nodeId = "late"
        promise.succeed(pong)
        try await loop.submit {}.get()
        #expect(try later.sent.map { try Cluster.PingResponse(serializedBytes: $0).nodeId } == ["late"])
        #expect(later.finished != nil && later.finished! == nil)
    }

    @Test("an interceptor refuses before the request is decoded or the handler runs")
    func interceptor() {
        let ran = Atomic<Int>(0)
        let refusal = RPCError(.permissionDenied, "no")
        let check: @Sendable (RPCCall) -> RPCError? = { call in call.headers.contains(name: "x-api-key") ? refusal : nil }
        let ping = RPCImplementation.typedUnary(TokMeshClusterV1ClusterService.Method.ping) { _, _ in
            ran.add(1, ordering: .relaxed)
            return .success(Cluster.PingResponse())
        }.intercepted(check)
        guard case .unary(let run) = ping else { Issue.record("Ping is not unary"); return }
        let method = TokMeshClusterV1ClusterService.Method.ping.schema
        let refused = Self.call(method, headers: HTTPHeaders([("x-api-key", "k")]))
        guard case .now(.failure(let error)) = run(refused, Self.garbage) else { Issue.record("not refused"); return }
        #expect(error.status == .permissionDenied && ran.load(ordering: .relaxed) == 0)
        guard case .now(.failure(let malformed)) = run(Self.call(method), Self.garbage) else { Issue.record("bad bytes accepted"); return }
        #expect(Self.isMalformed(malformed) && ran.load(ordering: .relaxed) == 0)
        guard case .now(.success) = run(Self.call(method), Cluster.PingRequest().serializedBytes()) else { Issue.record("not served"); return }
        #expect(ran.load(ordering: .relaxed) == 1)

        // A refused stream is finished at once and reads nothing.
        let (_, implementations) = TokMeshClusterV1ClusterService.registration(PingAndTransfer())
        guard case .bidi(let open)? = implementations["TransferShard"]?.intercepted(check) else { Issue.record("TransferShard is not bidi"); return }
        let call = Self.call(TokMeshClusterV1ClusterService.Method.transferShard.schema, headers: HTTPHeaders([("x-api-key", "k")]))
        let writer = RecordingWriter(eventLoop: call.eventLoop)
        let inbound = open(call, writer)
        inbound.receive(Cluster.TransferShardRequest().serializedBytes())
        inbound.receiveEnd()
        #expect(writer.finished??.status == .permissionDenied && writer.sent.isEmpty)
    }
}
