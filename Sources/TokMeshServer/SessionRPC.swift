// SessionRPC: `tokmesh.v1.SessionService` (spec/06 §2). Each RPC is answered by its HTTP twin's
// route through the same request pipeline as the JSON API — authentication from
// `authorization`/`x-api-key` metadata, role, anti-replay, rate limits, restore gate, audit and
// the wait for the WAL — so the two surfaces cannot drift apart in rules or codes. The adapter
// turns the protobuf request into the route's JSON body or query, and the pipeline's
// outcome (the route's result or error, before any envelope is written) back into the protobuf
// response or an RPC error with its TM code. ValidateToken returns token
// verdicts (TM-TOKN-4000/4010/4011/4012) in the body with status OK. SessionRPC is the
// service's `TokMeshV1SessionServiceHandler`; the stub's registration decodes the requests.
import NIOCore
import NIOHTTP1
import TokMeshCore
import TokMeshHTTP
import TokMeshProto
import TokMeshRPC
import TokMeshTelemetry

struct SessionRPC: TokMeshV1SessionServiceHandler {
    typealias V1 = TokMeshV1

    /// Metadata copied onto the internal request (credentials, anti-replay, client identity).
    static let forwardedHeaders = ["authorization", "x-api-key", "x-timestamp", "x-nonce", "user-agent", "x-forwarded-for", "x-real-ip"]

    let responder: APIResponder

    func createSession(_ request: V1.CreateSessionRequest, _ call: RPCCall) -> RPCTypedReply<V1.CreateSessionResponse> {
        unary(call, request) { (r: V1.CreateSessionRequest) throws(TokMeshError) in
            var body: JSONObject = ["user_id": .string(r.userId)]
            if !r.deviceId.isEmpty { body["device_id"] = .string(r.deviceId) }
            if r.ttlSeconds != 0 { body["ttl_seconds"] = .int(r.ttlSeconds) }
            if !r.data.isEmpty { body["data"] = .object(Self.stringMap(r.data)) }
            if !r.token.isEmpty { body["token"] = .string(r.token) }
            if !r.sessionId.isEmpty { body["session_id"] = .string(r.sessionId) }
            if !r.ipAddress.isEmpty { body["ip_address"] = .string(r.ipAddress) }
            if !r.userAgent.isEmpty { body["user_agent"] = .string(r.userAgent) }
            return (.POST, "/sessions", body)
        } decode: { data -> V1.CreateSessionResponse in
            var out = V1.CreateSessionResponse()
            out.sessionId = data["session_id"]?.stringValue ?? ""
            out.token = data["token"]?.stringValue ?? ""
            out.expiresAt = data["expires_at"]?.intValue ?? 0
            out.userId = data["user_id"]?.stringValue ?? ""
            out.createdAt = data["created_at"]?.intValue ?? 0
            out.version = UInt64(clamping: data["version"]?.intValue ?? 0)
            return out
        }
    }

    func getSession(_ request: V1.GetSessionRequest, _ call: RPCCall) -> RPCTypedReply<V1.GetSessionResponse> {
        unary(call, request) { (r: V1.GetSessionRequest) throws(TokMeshError) in
            (.GET, "/sessions/" + (try Self.idSegment(r.sessionId, "session_id")), nil)
        } decode: { data -> V1.GetSessionResponse in
            var out = V1.GetSessionResponse()
            out.session = Self.session(data)
            return out
        }
    }

    func validateToken(_ request: V1.ValidateTokenRequest, _ call: RPCCall) -> RPCTypedReply<V1.ValidateTokenResponse> {
        unary(call, request) { (r: V1.ValidateTokenRequest) throws(TokMeshError) in
            var body: JSONObject = ["token": .string(r.token)]
            if r.touch { body["touch"] = .bool(true) }
            if !r.ipAddress.isEmpty { body["ip_address"] = .string(r.ipAddress) }
            if !r.userAgent.isEmpty { body["user_agent"] = .string(r.userAgent) }
            return (.POST, "/tokens/validate", body)
        } decode: { data -> V1.ValidateTokenResponse in
            var out = V1.ValidateTokenResponse()
            out.valid = data["valid"]?.boolValue ?? false
            if let s = data["session"]?.objectValue { out.session = Self.session(s) }
            return out
        } typed: { result -> V1.ValidateTokenResponse? in
            guard let session = result.validatedSession else { return nil }
            var out = V1.ValidateTokenResponse()
            out.valid = true
            out.session = Self.session(session, now: responder.node.clock.nowMillis())
            return out
        } verdict: { error -> V1.ValidateTokenResponse? in
            guard [.toknMalformed, .toknUnknown, .toknExpired, .toknRevoked].contains(error.code) else { return nil }
            var out = V1.ValidateTokenResponse()
            out.errorCode = error.code.rawValue
            out.errorMessage = error.message
            out.revokedAt = error.details["revoked_at"]?.intValue ?? 0
            return out
        }
    }

    func touchSession(_ request: V1.TouchSessionRequest, _ call: RPCCall) -> RPCTypedReply<V1.TouchSessionResponse> {
        unary(call, request) { (r: V1.TouchSessionRequest) throws(TokMeshError) in
            (.POST, "/sessions/" + (try Self.idSegment(r.sessionId, "session_id")) + "/touch", JSONObject())
        } decode: { data -> V1.TouchSessionResponse in
            var out = V1.TouchSessionResponse()
            out.session = Self.session(data)
            return out
        }
    }

    func renewSession(_ request: V1.RenewSessionRequest, _ call: RPCCall) -> RPCTypedReply<V1.RenewSessionResponse> {
        unary(call, request) { (r: V1.RenewSessionRequest) throws(TokMeshError) in
            var body: JSONObject = ["ttl_seconds": .int(r.ttlSeconds)]
            if r.expectedVersion != 0 { body["expected_version"] = .uint(r.expectedVersion) }
            return (.POST, "/sessions/" + (try Self.idSegment(r.sessionId, "session_id")) + "/renew", body)
        } decode: { data -> V1.RenewSessionResponse in
            var out = V1.RenewSessionResponse()
            out.newExpiresAt = data["new_expires_at"]?.intValue ?? 0
            out.previousExpiresAt = data["previous_expires_at"]?.intValue ?? 0
            out.version = UInt64(clamping: data["version"]?.intValue ?? 0)
            out.sessionId = data["session_id"]?.stringValue ?? ""
            return out
        }
    }

    func revokeSession(_ request: V1.RevokeSessionRequest, _ call: RPCCall) -> RPCTypedReply<V1.RevokeSessionResponse> {
        unary(call, request) { (r: V1.RevokeSessionRequest) throws(TokMeshError) in
            (.POST, "/sessions/" + (try Self.idSegment(r.sessionId, "session_id")) + "/revoke", r.sync ? ["sync": .bool(true)] : JSONObject())
        } decode: { data -> V1.RevokeSessionResponse in
            var out = V1.RevokeSessionResponse()
            out.revoked = data["revoked"]?.boolValue ?? false
            out.sessionId = data["session_id"]?.stringValue ?? ""
            out.revokedAt = data["revoked_at"]?.intValue ?? 0
            return out
        }
    }

    func revokeUserSessions(_ request: V1.RevokeUserSessionsRequest, _ call: RPCCall) -> RPCTypedReply<V1.RevokeUserSessionsResponse> {
        unary(call, request) { (r: V1.RevokeUserSessionsRequest) throws(TokMeshError) in
            (.POST, "/users/" + (try Self.idSegment(r.userId, "user_id")) + "/sessions/revoke", r.sync ? ["sync": .bool(true)] : JSONObject())
        } decode: { data -> V1.RevokeUserSessionsResponse in
            var out = V1.RevokeUserSessionsResponse()
            out.revokedCount = UInt32(clamping: data["revoked_count"]?.intValue ?? 0)
            out.userId = data["user_id"]?.stringValue ?? ""
            return out
        }
    }

    func listSessions(_ request: V1.ListSessionsRequest, _ call: RPCCall) -> RPCTypedReply<V1.ListSessionsResponse> {
        unary(call, request) { (r: V1.ListSessionsRequest) throws(TokMeshError) in
            var query: [(String, String)] = []
            for (name, value) in [("user_id", r.userId), ("device_id", r.deviceId), ("key_id", r.keyId), ("ip_address", r.ipAddress),
                                  ("status", r.status), ("sort_by", r.sortBy), ("sort_order", r.sortOrder)] where !value.isEmpty {
                query.append((name, value))
            }
            for (name, value) in [("created_after", r.createdAfter), ("created_before", r.createdBefore), ("active_after", r.activeAfter)]
            where value != 0 {
                query.append((name, String(value)))
            }
            if r.page != 0 { query.append(("page", String(r.page))) }
            if r.size != 0 { query.append(("size", String(r.size))) }
            let uri = "/sessions" + (query.isEmpty ? "" : "?" + query.map { $0.0 + "=" + Self.pathSegment($0.1) }.joined(separator: "&"))
            return (.GET, uri, nil)
        } decode: { data -> V1.ListSessionsResponse in
            var out = V1.ListSessionsResponse()
            out.items = (data["items"]?.arrayValue ?? []).compactMap { $0.objectValue.map(Self.session) }
            if let p = data["pagination"]?.objectValue {
                var page = V1.Pagination()
                page.page = UInt32(clamping: p["page"]?.intValue ?? 0)
                page.size = UInt32(clamping: p["size"]?.intValue ?? 0)
                page.total = UInt64(clamping: p["total"]?.intValue ?? 0)
                out.pagination = page
            }
            return out
        }
    }

    /// One unary RPC on top of its HTTP twin: `route` builds the internal request, `decode`
    /// reads the success envelope's `data`, `verdict` may turn an error into a response.
    func unary<Request: ProtoMessage, Response: ProtoMessage>(
        _ call: RPCCall, _ request: Request,
        route: (Request) throws(TokMeshError) -> (HTTPMethod, String, JSONObject?),
        decode: @escaping @Sendable (JSONObject) -> Response,
        typed: (@Sendable (RouteResult) -> Response?)? = nil,
        verdict: (@Sendable (TokMeshError) -> Response?)? = nil
    ) -> RPCTypedReply<Response> {
        let method: HTTPMethod, uri: String, body: JSONObject?
        do throws(TokMeshError) {
            (method, uri, body) = try route(request)
        } catch {
            return .failure(RPCError(error, requestID: call.requestID))
        }
        var headers = HTTPHeaders()
        for name in SessionRPC.forwardedHeaders { for value in call.headers[name] { headers.add(name: name, value: value) } }
        headers.add(name: "x-request-id", value: call.requestID)
        if body != nil { headers.add(name: "content-type", value: "application/json") }
        let inner = ServerRequest(method: method, uri: uri, headers: headers, body: body.map { JSONWriter.write(.object($0)) } ?? [],
                                  peer: call.peer, version: HTTPVersion(major: 2, minor: 0))
        let span = responder.node.tracer.flatMap { tracer in
            SessionRPC.startSpan(tracer, call, nowMillis: responder.node.clock.nowMillis())
        }
        let answer: @Sendable (APIResponder.Outcome) -> Result<Response, RPCError> = { outcome in
            if let span { SessionRPC.finishSpan(span, call, outcome) }
            return SessionRPC.translate(outcome, decode: decode, typed: typed, verdict: verdict)
        }
        switch responder.process(inner, span: span, on: call.eventLoop) {
        case .now(let outcome):
            return .now(answer(outcome))
        case .later(let future):
            return .later(future.flatMapThrowing { outcome in try answer(outcome).get() })
        }
    }

    /// The RPC server span (spec/10 §5): `{service}/{method}`, from the call's `traceparent`.
    static func startSpan(_ tracer: TokMeshTracer, _ call: RPCCall, nowMillis: Int64) -> TokMeshSpan? {
        let name = "tokmesh.v1.SessionService/" + call.method.name
        guard let span = tracer.startServerSpan(name, traceparent: call.headers.first(name: "traceparent"),
                                                tracestate: call.headers.first(name: "tracestate"), nowMillis: nowMillis) else { return nil }
        let grpc = (call.headers.first(name: "content-type") ?? "").hasPrefix("application/grpc")
        span.set("rpc.system", .string(grpc ? "grpc" : "connect_rpc"))
        span.set("rpc.service", .string("tokmesh.v1.SessionService"))
        span.set("rpc.method", .string(call.method.name))
        span.set("tokmesh.request_id", .string(call.requestID))
        switch call.peer {
        case .local: span.set("client.address", .string("local"))
        case .tcp(let ip): span.set("client.address", .string(ip.description))
        }
        return span
    }

    static func finishSpan(_ span: TokMeshSpan, _ call: RPCCall, _ outcome: APIResponder.Outcome) {
        let grpc = span.attribute("rpc.system") == .string("grpc")
        switch outcome {
        case .success:
            if grpc { span.set("rpc.grpc.status_code", .int(0)) }
        case .failure(let error, _):
            let code = error.code.connectCode
            if grpc { span.set("rpc.grpc.status_code", .int(Int64(code.grpcStatus))) } else { span.set("rpc.connect_rpc.error_code", .string(code.rawValue)) }
            span.set("tokmesh.error_code", .string(error.code.rawValue))
            if code == .internalError || code == .unavailable || code == .deadlineExceeded { span.setError(error.code.rawValue) }
        }
        span.finish()
    }

    /// The pipeline's outcome as the RPC's response or error.
    static func translate<Response: ProtoMessage>(_ outcome: APIResponder.Outcome, decode: (JSONObject) -> Response,
                                                  typed: ((RouteResult) -> Response?)?,
                                                  verdict: ((TokMeshError) -> Response?)?) -> Result<Response, RPCError> {
        switch outcome {
        case .success(let result, _):
            if let typed, let answer = typed(result) { return .success(answer) }
            if let encoded = result.encodedData {
                // A route that wrote its data as JSON bytes and offered no typed form.
                return .success(decode((try? JSONParser.parse(encoded))?.objectValue ?? JSONObject()))
            }
            return .success(decode(result.data))
        case .failure(let error, let requestID):
            if let verdict, let answer = verdict(error) { return .success(answer) }
            return .failure(RPCError(error, requestID: requestID))
        }
    }

    static func session(_ s: Session, now: Int64) -> TokMeshV1.Session {
        var out = TokMeshV1.Session()
        out.id = s.id
        out.userId = s.userID
        out.deviceId = s.deviceID
        out.ipAddress = s.ipAddress
        out.userAgent = s.userAgent
        out.lastAccessIp = s.lastAccessIP
        out.lastAccessUa = s.lastAccessUA
        out.createdBy = s.createdBy
        out.createdAt = s.createdAt
        out.expiresAt = s.expiresAt
        out.lastActive = s.lastActive
        out.data = s.data
        out.version = s.version
        out.status = s.isExpired(now: now) ? "expired" : "active"
        return out
    }

    static func session(_ o: JSONObject) -> TokMeshV1.Session {
        var s = TokMeshV1.Session()
        s.id = o["id"]?.stringValue ?? ""
        s.userId = o["user_id"]?.stringValue ?? ""
        s.deviceId = o["device_id"]?.stringValue ?? ""
        s.ipAddress = o["ip_address"]?.stringValue ?? ""
        s.userAgent = o["user_agent"]?.stringValue ?? ""
        s.lastAccessIp = o["last_access_ip"]?.stringValue ?? ""
        s.lastAccessUa = o["last_access_ua"]?.stringValue ?? ""
        s.createdBy = o["created_by"]?.stringValue ?? ""
        s.createdAt = o["created_at"]?.intValue ?? 0
        s.expiresAt = o["expires_at"]?.intValue ?? 0
        s.lastActive = o["last_active"]?.intValue ?? 0
        s.version = UInt64(clamping: o["version"]?.intValue ?? 0)
        s.status = o["status"]?.stringValue ?? ""
        for (key, value) in o["data"]?.objectValue?.pairs ?? [] { s.data[key] = value.stringValue ?? "" }
        return s
    }

    static func stringMap(_ map: [String: String]) -> JSONObject {
        var o = JSONObject()
        // append, not the subscript: keys of a Swift dictionary are unique, and the subscript's
        // linear search made this quadratic (found by Scripts/fuzz proto).
        for key in map.keys.sorted() { o.append(key, .string(map[key]!)) }
        return o
    }

    /// A required path parameter, percent-encoded (TM-ARG-1002 when empty).
    static func idSegment(_ raw: String, _ field: String) throws(TokMeshError) -> String {
        guard !raw.isEmpty else { throw TokMeshError.missing(field) }
        return pathSegment(raw)
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters (a path segment or query value).
    static func pathSegment(_ raw: String) -> String {
        var out = ""
        for byte in raw.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 15)]))
            }
        }
        return out
    }
}
