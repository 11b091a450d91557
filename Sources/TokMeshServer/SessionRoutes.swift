// SessionRoutes: the business routes of spec/04 §7. Each handler decodes its query and body,
// calls one SessionService method and encodes the result; rules live in the service.
import NIOHTTP1
import TokMeshAuth
import TokMeshCore
import TokMeshService

enum SessionRoutes {
    static func routes(_ node: NodeContext) -> [(String, String, RouteSpec)] {
        let sessions = node.sessions
        let now: @Sendable () -> Int64 = { node.clock.nowMillis() }
        let sessionEvents = node.config.auditSessionEvents
        func sessionAudit(_ action: String) -> AuditSpec? {
            sessionEvents ? AuditSpec(action: { _ in action }, resource: { $0.parameter("session_id") }) : nil
        }
        return [
            ("POST", "/sessions", RouteSpec(
                access: .minimum(.issuer),
                bodyFields: ["user_id", "device_id", "ttl_seconds", "data", "token", "session_id", "ip_address", "user_agent"],
                audit: sessionEvents ? AuditSpec(action: { _ in "SESSION_CREATED" }, resource: { _ in "sessions" }) : nil
            ) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
                var input = CreateSessionInput()
                input.userID = try call.body.string("user_id")
                input.deviceID = try call.body.string("device_id")
                input.ttlMillis = try ttlMillis(call.body.int("ttl_seconds"), limits: sessions.limits)
                input.data = try call.body.stringMap("data")
                input.token = try call.body.string("token")
                input.sessionID = try call.body.string("session_id")
                input.ipAddress = try call.body.string("ip_address")
                input.userAgent = try call.body.string("user_agent")
                let out = try sessions.create(input, caller: call.caller)
                var result = RouteResult(.created, [
                    "session_id": .string(out.sessionID), "token": .string(out.token), "user_id": .string(out.userID),
                    "created_at": .int(out.createdAt), "expires_at": .int(out.expiresAt), "version": .uint(out.version),
                ], auditDetails: ["session_id": .string(out.sessionID)])
                result.logIndex = out.logIndex
                return result
            }),
            ("GET", "/sessions/{session_id}", RouteSpec(access: .minimum(.validator), queryParameters: ["fields"]) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
                let fields = try projection(call.query.string("fields"))
                let s = try sessions.get(call.parameter("session_id"))
                return RouteResult(.ok, objectOf(s.json(now: now(), fields: fields)))
            }),
            ("POST", "/sessions/{session_id}/touch", RouteSpec(access: .minimum(.validator), queryParameters: ["fields"], bodyFields: []) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
                var fields = try projection(call.query.string("fields"))
                fields?.formUnion(["id", "user_id", "expires_at", "last_active", "version"])
                let touched = try sessions.touch(call.parameter("session_id"))
                var result = RouteResult(.ok, objectOf(touched.session.json(now: now(), fields: fields)))
                result.logIndex = touched.logIndex
                return result
            }),
            ("POST", "/sessions/{session_id}/renew", RouteSpec(
                access: .minimum(.issuer), bodyFields: ["ttl_seconds", "expected_version"], audit: sessionAudit("SESSION_RENEWED")
            ) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
                guard let ttlSeconds = try call.body.int("ttl_seconds") else { throw TokMeshError.missing("ttl_seconds") }
                let out = try sessions.renew(call.parameter("session_id"), ttlMillis: try ttlMillis(ttlSeconds, limits: sessions.limits),
                                             expectedVersion: try call.body.int("expected_version"))
                var result = RouteResult(.ok, [
                    "session_id": .string(out.sessionID), "previous_expires_at": .int(out.previousExpiresAt),
                    "new_expires_at": .int(out.newExpiresAt), "version": .uint(out.version),
                ])
                result.logIndex = out.logIndex
                return result
            }),
            ("POST", "/sessions/{session_id}/revoke", RouteSpec(
                access: .minimum(.issuer), bodyFields: ["sync"], audit: sessionAudit("SESSION_REVOKED")
            ) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
                let sync = try call.body.bool("sync") ?? false
                let id = try SessionService.sessionID(call.parameter("session_id"))
                let out = try sessions.revoke(id, sync: sync)
                var data: JSONObject = ["session_id": .string(id), "revoked": .bool(out.revoked)]
                if let at = out.revokedAt { data["revoked_at"] = .int(at) }
                var result = RouteResult(.ok, data)
                result.logIndex = out.logIndex
                result.durable = sync
                return result
            }),
            ("POST", "/users/{user_id}/sessions/revoke", RouteSpec(
                access: .minimum(.issuer), bodyFields: ["sync"],
                audit: AuditSpec(action: { _ in "USER_SESSIONS_REVOKED" },
                                 resource: { "user:sha256:" + Identifiers.sha256Hex($0.parameter("user_id")) })
            ) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
                let sync = try call.body.bool("sync") ?? false
                let userID = call.parameter("user_id")
                let (count, index) = try sessions.revokeByUser(userID, sync: sync)
                var result = RouteResult(.ok, ["user_id": .string(userID), "revoked_count": .int(Int64(count))],
                                         auditDetails: ["revoked_count": .int(Int64(count))])
                result.logIndex = index
                result.durable = sync
                return result
            }),
            ("POST", "/tokens/validate", RouteSpec(
                access: .minimum(.validator), bodyFields: ["token", "touch", "ip_address", "user_agent"], replayMandatory: false
            ) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
                guard let token = try call.body.string("token") else { throw TokMeshError.missing("token") }
                // During a restore validations answer from the current state without touching it (spec/04 §2).
                let touch = try call.body.bool("touch") ?? false
                let validated = try sessions.validate(token: token, touch: touch && !node.restores.maintenance.load(ordering: .relaxed),
                                                      ipAddress: try call.body.string("ip_address"), userAgent: try call.body.string("user_agent"),
                                                      caller: call.caller)
                var result = RouteResult(validated: validated.session)
                result.logIndex = validated.logIndex
                return result
            }),
            ("GET", "/sessions", RouteSpec(access: .minimum(.issuer), queryParameters: [
                "user_id", "device_id", "key_id", "ip_address", "status", "created_after", "created_before", "active_after",
                "sort_by", "sort_order", "page", "size", "fields",
            ]) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
                let q = call.query
                if call.principal.role < .admin && q.string("user_id") == nil {
                    throw TokMeshError(.authRole, "An issuer must filter by user_id", details: [
                        "required_roles": .strings(["admin"]), "current_role": .string(call.principal.role.rawValue),
                    ])
                }
                let query = try sessionQuery(q)
                let fields = try projection(q.string("fields"))
                let (items, total) = sessions.list(query)
                let t = now()
                return RouteResult(.ok, [
                    "items": .array(items.map { $0.json(now: t, fields: fields) }),
                    "pagination": .object(["page": .int(Int64(query.page)), "size": .int(Int64(query.size)), "total": .int(Int64(total))]),
                ])
            }),
        ]
    }

    static func objectOf(_ v: JSONValue) -> JSONObject { v.objectValue ?? JSONObject() }

    /// Whole seconds → ms within 1 … `session.ttl.max` (TM-ARG-1001), nil = default.
    static func ttlMillis(_ seconds: Int64?, limits: SessionLimits) throws(TokMeshError) -> Int64? {
        guard let seconds else { return nil }
        guard seconds >= 1, seconds <= limits.ttlMaxMillis / 1000 else {
            throw TokMeshError(.argInvalid, "ttl_seconds must be 1-\(limits.ttlMaxMillis / 1000)", details: [
                "field": "ttl_seconds", "max": .int(limits.ttlMaxMillis / 1000),
            ])
        }
        return seconds * 1000
    }

    /// `fields=a,b`: session JSON names (unknown → TM-ARG-1001); nil = all fields.
    static func projection(_ raw: String?) throws(TokMeshError) -> Set<String>? {
        guard let raw else { return nil }
        var out = Set<String>()
        for name in raw.split(separator: ",", omittingEmptySubsequences: true).map({ String($0).trimmingWhitespace() }) {
            guard Session.fieldNames.contains(name) else { throw TokMeshError.invalid("fields", "Unknown field name in fields") }
            out.insert(name)
        }
        return out
    }

    static func sessionQuery(_ q: QueryParameters) throws(TokMeshError) -> SessionQuery {
        var query = SessionQuery()
        query.userID = q.string("user_id")
        query.deviceID = q.string("device_id")
        if let key = q.string("key_id") {
            if key == Principal.localAdminID {
                query.keyID = key
            } else {
                guard let id = Identifiers.normalizeID(key, kind: .apiKey) else { throw TokMeshError.invalid("key_id", "Malformed key ID") }
                query.keyID = id
            }
        }
        if let ip = q.string("ip_address") {
            guard let range = CIDR(ip) else { throw TokMeshError.invalid("ip_address", "ip_address must be an IP address or CIDR") }
            query.ipRange = range
        }
        if let status = q.string("status") {
            guard let s = SessionQuery.StatusFilter(rawValue: status) else { throw TokMeshError.invalid("status", "status must be active, expired or all") }
            query.status = s
        }
        query.createdAfter = try q.int("created_after")
        query.createdBefore = try q.int("created_before")
        query.activeAfter = try q.int("active_after")
        if let sort = q.string("sort_by") {
            guard let s = SessionQuery.SortKey(rawValue: sort) else { throw TokMeshError.invalid("sort_by", "sort_by must be created_at or last_active") }
            query.sortBy = s
        }
        if let order = q.string("sort_order") {
            guard order == "asc" || order == "desc" else { throw TokMeshError.invalid("sort_order", "sort_order must be asc or desc") }
            query.ascending = order == "asc"
        }
        (query.page, query.size) = try q.paging(defaultSize: SessionLimits.listSizeDefault, maxSize: SessionLimits.listSizeMax)
        return query
    }
}
