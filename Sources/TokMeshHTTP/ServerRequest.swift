// ServerRequest and ServerResponse: the transport-neutral request/response model every listener
// (TCP HTTP/1.1 now, HTTP/2 in issue 4, the local Unix socket) feeds to one responder.
import NIOCore
import NIOHTTP1
import TokMeshCore

public enum PeerKind: Sendable, Equatable {
    /// A TCP peer with its address.
    case tcp(IPAddress)
    /// The local admin socket.
    case local
}

public struct ServerRequest: Sendable {
    public var method: HTTPMethod
    /// The raw path without the query string (not yet percent-decoded).
    public var path: String
    public var query: String?
    public var headers: HTTPHeaders
    public var body: [UInt8]
    public var peer: PeerKind
    public var version: HTTPVersion
    /// The verified client certificate's common name on mTLS listeners (cluster port), else nil.
    public var peerCommonName: String?

    public init(method: HTTPMethod, uri: String, headers: HTTPHeaders, body: [UInt8], peer: PeerKind, version: HTTPVersion) {
        self.method = method
        if let q = uri.utf8.firstIndex(of: UInt8(ascii: "?")) {
            path = String(uri[..<q])
            query = String(uri[uri.utf8.index(after: q)...])
        } else {
            path = uri
            query = nil
        }
        self.headers = headers
        self.body = body
        self.peer = peer
        self.version = version
    }
}

/// A byte range of an open file sent as the body without reading it into memory (sendfile).
/// The listener closes the handle once the response is written or abandoned.
public struct FileBody: Sendable {
    public var handle: NIOFileHandle
    public var offset: Int
    public var length: Int

    public init(handle: NIOFileHandle, offset: Int, length: Int) {
        self.handle = handle
        self.offset = offset
        self.length = length
    }
}

public struct ServerResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: ByteBuffer?
    /// Streamed from a file instead of `body` (snapshot downloads).
    public var file: FileBody?
    /// Close the connection after this response (framing errors, 413).
    public var closeConnection: Bool

    public init(status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders(), body: ByteBuffer? = nil, file: FileBody? = nil,
                closeConnection: Bool = false) {
        self.status = status
        self.headers = headers
        self.body = body
        self.file = file
        self.closeConnection = closeConnection
    }
}

/// What a listener calls. `respond` runs on the connection's event loop and may complete later.
public protocol HTTPResponder: Sendable {
    /// The body limit for a request head (checked on Content-Length and while reading).
    func bodyLimit(method: HTTPMethod, uri: String) -> Int
    /// The answer when a body passes its limit; the connection is closed after it.
    func bodyTooLarge(method: HTTPMethod, uri: String, headers: HTTPHeaders, peer: PeerKind) -> ServerResponse
    /// The answer to broken HTTP framing; the connection is closed after it.
    func malformed() -> ServerResponse
    func respond(to request: ServerRequest, on eventLoop: any EventLoop) -> ResponderResult
}

/// A response available at once (the hot path: no future allocated) or later (blocking work).
public enum ResponderResult: Sendable {
    case now(ServerResponse)
    case later(EventLoopFuture<ServerResponse>)
}
