// RPCRouter: the services registered on one port (spec/06 §5) — each method's schema and its
// implementation, found by path `/<pkg>.<Service>/<Method>` — plus the per-port limits and the
// JSON codec the protocol layers use to turn `+json` payloads into protobuf and back.
// Implementations see protobuf bytes only; they are unary, server streaming or bidi.
import NIOCore
import NIOHTTP1
import TokMeshCore
import TokMeshHTTP
import TokMeshProto

/// What a handler knows about its call.
public struct RPCCall: Sendable {
    public var method: ProtoMethodSchema
    public var headers: HTTPHeaders
    public var peer: PeerKind
    public var requestID: String
    public var eventLoop: any EventLoop
    /// The verified client certificate's CN (cluster port).
    public var peerCommonName: String?
}

/// A unary answer: at once (the hot path) or later; a failed future carries an `RPCError`.
public enum RPCReply: Sendable {
    case now(Result<[UInt8], RPCError>)
    case later(EventLoopFuture<[UInt8]>)
}

/// The sending side of a streaming call. Event-loop confined.
public protocol RPCStreamWriter: AnyObject {
    var eventLoop: any EventLoop { get }
    var isClosed: Bool { get }
    /// Sends one response message (protobuf bytes).
    func send(_ message: [UInt8])
    /// Ends the call, OK when `error` is nil.
    func finish(_ error: RPCError?)
    /// Called once if the client goes away first.
    func onCancel(_ callback: @escaping () -> Void)
}

/// The receiving side of a bidi call. Event-loop confined.
public protocol RPCInbound: AnyObject {
    func receive(_ message: [UInt8])
    func receiveEnd()
}

public enum RPCImplementation: Sendable {
    case unary(@Sendable (RPCCall, [UInt8]) -> RPCReply)
    case serverStreaming(@Sendable (RPCCall, [UInt8], any RPCStreamWriter) -> Void)
    case bidi(@Sendable (RPCCall, any RPCStreamWriter) -> any RPCInbound)
}

public struct RPCMethod: Sendable {
    public var schema: ProtoMethodSchema
    public var path: String
    public var implementation: RPCImplementation
    /// Reflection and health take no credentials; the others authenticate in their handler.
    public var isUnary: Bool { if case .unary = implementation { true } else { false } }
}

public struct RPCLimits: Sendable {
    /// `server.rpc.max_message_size` (decompressed).
    public var maxMessageSize = 4 << 20
    /// `server.rpc.compression_min_size`: smaller replies are never compressed.
    public var compressionMinSize = 1024
    /// `server.rpc.default_timeout` for unary calls without a client deadline.
    public var defaultTimeout: TimeAmount = .seconds(30)
    public init() {}
}

public final class RPCRouter: Sendable {
    public let methods: [String: RPCMethod]
    /// Registered service names (`tokmesh.v1.SessionService`), in registration order.
    public let services: [String]
    private let serviceSet: Set<Substring>
    public let limits: RPCLimits
    public let json: ProtoJSONCodec

    public init(services: [(ProtoServiceSchema, [String: RPCImplementation])], limits: RPCLimits, schemas: [ProtoFileSchema]) {
        var methods: [String: RPCMethod] = [:]
        for (service, implementations) in services {
            // A method without an implementation yet answers `unimplemented` like an unknown one
            // (the cluster services grow method by method with the cluster work).
            for method in service.methods {
                guard let implementation = implementations[method.name] else { continue }
                methods[service.path(method)] = RPCMethod(schema: method, path: service.path(method), implementation: implementation)
            }
        }
        self.methods = methods
        self.services = services.map { $0.0.name }
        self.serviceSet = Set(services.map { Substring($0.0.name) })
        self.limits = limits
        self.json = ProtoJSONCodec(registry: ProtoSchemaRegistry(schemas))
    }

    /// The service part of an RPC-shaped path (`/a.b.Service/Method` → `a.b.Service`); one
    /// pass over the bytes (it runs on every request).
    static func serviceName(_ path: String) -> Substring? {
        let utf8 = path.utf8
        guard utf8.first == UInt8(ascii: "/") else { return nil }
        var slash: String.Index?
        var dot = false
        var index = utf8.index(after: utf8.startIndex)
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "/") {
                guard slash == nil else { return nil }
                slash = index
            } else if byte == UInt8(ascii: "."), slash == nil {
                dot = true
            }
            index = utf8.index(after: index)
        }
        guard let slash, dot else { return nil }
        return path[path.index(after: path.startIndex)..<slash]
    }

    public func isRegisteredService(_ path: String) -> Bool {
        guard let service = RPCRouter.serviceName(path) else { return false }
        return serviceSet.contains(service)
    }
}
