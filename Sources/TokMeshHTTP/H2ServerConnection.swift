// H2ServerConnection: one HTTP/2 server connection on nghttp2 1.52, as a NIO channel handler on
// the connection's event loop (spec/06 §7). Bytes read go through `nghttp2_session_mem_recv`;
// nghttp2's callbacks build each stream's request (pseudo-headers, headers capped at 16 KiB,
// DATA) and hand it to the responder either as a stream (RPC) or, buffered to its body limit,
// as one `ServerRequest` like HTTP/1.1. Everything nghttp2 wants to send is drained with
// `mem_send` into one buffer and written after each read batch or application submit. Flow
// control is manual: received DATA is consumed once the handler took it. The session is created,
// driven and deleted here only; mem_recv/mem_send never run inside a callback.
import CNghttp2
import NIOCore
import NIOHTTP1
import TokMeshCore

public struct H2Settings: Sendable {
    public var maxConcurrentStreams: UInt32 = 100
    public var initialWindowSize: UInt32 = 1 << 20
    public var maxHeaderListSize: UInt32 = 16 * 1024
    public var connectionWindowSize: Int32 = 16 << 20
    public init() {}
}

final class H2ServerConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let headerBytesMax = 16 * 1024

    let responder: any HTTPResponder
    let streamResponder: (any StreamResponder)?
    let peer: PeerKind
    let stats: ConnectionStats
    let settings: H2Settings
    let idleTimeout: TimeAmount
    /// The verified client certificate's CN (mTLS listeners).
    let peerCommonName: String?
    private(set) var session: OpaquePointer?
    private var context: ChannelHandlerContext?
    private var streams: [Int32: H2ServerStream] = [:]
    /// True while nghttp2 runs our callbacks from mem_recv/mem_send (no re-entry).
    private var insideSession = false
    /// True within channelRead..channelReadComplete: output is flushed once at the end.
    private var inReadBatch = false
    private var lastActivity = NIODeadline.now()
    private var idleCheck: RepeatedTask?
    private var closing = false
    /// The graceful stop sent GOAWAY: close once the open streams have ended.
    private var draining = false

    init(responder: any HTTPResponder, peer: PeerKind, stats: ConnectionStats, settings: H2Settings = H2Settings(),
         idleTimeout: TimeAmount, peerCommonName: String? = nil) {
        self.peerCommonName = peerCommonName
        self.responder = responder
        self.streamResponder = responder as? any StreamResponder
        self.peer = peer
        self.stats = stats
        self.settings = settings
        self.idleTimeout = idleTimeout
    }

    // MARK: channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        var callbacks: OpaquePointer?
        nghttp2_session_callbacks_new(&callbacks)
        defer { nghttp2_session_callbacks_del(callbacks) }
        H2ServerConnection.install(callbacks)
        var option: OpaquePointer?
        nghttp2_option_new(&option)
        defer { nghttp2_option_del(option) }
        nghttp2_option_set_no_auto_window_update(option, 1)
        nghttp2_option_set_max_send_header_block_length(option, 64 * 1024)
        _ = tm_nghttp2_option_harden(option)
        var created: OpaquePointer?
        guard nghttp2_session_server_new2(&created, callbacks, Unmanaged.passUnretained(self).toOpaque(), option) == 0 else {
            context.close(promise: nil)
            return
        }
        session = created
        var iv = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue), value: settings.maxConcurrentStreams),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: settings.initialWindowSize),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue), value: settings.maxHeaderListSize),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0),
        ]
        nghttp2_submit_settings(created, UInt8(NGHTTP2_FLAG_NONE.rawValue), &iv, iv.count)
        nghttp2_session_set_local_window_size(created, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, settings.connectionWindowSize)
        if context.channel.isActive { activate(context) }
    }

    private var activated = false

    func channelActive(context: ChannelHandlerContext) {
        activate(context)
        context.fireChannelActive()
    }

    /// Starts the idle check and sends the server preface (SETTINGS) once the channel is active.
    private func activate(_ context: ChannelHandlerContext) {
        guard !activated else { return }
        activated = true
        stats.openConnections.wrappingAdd(1, ordering: .relaxed)
        stats.register(context.channel)
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let period = TimeAmount.nanoseconds(max(idleTimeout.nanoseconds / 4, 50_000_000))
        idleCheck = context.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            let handler = loopBound.value
            if handler.streams.isEmpty, NIODeadline.now() - handler.lastActivity >= handler.idleTimeout { handler.goAwayAndClose() }
        }
        flushOutput()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if activated {
            stats.openConnections.wrappingSubtract(1, ordering: .relaxed)
            stats.unregister(context.channel)
        }
        activated = false
        teardown()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        teardown()
        self.context = nil
    }

    private func teardown() {
        idleCheck?.cancel()
        idleCheck = nil
        let open = streams
        streams.removeAll()
        stats.openStreams.wrappingSubtract(open.count, ordering: .relaxed)
        for stream in open.values { stream.markClosed() }
        if let session {
            nghttp2_session_del(session)
            self.session = nil
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let session, !closing else { return }
        lastActivity = NIODeadline.now()
        inReadBatch = true
        let buffer = unwrapInboundIn(data)
        insideSession = true
        let rc = buffer.withUnsafeReadableBytes { raw -> Int in
            nghttp2_session_mem_recv(session, raw.bindMemory(to: UInt8.self).baseAddress, raw.count)
        }
        insideSession = false
        if rc < 0 {
            // Protocol error: best-effort GOAWAY (nghttp2 queued it for most errors), then close.
            sendPending()
            closeAfterWrites(context)
            return
        }
        sendPending()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inReadBatch = false
        sendPending()
        context.flush()
        closeIfDone()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    // MARK: output

    /// Drains everything nghttp2 has to send into one buffer and writes it (no flush).
    private func sendPending() {
        guard let session, let context, !insideSession else { return }
        insideSession = true
        let out = H2ServerConnection.drain(session, allocator: context.channel.allocator)
        insideSession = false
        if let out { context.write(wrapOutboundOut(out), promise: nil) }
    }

    /// Everything nghttp2 has to send, in one buffer (nil when there is nothing): `mem_send`
    /// until it returns 0 (spec/06 §7 rule 4). Used by the client connection too.
    static func drain(_ session: OpaquePointer, allocator: ByteBufferAllocator) -> ByteBuffer? {
        var out: ByteBuffer?
        while true {
            var pointer: UnsafePointer<UInt8>?
            let n = nghttp2_session_mem_send(session, &pointer)
            if n <= 0 { break }
            if out == nil { out = allocator.buffer(capacity: n) }
            out!.writeBytes(UnsafeRawBufferPointer(start: pointer, count: n))
        }
        return out
    }

    /// After an application submit: send now unless a read batch will flush at its end, or
    /// nghttp2 is the caller (its mem_recv/mem_send loop sends on return).
    func flushOutput() {
        guard !insideSession, !inReadBatch else { return }
        sendPending()
        context?.flush()
        closeIfDone()
    }

    private func closeIfDone() {
        guard let session, let context else { return }
        if nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0 {
            closing = true
            context.close(promise: nil)
        }
    }

    private func goAwayAndClose() {
        guard let session, let context, !closing else { return }
        nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nghttp2_session_get_last_proc_stream_id(session),
                              NGHTTP2_NO_ERROR.rawValue, nil, 0)
        sendPending()
        closeAfterWrites(context)
    }

    /// Flushes what is queued (a GOAWAY) and closes once it is written.
    private func closeAfterWrites(_ context: ChannelHandlerContext) {
        closing = true
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            bound.value.close(promise: nil)
        }
    }

    // MARK: streams

    func stream(_ id: Int32) -> H2ServerStream? { streams[id] }

    fileprivate func beginHeaders(_ id: Int32) {
        guard let context else { return }
        streams[id] = H2ServerStream(id: id, connection: self, eventLoop: context.eventLoop, allocator: context.channel.allocator)
        stats.openStreams.wrappingAdd(1, ordering: .relaxed)
    }

    fileprivate func header(_ id: Int32, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let stream = streams[id] else { return true }
        stream.headerBytes += name.count + value.count + 32
        guard stream.headerBytes <= H2ServerConnection.headerBytesMax else { return false }
        if stream.requestDispatched { return true }  // trailers: not used by any route
        let value = String(decoding: value, as: UTF8.self)
        if name.first == UInt8(ascii: ":") {
            switch String(decoding: name, as: UTF8.self) {
            case ":method": stream.method = value
            case ":path": stream.path = value
            case ":authority": stream.authority = value
            default: break
            }
        } else {
            stream.headers.add(name: String(decoding: name, as: UTF8.self), value: value)
        }
        return true
    }

    fileprivate func requestHeadersDone(_ id: Int32, endStream: Bool) {
        guard let stream = streams[id], !stream.requestDispatched else {
            if endStream, let stream = streams[id] { stream.clientEnded() }
            return
        }
        stream.requestDispatched = true
        stats.requestsServed.wrappingAdd(1, ordering: .relaxed)
        if !stream.authority.isEmpty && stream.headers["host"].isEmpty { stream.headers.add(name: "host", value: stream.authority) }
        var head = ServerRequest(method: HTTPMethod(rawValue: stream.method), uri: stream.path, headers: stream.headers, body: [],
                                 peer: peer, version: HTTPVersion(major: 2, minor: 0))
        head.peerCommonName = peerCommonName
        if let streamResponder, let handler = streamResponder.openStream(head, response: stream) {
            stream.handler = handler
        } else {
            stream.bodyLimit = responder.bodyLimit(method: head.method, uri: stream.path)
            stream.request = head
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > stream.bodyLimit {
                stream.rejectBody(responder.bodyTooLarge(method: head.method, uri: stream.path, headers: head.headers, peer: peer))
            }
        }
        if endStream { stream.clientEnded() }
    }

    fileprivate func data(_ id: Int32, _ bytes: UnsafeBufferPointer<UInt8>) {
        guard let session else { return }
        if let stream = streams[id] {
            stream.receive(bytes)
            nghttp2_session_consume(session, id, bytes.count)
        } else {
            nghttp2_session_consume_connection(session, bytes.count)
        }
    }

    fileprivate func endOfStream(_ id: Int32) { streams[id]?.clientEnded() }

    fileprivate func streamClosed(_ id: Int32) {
        guard let stream = streams.removeValue(forKey: id) else { return }
        stats.openStreams.wrappingSubtract(1, ordering: .relaxed)
        stream.markClosed()
        if draining && streams.isEmpty, let context {
            // After the frames of this callback's round have been handed to the channel.
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.execute {
                let handler = bound.value
                guard let context = handler.context, !handler.closing else { return }
                handler.sendPending()
                handler.closeAfterWrites(context)
            }
        }
    }

    /// The graceful stop (spec/11 §6 step 3): GOAWAY naming the last stream processed, the open
    /// streams finish, then the connection closes.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ConnectionDrain else { return context.fireUserInboundEventTriggered(event) }
        guard !draining else { return }
        draining = true
        if streams.isEmpty { return goAwayAndClose() }
        guard let session else { return }
        nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nghttp2_session_get_last_proc_stream_id(session),
                              NGHTTP2_NO_ERROR.rawValue, nil, 0)
        flushOutput()
    }

    /// Answers a buffered request through the responder (as HTTP/1.1 would).
    func respondBuffered(_ stream: H2ServerStream, request: ServerRequest) {
        guard let context else { return }
        switch responder.respond(to: request, on: context.eventLoop) {
        case .now(let response):
            stream.send(response, head: request.method == .HEAD)
        case .later(let future):
            let loopBound = NIOLoopBound((self, stream), eventLoop: context.eventLoop)
            future.whenComplete { result in
                let (connection, stream) = loopBound.value
                let response: ServerResponse
                switch result {
                case .success(let r): response = r
                case .failure: response = connection.responder.malformed()
                }
                stream.send(response, head: request.method == .HEAD)
            }
        }
    }

    // MARK: nghttp2 callbacks (non-capturing; the connection comes through user_data)

    private static func connection(_ userData: UnsafeMutableRawPointer?) -> H2ServerConnection {
        Unmanaged<H2ServerConnection>.fromOpaque(userData!).takeUnretainedValue()
    }

    private static func install(_ callbacks: OpaquePointer?) {
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, userData in
            guard let frame, frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue),
                  frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST else { return 0 }
            H2ServerConnection.connection(userData).beginHeaders(frame.pointee.hd.stream_id)
            return 0
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, nameLength, value, valueLength, _, userData in
            guard let frame else { return 0 }
            let ok = H2ServerConnection.connection(userData).header(frame.pointee.hd.stream_id,
                                                                   name: UnsafeBufferPointer(start: name, count: nameLength),
                                                                   value: UnsafeBufferPointer(start: value, count: valueLength))
            return ok ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
            guard let frame else { return 0 }
            let connection = H2ServerConnection.connection(userData)
            let id = frame.pointee.hd.stream_id
            let endStream = frame.pointee.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
            switch UInt32(frame.pointee.hd.type) {
            case NGHTTP2_HEADERS.rawValue:
                connection.requestHeadersDone(id, endStream: endStream)
            case NGHTTP2_DATA.rawValue:
                if endStream { connection.endOfStream(id) }
            default:
                break
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, streamID, data, length, userData in
            H2ServerConnection.connection(userData).data(streamID, UnsafeBufferPointer(start: data, count: length))
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks) { _, frame, userData in
            guard let frame, frame.pointee.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0 else { return 0 }
            H2ServerConnection.connection(userData).stream(frame.pointee.hd.stream_id)?.responseEnded()
            return 0
        }
        // A response HEADERS frame that cannot be sent (e.g. over the header block limit) would
        // leave the stream open forever: reset it instead.
        nghttp2_session_callbacks_set_on_frame_not_send_callback(callbacks) { session, frame, _, _ in
            guard let frame, UInt32(frame.pointee.hd.type) == NGHTTP2_HEADERS.rawValue else { return 0 }
            nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), frame.pointee.hd.stream_id, NGHTTP2_INTERNAL_ERROR.rawValue)
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, streamID, _, userData in
            H2ServerConnection.connection(userData).streamClosed(streamID)
            return 0
        }
    }

    /// The data provider every response body uses; the stream is found by id.
    static let dataProvider: nghttp2_data_provider = {
        var provider = nghttp2_data_provider()
        provider.read_callback = { _, streamID, buffer, length, flags, _, userData in
            let connection = H2ServerConnection.connection(userData)
            guard let stream = connection.stream(streamID), let buffer, let flags else {
                return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)
            }
            return stream.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: length), flags: flags)
        }
        return provider
    }()
}
