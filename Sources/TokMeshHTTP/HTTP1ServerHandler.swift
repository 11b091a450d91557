// HTTP1ServerHandler: one HTTP/1.1 connection's request loop on its event loop, behind NIO's
// request decoder only. It aggregates a request body within the responder's limit (checked on
// Content-Length first and again while reading), hands the request to the responder, encodes
// the response itself into one buffer (status line, headers and body in a single write), and
// honours keep-alive and `Connection: close`. Pipelined requests are answered in order: while a
// response is pending off the loop, later request parts wait in `parked`. Broken framing gets
// the responder's 400 and a close; an idle connection is closed after `idleTimeout`.
import NIOCore
import NIOHTTP1
import TokMeshCore

final class HTTP1ServerHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = IOData

    /// spec/04 §1: request target ≤ 8 KiB, header section ≤ 16 KiB and ≤ 100 fields.
    static let requestTargetBytesMax = 8 * 1024
    static let headerBytesMax = 16 * 1024
    static let headerFieldsMax = 100
    /// Request parts a client may pipeline behind a response that is still being computed.
    static let parkedPartsMax = 1024

    private enum State {
        case idle
        case reading(head: HTTPRequestHead, body: ByteBuffer, limit: Int)
        /// The body passed its limit and was answered; the rest of the request is ignored.
        case discarding
        /// A response is being computed off the event loop.
        case responding
        /// A response with `Connection: close` was written; nothing more is read.
        case closing
    }

    private let responder: any HTTPResponder
    private let peerKind: PeerKind
    private let stats: ConnectionStats
    private let idleTimeout: TimeAmount
    private var lastActivity = NIODeadline.now()
    private var idleCheck: RepeatedTask?
    private var state = State.idle
    private var parked: [HTTPServerRequestPart] = []

    init(responder: any HTTPResponder, peer: PeerKind, stats: ConnectionStats, idleTimeout: TimeAmount) {
        self.responder = responder
        self.peerKind = peer
        self.stats = stats
        self.idleTimeout = idleTimeout
    }

    private var activated = false

    /// Handlers added to an already active channel (after protocol sniffing or ALPN) start here.
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { activate(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        activate(context)
        context.fireChannelActive()
    }

    private func activate(_ context: ChannelHandlerContext) {
        guard !activated else { return }
        activated = true
        stats.openConnections.wrappingAdd(1, ordering: .relaxed)
        stats.register(context.channel)
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
    }

    func channelInactive(context: ChannelHandlerContext) {
        if activated {
            stats.openConnections.wrappingSubtract(1, ordering: .relaxed)
            stats.unregister(context.channel)
        }
        activated = false
        idleCheck?.cancel()
        idleCheck = nil
        parked.removeAll()
        context.fireChannelInactive()
    }

    /// The graceful stop: an idle connection closes now, a busy one after its answer (which
    /// carries `Connection: close`).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ConnectionDrain else { return context.fireUserInboundEventTriggered(event) }
        if case .idle = state, parked.isEmpty { context.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = NIODeadline.now()
        let part = unwrapInboundIn(data)
        switch state {
        case .responding:
            guard parked.count < HTTP1ServerHandler.parkedPartsMax else { context.close(promise: nil); return }
            parked.append(part)
        case .closing:
            break
        case .idle, .reading, .discarding:
            handle(part, context: context)
        }
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            if !HTTP1ServerHandler.headWithinLimits(head) {
                state = .discarding
                write(context, responder.malformed(), method: head.method, keepAlive: false)
                return
            }
            let limit = responder.bodyLimit(method: head.method, uri: head.uri)
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > limit {
                state = .discarding
                write(context, responder.bodyTooLarge(method: head.method, uri: head.uri, headers: head.headers, peer: peerKind),
                      method: head.method, keepAlive: false)
                return
            }
            state = .reading(head: head, body: context.channel.allocator.buffer(capacity: 0), limit: limit)
            if head.headers.first(name: "expect")?.lowercased() == "100-continue" {
                context.writeAndFlush(wrapOutboundOut(.byteBuffer(ByteBuffer(string: "HTTP/1.1 100 Continue\r\n\r\n"))), promise: nil)
            }
        case .body(var chunk):
            guard case .reading(let head, var body, let limit) = state else { return }
            if body.readableBytes + chunk.readableBytes > limit {
                state = .discarding
                write(context, responder.bodyTooLarge(method: head.method, uri: head.uri, headers: head.headers, peer: peerKind),
                      method: head.method, keepAlive: false)
                return
            }
            state = .idle  // release the enum's reference so appending does not copy `body`
            body.writeBuffer(&chunk)
            state = .reading(head: head, body: body, limit: limit)
        case .end:
            switch state {
            case .reading(let head, var body, _):
                stats.requestsServed.wrappingAdd(1, ordering: .relaxed)
                let request = ServerRequest(method: head.method, uri: head.uri, headers: head.headers,
                                            body: body.readBytes(length: body.readableBytes) ?? [], peer: peerKind, version: head.version)
                let keepAlive = head.isKeepAlive
                switch responder.respond(to: request, on: context.eventLoop) {
                case .now(let response):
                    state = .idle
                    write(context, response, method: head.method, keepAlive: keepAlive && !response.closeConnection)
                case .later(let future):
                    state = .responding
                    let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                    future.whenComplete { result in
                        let (handler, context) = loopBound.value
                        let response: ServerResponse
                        switch result {
                        case .success(let r): response = r
                        case .failure: response = handler.responder.malformed()
                        }
                        handler.state = .idle
                        handler.write(context, response, method: head.method, keepAlive: keepAlive && !response.closeConnection)
                        handler.resumeParked(context)
                    }
                }
            case .discarding:
                state = .closing
            case .idle, .responding, .closing:
                break
            }
        }
    }

    /// Replays request parts that arrived while a response was pending, until one is pending again.
    private func resumeParked(_ context: ChannelHandlerContext) {
        while !parked.isEmpty {
            switch state {
            case .responding, .closing: return
            case .idle, .reading, .discarding: handle(parked.removeFirst(), context: context)
            }
        }
    }

    static func headWithinLimits(_ head: HTTPRequestHead) -> Bool {
        guard head.uri.utf8.count <= requestTargetBytesMax, head.headers.count <= headerFieldsMax else { return false }
        var bytes = 0
        for (name, value) in head.headers { bytes += name.utf8.count + value.utf8.count + 4 }
        return bytes <= headerBytesMax
    }

    /// Encodes the whole response into one buffer and writes it; a file body follows the head
    /// as a file region (sendfile), and its handle is closed once written.
    private func write(_ context: ChannelHandlerContext, _ response: ServerResponse, method: HTTPMethod, keepAlive requested: Bool) {
        let keepAlive = requested && !stats.draining.load(ordering: .relaxed)
        let bodyLength = response.file?.length ?? response.body?.readableBytes ?? 0
        var out = context.channel.allocator.buffer(capacity: 256 + (response.file == nil ? bodyLength : 0))
        out.writeString("HTTP/1.1 ")
        out.writeString(String(response.status.code))
        out.writeString(" ")
        out.writeString(response.status.reasonPhrase)
        out.writeString("\r\n")
        for (name, value) in response.headers where !HTTP1ServerHandler.isFramingHeader(name) {
            out.writeString(name)
            out.writeString(": ")
            out.writeString(value)
            out.writeString("\r\n")
        }
        out.writeString("content-length: ")
        out.writeString(String(bodyLength))
        out.writeString(keepAlive ? "\r\n\r\n" : "\r\nconnection: close\r\n\r\n")
        if method != .HEAD, var body = response.body, response.file == nil {
            out.writeBuffer(&body)
        }
        lastActivity = NIODeadline.now()
        let closeAfter = !keepAlive
        if closeAfter {
            if case .discarding = state {} else { state = .closing }
        }
        if let file = response.file {
            context.write(wrapOutboundOut(.byteBuffer(out)), promise: nil)
            let written: EventLoopFuture<Void>
            if method != .HEAD && file.length > 0 {
                let region = FileRegion(fileHandle: file.handle, readerIndex: file.offset, endIndex: file.offset + file.length)
                written = context.writeAndFlush(wrapOutboundOut(.fileRegion(region)))
            } else {
                context.flush()
                written = context.eventLoop.makeSucceededVoidFuture()
            }
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            written.whenComplete { _ in
                try? file.handle.close()
                if closeAfter { bound.value.close(promise: nil) }
            }
        } else if closeAfter {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(out))).whenComplete { _ in bound.value.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(out)), promise: nil)
        }
    }

    private static func isFramingHeader(_ name: String) -> Bool {
        name.utf8.count == 14 && name.lowercased() == "content-length" || name.utf8.count == 10 && name.lowercased() == "connection"
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if error is HTTPParserError {
            switch state {
            case .idle, .reading, .discarding:
                state = .closing
                write(context, responder.malformed(), method: .GET, keepAlive: false)
            case .responding, .closing:
                context.close(promise: nil)
            }
            return
        }
        context.close(promise: nil)
    }
}
