// RPCClientCall: one outgoing gRPC call (`application/grpc+proto`) on an HTTP/2 client stream
// (spec/06 §6). It frames request messages, parses response messages and the status from the
// trailers (or a trailers-only head), turns `grpc-status-details-bin` back into the TokMesh
// error, enforces the deadline (RST_STREAM(CANCEL) and `deadline_exceeded`), and suspends a
// client-streaming producer while more than 256 KiB wait for the peer's window, resuming it
// below 64 KiB. Streaming responses are handed on as they arrive. Event-loop confined; the async
// API of RPCChannel wraps it.
import NIOCore
import TokMeshCore
import TokMeshHTTP
import TokMeshProto

final class RPCClientCall: H2ClientStreamDelegate {
    static let pauseAbove = 256 * 1024
    static let resumeBelow = 64 * 1024

    let eventLoop: any EventLoop
    let maxMessageSize: Int
    var stream: H2ClientStream?
    private var framer: MessageFramer
    private(set) var messages: [[UInt8]] = []
    private let completion: EventLoopPromise<[[UInt8]]>
    private var deadlineTask: Scheduled<Void>?
    private var done = false
    private var headStatus: Int?
    private var paused: [EventLoopPromise<Void>] = []
    /// True once any response byte arrived: the server processed the call.
    private(set) var processed = false
    /// Streaming responses: each message goes here as it arrives instead of being collected.
    var onMessage: ((_ message: [UInt8]) -> Void)?

    var result: EventLoopFuture<[[UInt8]]> { completion.futureResult }

    init(eventLoop: any EventLoop, maxMessageSize: Int, deadline: NIODeadline?) {
        self.eventLoop = eventLoop
        self.maxMessageSize = maxMessageSize
        self.framer = MessageFramer(maxMessageSize: maxMessageSize)
        self.completion = eventLoop.makePromise()
        if let deadline {
            let bound = NIOLoopBound(self, eventLoop: eventLoop)
            deadlineTask = eventLoop.scheduleTask(deadline: deadline) {
                let call = bound.value
                // The status first: the RST_STREAM closes the stream synchronously, and its
                // close would otherwise report the call as cancelled.
                call.fail(RPCClientCall.error(.deadlineExceeded, "deadline exceeded", tm: .clstTimeout))
                call.stream?.cancel()
            }
        }
    }

    /// Sends one message; the future completes when the producer may send the next one.
    func send(_ message: [UInt8]) -> EventLoopFuture<Void> {
        guard !done, let stream else { return eventLoop.makeSucceededVoidFuture() }
        var out = ByteBuffer()
        out.reserveCapacity(message.count + 5)
        MessageFramer.frame(message, into: &out)
        stream.send(out)
        guard stream.pendingBytes > RPCClientCall.pauseAbove else { return eventLoop.makeSucceededVoidFuture() }
        let promise = eventLoop.makePromise(of: Void.self)
        paused.append(promise)
        return promise.futureResult
    }

    func end() { stream?.end() }

    func cancel() {
        fail(RPCError(.cancelled, "cancelled by the caller"))
        stream?.cancel()
    }

    private func releaseProducers() {
        let waiting = paused
        paused = []
        for promise in waiting { promise.succeed(()) }
    }

    private func fail(_ error: RPCError) {
        guard !done else { return }
        done = true
        deadlineTask?.cancel()
        releaseProducers()
        completion.fail(error)
    }

    private func succeed() {
        guard !done else { return }
        done = true
        deadlineTask?.cancel()
        releaseProducers()
        completion.succeed(messages)
    }

    // MARK: H2ClientStreamDelegate

    func responseHead(status: Int, headers: [(String, String)]) {
        processed = true
        headStatus = status
        guard status == 200 else {
            let code: RPCStatus = switch status {
            case 400: .internalError
            case 401: .unauthenticated
            case 403: .permissionDenied
            case 404: .unimplemented
            case 429, 502, 503, 504: .unavailable
            default: .unknown
            }
            return fail(RPCClientCall.error(code, "HTTP status \(status)", tm: code == .unavailable ? .clstOwnerUnreachable : .sysInternal))
        }
        if headers.contains(where: { $0.0 == "grpc-status" }) { responseTrailers(headers) }
    }

    func responseData(_ data: ByteBuffer) {
        processed = true
        guard !done else { return }
        framer.append(data)
        do {
            while let message = try framer.next() {
                guard !message.compressed else { return fail(RPCError(.internalError, "compressed response without a negotiated encoding")) }
                if let onMessage { onMessage(message.payload) } else { messages.append(message.payload) }
            }
        } catch {
            stream?.cancel()
            fail(RPCError(.resourceExhausted, "response message exceeds the limit of \(maxMessageSize) bytes"))
        }
    }

    func responseTrailers(_ trailers: [(String, String)]) {
        guard !done else { return }
        let value = { (name: String) in trailers.first { $0.0 == name }?.1 }
        guard let raw = value("grpc-status"), let code = Int(raw).flatMap(RPCStatus.init(rawValue:)) else {
            return fail(RPCError(.internalError, "response without grpc-status"))
        }
        if code == .ok { return succeed() }
        let encoded = value("grpc-message") ?? ""
        let message = Router<Int>.percentDecode(encoded) ?? encoded
        if let details = value("grpc-status-details-bin"), let detail = RPCClientCall.errorDetail(details) {
            return fail(RPCError(code, message, detail: detail))
        }
        let tm: ErrorCode = code == .unavailable ? .clstOwnerUnreachable : code == .deadlineExceeded ? .clstTimeout : .sysInternal
        fail(RPCClientCall.error(code, message, tm: tm))
    }

    func streamClosed(errorCode: UInt32) {
        guard !done else { return }
        // gRPC over HTTP/2: RST_STREAM codes as statuses.
        switch errorCode {
        case 7: fail(RPCClientCall.error(.unavailable, "stream refused by the server", tm: .clstOwnerUnreachable))
        case 8: fail(RPCError(.cancelled, "stream cancelled"))
        case 11: fail(RPCClientCall.error(.resourceExhausted, "the server asked to slow down", tm: .sysInternal))
        case 12: fail(RPCClientCall.error(.permissionDenied, "inadequate security", tm: .sysInternal))
        default: fail(RPCClientCall.error(headStatus == nil ? .unavailable : .internalError, "stream closed without a status (HTTP/2 error \(errorCode))",
                                          tm: headStatus == nil ? .clstOwnerUnreachable : .sysInternal))
        }
    }

    func requestDrained(pending: Int) {
        if pending < RPCClientCall.resumeBelow { releaseProducers() }
    }

    // MARK: helpers

    /// A client-side status without a server ErrorDetail (spec/06 §5): TM-CLST-5031, -5040 or SYS-5000.
    static func error(_ status: RPCStatus, _ message: String, tm: ErrorCode) -> RPCError {
        var detail = TokMeshV1.ErrorDetail()
        detail.code = tm.rawValue
        detail.message = message
        return RPCError(status, "\(tm.rawValue) \(message)", detail: detail)
    }

    static func errorDetail(_ base64: String) -> TokMeshV1.ErrorDetail? {
        guard let bytes = Base64.decode(base64), var status = try? ProtoReader(bytes) else { return nil }
        var unknown = UnknownFields()
        while let (n, t) = try? status.nextField() {
            guard n == 3, var any = try? status.message(n, t) else {
                guard (try? status.skip(t, into: &unknown)) != nil else { return nil }
                continue
            }
            var typeURL = "", value: [UInt8] = []
            while let (an, at) = try? any.nextField() {
                switch an {
                case 1: typeURL = (try? any.string(an, at)) ?? ""
                case 2: value = (try? any.bytes(an, at)) ?? []
                default: guard (try? any.skip(at, into: &unknown)) != nil else { return nil }
                }
            }
            if typeURL.hasSuffix("/tokmesh.v1.ErrorDetail") { return try? TokMeshV1.ErrorDetail(serializedBytes: value) }
        }
        return nil
    }
}
