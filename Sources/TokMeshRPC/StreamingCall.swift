// StreamingCall: one gRPC call, or one Connect streaming call, on an HTTP/2 stream (spec/06 §5).
// It reassembles length-prefixed request messages (limit checked from the prefix), converts
// `+json` payloads, runs the method (unary, server streaming or bidi) and frames the answer:
// gRPC as HEADERS → DATA* → trailers (`grpc-status`, `grpc-message`, `grpc-status-details-bin`,
// `x-error-code`), or trailers-only for an error before any message; Connect as envelopes ending
// with one end-of-stream envelope holding JSON. A deadline (`grpc-timeout`,
// `connect-timeout-ms`, else the default for unary calls) ends the call with
// `deadline_exceeded` and resets the stream; a client reset cancels the handler.
import NIOCore
import NIOHTTP1
import TokMeshCore
import TokMeshHTTP
import TokMeshProto

final class StreamingCall: StreamHandler, RPCStreamWriter {
    enum Wire { case grpc, connect }

    let wire: Wire
    let json: Bool
    let call: RPCCall
    let method: RPCMethod
    let router: RPCRouter
    let response: any ResponseStream
    let contentType: String
    private var framer: MessageFramer
    private var requests: [[UInt8]] = []
    private var inbound: (any RPCInbound)?
    private var headSent = false
    private var done = false
    private var clientEnded = false
    private var deadlineTask: Scheduled<Void>?
    private var deadline: NIODeadline?
    private var cancelCallbacks: [() -> Void] = []
    /// Request messages may be gzip'd (grpc-encoding / connect-content-encoding: gzip).
    private var requestGzip = false
    /// The client accepts gzip'd replies.
    private var responseGzip = false

    var eventLoop: any EventLoop { call.eventLoop }
    var isClosed: Bool { done || response.isClosed }

    init(wire: Wire, json: Bool, contentType: String, call: RPCCall, method: RPCMethod, router: RPCRouter, response: any ResponseStream) {
        self.wire = wire
        self.json = json
        self.contentType = contentType
        self.call = call
        self.method = method
        self.router = router
        self.response = response
        self.framer = MessageFramer(maxMessageSize: router.limits.maxMessageSize, allowedFlags: wire == .grpc ? 0x01 : 0x03)
    }

    /// Checks the call's metadata, arms the deadline and, for bidi, starts the handler.
    func start() {
        let timeout: TimeAmount?
        switch wire {
        case .grpc:
            if let raw = call.headers.first(name: "grpc-timeout") {
                guard let parsed = StreamingCall.parseGRPCTimeout(raw) else {
                    return finish(RPCError.malformed("grpc-timeout \(JSONBody.printable(raw)) is not valid", requestID: call.requestID))
                }
                timeout = parsed
            } else {
                timeout = method.isUnary ? router.limits.defaultTimeout : nil
            }
            do throws(RPCError) { requestGzip = try RPCCompression.encoding(call.headers.first(name: "grpc-encoding")) } catch {
                return finish(error)
            }
            responseGzip = RPCCompression.accepts(call.headers.first(name: "grpc-accept-encoding"))
        case .connect:
            if let raw = call.headers.first(name: "connect-timeout-ms") {
                guard let ms = Int64(raw), ms >= 0, raw.utf8.count <= 10 else {
                    return finish(RPCError.malformed("connect-timeout-ms is not valid", requestID: call.requestID))
                }
                timeout = .milliseconds(ms)
            } else {
                timeout = nil
            }
            if let version = call.headers.first(name: "connect-protocol-version"), version != "1" {
                return finish(RPCError.malformed("connect-protocol-version must be 1", requestID: call.requestID))
            }
            do throws(RPCError) { requestGzip = try RPCCompression.encoding(call.headers.first(name: "connect-content-encoding")) } catch {
                return finish(error)
            }
            responseGzip = RPCCompression.accepts(call.headers.first(name: "connect-accept-encoding"))
        }
        if let timeout {
            deadline = NIODeadline.now() + timeout
            // A unary call answered at once never needs its timer: it is armed when the answer
            // is deferred (`.later`) — one scheduled task less on the hot path.
            if !method.isUnary { armDeadline() }
        }
        if case .bidi(let open) = method.implementation {
            inbound = open(call, self)
        }
    }

    private func armDeadline() {
        guard let deadline, deadlineTask == nil else { return }
        let bound = NIOLoopBound(self, eventLoop: call.eventLoop)
        deadlineTask = call.eventLoop.scheduleTask(deadline: deadline) {
            let me = bound.value
            guard !me.isClosed else { return }
            me.finish(RPCError(.deadlineExceeded, "deadline exceeded"))
            // CANCEL after the status is on the wire: resetting first would hide the status.
            me.response.stopReceivingAfterResponse(errorCode: 0x8)
            me.fireCancel()
        }
    }

    // MARK: StreamHandler

    func receive(_ data: ByteBuffer) {
        guard !done else { return }
        framer.append(data)
        do {
            while let message = try framer.next() {
                if wire == .connect && message.endOfStream {
                    return finish(RPCError.malformed("end-of-stream flag on a request message", requestID: call.requestID))
                }
                var bytes = message.payload
                if message.compressed {
                    guard requestGzip else { return finish(RPCError(.internalError, "compressed message without a negotiated encoding")) }
                    do throws(RPCError) {
                        bytes = try RPCCompression.gunzip(bytes, maxSize: router.limits.maxMessageSize, requestID: call.requestID)
                    } catch {
                        return finish(error)
                    }
                }
                guard let payload = decodeRequest(bytes) else { return }
                if let inbound {
                    inbound.receive(payload)
                } else {
                    requests.append(payload)
                    if requests.count > 1 { return finish(RPCError(.unimplemented, "a unary method received more than one message")) }
                }
            }
        } catch {
            switch error {
            case .tooLarge(let size, let limit):
                finish(RPCError(.resourceExhausted, "message of \(size) bytes exceeds the limit of \(limit)"))
            case .badFlags(let flags):
                finish(RPCError.malformed("message flags \(flags) are not valid", requestID: call.requestID))
            }
        }
    }

    func receiveEnd() {
        clientEnded = true
        guard !done else { return }
        if framer.hasPartialMessage {
            return finish(RPCError.malformed("the stream ended inside a message", requestID: call.requestID))
        }
        switch method.implementation {
        case .bidi:
            inbound?.receiveEnd()
        case .unary(let run):
            guard requests.count == 1 else { return finish(RPCError(.unimplemented, "a unary method received \(requests.count) messages")) }
            switch run(call, requests[0]) {
            case .now(.success(let reply)):
                send(reply)
                finish(nil)
            case .now(.failure(let error)):
                finish(error)
            case .later(let future):
                armDeadline()
                let bound = NIOLoopBound(self, eventLoop: call.eventLoop)
                future.hop(to: call.eventLoop).whenComplete { result in
                    let me = bound.value
                    switch result {
                    case .success(let reply):
                        me.send(reply)
                        me.finish(nil)
                    case .failure(let error):
                        me.finish(error as? RPCError ?? RPCError(.internalError, "internal error"))
                    }
                }
            }
        case .serverStreaming(let run):
            guard requests.count == 1 else { return finish(RPCError(.unimplemented, "a server-streaming method received \(requests.count) messages")) }
            run(call, requests[0], self)
        }
    }

    func cancelled() {
        done = true
        deadlineTask?.cancel()
        fireCancel()
    }

    private func fireCancel() {
        let callbacks = cancelCallbacks
        cancelCallbacks = []
        inbound = nil
        for callback in callbacks { callback() }
    }

    // MARK: RPCStreamWriter

    func onCancel(_ callback: @escaping () -> Void) {
        if isClosed { callback() } else { cancelCallbacks.append(callback) }
    }

    func send(_ message: [UInt8]) {
        guard !isClosed else { return }
        sendHeadIfNeeded()
        let payload: [UInt8]
        if json {
            do throws(ProtoJSONError) {
                payload = try router.json.binaryToJSON(message, message: method.schema.output)
            } catch {
                return finish(RPCError(.internalError, "response could not be encoded as JSON"))
            }
        } else {
            payload = message
        }
        var out = response.allocator.buffer(capacity: payload.count + 5)
        if responseGzip, payload.count >= router.limits.compressionMinSize, let gzipped = RPCCompression.gzip(payload) {
            MessageFramer.frame(gzipped, flags: 0x01, into: &out)
        } else {
            MessageFramer.frame(payload, into: &out)
        }
        response.sendData(out)
    }

    func finish(_ error: RPCError?) {
        guard !isClosed else { return }
        done = true
        deadlineTask?.cancel()
        switch wire {
        case .grpc:
            var trailers: [(String, String)] = [("grpc-status", String(error?.status.rawValue ?? 0))]
            if let error {
                trailers.append(("grpc-message", StreamingCall.percentEncode(error.message)))
                if let detail = error.detail {
                    trailers.append(("grpc-status-details-bin", Base64.encode(StreamingCall.statusProto(error, detail: detail), padding: false)))
                    trailers.append(("x-error-code", detail.code))
                }
                trailers.append(contentsOf: error.headers)
            }
            if headSent {
                response.finish(trailers: trailers)
            } else {
                // Trailers-only: one HEADERS frame with END_STREAM.
                response.sendHead(status: 200, headers: [("content-type", contentType), ("x-request-id", call.requestID)] + trailers,
                                  endStream: true)
                if !clientEnded { response.stopReceivingAfterResponse(errorCode: 0) }
            }
        case .connect:
            sendHeadIfNeeded()
            var end = JSONObject()
            if let error { end["error"] = .object(ConnectError.json(error)) }
            var out = response.allocator.buffer(capacity: 64)
            MessageFramer.frame(JSONWriter.write(.object(end)), flags: 0x02, into: &out)
            response.sendData(out)
            response.finish(trailers: [])
        }
        inbound = nil
        cancelCallbacks = []
    }

    private func sendHeadIfNeeded() {
        guard !headSent else { return }
        headSent = true
        let headers: [(String, String)]
        switch (wire, responseGzip) {
        case (.grpc, false):
            headers = [("content-type", contentType), ("x-request-id", call.requestID), ("grpc-accept-encoding", "gzip, identity")]
        case (.grpc, true):
            headers = [("content-type", contentType), ("x-request-id", call.requestID), ("grpc-accept-encoding", "gzip, identity"),
                       ("grpc-encoding", "gzip")]
        case (.connect, false):
            headers = [("content-type", contentType), ("x-request-id", call.requestID), ("connect-accept-encoding", "gzip, identity")]
        case (.connect, true):
            headers = [("content-type", contentType), ("x-request-id", call.requestID), ("connect-accept-encoding", "gzip, identity"),
                       ("connect-content-encoding", "gzip")]
        }
        response.sendHead(status: 200, headers: headers, endStream: false)
    }

    /// A request payload as protobuf bytes (`+json` converted); nil after answering an error.
    private func decodeRequest(_ payload: [UInt8]) -> [UInt8]? {
        guard json else { return payload }
        do throws(ProtoJSONError) {
            return try router.json.jsonToBinary(payload, message: method.schema.input)
        } catch {
            finish(RPCError.malformed("\(error)", requestID: call.requestID))
            return nil
        }
    }

    // MARK: wire helpers

    /// `grpc-timeout`: 1-8 digits and a unit (H M S m u n).
    static func parseGRPCTimeout(_ raw: String) -> TimeAmount? {
        let utf8 = Array(raw.utf8)
        guard utf8.count >= 2, utf8.count <= 9, let unit = utf8.last else { return nil }
        var value: Int64 = 0
        for c in utf8.dropLast() {
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(c - UInt8(ascii: "0"))
        }
        switch unit {
        case UInt8(ascii: "H"): return .hours(value)
        case UInt8(ascii: "M"): return .minutes(value)
        case UInt8(ascii: "S"): return .seconds(value)
        case UInt8(ascii: "m"): return .milliseconds(value)
        case UInt8(ascii: "u"): return .microseconds(value)
        case UInt8(ascii: "n"): return .nanoseconds(value)
        default: return nil
        }
    }

    /// Longest `grpc-message` sent: messages echo caller input, and a header block over
    /// nghttp2's send limit would never leave (found by Scripts/fuzz proto).
    static let messageBytesMax = 1024

    /// `grpc-message` percent-encoding: bytes outside printable ASCII, and `%`; cut at
    /// `messageBytesMax` encoded bytes.
    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if out.utf8.count + 3 > messageBytesMax {
                out.append("...")
                break
            }
            if byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: "%") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = Array("0123456789ABCDEF".utf8)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 15)]))
            }
        }
        return out
    }

    /// `google.rpc.Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }`
    /// holding `Any { type_url = 1; value = 2 }` with the ErrorDetail.
    static func statusProto(_ error: RPCError, detail: TokMeshV1.ErrorDetail) -> [UInt8] {
        var any = ProtoWriter()
        any.write(1, string: "type.googleapis.com/tokmesh.v1.ErrorDetail")
        any.write(2, bytes: detail.serializedBytes())
        var status = ProtoWriter()
        status.write(1, int32: Int32(error.status.rawValue))
        status.write(2, string: error.message)
        status.write(3, message: any.bytes)
        return status.bytes
    }
}
