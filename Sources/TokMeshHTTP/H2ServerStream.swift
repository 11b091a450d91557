// H2ServerStream: one HTTP/2 request/response exchange inside an H2ServerConnection. It holds
// the request as nghttp2 reports it, either feeds its DATA to a stream handler or buffers it to
// the body limit, and implements `ResponseStream` for the answer: a head submitted once, body
// bytes queued for nghttp2's data provider (which defers when empty and is resumed when more
// arrives), and an end with or without trailers. File bodies are read in provider-sized pieces.
import CNghttp2
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#endif

final class H2ServerStream: ResponseStream {
    let id: Int32
    unowned let connection: H2ServerConnection
    let eventLoop: any EventLoop
    let allocator: ByteBufferAllocator

    // Request side.
    var method = ""
    var path = ""
    var authority = ""
    var headers = HTTPHeaders()
    var headerBytes = 0
    var requestDispatched = false
    var handler: (any StreamHandler)?
    /// Buffered mode: the head waiting for its body.
    var request: ServerRequest?
    var bodyLimit = 0
    private var body: [UInt8] = []
    private var bodyRejected = false
    private var clientDone = false

    // Response side.
    private var headSent = false
    private var outbound: ByteBuffer
    private var file: FileBody?
    private var fileSent = 0
    private var ended = false
    private var trailers: [(String, String)] = []
    private var deferred = false
    private(set) var isClosed = false
    /// The RST_STREAM code that follows the response's END_STREAM unless the client has ended.
    private var resetAfterResponse: UInt32?

    init(id: Int32, connection: H2ServerConnection, eventLoop: any EventLoop, allocator: ByteBufferAllocator) {
        self.id = id
        self.connection = connection
        self.eventLoop = eventLoop
        self.allocator = allocator
        self.outbound = allocator.buffer(capacity: 0)
    }

    // MARK: request

    func receive(_ bytes: UnsafeBufferPointer<UInt8>) {
        if let handler {
            var buffer = allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(UnsafeRawBufferPointer(bytes))
            handler.receive(buffer)
            return
        }
        guard let request, !bodyRejected else { return }
        if body.count + bytes.count > bodyLimit {
            rejectBody(connection.responder.bodyTooLarge(method: request.method, uri: path, headers: request.headers, peer: request.peer))
            return
        }
        body.append(contentsOf: bytes)
    }

    func rejectBody(_ response: ServerResponse) {
        bodyRejected = true
        body = []
        send(response, head: false)
    }

    func clientEnded() {
        guard !clientDone else { return }
        clientDone = true
        if let handler {
            handler.receiveEnd()
        } else if var request, !bodyRejected {
            self.request = nil
            request.body = body
            body = []
            connection.respondBuffered(self, request: request)
        }
    }

    func markClosed() {
        guard !isClosed else { return }
        isClosed = true
        if let file { try? file.handle.close() }
        file = nil
        if let handler, !ended {
            self.handler = nil
            handler.cancelled()
        }
        handler = nil
    }

    // MARK: response

    /// Sends a whole buffered response (HTTP/1.1-style responders).
    func send(_ response: ServerResponse, head: Bool) {
        guard !isClosed, !headSent else {
            if let file = response.file { try? file.handle.close() }
            return
        }
        var fields: [(String, String)] = []
        for (name, value) in response.headers {
            let lower = name.lowercased()
            if H2ServerStream.connectionSpecific.contains(lower) { continue }
            fields.append((lower, value))
        }
        let length = response.file?.length ?? response.body?.readableBytes ?? 0
        fields.append(("content-length", String(length)))
        if head || length == 0 {
            if let file = response.file { try? file.handle.close() }
            ended = true
            sendHead(status: Int(response.status.code), headers: fields, endStream: true)
            return
        }
        if let file = response.file {
            self.file = file
        } else if var bodyBuffer = response.body {
            outbound.writeBuffer(&bodyBuffer)
        }
        ended = true
        sendHead(status: Int(response.status.code), headers: fields, endStream: false)
    }

    static let connectionSpecific: Set<String> = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "content-length"]

    func sendHead(status: Int, headers: [(String, String)], endStream: Bool) {
        guard !isClosed, !headSent, let session = connection.session else { return }
        headSent = true
        if endStream { ended = true }
        var fields = [(":status", String(status))]
        fields.append(contentsOf: headers)
        H2ServerStream.withNameValues(fields) { nva, count in
            if endStream {
                nghttp2_submit_response(session, id, nva, count, nil)
            } else {
                var provider = H2ServerConnection.dataProvider
                nghttp2_submit_response(session, id, nva, count, &provider)
            }
        }
        connection.flushOutput()
    }

    func sendData(_ data: ByteBuffer) {
        guard !isClosed, !ended else { return }
        var data = data
        outbound.writeBuffer(&data)
        resume()
    }

    func finish(trailers: [(String, String)]) {
        guard !isClosed, !ended else { return }
        ended = true
        self.trailers = trailers
        resume()
    }

    func reset(errorCode: UInt32) {
        guard !isClosed, let session = connection.session else { return }
        ended = true
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), id, errorCode)
        connection.flushOutput()
    }

    func stopReceivingAfterResponse(errorCode: UInt32) {
        if !clientDone { resetAfterResponse = errorCode }
    }

    /// nghttp2 sent a frame of this stream carrying END_STREAM.
    func responseEnded() {
        guard let code = resetAfterResponse, !clientDone, let session = connection.session else { return }
        resetAfterResponse = nil
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), id, code)
    }

    private func resume() {
        guard headSent, let session = connection.session else { return }
        if deferred {
            deferred = false
            nghttp2_session_resume_data(session, id)
        }
        connection.flushOutput()
    }

    /// nghttp2's data provider: copies queued bytes (or file bytes), defers when there are none
    /// yet, and on the end sets EOF, submitting trailers when there are some.
    func read(into buffer: UnsafeMutableRawBufferPointer, flags: UnsafeMutablePointer<UInt32>) -> Int {
        var written = 0
        if outbound.readableBytes > 0 {
            written = min(buffer.count, outbound.readableBytes)
            outbound.withUnsafeReadableBytes { source in
                buffer.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: written)
            }
            outbound.moveReaderIndex(forwardBy: written)
            if outbound.readableBytes == 0 { outbound.clear() }
        } else if let file, fileSent < file.length {
            let want = min(buffer.count, file.length - fileSent)
            let n = (try? file.handle.withUnsafeFileDescriptor { fd in pread(fd, buffer.baseAddress, want, off_t(file.offset + fileSent)) }) ?? -1
            guard n > 0 else { return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue) }
            fileSent += n
            written = n
        }
        let fileDone = file.map { fileSent >= $0.length } ?? true
        if outbound.readableBytes == 0 && fileDone {
            if ended {
                flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
                if !trailers.isEmpty, let session = connection.session {
                    flags.pointee |= NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
                    H2ServerStream.withNameValues(trailers) { nva, count in _ = nghttp2_submit_trailer(session, id, nva, count) }
                }
            } else if written == 0 {
                deferred = true
                return Int(NGHTTP2_ERR_DEFERRED.rawValue)
            }
        }
        return written
    }

    /// Calls `body` with an nghttp2_nv array pointing into one contiguous copy of the fields
    /// (nghttp2 copies them during the submit call).
    static func withNameValues<R>(_ fields: [(String, String)], _ body: (UnsafeMutablePointer<nghttp2_nv>, Int) -> R) -> R {
        var storage: [UInt8] = []
        var offsets: [(Int, Int, Int, Int)] = []
        offsets.reserveCapacity(fields.count)
        for (name, value) in fields {
            let n = storage.count
            storage.append(contentsOf: name.utf8)
            let v = storage.count
            storage.append(contentsOf: value.utf8)
            offsets.append((n, v - n, v, storage.count - v))
        }
        storage.append(0)
        return storage.withUnsafeMutableBufferPointer { bytes in
            var nva = offsets.map { o in
                nghttp2_nv(name: bytes.baseAddress! + o.0, value: bytes.baseAddress! + o.2, namelen: o.1, valuelen: o.3,
                           flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
            }
            return nva.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        }
    }
}
