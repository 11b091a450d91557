// HTTP1ServerHandler: one HTTP/1.1 connection's request loop on its event loop. It aggregates
// a request body within the responder's limit (checked on Content-Length first and again while
// reading), hands the request to the responder, writes the response, and honours keep-alive and
// `Connection: close`. Broken framing gets the responder's 400 and a close. Pipelining order is
// kept by NIO's HTTPServerPipelineHandler in front of this one.
import NIOCore
import NIOHTTP1
import TokMeshCore

final class HTTP1ServerHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case reading(head: HTTPRequestHead, body: ByteBuffer, limit: Int)
        /// The body passed its limit; the rest of the request is ignored until its end.
        case discarding
        case responding
    }

    private let responder: any HTTPResponder
    private let peerKind: PeerKind
    private let stats: ConnectionStats
    private let idleTimeout: TimeAmount
    private var lastActivity = NIODeadline.now()
    private var idleCheck: RepeatedTask?
    private var state = State.idle
    private var closeAfterResponse = false

    init(responder: any HTTPResponder, peer: PeerKind, stats: ConnectionStats, idleTimeout: TimeAmount) {
        self.responder = responder
        self.peerKind = peer
        self.stats = stats
        self.idleTimeout = idleTimeout
    }

    func channelActive(context: ChannelHandlerContext) {
        stats.openConnections.wrappingAdd(1, ordering: .relaxed)
        // Idle timeout: a cheap periodic check of the last activity instead of a handler that
        // sits on every read and write (spec/04 §1 `server.http.idle_timeout`).
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let period = TimeAmount.nanoseconds(max(idleTimeout.nanoseconds / 4, 50_000_000))
        idleCheck = context.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            let (handler, context) = loopBound.value
            if case .idle = handler.state, NIODeadline.now() - handler.lastActivity >= handler.idleTimeout {
                context.close(promise: nil)
            }
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stats.openConnections.wrappingSubtract(1, ordering: .relaxed)
        idleCheck?.cancel()
        idleCheck = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = NIODeadline.now()
        switch unwrapInboundIn(data) {
        case .head(let head):
            if !HTTP1ServerHandler.headWithinLimits(head) {
                state = .discarding
                write(context, responder.malformed(), keepAlive: false)
                return
            }
            let limit = responder.bodyLimit(method: head.method, uri: head.uri)
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > limit {
                state = .discarding
                write(context, responder.bodyTooLarge(method: head.method, uri: head.uri, headers: head.headers, peer: peerKind), keepAlive: false)
                return
            }
            state = .reading(head: head, body: context.channel.allocator.buffer(capacity: 0), limit: limit)
            if head.headers.first(name: "expect")?.lowercased() == "100-continue" {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
            }
        case .body(var chunk):
            guard case .reading(let head, var body, let limit) = state else { return }
            if body.readableBytes + chunk.readableBytes > limit {
                state = .discarding
                write(context, responder.bodyTooLarge(method: head.method, uri: head.uri, headers: head.headers, peer: peerKind), keepAlive: false)
                return
            }
            state = .idle  // avoid a CoW copy of `body` while it is being appended to
            body.writeBuffer(&chunk)
            state = .reading(head: head, body: body, limit: limit)
        case .end:
            switch state {
            case .reading(let head, var body, _):
                state = .responding
                stats.requestsServed.wrappingAdd(1, ordering: .relaxed)
                let request = ServerRequest(method: head.method, uri: head.uri, headers: head.headers,
                                            body: body.readBytes(length: body.readableBytes) ?? [], peer: peerKind, version: head.version)
                let keepAlive = head.isKeepAlive
                switch responder.respond(to: request, on: context.eventLoop) {
                case .now(let response):
                    write(context, response, keepAlive: keepAlive && !response.closeConnection)
                case .later(let future):
                    let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                    future.whenComplete { result in
                        let (handler, context) = loopBound.value
                        switch result {
                        case .success(let response): handler.write(context, response, keepAlive: keepAlive && !response.closeConnection)
                        case .failure: handler.write(context, handler.responder.malformed(), keepAlive: false)
                        }
                    }
                }
            case .discarding:
                state = .idle
            case .idle, .responding:
                break
            }
        }
    }

    /// spec/04 §1: request target ≤ 8 KiB, header section ≤ 16 KiB and ≤ 100 fields.
    static let requestTargetBytesMax = 8 * 1024
    static let headerBytesMax = 16 * 1024
    static let headerFieldsMax = 100

    static func headWithinLimits(_ head: HTTPRequestHead) -> Bool {
        guard head.uri.utf8.count <= requestTargetBytesMax, head.headers.count <= headerFieldsMax else { return false }
        var bytes = 0
        for (name, value) in head.headers { bytes += name.utf8.count + value.utf8.count + 4 }
        return bytes <= headerBytesMax
    }

    private func write(_ context: ChannelHandlerContext, _ response: ServerResponse, keepAlive: Bool) {
        var headers = response.headers
        let length = response.body?.readableBytes ?? 0
        headers.replaceOrAdd(name: "content-length", value: String(length))
        if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body = response.body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        if case .responding = state { state = .idle }
        lastActivity = NIODeadline.now()
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if error is HTTPParserError {
            switch state {
            case .idle, .reading, .discarding:
                state = .responding
                write(context, responder.malformed(), keepAlive: false)
            case .responding:
                context.close(promise: nil)
            }
            return
        }
        context.close(promise: nil)
    }
}
