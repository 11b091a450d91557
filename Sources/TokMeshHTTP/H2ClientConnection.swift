// H2ClientConnection: one HTTP/2 client connection on nghttp2 1.52 as a NIO channel handler on
// the connection's event loop (spec/06 §6-§7) — the client twin of H2ServerConnection. Callers
// (on the loop) open streams with request headers; each stream feeds its response head, DATA
// and trailers to a delegate and queues request bytes for a deferred data provider, reporting
// how many bytes still wait so a producer can pause (back-pressure at the peer's window pace).
// Received DATA is consumed (window update) once the delegate took it. A GOAWAY or the end of
// the connection closes the streams the server did not process with REFUSED_STREAM, so callers
// know they may retry them.
import CNghttp2
import NIOCore
import NIOHTTP1

/// Receives one response. Event-loop confined.
public protocol H2ClientStreamDelegate: AnyObject {
    func responseHead(status: Int, headers: [(String, String)])
    func responseData(_ data: ByteBuffer)
    func responseTrailers(_ trailers: [(String, String)])
    /// The stream ended; `errorCode` is the HTTP/2 error (0 after a normal end, 7 REFUSED_STREAM
    /// when the server never processed it).
    func streamClosed(errorCode: UInt32)
    /// Queued request bytes fell to `pending` (after a DATA frame went out).
    func requestDrained(pending: Int)
}

public final class H2ClientStream {
    public let id: Int32
    unowned let connection: H2ClientConnection
    weak var delegate: (any H2ClientStreamDelegate)?
    private var outbound: ByteBuffer
    private var ended = false
    private var deferred = false
    private var headReceived = false
    fileprivate var closed = false

    init(id: Int32, connection: H2ClientConnection, delegate: any H2ClientStreamDelegate, allocator: ByteBufferAllocator) {
        self.id = id
        self.connection = connection
        self.delegate = delegate
        self.outbound = allocator.buffer(capacity: 0)
    }

    /// Request bytes waiting for the peer's flow-control window.
    public var pendingBytes: Int { outbound.readableBytes }

    public func send(_ data: ByteBuffer) {
        guard !closed, !ended else { return }
        var data = data
        outbound.writeBuffer(&data)
        resume()
    }

    /// Ends the request side (END_STREAM after the queued bytes).
    public func end() {
        guard !closed, !ended else { return }
        ended = true
        resume()
    }

    /// RST_STREAM(CANCEL).
    public func cancel() {
        guard !closed, let session = connection.session else { return }
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), id, NGHTTP2_CANCEL.rawValue)
        connection.flushOutput()
    }

    private func resume() {
        guard let session = connection.session else { return }
        if deferred {
            deferred = false
            nghttp2_session_resume_data(session, id)
        }
        connection.flushOutput()
    }

    fileprivate func header(name: String, value: String, category: nghttp2_headers_category) {
        if category == NGHTTP2_HCAT_RESPONSE || (category == NGHTTP2_HCAT_HEADERS && !headReceived) {
            responseFields.append((name, value))
        } else {
            trailerFields.append((name, value))
        }
    }

    fileprivate var responseFields: [(String, String)] = []
    fileprivate var trailerFields: [(String, String)] = []

    fileprivate func headersDone() {
        if !headReceived {
            headReceived = true
            let status = responseFields.first { $0.0 == ":status" }.flatMap { Int($0.1) } ?? 0
            let fields = responseFields.filter { !$0.0.hasPrefix(":") }
            responseFields = []
            delegate?.responseHead(status: status, headers: fields)
        } else {
            let fields = trailerFields
            trailerFields = []
            delegate?.responseTrailers(fields)
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, flags: UnsafeMutablePointer<UInt32>) -> Int {
        let n = min(buffer.count, outbound.readableBytes)
        if n > 0 {
            outbound.withUnsafeReadableBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
            outbound.moveReaderIndex(forwardBy: n)
            if outbound.readableBytes == 0 { outbound.clear() }
        }
        if outbound.readableBytes == 0 {
            if ended {
                flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            } else if n == 0 {
                deferred = true
                return Int(NGHTTP2_ERR_DEFERRED.rawValue)
            }
        }
        return n
    }
}

public final class H2ClientConnection: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private(set) var session: OpaquePointer?
    private var context: ChannelHandlerContext?
    private var streams: [Int32: H2ClientStream] = [:]
    private var insideSession = false
    private var inReadBatch = false
    /// The server's SETTINGS_MAX_CONCURRENT_STREAMS (100 until it says otherwise).
    public private(set) var peerMaxStreams: Int = 100
    /// True after GOAWAY or close: no new streams.
    public private(set) var isDraining = false
    public var activeStreams: Int { streams.count }
    public var onClose: (() -> Void)?

    public init() {}

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        var callbacks: OpaquePointer?
        nghttp2_session_callbacks_new(&callbacks)
        defer { nghttp2_session_callbacks_del(callbacks) }
        H2ClientConnection.install(callbacks)
        var option: OpaquePointer?
        nghttp2_option_new(&option)
        defer { nghttp2_option_del(option) }
        nghttp2_option_set_no_auto_window_update(option, 1)
        var created: OpaquePointer?
        guard nghttp2_session_client_new2(&created, callbacks, Unmanaged.passUnretained(self).toOpaque(), option) == 0 else {
            context.close(promise: nil)
            return
        }
        session = created
        var iv = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: 1 << 20),
        ]
        nghttp2_submit_settings(created, UInt8(NGHTTP2_FLAG_NONE.rawValue), &iv, iv.count)
        nghttp2_session_set_local_window_size(created, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, 16 << 20)
        if context.channel.isActive { flushOutput() }
    }

    public func channelActive(context: ChannelHandlerContext) {
        flushOutput()
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        teardown()
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        teardown()
        self.context = nil
    }

    private func teardown() {
        isDraining = true
        let open = streams
        streams.removeAll()
        for stream in open.values where !stream.closed {
            stream.closed = true
            stream.delegate?.streamClosed(errorCode: NGHTTP2_REFUSED_STREAM.rawValue)
        }
        if let session {
            nghttp2_session_del(session)
            self.session = nil
        }
        let callback = onClose
        onClose = nil
        callback?()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let session else { return }
        inReadBatch = true
        let buffer = unwrapInboundIn(data)
        insideSession = true
        let rc = buffer.withUnsafeReadableBytes { nghttp2_session_mem_recv(session, $0.bindMemory(to: UInt8.self).baseAddress, $0.count) }
        insideSession = false
        if rc < 0 {
            context.close(promise: nil)
            return
        }
        sendPending()
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        inReadBatch = false
        sendPending()
        context.flush()
        context.fireChannelReadComplete()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func sendPending() {
        guard let session, let context, !insideSession else { return }
        insideSession = true
        let out = H2ServerConnection.drain(session, allocator: context.channel.allocator)
        insideSession = false
        if let out { context.write(wrapOutboundOut(out), promise: nil) }
        if nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0 { context.close(promise: nil) }
    }

    func flushOutput() {
        guard !insideSession, !inReadBatch else { return }
        sendPending()
        context?.flush()
    }

    /// Opens a stream with `headers` (pseudo-headers first). Nil when the connection cannot take
    /// more streams (draining, closed, or at the peer's limit).
    public func startStream(headers: [(String, String)], delegate: any H2ClientStreamDelegate) -> H2ClientStream? {
        guard let session, let context, !isDraining, streams.count < peerMaxStreams else { return nil }
        var provider = H2ClientConnection.dataProvider
        let id = H2ServerStream.withNameValues(headers) { nva, count in nghttp2_submit_request(session, nil, nva, count, &provider, nil) }
        guard id > 0 else { return nil }
        let stream = H2ClientStream(id: id, connection: self, delegate: delegate, allocator: context.channel.allocator)
        streams[id] = stream
        flushOutput()
        return stream
    }

    /// GOAWAY(NO_ERROR) and close once the open streams finish.
    public func shutdown() {
        guard let session, !isDraining else { return }
        isDraining = true
        nghttp2_session_terminate_session(session, NGHTTP2_NO_ERROR.rawValue)
        flushOutput()
    }

    // MARK: callbacks

    private static func connection(_ userData: UnsafeMutableRawPointer?) -> H2ClientConnection {
        Unmanaged<H2ClientConnection>.fromOpaque(userData!).takeUnretainedValue()
    }

    private static func install(_ callbacks: OpaquePointer?) {
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, nameLength, value, valueLength, _, userData in
            guard let frame, let stream = H2ClientConnection.connection(userData).streams[frame.pointee.hd.stream_id] else { return 0 }
            stream.header(name: String(decoding: UnsafeBufferPointer(start: name, count: nameLength), as: UTF8.self),
                          value: String(decoding: UnsafeBufferPointer(start: value, count: valueLength), as: UTF8.self),
                          category: frame.pointee.headers.cat)
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { session, frame, userData in
            guard let frame else { return 0 }
            let connection = H2ClientConnection.connection(userData)
            switch UInt32(frame.pointee.hd.type) {
            case NGHTTP2_HEADERS.rawValue:
                connection.streams[frame.pointee.hd.stream_id]?.headersDone()
            case NGHTTP2_SETTINGS.rawValue:
                let limit = nghttp2_session_get_remote_settings(session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS)
                connection.peerMaxStreams = Int(min(limit, 1 << 20))
            case NGHTTP2_GOAWAY.rawValue:
                connection.isDraining = true
            default:
                break
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { session, _, streamID, data, length, userData in
            let connection = H2ClientConnection.connection(userData)
            if let stream = connection.streams[streamID], let delegate = stream.delegate, let context = connection.context {
                var buffer = context.channel.allocator.buffer(capacity: length)
                buffer.writeBytes(UnsafeRawBufferPointer(start: data, count: length))
                delegate.responseData(buffer)
                nghttp2_session_consume(session, streamID, length)
            } else {
                nghttp2_session_consume_connection(session, length)
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks) { _, frame, userData in
            guard let frame, UInt32(frame.pointee.hd.type) == NGHTTP2_DATA.rawValue else { return 0 }
            let connection = H2ClientConnection.connection(userData)
            if let stream = connection.streams[frame.pointee.hd.stream_id] { stream.delegate?.requestDrained(pending: stream.pendingBytes) }
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, streamID, errorCode, userData in
            let connection = H2ClientConnection.connection(userData)
            if let stream = connection.streams.removeValue(forKey: streamID), !stream.closed {
                stream.closed = true
                stream.delegate?.streamClosed(errorCode: errorCode)
            }
            return 0
        }
    }

    static let dataProvider: nghttp2_data_provider = {
        var provider = nghttp2_data_provider()
        provider.read_callback = { _, streamID, buffer, length, flags, _, userData in
            guard let stream = H2ClientConnection.connection(userData).streams[streamID], let buffer, let flags else {
                return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)
            }
            return stream.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: length), flags: flags)
        }
        return provider
    }()
}
