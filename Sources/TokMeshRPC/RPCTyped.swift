// RPCTyped: the typed layer the service stubs (Stubs/) are written against (spec/06 §4-§6). A
// method descriptor ties a method of a service table to its request and response codecs; the
// server adapters turn typed handlers into the byte-level `RPCImplementation`s the router takes —
// decoding each request (bad bytes end the call with `invalid_argument`, TM-SYS-4000, before the
// handler sees anything) and encoding each reply — and the client side does the same over
// `RPCChannel` (a reply that does not decode is `internal`). Writers, responders and inbounds are
// event-loop confined like the byte-level ones they wrap.
import NIOCore
import TokMeshProto

/// One service as the router takes it: its table and the implementations by method name.
public typealias RPCServiceRegistration = (ProtoServiceSchema, [String: RPCImplementation])

/// A method of a service table together with its codecs.
public struct RPCMethodDescriptor<Request: ProtoMessage, Response: ProtoMessage>: Sendable {
    public let schema: ProtoMethodSchema
    /// `/<package>.<Service>/<Method>`.
    public let path: String

    public var name: String { schema.name }
    /// Safe for the client to retry after `unavailable`: the table says no side effects or idempotent.
    public var isIdempotent: Bool { schema.idempotency != .unknown }

    /// The method `name` of `service`; a name the table lacks, or codecs whose message names differ
    /// from the table's (packages aside: reflection v1alpha is served with the v1 codecs), are
    /// programming errors.
    public init(_ service: ProtoServiceSchema, _ name: String) {
        guard let method = service.methods.first(where: { $0.name == name }) else {
            preconditionFailure("\(service.name) has no method \(name)")
        }
        precondition(Self.simpleName(method.input) == Self.simpleName(Request.protoName)
                     && Self.simpleName(method.output) == Self.simpleName(Response.protoName),
                     "\(service.name)/\(name) takes \(method.input) → \(method.output), not \(Request.protoName) → \(Response.protoName)")
        self.schema = method
        self.path = service.path(method)
    }

    static func simpleName(_ name: String) -> Substring { name.split(separator: ".").last ?? Substring(name) }
}

// MARK: server side

/// A typed unary answer: at once (the hot path) or later; a failed future carries an `RPCError`.
public enum RPCTypedReply<Response: ProtoMessage>: Sendable {
    case now(Result<Response, RPCError>)
    case later(EventLoopFuture<Response>)

    public static func success(_ response: Response) -> RPCTypedReply { .now(.success(response)) }
    public static func failure(_ error: RPCError) -> RPCTypedReply { .now(.failure(error)) }

    /// The reply as the router's bytes.
    public var untyped: RPCReply {
        switch self {
        case .now(let result): .now(result.map { $0.serializedBytes() })
        case .later(let future): .later(future.map { $0.serializedBytes() })
        }
    }
}

/// The sending side of a server-streaming or bidi call, typed. Event-loop confined.
public struct RPCTypedStreamWriter<Response: ProtoMessage> {
    public let untyped: any RPCStreamWriter

    public init(_ untyped: any RPCStreamWriter) { self.untyped = untyped }

    public var eventLoop: any EventLoop { untyped.eventLoop }
    public var isClosed: Bool { untyped.isClosed }
    /// Sends one response message.
    public func send(_ message: Response) { untyped.send(message.serializedBytes()) }
    /// Ends the call, OK when `error` is nil.
    public func finish(_ error: RPCError? = nil) { untyped.finish(error) }
    /// Called once if the client goes away first.
    public func onCancel(_ callback: @escaping () -> Void) { untyped.onCancel(callback) }
}

/// The answering side of a client-streaming call: exactly one response or an error. Event-loop confined.
public struct RPCTypedResponder<Response: ProtoMessage> {
    public let untyped: any RPCStreamWriter

    public init(_ untyped: any RPCStreamWriter) { self.untyped = untyped }

    public var eventLoop: any EventLoop { untyped.eventLoop }
    public var isClosed: Bool { untyped.isClosed }

    public func succeed(_ response: Response) {
        untyped.send(response.serializedBytes())
        untyped.finish(nil)
    }

    public func fail(_ error: RPCError) { untyped.finish(error) }

    /// Answers with a reply made now or later (a later one completes on the call's event loop).
    public func complete(_ reply: RPCTypedReply<Response>) {
        switch reply {
        case .now(.success(let response)): succeed(response)
        case .now(.failure(let error)): fail(error)
        case .later(let future):
            let bound = NIOLoopBound(self, eventLoop: eventLoop)
            future.hop(to: eventLoop).whenComplete { result in
                switch result {
                case .success(let response): bound.value.succeed(response)
                case .failure(let error): bound.value.fail(error as? RPCError ?? RPCError(.internalError, "internal error"))
                }
            }
        }
    }

    /// Called once if the client goes away first.
    public func onCancel(_ callback: @escaping () -> Void) { untyped.onCancel(callback) }
}

/// The receiving side of a client-streaming or bidi call, typed: what the handler returns when the
/// call opens. Event-loop confined; nothing more arrives once the call has finished.
public protocol RPCTypedInbound<Request>: AnyObject {
    associatedtype Request: ProtoMessage
    func receive(_ message: Request)
    /// The client has sent its last message.
    func receiveEnd()
}

/// An inbound made of two closures.
public final class RPCInboundHandlers<Request: ProtoMessage>: RPCTypedInbound {
    let onMessage: (Request) -> Void
    let onEnd: () -> Void

    public init(receive: @escaping (Request) -> Void, end: @escaping () -> Void) {
        self.onMessage = receive
        self.onEnd = end
    }

    public func receive(_ message: Request) { onMessage(message) }
    public func receiveEnd() { onEnd() }
}

/// Decodes each request message for a typed inbound; bad bytes end the call with `invalid_argument`.
final class RPCDecodingInbound<Request: ProtoMessage>: RPCInbound {
    private var typed: (any RPCTypedInbound<Request>)?
    private let writer: any RPCStreamWriter
    private let requestID: String

    init(_ typed: any RPCTypedInbound<Request>, writer: any RPCStreamWriter, requestID: String) {
        self.typed = typed
        self.writer = writer
        self.requestID = requestID
    }

    func receive(_ message: [UInt8]) {
        guard let typed else { return }
        let request: Request
        do throws(ProtoDecodingError) { request = try Request(serializedBytes: message) } catch {
            self.typed = nil
            return writer.finish(RPCError.malformed("\(Request.protoName): \(error)", requestID: requestID))
        }
        typed.receive(request)
    }

    func receiveEnd() { typed?.receiveEnd() }
}

/// The inbound of a call refused when it opened.
final class RPCRefusedInbound: RPCInbound {
    func receive(_ message: [UInt8]) {}
    func receiveEnd() {}
}

extension RPCImplementation {
    /// A unary method: the request decoded, the typed reply encoded.
    public static func typedUnary<Request, Response>(_ method: RPCMethodDescriptor<Request, Response>,
                                                     _ run: @escaping @Sendable (Request, RPCCall) -> RPCTypedReply<Response>) -> RPCImplementation {
        precondition(!method.schema.clientStreaming && !method.schema.serverStreaming, "\(method.path) is not unary")
        return .unary { call, bytes in
            let request: Request
            do throws(ProtoDecodingError) { request = try Request(serializedBytes: bytes) } catch {
                return .now(.failure(RPCError.malformed("\(Request.protoName): \(error)", requestID: call.requestID)))
            }
            return run(request, call).untyped
        }
    }

    /// A server-streaming method: the request decoded, responses sent through a typed writer.
    public static func typedServerStreaming<Request, Response>(
        _ method: RPCMethodDescriptor<Request, Response>,
        _ run: @escaping @Sendable (Request, RPCCall, RPCTypedStreamWriter<Response>) -> Void
    ) -> RPCImplementation {
        precondition(!method.schema.clientStreaming && method.schema.serverStreaming, "\(method.path) is not server streaming")
        return .serverStreaming { call, bytes, writer in
            let request: Request
            do throws(ProtoDecodingError) { request = try Request(serializedBytes: bytes) } catch {
                return writer.finish(RPCError.malformed("\(Request.protoName): \(error)", requestID: call.requestID))
            }
            run(request, call, RPCTypedStreamWriter(writer))
        }
    }

    /// A client-streaming method: `open` returns the typed inbound for the requests and answers
    /// once through the responder (the router runs it as a bidi call).
    public static func typedClientStreaming<Request, Response>(
        _ method: RPCMethodDescriptor<Request, Response>,
        _ open: @escaping @Sendable (RPCCall, RPCTypedResponder<Response>) -> any RPCTypedInbound<Request>
    ) -> RPCImplementation {
        precondition(method.schema.clientStreaming && !method.schema.serverStreaming, "\(method.path) is not client streaming")
        return .bidi { call, writer in
            RPCDecodingInbound(open(call, RPCTypedResponder(writer)), writer: writer, requestID: call.requestID)
        }
    }

    /// A bidi method: `open` returns the typed inbound for the requests and sends through the writer.
    public static func typedBidi<Request, Response>(
        _ method: RPCMethodDescriptor<Request, Response>,
        _ open: @escaping @Sendable (RPCCall, RPCTypedStreamWriter<Response>) -> any RPCTypedInbound<Request>
    ) -> RPCImplementation {
        precondition(method.schema.clientStreaming && method.schema.serverStreaming, "\(method.path) is not bidi")
        return .bidi { call, writer in
            RPCDecodingInbound(open(call, RPCTypedStreamWriter(writer)), writer: writer, requestID: call.requestID)
        }
    }

    /// The same method behind an interceptor that runs first, before the request is decoded: an
    /// error from `check` ends the call with it and the implementation never runs.
    public func intercepted(_ check: @escaping @Sendable (RPCCall) -> RPCError?) -> RPCImplementation {
        switch self {
        case .unary(let run):
            return .unary { call, bytes in
                if let refusal = check(call) { return .now(.failure(refusal)) }
                return run(call, bytes)
            }
        case .serverStreaming(let run):
            return .serverStreaming { call, bytes, writer in
                if let refusal = check(call) { return writer.finish(refusal) }
                run(call, bytes, writer)
            }
        case .bidi(let open):
            return .bidi { call, writer in
                if let refusal = check(call) {
                    writer.finish(refusal)
                    return RPCRefusedInbound()
                }
                return open(call, writer)
            }
        }
    }
}

// MARK: client side

extension RPCChannel {
    /// A typed unary call; retried after `unavailable` when the method is idempotent by its table.
    public func unary<Request, Response>(_ method: RPCMethodDescriptor<Request, Response>, _ request: Request,
                                         metadata: [(String, String)] = [], timeout: TimeAmount? = nil) async throws(RPCError) -> Response {
        let reply = try await unary(method.path, request.serializedBytes(), metadata: metadata, timeout: timeout, idempotent: method.isIdempotent)
        return try RPCChannel.decode(Response.self, reply)
    }

    /// A typed client-streaming call.
    public func clientStream<Request, Response>(_ method: RPCMethodDescriptor<Request, Response>, metadata: [(String, String)] = [],
                                                timeout: TimeAmount? = nil) async throws(RPCError) -> RPCTypedClientStream<Request, Response> {
        RPCTypedClientStream(try await clientStream(method.path, metadata: metadata, timeout: timeout))
    }

    static func decode<Response: ProtoMessage>(_ type: Response.Type, _ bytes: [UInt8]) throws(RPCError) -> Response {
        do throws(ProtoDecodingError) {
            return try Response(serializedBytes: bytes)
        } catch {
            throw RPCError(.internalError, "the response is not a valid \(Response.protoName): \(error)")
        }
    }
}

/// The caller's side of a typed client-streaming call.
public struct RPCTypedClientStream<Request: ProtoMessage, Response: ProtoMessage>: Sendable {
    public let untyped: RPCClientStream

    public init(_ untyped: RPCClientStream) { self.untyped = untyped }

    /// Sends one message; suspends while the peer is slow.
    public func send(_ message: Request) async { await untyped.send(message.serializedBytes()) }

    /// Ends the stream and waits for the single response.
    public func finish() async throws(RPCError) -> Response {
        try RPCChannel.decode(Response.self, try await untyped.finish())
    }

    /// Abandons the call.
    public func cancel() { untyped.cancel() }
}
