// RPCChannel: the gRPC client to one peer (spec/06 §6). It keeps a small pool of HTTP/2
// connections (a new one when every open one is at 80 % of the peer's stream limit, at most 4),
// reconnects with jittered backoff from 100 ms to 5 s after a failed dial, gives every call a
// deadline (sent as `grpc-timeout`), and retries `unavailable` — at most 3 attempts, backoff
// 25 ms × 2ⁿ jittered, never past the deadline — when the call provably never reached the
// server (dial failure, REFUSED_STREAM, refused by GOAWAY) or when the caller marks it
// idempotent. Unary, client-streaming, server-streaming and bidi calls; senders suspend at the
// peer's window pace and streamed responses arrive as an async sequence. A unary call runs in a
// client span of the process's tracer, and every call carries the current trace context
// (`traceparent`) in its metadata (spec/10 §5); with no tracer bootstrapped both cost nothing.
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization
import TokMeshHTTP
import Tracing

public struct RPCClientOptions: Sendable {
    public var host: String
    public var port: Int
    /// TLS (ALPN h2) when set; cleartext h2 with prior knowledge otherwise.
    public var tls: NIOSSLContext?
    public var serverHostname: String?
    public var defaultTimeout: TimeAmount = .seconds(5)
    public var maxConnections = 4
    public var maxMessageSize = 64 << 20
    /// Metadata on every call (e.g. `tokmesh-cluster-id`, `tokmesh-node-id`).
    public var metadata: [(String, String)] = []

    public init(host: String, port: Int, tls: NIOSSLContext? = nil, serverHostname: String? = nil) {
        self.host = host
        self.port = port
        self.tls = tls
        self.serverHostname = serverHostname
    }
}

public final class RPCChannel: Sendable {
    let group: any EventLoopGroup
    let options: RPCClientOptions

    private struct Pooled: @unchecked Sendable {
        // The handler is only touched on `channel.eventLoop`.
        let channel: any Channel
        let handler: H2ClientConnection
        var inFlight: Int
    }

    private struct PoolState: Sendable {
        var connections: [Pooled] = []
        var dialing = 0
        var failures = 0
        var nextDialAt = NIODeadline.uptimeNanoseconds(0)
        var closed = false
    }

    private let state = Mutex(PoolState())

    public init(group: any EventLoopGroup, options: RPCClientOptions) {
        self.group = group
        self.options = options
    }

    public var connectionCount: Int { state.withLock { $0.connections.count } }

    // MARK: calls

    /// A unary call: one request message, one response message.
    public func unary(_ path: String, _ request: [UInt8], metadata: [(String, String)] = [], timeout: TimeAmount? = nil,
                      idempotent: Bool = false) async throws(RPCError) -> [UInt8] {
        let span = InstrumentationSystem.tracer.startSpan(String(path.dropFirst()), context: ServiceContext.current ?? .topLevel, ofKind: .client)
        defer { span.end() }
        if span.isRecording {
            let parts = path.dropFirst().split(separator: "/")
            span.attributes["rpc.system"] = "grpc"
            span.attributes["rpc.service"] = parts.first.map(String.init) ?? ""
            span.attributes["rpc.method"] = parts.last.map(String.init) ?? ""
            span.attributes["server.address"] = options.host
        }
        let outcome = await ServiceContext.withValue(span.context) { () async -> Result<[UInt8], RPCError> in
            do throws(RPCError) {
                return .success(try await unaryAttempts(path, request, metadata: metadata, timeout: timeout, idempotent: idempotent))
            } catch {
                return .failure(error)
            }
        }
        if span.isRecording {
            if case .failure(let error) = outcome {
                span.attributes["rpc.grpc.status_code"] = Int64(error.status.rawValue)
                span.setStatus(SpanStatus(code: .error))
            } else {
                span.attributes["rpc.grpc.status_code"] = Int64(0)
            }
        }
        return try outcome.get()
    }

    private func unaryAttempts(_ path: String, _ request: [UInt8], metadata: [(String, String)], timeout: TimeAmount?,
                               idempotent: Bool) async throws(RPCError) -> [UInt8] {
        let deadline = NIODeadline.now() + (timeout ?? options.defaultTimeout)
        var attempt = 0
        while true {
            attempt += 1
            let outcome = await attemptUnary(path, request, metadata: metadata, deadline: deadline)
            switch outcome {
            case .success(let reply):
                return reply
            case .failure(let failure):
                let retryable = failure.error.status == .unavailable && (failure.unprocessed || idempotent)
                let backoff = TimeAmount.nanoseconds(Int64(Double(25_000_000 << (attempt - 1)) * Double.random(in: 0.5...1.5)))
                guard retryable, attempt < 3, NIODeadline.now() + backoff < deadline else { throw failure.error }
                try? await Task.sleep(nanoseconds: UInt64(backoff.nanoseconds))
            }
        }
    }

    struct AttemptFailure: Error {
        var error: RPCError
        /// The server never saw the call: safe to retry whatever the method.
        var unprocessed: Bool
    }

    private func attemptUnary(_ path: String, _ request: [UInt8], metadata: [(String, String)], deadline: NIODeadline) async -> Result<[UInt8], AttemptFailure> {
        let call: NIOLoopBound<RPCClientCall>
        let pooled: Pooled
        switch await open(path, metadata: metadata, deadline: deadline, unaryRequest: request) {
        case .success(let opened): (call, pooled) = opened
        case .failure(let failure): return .failure(failure)
        }
        defer { release(pooled) }
        let messages: [[UInt8]]
        do {
            messages = try await pooled.channel.eventLoop.flatSubmit { call.value.result }.get()
        } catch {
            let rpc = error as? RPCError ?? RPCError(.internalError, "\(error)")
            let processed = (try? await pooled.channel.eventLoop.submit { call.value.processed }.get()) ?? true
            return .failure(AttemptFailure(error: rpc, unprocessed: !processed && rpc.status == .unavailable))
        }
        guard messages.count == 1 else {
            return .failure(AttemptFailure(error: RPCError(.unimplemented, "unary response with \(messages.count) messages"), unprocessed: false))
        }
        return .success(messages[0])
    }

    /// Starts a client-streaming call: `send` each message (suspends while the peer is slow),
    /// then `finish` for the single response.
    public func clientStream(_ path: String, metadata: [(String, String)] = [], timeout: TimeAmount? = nil) async throws(RPCError) -> RPCClientStream {
        let deadline = NIODeadline.now() + (timeout ?? options.defaultTimeout)
        switch await open(path, metadata: metadata, deadline: deadline) {
        case .success(let (call, pooled)):
            return RPCClientStream(call: call, eventLoop: pooled.channel.eventLoop) {
                self.release(pooled)
            }
        case .failure(let failure):
            throw failure.error
        }
    }

    /// Starts a bidi (or server-streaming) call: `send` messages and `closeSend`, while
    /// `responses` yields the server's messages as they arrive and ends with the call's status.
    public func bidi(_ path: String, metadata: [(String, String)] = [], timeout: TimeAmount? = nil) async throws(RPCError) -> RPCBidiStream {
        let deadline = NIODeadline.now() + (timeout ?? options.defaultTimeout)
        switch await open(path, metadata: metadata, deadline: deadline) {
        case .success(let (call, pooled)):
            let loop = pooled.channel.eventLoop
            let (responses, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
            _ = try? await loop.submit {
                call.value.onMessage = { continuation.yield($0) }
                call.value.result.whenComplete { result in
                    switch result {
                    case .success: continuation.finish()
                    case .failure(let error): continuation.finish(throwing: error)
                    }
                    self.release(pooled)
                }
            }.get()
            return RPCBidiStream(call: call, eventLoop: loop, responses: responses)
        case .failure(let failure):
            throw failure.error
        }
    }

    /// A server-streaming call: one request, then the server's messages as they arrive.
    public func serverStream(_ path: String, _ request: [UInt8], metadata: [(String, String)] = [],
                             timeout: TimeAmount? = nil) async throws(RPCError) -> RPCBidiStream {
        let stream = try await bidi(path, metadata: metadata, timeout: timeout)
        await stream.send(request)
        stream.closeSend()
        return stream
    }

    public func close() async {
        let connections = state.withLock { state -> [Pooled] in
            state.closed = true
            defer { state.connections = [] }
            return state.connections
        }
        for pooled in connections { try? await pooled.channel.close() }
    }

    // MARK: connections

    /// Opens a stream for `path` on a pooled connection. A unary call passes its `request`: it is
    /// sent and the request side ended in the same event-loop turn that opens the stream, so the
    /// call never waits on the caller's task (a busy cooperative pool) while its deadline runs.
    private func open(_ path: String, metadata: [(String, String)], deadline: NIODeadline, unaryRequest: [UInt8]? = nil) async
        -> Result<(NIOLoopBound<RPCClientCall>, Pooled), AttemptFailure> {
        let pooled: Pooled
        switch await connection(deadline: deadline) {
        case .success(let p): pooled = p
        case .failure(let error): return .failure(AttemptFailure(error: error, unprocessed: true))
        }
        let remaining = max(deadline - NIODeadline.now() - .milliseconds(5), .milliseconds(1))
        var headers: [(String, String)] = [
            (":method", "POST"), (":scheme", options.tls == nil ? "http" : "https"), (":path", path),
            (":authority", "\(options.serverHostname ?? options.host):\(options.port)"),
            ("content-type", "application/grpc+proto"), ("te", "trailers"), ("user-agent", "tokmesh-rpc/0.1"),
            ("grpc-timeout", "\(max(remaining.nanoseconds / 1_000_000, 1))m"),
        ]
        headers.append(contentsOf: options.metadata)
        headers.append(contentsOf: metadata)
        if let context = ServiceContext.current {
            InstrumentationSystem.instrument.inject(context, into: &headers, using: MetadataInjector())
        }
        let maxMessageSize = options.maxMessageSize
        let loop = pooled.channel.eventLoop
        let started: NIOLoopBound<RPCClientCall>?? = try? await loop.submit { () -> NIOLoopBound<RPCClientCall>? in
            let call = RPCClientCall(eventLoop: loop, maxMessageSize: maxMessageSize, deadline: deadline)
            guard let stream = pooled.handler.startStream(headers: headers, delegate: call) else { return nil }
            call.stream = stream
            if let unaryRequest {
                _ = call.send(unaryRequest)
                call.end()
            }
            return NIOLoopBound(call, eventLoop: loop)
        }.get()
        guard let started = started ?? nil else {
            release(pooled)
            return .failure(AttemptFailure(error: RPCClientCall.error(.unavailable, "the connection takes no new streams", tm: .clstOwnerUnreachable),
                                           unprocessed: true))
        }
        return .success((started, pooled))
    }

    private func release(_ pooled: Pooled) {
        state.withLock { state in
            if let i = state.connections.firstIndex(where: { $0.channel === pooled.channel }) { state.connections[i].inFlight -= 1 }
        }
    }

    /// A pooled connection with room for one more stream, dialling a new one when needed.
    private func connection(deadline: NIODeadline) async -> Result<Pooled, RPCError> {
        enum Choice { case use(Pooled), dial, wait(NIODeadline), closed }
        let choice = state.withLock { state -> Choice in
            if state.closed { return .closed }
            state.connections.removeAll { !$0.channel.isActive }
            let limit = 80  // 80 % of the usual 100-stream limit; the handler refuses beyond the peer's real one
            if let i = state.connections.indices.min(by: { state.connections[$0].inFlight < state.connections[$1].inFlight }),
               state.connections[i].inFlight < limit || state.connections.count + state.dialing >= options.maxConnections {
                state.connections[i].inFlight += 1
                return .use(state.connections[i])
            }
            if NIODeadline.now() < state.nextDialAt { return .wait(state.nextDialAt) }
            state.dialing += 1
            return .dial
        }
        switch choice {
        case .closed:
            return .failure(RPCError(.cancelled, "the channel is closed"))
        case .use(let pooled):
            return .success(pooled)
        case .wait(let until):
            guard until < deadline else {
                return .failure(RPCClientCall.error(.unavailable, "\(options.host):\(options.port) is unreachable (backing off)", tm: .clstOwnerUnreachable))
            }
            try? await Task.sleep(nanoseconds: UInt64(max(0, (until - NIODeadline.now()).nanoseconds)))
            return await connection(deadline: deadline)
        case .dial:
            do {
                let (channel, handler) = try await dial(deadline: deadline)
                let pooled = Pooled(channel: channel, handler: handler, inFlight: 1)
                state.withLock { state in
                    state.dialing -= 1
                    state.failures = 0
                    state.connections.append(pooled)
                }
                return .success(pooled)
            } catch {
                state.withLock { state in
                    state.dialing -= 1
                    state.failures += 1
                    let base = min(100 << min(state.failures - 1, 6), 5000)
                    state.nextDialAt = NIODeadline.now() + .milliseconds(Int64(Double(base) * Double.random(in: 0.5...1.0)))
                }
                return .failure(RPCClientCall.error(.unavailable, "cannot connect to \(options.host):\(options.port)", tm: .clstOwnerUnreachable))
            }
        }
    }

    private func dial(deadline: NIODeadline) async throws -> (any Channel, H2ClientConnection) {
        let tls = options.tls
        let hostname = options.serverHostname
        let timeout = max(deadline - NIODeadline.now(), .milliseconds(1))
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: hostname))
                    }
                    try channel.pipeline.syncOperations.addHandler(H2ClientConnection())
                }
            }
            .connect(host: options.host, port: options.port).get()
        let handler = try await channel.eventLoop.submit { try channel.pipeline.syncOperations.handler(type: H2ClientConnection.self) }.get()
        return (channel, handler)
    }
}

/// The caller's side of a client-streaming call.
public final class RPCClientStream: Sendable {
    private let call: NIOLoopBound<RPCClientCall>
    private let eventLoop: any EventLoop
    private let done: @Sendable () -> Void
    private let finished = Atomic<Bool>(false)

    init(call: NIOLoopBound<RPCClientCall>, eventLoop: any EventLoop, done: @escaping @Sendable () -> Void) {
        self.call = call
        self.eventLoop = eventLoop
        self.done = done
    }

    /// Sends one message; suspends while more than 256 KiB wait for the peer's window.
    public func send(_ message: [UInt8]) async {
        let call = self.call
        try? await eventLoop.flatSubmit { call.value.send(message) }.get()
    }

    /// Ends the stream and waits for the single response.
    public func finish() async throws(RPCError) -> [UInt8] {
        let call = self.call
        defer { release() }
        do {
            let messages = try await eventLoop.flatSubmit { () -> EventLoopFuture<[[UInt8]]> in
                call.value.end()
                return call.value.result
            }.get()
            guard messages.count == 1 else { throw RPCError(.unimplemented, "client-streaming response with \(messages.count) messages") }
            return messages[0]
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(.internalError, "\(error)")
        }
    }

    /// Abandons the call (RST_STREAM(CANCEL)).
    public func cancel() {
        let call = self.call
        eventLoop.execute { call.value.cancel() }
        release()
    }

    private func release() {
        if !finished.exchange(true, ordering: .relaxed) { done() }
    }
}

/// The caller's side of a bidi or server-streaming call. The call ends when the server's status
/// arrives: `responses` then finishes, or throws the `RPCError`.
public final class RPCBidiStream: Sendable {
    private let call: NIOLoopBound<RPCClientCall>
    private let eventLoop: any EventLoop
    public let responses: AsyncThrowingStream<[UInt8], any Error>

    init(call: NIOLoopBound<RPCClientCall>, eventLoop: any EventLoop, responses: AsyncThrowingStream<[UInt8], any Error>) {
        self.call = call
        self.eventLoop = eventLoop
        self.responses = responses
    }

    /// Sends one message; suspends while more than 256 KiB wait for the peer's window.
    public func send(_ message: [UInt8]) async {
        let call = self.call
        try? await eventLoop.flatSubmit { call.value.send(message) }.get()
    }

    /// Ends the request side (END_STREAM); responses keep arriving.
    public func closeSend() {
        let call = self.call
        eventLoop.execute { call.value.end() }
    }

    /// Abandons the call (RST_STREAM(CANCEL)); `responses` ends with `cancelled`.
    public func cancel() {
        let call = self.call
        eventLoop.execute { call.value.cancel() }
    }
}

/// Writes trace headers (`traceparent`, `tracestate`) into a call's metadata.
struct MetadataInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [(String, String)]) {
        carrier.removeAll { $0.0 == key }
        carrier.append((key, value))
    }
}
