// RPCDispatcher: decides what an RPC-shaped request is and who answers it (spec/06 §5 table),
// for HTTP/1.1 and HTTP/2 alike. On HTTP/2, gRPC and Connect streaming calls become a
// `StreamingCall` as soon as their HEADERS arrive; Connect unary calls (POST or GET) are
// answered from the buffered request by `respond`, which also gives the protocol errors: 505 for
// gRPC or streaming over HTTP/1.1, 405 for GET on a method with side effects, 415 for content
// types no protocol here speaks, and `unimplemented` for unknown methods.
import NIOCore
import NIOHTTP1
import TokMeshCore
import TokMeshHTTP
import TokMeshProto

public final class RPCDispatcher: Sendable {
    public let router: RPCRouter

    public init(router: RPCRouter) {
        self.router = router
    }

    static let acceptPost = "application/grpc, application/grpc+proto, application/grpc+json, application/proto, application/json, "
        + "application/connect+proto, application/connect+json"

    /// The media type without parameters, lowercased (byte-level: it runs on every RPC).
    static func mediaType(_ headers: HTTPHeaders) -> String {
        guard let raw = headers.first(name: "content-type") else { return "" }
        var out: [UInt8] = []
        out.reserveCapacity(raw.utf8.count)
        for byte in raw.utf8 {
            if byte == UInt8(ascii: ";") { break }
            if byte == 0x20 || byte == 0x09 {
                if out.isEmpty { continue }
                out.append(byte)
            } else {
                out.append(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
            }
        }
        while let last = out.last, last == 0x20 || last == 0x09 { out.removeLast() }
        return String(decoding: out, as: UTF8.self)
    }

    static func isGRPC(_ type: String) -> Bool {
        type == "application/grpc" || type == "application/grpc+proto" || type == "application/grpc+json"
    }

    /// True when the request belongs to RPC rather than the JSON router: a registered service's
    /// path, or any gRPC content type (unregistered paths then get `unimplemented`).
    public func handles(_ request: ServerRequest) -> Bool {
        router.isRegisteredService(request.path) || RPCDispatcher.mediaType(request.headers).hasPrefix("application/grpc")
    }

    private func call(_ request: ServerRequest, method: RPCMethod, on eventLoop: any EventLoop) -> RPCCall {
        RPCCall(method: method.schema, headers: request.headers, peer: request.peer,
                requestID: Identifiers.requestID(incoming: request.headers.first(name: "x-request-id")), eventLoop: eventLoop,
                peerCommonName: request.peerCommonName)
    }

    // MARK: HTTP/2 streams

    public func openStream(_ head: ServerRequest, response: any ResponseStream) -> (any StreamHandler)? {
        guard head.method == .POST else { return nil }
        let type = RPCDispatcher.mediaType(head.headers)
        if RPCDispatcher.isGRPC(type) {
            guard let method = router.methods[head.path] else {
                let requestID = Identifiers.requestID(incoming: head.headers.first(name: "x-request-id"))
                response.sendHead(status: 200, headers: [("content-type", type), ("x-request-id", requestID), ("grpc-status", "12"),
                                                         ("grpc-message", StreamingCall.percentEncode("unknown method \(head.path)"))],
                                  endStream: true)
                response.stopReceivingAfterResponse(errorCode: 0)
                return DiscardingStreamHandler()
            }
            let call = StreamingCall(wire: .grpc, json: type == "application/grpc+json", contentType: type,
                                     call: call(head, method: method, on: response.eventLoop), method: method, router: router, response: response)
            call.start()
            return call
        }
        if type == "application/connect+proto" || type == "application/connect+json", let method = router.methods[head.path], !method.isUnary {
            let call = StreamingCall(wire: .connect, json: type == "application/connect+json", contentType: type,
                                     call: call(head, method: method, on: response.eventLoop), method: method, router: router, response: response)
            call.start()
            return call
        }
        return nil
    }

    // MARK: buffered requests (Connect unary, protocol errors)

    public func respond(to request: ServerRequest, on eventLoop: any EventLoop) -> ResponderResult {
        let requestID = Identifiers.requestID(incoming: request.headers.first(name: "x-request-id"))
        let type = RPCDispatcher.mediaType(request.headers)
        let http2 = request.version.major == 2
        if type.hasPrefix("application/grpc") && !type.hasPrefix("application/grpc-web") {
            return .now(plain(http2 ? .unsupportedMediaType : .httpVersionNotSupported,
                              http2 ? "gRPC needs POST" : "gRPC needs HTTP/2", requestID: requestID))
        }
        guard let method = router.methods[request.path] else {
            return .now(connectError(RPCError(.unimplemented, "unknown method \(request.path)"), requestID: requestID))
        }
        if type == "application/connect+proto" || type == "application/connect+json" {
            if method.isUnary { return .now(unsupported(requestID)) }
            return .now(plain(http2 ? .unsupportedMediaType : .httpVersionNotSupported, "Connect streaming needs HTTP/2", requestID: requestID))
        }
        let payload: [UInt8], json: Bool
        switch request.method {
        case .GET:
            guard method.schema.idempotency == .noSideEffects, method.isUnary else {
                var headers = HTTPHeaders([("Allow", "POST"), ("x-request-id", requestID)])
                headers.add(name: "content-type", value: "application/json")
                let body = JSONWriter.write(.object(ConnectError.json(RPCError(.unimplemented, "\(method.path) accepts POST only"))))
                return .now(ServerResponse(status: .methodNotAllowed, headers: headers, body: ByteBuffer(bytes: body)))
            }
            switch Self.getMessage(request.query, maxSize: router.limits.maxMessageSize, requestID: requestID) {
            case .success(let (bytes, isJSON)): (payload, json) = (bytes, isJSON)
            case .failure(let error): return .now(connectError(error, requestID: requestID))
            }
        case .POST:
            guard method.isUnary, type == "application/proto" || type == "application/json" else { return .now(unsupported(requestID)) }
            if let version = request.headers.first(name: "connect-protocol-version"), version != "1" {
                return .now(connectError(RPCError.malformed("connect-protocol-version must be 1", requestID: requestID), requestID: requestID))
            }
            do throws(RPCError) {
                let body = try RPCCompression.encoding(request.headers.first(name: "content-encoding"))
                    ? try RPCCompression.gunzip(request.body, maxSize: router.limits.maxMessageSize, requestID: requestID) : request.body
                (payload, json) = (body, type == "application/json")
            } catch {
                return .now(connectError(error, requestID: requestID))
            }
        default:
            var headers = HTTPHeaders([("Allow", "POST"), ("x-request-id", requestID)])
            headers.add(name: "content-type", value: "application/json")
            return .now(ServerResponse(status: .methodNotAllowed, headers: headers,
                                       body: ByteBuffer(bytes: JSONWriter.write(.object(ConnectError.json(RPCError(.unimplemented, "use POST"))))) ))
        }
        guard case .unary(let run) = method.implementation else { return .now(unsupported(requestID)) }
        guard payload.count <= router.limits.maxMessageSize else {
            return .now(connectError(RPCError(.resourceExhausted, "message of \(payload.count) bytes exceeds the limit of \(router.limits.maxMessageSize)"),
                                     requestID: requestID))
        }
        let input: [UInt8]
        if json {
            do throws(ProtoJSONError) {
                input = try router.json.jsonToBinary(payload, message: method.schema.input)
            } catch {
                return .now(connectError(RPCError.malformed("\(error)", requestID: requestID), requestID: requestID))
            }
        } else {
            input = payload
        }
        let rpcCall = call(request, method: method, on: eventLoop)
        let contentType = json ? "application/json" : "application/proto"
        let output = method.schema.output
        let compress = RPCCompression.accepts(request.headers.first(name: "accept-encoding"))
        let compressionMinSize = router.limits.compressionMinSize
        let encode: @Sendable (Result<[UInt8], RPCError>) -> ServerResponse = { [router] result in
            switch result {
            case .success(let bytes):
                var body = bytes
                if json {
                    do throws(ProtoJSONError) { body = try router.json.binaryToJSON(bytes, message: output) } catch {
                        return RPCDispatcher.connectErrorResponse(RPCError(.internalError, "response could not be encoded as JSON"), requestID: requestID)
                    }
                }
                var headers = HTTPHeaders([("content-type", contentType), ("x-request-id", requestID)])
                headers.add(name: "cache-control", value: "no-store")
                if compress, body.count >= compressionMinSize, let gzipped = RPCCompression.gzip(body) {
                    headers.add(name: "content-encoding", value: "gzip")
                    body = gzipped
                }
                return ServerResponse(status: .ok, headers: headers, body: ByteBuffer(bytes: body))
            case .failure(let error):
                return RPCDispatcher.connectErrorResponse(error, requestID: requestID)
            }
        }
        // The deadline is checked before the method runs: a call refused for a bad header must
        // not have taken effect (and no promise may be left behind).
        var timeout = router.limits.defaultTimeout
        if let raw = request.headers.first(name: "connect-timeout-ms") {
            guard let ms = Int64(raw), ms >= 0, raw.utf8.count <= 10 else {
                return .now(connectError(RPCError.malformed("connect-timeout-ms is not valid", requestID: requestID), requestID: requestID))
            }
            timeout = .milliseconds(ms)
        }
        switch run(rpcCall, input) {
        case .now(let result):
            return .now(encode(result))
        case .later(let future):
            let promise = eventLoop.makePromise(of: ServerResponse.self)
            let deadline = eventLoop.scheduleTask(in: timeout) {
                promise.succeed(encode(.failure(RPCError(.deadlineExceeded, "deadline exceeded"))))
            }
            future.hop(to: eventLoop).whenComplete { result in
                deadline.cancel()
                switch result {
                case .success(let bytes): promise.succeed(encode(.success(bytes)))
                case .failure(let error): promise.succeed(encode(.failure(error as? RPCError ?? RPCError(.internalError, "internal error"))))
                }
            }
            return .later(promise.futureResult)
        }
    }

    /// Connect GET: `message` (percent-encoded, base64 when `base64=1`) and `encoding`.
    static func getMessage(_ query: String?, maxSize: Int, requestID: String) -> Result<([UInt8], Bool), RPCError> {
        var message: [UInt8]?, encoding: String?, base64 = false, gzipped = false
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            guard let decoded = Router<Int>.percentDecode(parts.count > 1 ? parts[1] : "", plusIsSpace: true) else {
                return .failure(RPCError(.invalidArgument, "query parameter \(name.prefix(32)) is not valid percent-encoded UTF-8"))
            }
            let value = Array(decoded.utf8)
            switch name {
            case "message": message = value
            case "encoding": encoding = String(decoding: value, as: UTF8.self)
            case "base64": base64 = String(decoding: value, as: UTF8.self) == "1"
            case "compression":
                let c = String(decoding: value, as: UTF8.self)
                if c == "gzip" { gzipped = true } else if c != "identity" && !c.isEmpty {
                    return .failure(RPCError(.unimplemented, "compression \(JSONBody.printable(c)) is not supported; supported: \(RPCCompression.supported)"))
                }
            case "connect":
                if String(decoding: value, as: UTF8.self) != "v1" { return .failure(RPCError(.invalidArgument, "connect must be v1")) }
            default: break
            }
        }
        guard let encoding, encoding == "proto" || encoding == "json" else {
            return .failure(RPCError(.invalidArgument, "encoding must be proto or json"))
        }
        var bytes = message ?? []
        if base64 {
            guard let decoded = Base64.decode(String(decoding: bytes, as: UTF8.self)) else {
                return .failure(RPCError(.invalidArgument, "message is not valid base64"))
            }
            bytes = decoded
        }
        if gzipped {
            do throws(RPCError) { bytes = try RPCCompression.gunzip(bytes, maxSize: maxSize, requestID: requestID) } catch { return .failure(error) }
        }
        return .success((bytes, encoding == "json"))
    }

    private func unsupported(_ requestID: String) -> ServerResponse {
        var response = plain(.unsupportedMediaType, "unsupported content type", requestID: requestID)
        response.headers.add(name: "Accept-Post", value: RPCDispatcher.acceptPost)
        return response
    }

    private func plain(_ status: HTTPResponseStatus, _ text: String, requestID: String) -> ServerResponse {
        ServerResponse(status: status, headers: HTTPHeaders([("content-type", "text/plain"), ("x-request-id", requestID)]),
                       body: ByteBuffer(string: text + "\n"))
    }

    /// A Connect error response (HTTP status from the Connect table, JSON body).
    public func errorResponse(_ error: RPCError, requestID: String) -> ServerResponse {
        RPCDispatcher.connectErrorResponse(error, requestID: requestID)
    }

    private func connectError(_ error: RPCError, requestID: String) -> ServerResponse {
        RPCDispatcher.connectErrorResponse(error, requestID: requestID)
    }

    static func connectErrorResponse(_ error: RPCError, requestID: String) -> ServerResponse {
        var headers = HTTPHeaders([("content-type", "application/json"), ("x-request-id", requestID)])
        if let code = error.detail?.code { headers.add(name: "x-error-code", value: code) }
        for (name, value) in error.headers { headers.add(name: name, value: value) }
        return ServerResponse(status: HTTPResponseStatus(statusCode: error.status.connectHTTPStatus), headers: headers,
                              body: ByteBuffer(bytes: JSONWriter.write(.object(ConnectError.json(error)))))
    }
}

/// The handler of a stream already answered when its HEADERS arrived: the rest is ignored.
final class DiscardingStreamHandler: StreamHandler {
    func receive(_ data: ByteBuffer) {}
    func receiveEnd() {}
    func cancelled() {}
}
