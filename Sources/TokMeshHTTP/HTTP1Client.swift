// HTTP1Client: one HTTP/1.1 exchange at a time over TCP, TLS (swift-nio-ssl, certificate and
// host name always verified, ALPN http/1.1) or a Unix socket — the transport of tokmesh-cli
// (spec/09 §3). The response body either arrives whole or is handed to a sink part by part (file
// downloads with a progress bar). Every exchange has a deadline; the connection closes after it.
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

public struct HTTP1ClientResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

public enum HTTP1ClientEndpoint: Sendable {
    case tcp(host: String, port: Int, tls: NIOSSLContext?, serverName: String?)
    case unix(path: String)
}

public enum HTTP1ClientError: Error, Sendable, CustomStringConvertible {
    case connect(String)
    case tls(String)
    case timeout
    case closed

    public var description: String {
        switch self {
        case .connect(let m): "cannot connect: \(m)"
        case .tls(let m): "TLS failure: \(m)"
        case .timeout: "timed out"
        case .closed: "the connection closed before a complete answer"
        }
    }
}

public enum HTTP1Client {
    /// Sends one request and returns the answer; `sink` (if given) receives the body instead of
    /// `body`, in order, on an event loop thread.
    public static func send(_ endpoint: HTTP1ClientEndpoint, method: HTTPMethod, path: String, headers: [(String, String)], body: [UInt8]?,
                            timeout: TimeAmount, sink: (@Sendable ([UInt8]) -> Void)? = nil) async throws(HTTP1ClientError) -> HTTP1ClientResponse {
        let group = MultiThreadedEventLoopGroup.singleton
        let loop = group.next()
        let promise = loop.makePromise(of: HTTP1ClientResponse.self)
        var tlsContext: NIOSSLContext?
        var serverName: String?
        if case .tcp(_, _, let tls, let name) = endpoint { (tlsContext, serverName) = (tls, name) }
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tlsContext { try sync.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: serverName)) }
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(ResponseCollector(promise: promise, sink: sink))
                }
            }
        let channel: any Channel
        do {
            switch endpoint {
            case .tcp(let host, let port, _, _): channel = try await bootstrap.connect(host: host, port: port).get()
            case .unix(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            }
        } catch {
            promise.fail(HTTP1ClientError.closed)
            throw .connect(Self.describe(error))
        }
        let timer = loop.scheduleTask(in: timeout) {
            promise.fail(HTTP1ClientError.timeout)
            channel.close(promise: nil)
        }
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        for (k, v) in headers { head.headers.add(name: k, value: v) }
        if case .tcp(let host, let port, _, _) = endpoint { head.headers.replaceOrAdd(name: "Host", value: "\(host):\(port)") } else {
            head.headers.replaceOrAdd(name: "Host", value: "localhost")
        }
        head.headers.replaceOrAdd(name: "Connection", value: "close")
        if let body { head.headers.replaceOrAdd(name: "Content-Length", value: String(body.count)) }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body, !body.isEmpty { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        do {
            let response = try await promise.futureResult.get()
            timer.cancel()
            channel.close(promise: nil)
            return response
        } catch let error as HTTP1ClientError {
            timer.cancel()
            channel.close(promise: nil)
            throw error
        } catch {
            timer.cancel()
            channel.close(promise: nil)
            throw Self.isTLS(error) ? .tls(Self.describe(error)) : .closed
        }
    }

    static func isTLS(_ error: any Error) -> Bool { error is NIOSSLError || "\(type(of: error))".contains("SSL") }

    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        for (needle, plain) in [("Connection refused", "connection refused"), ("No such file or directory", "no such socket"),
                                ("Permission denied", "permission denied"), ("Connection reset", "connection reset"),
                                ("connectTimeout", "connect timed out")] where text.contains(needle) {
            return plain
        }
        if let e = error as? IOError { return e.description }
        if let e = error as? ChannelError { return "\(e)" }
        return "\(error)"
    }
}

private final class ResponseCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<HTTP1ClientResponse>
    private let sink: (@Sendable ([UInt8]) -> Void)?
    private var response: HTTP1ClientResponse?
    private var done = false

    init(promise: EventLoopPromise<HTTP1ClientResponse>, sink: (@Sendable ([UInt8]) -> Void)?) {
        self.promise = promise
        self.sink = sink
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            response = HTTP1ClientResponse(status: Int(head.status.code), headers: head.headers.map { ($0.name, $0.value) }, body: [])
        case .body(let buffer):
            let bytes = Array(buffer.readableBytesView)
            if let sink, let status = response?.status, (200..<300).contains(status) { sink(bytes) } else { response?.body.append(contentsOf: bytes) }
        case .end:
            guard let response, !done else { return }
            done = true
            promise.succeed(response)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !done else { return }
        done = true
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            promise.fail(HTTP1ClientError.closed)
        }
        context.fireChannelInactive()
    }
}
