// RPCChannelTests: the Swift gRPC client (spec/06 §6) against our own HTTP/2 server on an
// ephemeral loopback port and against an independent Python grpcio server
// (tests/peers/grpcio_peer.py): unary and client-streaming calls, back-pressure over more than
// the flow-control window, deadlines, unknown methods, errors carrying the TokMesh detail, and
// retries of a peer that cannot be dialled.
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing
import TokMeshCore
import TokMeshHTTP
import TokMeshProto
@testable import TokMeshRPC

typealias Cluster = TokMeshClusterV1

/// Our server with ClusterService.Ping (echo), TransferShard (counts messages) and Join (never
/// answers: deadline tests), behind the RPC dispatcher as on a real port.
final class TestPort: StreamResponder {
    let rpc: RPCDispatcher

    init() {
        let service = TokMeshClusterV1Schema.file.services.first { $0.name == "tokmesh.cluster.v1.ClusterService" }!
        let implementations: [String: RPCImplementation] = [
            "Ping": .unary { call, bytes in
                guard let request = try? Cluster.PingRequest(serializedBytes: bytes) else {
                    return .now(.failure(RPCError(.invalidArgument, "bad PingRequest")))
                }
                if request.nodeId == "fail" {
                    return .now(.failure(RPCError(TokMeshError(.sessNotFound, "no such thing"), requestID: call.requestID)))
                }
                var response = Cluster.PingResponse()
                response.nodeId = "echo-" + request.nodeId
                response.timestamp = request.timestamp
                return .now(.success(response.serializedBytes()))
            },
            "TransferShard": .bidi { _, writer in Counter(writer: writer) },
            "Join": .unary { call, _ in .later(call.eventLoop.makePromise(of: [UInt8].self).futureResult) },
        ]
        var limits = RPCLimits()
        limits.maxMessageSize = 8 << 20
        let names = ["tokmesh.cluster.v1.ClusterService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"]
        rpc = RPCDispatcher(router: RPCRouter(services: [
            (service, implementations),
            GrpcHealthV1Health.registration(HealthService(serviceNames: names, isServing: { true })),
            GrpcReflectionV1ServerReflection.registration(ReflectionService(serviceNames: names)),
        ], limits: limits, schemas: ProtoFiles.all))
    }

    final class Counter: RPCInbound {
        let writer: any RPCStreamWriter
        var count: UInt64 = 0
        var last: UInt64 = 0
        init(writer: any RPCStreamWriter) { self.writer = writer }
        func receive(_ message: [UInt8]) {
            count += 1
            last = max(last, (try? Cluster.TransferShardRequest(serializedBytes: message))?.sequence ?? 0)
        }
        func receiveEnd() {
            var response = Cluster.TransferShardResponse()
            response.success = true
            response.transferredItems = count
            response.lastSequence = last
            writer.send(response.serializedBytes())
            writer.finish(nil)
        }
    }

    func bodyLimit(method: HTTPMethod, uri: String) -> Int { 8 << 20 }
    func bodyTooLarge(method: HTTPMethod, uri: String, headers: HTTPHeaders, peer: PeerKind) -> ServerResponse { ServerResponse(status: .payloadTooLarge) }
    func malformed() -> ServerResponse { ServerResponse(status: .badRequest) }
    func respond(to request: ServerRequest, on eventLoop: any EventLoop) -> ResponderResult { rpc.respond(to: request, on: eventLoop) }
    func openStream(_ head: ServerRequest, response: any ResponseStream) -> (any StreamHandler)? { rpc.openStream(head, response: response) }
}

/// The Python grpcio peer, started for one test and stopped after it.
final class PythonPeer {
    let process = Process()
    let input = Pipe()
    let port: Int

    init() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("tests/peers/grpcio_peer.py")
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let port = Int(line) else {
            process.terminate()
            throw PeerFailure(message: "the grpcio peer did not start (got \(line.debugDescription)); install grpcio: Scripts/bootstrap test")
        }
        self.port = port
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    struct PeerFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}

@Suite(.serialized) struct RPCChannelTests {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    /// Client options with a generous default deadline: a loaded CI machine runs other suites
    /// meanwhile (the deadline test sets its own short one).
    static func options(_ port: Int) -> RPCClientOptions {
        var options = RPCClientOptions(host: "127.0.0.1", port: port)
        options.defaultTimeout = .seconds(60)
        return options
    }

    func withServer(_ body: (Int) async throws -> Void) async throws {
        let server = try await HTTPServer.bindTCP(host: "127.0.0.1", port: 0, group: Self.group, responder: TestPort(),
                                                  stats: ConnectionStats(), idleTimeout: .seconds(60))
        do {
            try await body(server.localPort!)
        } catch {
            await server.close()
            throw error
        }
        await server.close()
    }

    func ping(_ channel: RPCChannel, _ node: String, timestamp: Int64 = 42) async throws(RPCError) -> Cluster.PingResponse {
        var request = Cluster.PingRequest()
        request.nodeId = node
        request.timestamp = timestamp
        let reply = try await channel.unary("/tokmesh.cluster.v1.ClusterService/Ping", request.serializedBytes())
        guard let response = try? Cluster.PingResponse(serializedBytes: reply) else { throw RPCError(.internalError, "bad PingResponse") }
        return response
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

    @Test("unary calls and errors against our server")
    func unaryOwnServer() async throws {
        try await withServer { port in
            let channel = RPCChannel(group: Self.group, options: Self.options(port))
            let pong = try await ping(channel, "n1", timestamp: 7)
            #expect(pong.nodeId == "echo-n1" && pong.timestamp == 7)
            // Many concurrent calls share the pool.
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for i in 0..<200 {
                    tasks.addTask {
                        let pong = try await ping(channel, "c\(i)")
                        #expect(pong.nodeId == "echo-c\(i)")
                    }
                }
                try await tasks.waitForAll()
            }
            #expect(channel.connectionCount >= 1 && channel.connectionCount <= 4)
            let notFound = await failure { () async throws(RPCError) in try await ping(channel, "fail") }
            #expect(notFound?.status == .notFound && notFound?.detail?.code == "TM-SESS-4040")
            let unknown = await failure { () async throws(RPCError) in try await channel.unary("/tokmesh.cluster.v1.ClusterService/Nope", []) }
            #expect(unknown?.status == .unimplemented)
            let started = NIODeadline.now()
            let late = await failure { () async throws(RPCError) in
                try await channel.unary("/tokmesh.cluster.v1.ClusterService/Join", [], timeout: .milliseconds(200))
            }
            #expect(late?.status == .deadlineExceeded && late?.detail?.code == "TM-CLST-5040")
            #expect(NIODeadline.now() - started < .seconds(3))
            await channel.close()
        }
    }

    @Test("a deadline that passes on the client is deadline_exceeded, not the cancel that follows it")
    func clientDeadline() async throws {
        // A peer that accepts and never answers (not even SETTINGS): only the client's own timer ends the call.
        let silent = try await ServerBootstrap(group: Self.group)
            .childChannelInitializer { channel in channel.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        let channel = RPCChannel(group: Self.group, options: Self.options(silent.localAddress!.port!))
        let started = NIODeadline.now()
        let late = await failure { () async throws(RPCError) in
            try await channel.unary("/tokmesh.cluster.v1.ClusterService/Ping", [], timeout: .milliseconds(300))
        }
        #expect(late?.status == .deadlineExceeded && late?.detail?.code == "TM-CLST-5040", "\(String(describing: late))")
        #expect(NIODeadline.now() - started >= .milliseconds(290))
        await channel.close()
        try await silent.close()
    }

    @Test("client streaming with back-pressure against our server")
    func clientStreamOwnServer() async throws {
        try await withServer { port in
            let channel = RPCChannel(group: Self.group, options: Self.options(port))
            let stream = try await channel.clientStream("/tokmesh.cluster.v1.ClusterService/TransferShard", timeout: .seconds(30))
            var request = Cluster.TransferShardRequest()
            request.sessionData = [UInt8](repeating: 0xAB, count: 16 * 1024)
            // 4 MiB: four times the stream window, so the producer must wait for the server.
            for sequence in 1...256 {
                request.sequence = UInt64(sequence)
                await stream.send(request.serializedBytes())
            }
            let response = try Cluster.TransferShardResponse(serializedBytes: try await stream.finish() as [UInt8])
            #expect(response.success && response.transferredItems == 256 && response.lastSequence == 256)
            await channel.close()
        }
    }

    @Test("bidi (reflection) and server streaming (health Watch) against our server")
    func streamingResponses() async throws {
        try await withServer { port in
            let channel = RPCChannel(group: Self.group, options: Self.options(port))
            let reflection = try await channel.bidi("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", timeout: .seconds(10))
            var replies = reflection.responses.makeAsyncIterator()
            for symbol in ["tokmesh.cluster.v1.ClusterService", "grpc.health.v1.Health"] {
                var request = GrpcReflectionV1.ServerReflectionRequest()
                request.messageRequest = .fileContainingSymbol(symbol)
                await reflection.send(request.serializedBytes())
                let reply = try GrpcReflectionV1.ServerReflectionResponse(serializedBytes: try #require(try await replies.next()))
                guard case .fileDescriptorResponse(let files)? = reply.messageResponse else {
                    Issue.record("expected files for \(symbol), got \(String(describing: reply.messageResponse))")
                    continue
                }
                #expect(!files.fileDescriptorProto.isEmpty)
            }
            reflection.closeSend()
            #expect(try await replies.next() == nil)  // the server ends the stream OK after our end

            let watch = try await channel.serverStream("/grpc.health.v1.Health/Watch", [], timeout: .seconds(10))
            var statuses = watch.responses.makeAsyncIterator()
            let first = try GrpcHealthV1.HealthCheckResponse(serializedBytes: try #require(try await statuses.next()))
            #expect(first.status == .serving)
            watch.cancel()
            await #expect(throws: RPCError.self) { while try await statuses.next() != nil {} }
            await channel.close()
        }
    }

    @Test("a peer that cannot be dialled fails fast with unavailable after retries")
    func unreachable() async throws {
        let port: Int
        do {
            // Bind and close to find a port nothing listens on.
            let probe = try await ServerBootstrap(group: Self.group).bind(host: "127.0.0.1", port: 0).get()
            port = probe.localAddress!.port!
            try await probe.close()
        }
        let channel = RPCChannel(group: Self.group, options: RPCClientOptions(host: "127.0.0.1", port: port))
        let refused = await failure { () async throws(RPCError) in try await ping(channel, "x") }
        #expect(refused?.status == .unavailable && refused?.detail?.code == "TM-CLST-5031")
        await channel.close()
    }

    @Test("unary and client streaming against a Python grpcio server")
    func pythonPeer() async throws {
        let peer = try PythonPeer()
        defer { peer.stop() }
        let channel = RPCChannel(group: Self.group, options: Self.options(peer.port))
        let pong = try await ping(channel, "swift", timestamp: 99)
        #expect(pong.nodeId == "py-peer" && pong.timestamp == 99)
        let stream = try await channel.clientStream("/tokmesh.cluster.v1.ClusterService/TransferShard", timeout: .seconds(30))
        var request = Cluster.TransferShardRequest()
        request.sessionData = [UInt8](repeating: 1, count: 8 * 1024)
        for sequence in 1...300 {
            request.sequence = UInt64(sequence)
            await stream.send(request.serializedBytes())
        }
        let response = try Cluster.TransferShardResponse(serializedBytes: try await stream.finish() as [UInt8])
        #expect(response.success && response.transferredItems == 300 && response.lastSequence == 300)
        let unknown = await failure { () async throws(RPCError) in try await channel.unary("/tokmesh.cluster.v1.ClusterService/Join", []) }
        #expect(unknown?.status == .unimplemented)
        await channel.close()
    }
}
