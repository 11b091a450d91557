// APIResponder: the request pipeline of spec/04 §2 for every listener — request ID, route
// match (404/405), readiness gate, authentication (spec/03 §4.2; Argon2 off the event loop),
// role, anti-replay, strict query/body decoding, one handler call, audit, envelope. Cache-hit
// requests run entirely on the connection's event loop.
import NIOCore
import NIOHTTP1
import NIOPosix
import TokMeshAuth
import TokMeshCore
import TokMeshHTTP
import TokMeshService
import TokMeshTelemetry

final class APIResponder: HTTPResponder {
    /// A request that waits longer than this for an Argon2 slot gets 429 (spec/03 §2.1).
    static let blockingQueueWaitNanosMax: UInt64 = 1_000_000_000

    let node: NodeContext
    let router: Router<RouteSpec>

    init(node: NodeContext, router: Router<RouteSpec>) {
        self.node = node
        self.router = router
    }

    private var now: Int64 { node.clock.nowMillis() }

    static let restorePath = "/admin/v1/backups/restores"

    /// A restore upload (`POST /admin/v1/backups/restores`) may be as large as `max_upload_size`.
    static func isRestoreUpload(method: HTTPMethod, uri: String) -> Bool {
        method == .POST && uri.utf8.starts(with: restorePath.utf8) && (uri.utf8.count == restorePath.utf8.count
            || uri.utf8[uri.utf8.index(uri.utf8.startIndex, offsetBy: restorePath.utf8.count)] == UInt8(ascii: "?"))
    }

    func bodyLimit(method: HTTPMethod, uri: String) -> Int {
        Self.isRestoreUpload(method: method, uri: uri) ? node.config.maxUploadBytes : node.config.maxBodyBytes
    }

    func bodyTooLarge(method: HTTPMethod, uri: String, headers: HTTPHeaders, peer: PeerKind) -> ServerResponse {
        let requestID = Identifiers.requestID(incoming: headers.first(name: "x-request-id"))
        if Self.isRestoreUpload(method: method, uri: uri) {
            return Envelope.error(TokMeshError(.adminUploadTooLarge, details: [
                "limit": .int(Int64(node.config.maxUploadBytes)),
                "hint": "copy the backup into the snapshot directory and restore it by snapshot_id",
            ]), requestID: requestID, now: now)
        }
        return Envelope.error(TokMeshError(.sysBodyTooLarge, details: ["limit": .int(Int64(node.config.maxBodyBytes))]), requestID: requestID, now: now)
    }

    func malformed() -> ServerResponse {
        var e = TokMeshError(.sysMalformed, "Malformed HTTP request")
        e.details["framing"] = true
        return Envelope.error(e, requestID: Identifiers.requestID(incoming: nil), now: now)
    }

    /// What the pipeline produced, before a transport renders it: the JSON envelope here, a
    /// protobuf response or RPC status in SessionRPC.
    enum Outcome: Sendable {
        case success(RouteResult, requestID: String)
        case failure(TokMeshError, requestID: String)
    }

    enum OutcomeResult: Sendable {
        case now(Outcome)
        case later(EventLoopFuture<Outcome>)
    }

    func respond(to request: ServerRequest, on eventLoop: any EventLoop) -> ResponderResult {
        let start = monotonicNanos()
        let observer = node.requests
        observer.inFlight.add(1, ordering: .relaxed)
        let match = router.match(method: request.method.rawValue, path: request.path)
        let template: String
        if case .matched(_, _, let t) = match { template = t } else { template = "unmatched" }
        let bare = template == MetricsRoute.path
        let span = node.tracer?.startServerSpan(request.method.rawValue + " " + template, traceparent: request.headers.first(name: "traceparent"),
                                                tracestate: request.headers.first(name: "tracestate"), nowMillis: now)
        switch process(request, match: match, span: span, on: eventLoop) {
        case .now(let outcome):
            let response = bare ? Self.bareFailure(render(outcome)) : render(outcome)
            observer.finished(request, template: template, response: response, startNanos: start, nowMillis: now)
            if let span { Self.finishHTTPSpan(span, request, template: template, response: response) }
            return .now(response)
        case .later(let future):
            return .later(future.map { outcome in
                let response = bare ? Self.bareFailure(self.render(outcome)) : self.render(outcome)
                observer.finished(request, template: template, response: response, startNanos: start, nowMillis: self.now)
                if let span { Self.finishHTTPSpan(span, request, template: template, response: response) }
                return response
            })
        }
    }

    /// The attributes of an HTTP server span (spec/10 §5) once the answer is known.
    static func finishHTTPSpan(_ span: TokMeshSpan, _ request: ServerRequest, template: String, response: ServerResponse) {
        span.set("http.request.method", .string(request.method.rawValue))
        span.set("http.route", .string(template))
        span.set("http.response.status_code", .int(Int64(response.status.code)))
        span.set("network.protocol.version", .string(request.version.major == 2 ? "2" : "1.1"))
        switch request.peer {
        case .local: span.set("client.address", .string("local"))
        case .tcp(let ip): span.set("client.address", .string(ip.description))
        }
        if let id = response.headers.first(name: "X-Request-ID") { span.set("tokmesh.request_id", .string(id)) }
        if let code = response.headers.first(name: "X-Error-Code") {
            span.set("tokmesh.error_code", .string(code))
            if response.status.code >= 500 { span.setError(code) }
        }
        span.finish()
    }

    /// `/metrics` refusals carry their code in `X-Error-Code` and no body (spec/04 §5).
    static func bareFailure(_ response: ServerResponse) -> ServerResponse {
        guard response.status.code >= 400 else { return response }
        var bare = response
        bare.body = nil
        bare.headers.remove(name: "Content-Type")
        return bare
    }

    /// The JSON envelope of an outcome (a raw response, e.g. a file, gets its request ID only).
    func render(_ outcome: Outcome) -> ServerResponse {
        switch outcome {
        case .failure(let error, let requestID):
            return Envelope.error(error, requestID: requestID, now: now)
        case .success(let result, let requestID):
            if var raw = result.raw {
                raw.headers.add(name: "X-Request-ID", value: requestID)
                return raw
            }
            let time = now
            if let session = result.validatedSession {
                var out: [UInt8] = []
                out.reserveCapacity(640)
                out.append(contentsOf: #"{"valid":true,"session":"#.utf8)
                session.writeJSON(now: time, into: &out)
                out.append(UInt8(ascii: "}"))
                return Envelope.success(result.status, encodedData: out, requestID: requestID, now: time)
            }
            return result.encodedData.map { Envelope.success(result.status, encodedData: $0, requestID: requestID, now: time) }
                ?? Envelope.success(result.status, data: result.data, requestID: requestID, now: time)
        }
    }

    /// The request pipeline of spec/04 §2 up to the route's result or error.
    func process(_ request: ServerRequest, span: TokMeshSpan? = nil, on eventLoop: any EventLoop) -> OutcomeResult {
        process(request, match: router.match(method: request.method.rawValue, path: request.path), span: span, on: eventLoop)
    }

    private func process(_ request: ServerRequest, match: RouteMatch<RouteSpec>, span: TokMeshSpan?, on eventLoop: any EventLoop) -> OutcomeResult {
        let requestID = Identifiers.requestID(incoming: request.headers.first(name: "x-request-id"))
        let isLocal = request.peer == .local
        let spec: RouteSpec, parameters: [String: String], template: String
        switch match {
        case .matched(let s, let p, let t):
            if case .localOnly = s.access, !isLocal { return fail(TokMeshError(.sysNoRoute), requestID) }
            (spec, parameters, template) = (s, p, t)
        case .methodNotAllowed(let allowed):
            return fail(TokMeshError(.sysMethodNotAllowed, details: ["allowed": .strings(allowed)],
                                     headers: [("Allow", allowed.joined(separator: ", "))]), requestID)
        case .notFound:
            return fail(TokMeshError(.sysNoRoute), requestID)
        }
        let adminRoute = template.hasPrefix("/admin/v1/")
        if !spec.servedWhenNotReady && !node.started.load(ordering: .relaxed) {
            return fail(TokMeshError(.sysUnavailable, "Node is not ready", headers: [("Retry-After", "1")]), requestID)
        }
        if request.method != .GET && request.method != .HEAD && node.restores.maintenance.load(ordering: .relaxed),
           let refusal = Self.refusalDuringRestore(template) {
            return fail(refusal, requestID)
        }

        let peerIP: IPAddress
        let clientIP: IPAddress
        switch request.peer {
        case .local:
            peerIP = IPAddress(bytes: [127, 0, 0, 1])
            clientIP = peerIP
        case .tcp(let ip):
            peerIP = ip
            let proxies = node.authenticator.settings.trustedProxies
            clientIP = proxies.isEmpty ? ip : ClientIPResolver(trustedProxies: proxies).resolve(peer: ip) { name in request.headers[name] }
        }
        let context = PendingCall(request: request, spec: spec, parameters: parameters, requestID: requestID,
                                  adminRoute: adminRoute, clientIP: clientIP, peerIP: peerIP, span: span)

        // Authentication: local socket = LOCAL_ADMIN; open routes need nothing.
        let principal: Principal
        switch spec.access {
        case .open:
            principal = Principal(keyID: "anonymous", role: .metrics)
        case .localOnly:
            principal = .localAdmin
        case .minimum, .oneOf:
            if isLocal {
                principal = .localAdmin
                break
            }
            let credential = Authenticator.credential(authorization: request.headers.first(name: "authorization"),
                                                      apiKey: request.headers.first(name: "x-api-key"))
            do throws(TokMeshError) {
                switch try node.authenticator.begin(credential: credential, clientIP: clientIP, adminRoute: adminRoute) {
                case .authenticated(let p):
                    principal = p
                    if let span { Self.authSpan(span, keyID: p.keyID, cacheHit: true).end(errorCode: nil) }
                case .needsVerification(let pending):
                    return offload(eventLoop, context) { () -> OutcomeResult in
                        let child = span.map { Self.authSpan($0, keyID: pending.keyID, cacheHit: false) }
                        do throws(TokMeshError) {
                            let p = try self.node.authenticator.verify(pending)
                            child?.end(errorCode: nil)
                            return self.finish(context, principal: p, on: eventLoop)
                        } catch {
                            child?.end(errorCode: error.code.rawValue)
                            return .now(self.authFailure(error, context, keyID: pending.keyID))
                        }
                    }
                }
            } catch {
                return .now(authFailure(error, context, keyID: credential.flatMap(Self.keyIDPart)))
            }
        }
        if spec.longRunning {
            return offload(eventLoop, context, pool: node.maintenancePool) { () -> OutcomeResult in self.finish(context, principal: principal, on: eventLoop) }
        }
        if spec.offload {
            return offload(eventLoop, context) { () -> OutcomeResult in self.finish(context, principal: principal, on: eventLoop) }
        }
        return finish(context, principal: principal, on: eventLoop)
    }

    /// The restore gate (spec/04 §2): another restore or a snapshot → 409; other writes → 503
    /// TM-ADMIN-5031, except validations, config and local routes.
    static func refusalDuringRestore(_ template: String) -> TokMeshError? {
        if template == "/admin/v1/backups/restores" || template == "/admin/v1/backups/snapshots" {
            return TokMeshError(.adminConflict, "a restore is running")
        }
        if template == "/tokens/validate" || template.hasPrefix("/admin/v1/config/") || template.hasPrefix("/local/v1/") { return nil }
        return TokMeshError(.adminRestoring, "Writes are refused while a restore runs", headers: [("Retry-After", "5")])
    }

    struct PendingCall: Sendable {
        var request: ServerRequest
        var spec: RouteSpec
        var parameters: [String: String]
        var requestID: String
        var adminRoute: Bool
        var clientIP: IPAddress
        var peerIP: IPAddress
        /// The request's server span when it is sampled.
        var span: TokMeshSpan?
    }

    private static func authSpan(_ parent: TokMeshSpan, keyID: String, cacheHit: Bool) -> any TraceChildSpan {
        let child = parent.startChild("auth.verify")
        child.setAttribute("tokmesh.api_key_id", string: keyID)
        child.setAttribute("tokmesh.auth.cache_hit", bool: cacheHit)
        return child
    }

    private static func keyIDPart(_ credential: String) -> String? {
        guard let colon = credential.firstIndex(of: ":") else { return nil }
        return Identifiers.normalizeID(String(credential[..<colon]), kind: .apiKey)
    }

    private func fail(_ error: TokMeshError, _ requestID: String) -> OutcomeResult {
        .now(.failure(error, requestID: requestID))
    }

    /// Runs `work` on the blocking pool (a request that waited over 1 s for a slot gets 429), or
    /// on the maintenance pool (snapshots, restore checks: no queue limit).
    private func offload(_ eventLoop: any EventLoop, _ call: PendingCall, pool: NIOThreadPool? = nil,
                         _ work: @escaping @Sendable () -> OutcomeResult) -> OutcomeResult {
        let submitted = monotonicNanos()
        let requestID = call.requestID
        let limited = pool == nil
        return .later((pool ?? node.blockingPool).runIfActive(eventLoop: eventLoop) { () -> OutcomeResult in
            if limited && monotonicNanos() - submitted > APIResponder.blockingQueueWaitNanosMax {
                return .now(.failure(TokMeshError(.sysRateLimited, "authentication queue is full", headers: [("Retry-After", "1")]),
                                     requestID: requestID))
            }
            return work()
        }.flatMap { result -> EventLoopFuture<Outcome> in
            switch result {
            case .now(let outcome): eventLoop.makeSucceededFuture(outcome)
            case .later(let future): future
            }
        }.flatMapErrorThrowing { _ in
            .failure(TokMeshError(.sysUnavailable, "Node is stopping", headers: [("Retry-After", "1")]), requestID: requestID)
        })
    }

    /// Audits and renders an authentication failure (401 AUTH_FAILED, 403 ACCESS_DENIED).
    private func authFailure(_ error: TokMeshError, _ call: PendingCall, keyID: String?) -> Outcome {
        let status = error.code.httpStatus
        let ip = call.clientIP.description
        if status == 401 && node.audit.allowAuthFailed(ip: ip, now: now) {
            record(call, operatorID: keyID ?? "anonymous", action: "AUTH_FAILED", success: false, errorCode: error.code.rawValue)
        } else if status == 403 {
            record(call, operatorID: keyID ?? "anonymous", action: "ACCESS_DENIED", success: false, errorCode: error.code.rawValue)
        }
        return .failure(error, requestID: call.requestID)
    }

    private func record(_ call: PendingCall, operatorID: String, action: String, resource: String? = nil, success: Bool,
                        errorCode: String? = nil, details: JSONObject = JSONObject()) {
        node.audit.record(AuditRecord(
            operatorID: operatorID, action: action, resource: resource ?? call.request.path, success: success, errorCode: errorCode,
            ipAddress: call.request.peer == .local ? "local" : call.clientIP.description,
            tcpRemoteIP: call.request.peer == .local ? "local" : call.peerIP.description,
            userAgent: SessionLimits.truncateUTF8(call.request.headers.first(name: "user-agent") ?? ""),
            requestID: call.requestID, details: details))
    }

    /// Steps after authentication: role, anti-replay, decoding, the handler, audit, envelope.
    private func finish(_ call: PendingCall, principal: Principal, on eventLoop: any EventLoop) -> OutcomeResult {
        let spec = call.spec
        do throws(TokMeshError) {
            switch spec.access {
            case .minimum(let role): try Authenticator.authorize(principal, minimum: role, adminRoute: call.adminRoute)
            case .oneOf(let roles) where !principal.isLocal: try Authenticator.authorize(principal, oneOf: roles, adminRoute: call.adminRoute)
            default: break
            }
        } catch {
            return .now(authFailure(error, call, keyID: principal.keyID))
        }
        var routeCall: RouteCall?
        do throws(TokMeshError) {
            if call.request.method == .POST, !principal.isLocal, case .minimum = spec.access {
                try node.authenticator.checkReplay(principal, timestamp: call.request.headers.first(name: "x-timestamp"),
                                                   nonce: call.request.headers.first(name: "x-nonce"), mandatory: spec.replayMandatory)
            }
            if let encoding = call.request.headers.first(name: "content-encoding"), encoding.lowercased() != "identity" {
                throw TokMeshError.malformed(nil, "Content-Encoding \(JSONBody.printable(encoding)) is not supported")
            }
            let query = try QueryParameters(raw: call.request.query, allowed: spec.queryParameters)
            let body: JSONBody
            if spec.rawBody {
                body = JSONBody(object: JSONObject())
            } else if let fields = spec.bodyFields {
                body = try JSONBody(bytes: call.request.body, allowed: fields)
            } else {
                body = JSONBody(object: JSONObject())
            }
            let userAgent = call.request.headers.first(name: "user-agent") ?? ""
            let clientIP = call.clientIP.description
            let built = RouteCall(request: call.request, parameters: call.parameters, query: query, body: body, principal: principal,
                                  caller: CallerContext(createdBy: principal.keyID, clientIP: clientIP, userAgent: userAgent),
                                  requestID: call.requestID, clientIP: clientIP)
            routeCall = built
            let result: RouteResult
            if let span = call.span {
                if !principal.isLocal { span.set("tokmesh.api_key_id", .string(principal.keyID)) }
                result = try TraceScope.with(span) { () throws(TokMeshError) -> RouteResult in try spec.handler(built) }
            } else {
                result = try spec.handler(built)
            }
            if let audit = spec.audit, !result.skipAudit {
                record(call, operatorID: principal.keyID, action: result.auditAction ?? audit.action(built), resource: audit.resource(built),
                       success: true, details: result.auditDetails)
            }
            let success = Outcome.success(result, requestID: call.requestID)
            guard result.raw == nil, let index = result.logIndex, let writer = node.journal.writer else { return .now(success) }
            // Acknowledge only once the change's log record is written (or fsynced) — spec/01 §6.
            let promise = eventLoop.makePromise(of: Outcome.self)
            let requestID = call.requestID
            writer.whenAcknowledged(index, durable: result.durable) { outcome in
                switch outcome {
                case .success: promise.succeed(success)
                case .failure: promise.succeed(.failure(TokMeshError(.sysStorage, "the session log has failed; restart the node"), requestID: requestID))
                }
            }
            return .later(promise.futureResult)
        } catch {
            if let audit = spec.audit, let built = routeCall {
                record(call, operatorID: principal.keyID, action: audit.action(built), resource: audit.resource(built),
                       success: false, errorCode: error.code.rawValue)
            }
            if error.code == .authTimestamp || error.code == .authNonce {
                return .now(authFailure(error, call, keyID: principal.keyID))
            }
            return .now(.failure(error, requestID: call.requestID))
        }
    }
}
