// RESPSessionCommands: the keyspace and TokMesh commands of spec/05 §7.2-§7.3 — GET, EXISTS,
// TTL, PTTL, TYPE, SET, DEL, EXPIRE, PEXPIRE, SCAN, DBSIZE, TM.CREATE, TM.VALIDATE, TM.TOUCH,
// TM.REVOKE_USER. Each parses its arguments (RESPArguments), makes one SessionService call and
// renders the reply; a change that wrote a WAL record hands its reply back with the record's
// index, and the connection sends it once the log has acknowledged that record.
import TokMeshAuth
import TokMeshCore
import TokMeshRESP
import TokMeshService
import TokMeshStorage

/// What a command produced.
enum RESPCommandResult {
    /// The reply is in the writer.
    case replied
    /// Send `reply` once WAL record `index` is acknowledged (fsynced when `durable`).
    case afterLog(index: UInt64, durable: Bool, reply: [UInt8])
}

struct RESPSessionCommands {
    let context: RESPServerContext

    var sessions: SessionService { context.sessions }
    var maxTTLSeconds: Int64 { sessions.limits.ttlMaxMillis / 1000 }

    /// `-ERR <code> <message>`; the token verdicts use spec/05 §7.3's wording.
    static func errorLine(_ error: TokMeshError) -> String {
        let message = switch error.code {
        case .toknUnknown: "Token invalid"
        case .toknExpired: "Token expired"
        default: error.message
        }
        return "ERR \(error.code.rawValue) \(message)"
    }

    /// Runs one keyspace or TM.* command (checks already passed).
    func run(_ name: String, _ words: [[UInt8]], caller: @autoclosure () -> CallerContext, writer: inout RESPWriter) -> RESPCommandResult {
        do throws(RESPFailure) {
            switch name {
            case "GET": try get(words, writer: &writer)
            case "EXISTS":
                var keys: [SessionKey] = []
                for word in words.dropFirst() { keys.append(try sessionKey(word)) }
                writer.integer(Int64(keys.reduce(0) { $0 + (live($1) == nil ? 0 : 1) }))
            case "TTL", "PTTL": ttl(try sessionKey(words[1]), millis: name == "PTTL", writer: &writer)
            case "TYPE": writer.status(live(try sessionKey(words[1])) == nil ? "none" : "string")
            case "SET": return try set(words, caller: caller(), writer: &writer)
            case "DEL": return try del(words, writer: &writer)
            case "EXPIRE", "PEXPIRE": return try expire(words, millis: name == "PEXPIRE", writer: &writer)
            case "SCAN": try scan(words, writer: &writer)
            case "DBSIZE": writer.integer(Int64(sessions.engine.heldCount()))
            case "TM.CREATE": return try create(words, caller: caller(), writer: &writer)
            case "TM.VALIDATE": return try validate(words, caller: caller, writer: &writer)
            case "TM.TOUCH":
                let id = try key(words[1])
                let touched = try call { () throws(TokMeshError) in try sessions.touch(id) }
                return reply(touched.logIndex, writer: &writer) { $0.integer(touched.session.lastActive) }
            case "TM.REVOKE_USER":
                let userID = String(decoding: words[1], as: UTF8.self)
                let outcome: Result<(Int, UInt64?), TokMeshError>
                do throws(TokMeshError) { outcome = .success(try sessions.revokeByUser(userID)) } catch { outcome = .failure(error) }
                auditRevokeUser(userID, outcome: outcome, caller: caller())
                let (count, index) = try call { () throws(TokMeshError) in try outcome.get() }
                return reply(index, writer: &writer) { $0.integer(Int64(count)) }
            default:
                preconditionFailure("\(name) is not a session command")
            }
        } catch {
            writer.error(error.line)
        }
        return .replied
    }

    /// USER_SESSIONS_REVOKED as the HTTP route records it (the user ID only as its SHA-256).
    private func auditRevokeUser(_ userID: String, outcome: Result<(Int, UInt64?), TokMeshError>, caller: CallerContext) {
        guard let audit = context.audit else { return }
        var record = AuditRecord(operatorID: caller.createdBy, action: "USER_SESSIONS_REVOKED", resource: "user:sha256:" + Identifiers.sha256Hex(userID),
                                 success: true, ipAddress: caller.clientIP, tcpRemoteIP: caller.clientIP, userAgent: caller.userAgent,
                                 requestID: "", details: ["protocol": "resp"])
        switch outcome {
        case .success(let (count, _)): record.details.append("revoked_count", .int(Int64(count)))
        case .failure(let error): record.success = false; record.errorCode = error.code.rawValue
        }
        audit.record(record)
    }

    /// A failure to answer with an error line.
    struct RESPFailure: Error {
        let line: String
    }

    private func call<T>(_ body: () throws(TokMeshError) -> T) throws(RESPFailure) -> T {
        do { return try body() } catch { throw RESPFailure(line: RESPSessionCommands.errorLine(error)) }
    }

    private func key(_ bytes: [UInt8]) throws(RESPFailure) -> String {
        switch RESPArguments.key(bytes) {
        case .success(let id): return id
        case .failure(let refusal): throw RESPFailure(line: refusal.line)
        }
    }

    /// Every key must be a session ID before anything is done.
    private func keys(_ words: ArraySlice<[UInt8]>) throws(RESPFailure) -> [String] {
        var out: [String] = []
        out.reserveCapacity(words.count)
        for word in words { out.append(try key(word)) }
        return out
    }

    private func parsed<T>(_ result: Result<T, RESPRefusal>) throws(RESPFailure) -> T {
        switch result {
        case .success(let value): return value
        case .failure(let refusal): throw RESPFailure(line: refusal.line)
        }
    }

    /// The reply now, or after the log acknowledged `index`.
    private func reply(_ index: UInt64?, durable: Bool = false, writer: inout RESPWriter, _ render: (inout RESPWriter) -> Void) -> RESPCommandResult {
        guard let index else {
            render(&writer)
            return .replied
        }
        var scratch = RESPWriter(protocolVersion: writer.protocolVersion)
        render(&scratch)
        return .afterLog(index: index, durable: durable, reply: scratch.take())
    }

    // MARK: reads

    /// A key of the read commands as the engine's key, straight from the bytes.
    private func sessionKey(_ bytes: [UInt8]) throws(RESPFailure) -> SessionKey {
        guard let key = SessionKey(anyCase: bytes) else { throw RESPFailure(line: "ERR TM-ARG-1001 key is not a session id") }
        return key
    }

    /// The packed live session (expired, revoked and purged ones do not exist here).
    private func live(_ key: SessionKey) -> StoredSession? { sessions.engine.storedLive(key, now: sessions.clock.nowMillis()) }

    private func get(_ words: [[UInt8]], writer: inout RESPWriter) throws(RESPFailure) {
        let now = sessions.clock.nowMillis()
        guard let s = sessions.engine.storedLive(try sessionKey(words[1]), now: now) else { return writer.null() }
        writer.bulk(count: s.jsonCount(now: now)) { s.writeJSON(now: now, into: $0) }
    }

    private func ttl(_ id: SessionKey, millis: Bool, writer: inout RESPWriter) {
        guard let s = live(id) else { return writer.integer(-2) }
        let left = max(0, s.expiresAt - sessions.clock.nowMillis())
        writer.integer(millis ? left : (left + 500) / 1000)
    }

    private func scan(_ words: [[UInt8]], writer: inout RESPWriter) throws(RESPFailure) {
        let request = try parsed(RESPArguments.scan(words))
        let (ids, next) = sessions.engine.scanPage(from: request.cursor, count: request.count, now: sessions.clock.nowMillis())
        let matching = request.typeMatches ? ids.filter { id in request.pattern.map { Glob.matches($0, Array(id.utf8)) } ?? true } : []
        writer.arrayHeader(2)
        writer.bulk(String(next))
        writer.arrayHeader(matching.count)
        for id in matching { writer.bulk(id) }
    }

    // MARK: writes

    /// SET's JSON (spec/05 §7.2 table): the fields of a create or update.
    private static let setFields: Set<String> = [
        "user_id", "token", "device_id", "ip_address", "user_agent", "data", "expected_version", "id", "session_id",
        "created_at", "created_by", "expires_at", "last_active", "last_access_ip", "last_access_ua", "version", "status", "ttl_seconds",
    ]

    /// Parses SET's or TM.CREATE's JSON for the session `id` (nil: TM.CREATE `*`).
    private func write(from json: [UInt8], id: String?) throws(RESPFailure) -> SessionWrite {
        try call { () throws(TokMeshError) -> SessionWrite in
            // JSONBody reads blank input as `{}`; a SET value must be one JSON object.
            guard !json.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else {
                throw TokMeshError.malformed(nil, "the value must be one JSON object")
            }
            let body = try JSONBody(bytes: json, allowed: RESPSessionCommands.setFields)
            if body.object["ttl_seconds"] != nil {
                throw TokMeshError(.argConflict, "ttl_seconds is not accepted here; use EX or PX", details: ["field": "ttl_seconds"])
            }
            for field in ["id", "session_id"] {
                if let given = try body.string(field), Identifiers.normalizeID(given, kind: .session) != id {
                    throw TokMeshError(.argConflict, "\(field) must equal the key", details: ["field": .string(field)])
                }
            }
            // The read-only fields a GET returns (created_at, version, status…) are ignored, so
            // a GET result can be edited and written back.
            var w = SessionWrite()
            w.userID = try body.string("user_id")
            w.token = try body.string("token")
            w.deviceID = try body.string("device_id")
            w.ipAddress = try body.string("ip_address")
            w.userAgent = try body.string("user_agent")
            w.data = try body.stringMap("data")
            w.expectedVersion = try body.int("expected_version")
            return w
        }
    }

    private func set(_ words: [[UInt8]], caller: CallerContext, writer: inout RESPWriter) throws(RESPFailure) -> RESPCommandResult {
        let id = try key(words[1])
        let options = try parsed(RESPArguments.setOptions(words[3...], maxTTLSeconds: maxTTLSeconds))
        let fields = try write(from: words[2], id: id)
        let condition: WriteCondition = switch options.condition {
        case .always: .always
        case .onlyIfAbsent: .onlyIfAbsent
        case .onlyIfPresent: .onlyIfPresent
        }
        switch try call({ () throws(TokMeshError) in try sessions.set(id, fields, ttlMillis: options.ttlMillis, condition: condition, caller: caller) }) {
        case .conditionUnmet:
            writer.null()
            return .replied
        case .written(let index):
            return reply(index, writer: &writer) { $0.status("OK") }
        }
    }

    private func del(_ words: [[UInt8]], writer: inout RESPWriter) throws(RESPFailure) -> RESPCommandResult {
        let ids = try keys(words.dropFirst())
        let (count, index) = try call { () throws(TokMeshError) in try sessions.delete(ids) }
        return reply(index, writer: &writer) { $0.integer(Int64(count)) }
    }

    private func expire(_ words: [[UInt8]], millis: Bool, writer: inout RESPWriter) throws(RESPFailure) -> RESPCommandResult {
        let id = try key(words[1])
        let (ms, flag) = try parsed(RESPArguments.expire(words, millis: millis, maxTTLSeconds: maxTTLSeconds))
        let condition: ExpireCondition = switch flag {
        case .always: .always
        case .never: .never
        case .onlyIfLater: .onlyIfLater
        case .onlyIfEarlier: .onlyIfEarlier
        }
        let (applied, index) = try call { () throws(TokMeshError) in try sessions.expire(id, ttlMillis: ms, condition: condition) }
        return reply(index, writer: &writer) { $0.integer(applied ? 1 : 0) }
    }

    private func create(_ words: [[UInt8]], caller: CallerContext, writer: inout RESPWriter) throws(RESPFailure) -> RESPCommandResult {
        let request = try parsed(RESPArguments.create(words, maxTTLSeconds: maxTTLSeconds))
        let fields = try write(from: request.json, id: request.sessionID)
        if fields.expectedVersion != nil {
            throw RESPFailure(line: RESPSessionCommands.errorLine(TokMeshError(.sessNotFound, "a compare-and-set never creates")))
        }
        var input = CreateSessionInput()
        input.sessionID = request.sessionID
        input.userID = fields.userID
        input.token = fields.token
        input.deviceID = fields.deviceID
        input.ipAddress = fields.ipAddress
        input.userAgent = fields.userAgent
        input.data = fields.data
        input.ttlMillis = request.ttlMillis
        let out = try call { () throws(TokMeshError) in try sessions.createReplacingExpired(input, caller: caller) }
        var json = JSONObject()
        json.append("session_id", .string(out.sessionID))
        if fields.token == nil { json.append("token", .string(out.token)) }
        json.append("user_id", .string(out.userID))
        json.append("created_at", .int(out.createdAt))
        json.append("expires_at", .int(out.expiresAt))
        json.append("version", .uint(out.version))
        let bytes = JSONWriter.write(.object(json))
        return reply(out.logIndex, writer: &writer) { $0.bulk(bytes) }
    }

    private func validate(_ words: [[UInt8]], caller: () -> CallerContext, writer: inout RESPWriter) throws(RESPFailure) -> RESPCommandResult {
        let request = try parsed(RESPArguments.validate(words))
        // During a restore validations answer from the current state without touching it.
        let touch = request.touch && !context.isRestoring()
        if !touch {
            let stored = try call { () throws(TokMeshError) in try sessions.validateStored(token: request.token) }
            guard request.withSession else {
                writer.status("OK")
                return .replied
            }
            if writer.protocolVersion >= 3 {
                RESPSessionCommands.session(stored.session, now: sessions.clock.nowMillis(), writer: &writer)
            } else {
                let now = sessions.clock.nowMillis()
                writer.bulk(count: stored.jsonCount(now: now)) { stored.writeJSON(now: now, into: $0) }
            }
            return .replied
        }
        let result = try call { () throws(TokMeshError) in
            try sessions.validate(token: request.token, touch: touch, ipAddress: request.ipAddress, userAgent: request.userAgent, caller: caller())
        }
        let now = sessions.clock.nowMillis()
        return reply(result.logIndex, writer: &writer) { w in
            guard request.withSession else { return w.status("OK") }
            RESPSessionCommands.session(result.session, now: now, writer: &w)
        }
    }

    /// A session for TM.VALIDATE WITHSESSION: RESP2 bulk JSON, RESP3 a map (numbers as
    /// integers, `data` a map).
    static func session(_ s: Session, now: Int64, writer: inout RESPWriter) {
        guard writer.protocolVersion >= 3 else {
            var json: [UInt8] = []
            s.writeJSON(now: now, into: &json)
            return writer.bulk(json)
        }
        writer.mapHeader(14)
        for (name, value) in [("id", s.id), ("user_id", s.userID), ("device_id", s.deviceID), ("ip_address", s.ipAddress),
                              ("user_agent", s.userAgent), ("last_access_ip", s.lastAccessIP), ("last_access_ua", s.lastAccessUA),
                              ("created_by", s.createdBy)] {
            writer.bulk(name)
            writer.bulk(value)
        }
        for (name, value) in [("created_at", s.createdAt), ("expires_at", s.expiresAt), ("last_active", s.lastActive),
                              ("version", Int64(clamping: s.version))] {
            writer.bulk(name)
            writer.integer(value)
        }
        writer.bulk("data")
        writer.mapHeader(s.data.count)
        for key in s.data.keys.sorted() {
            writer.bulk(key)
            writer.bulk(s.data[key]!)
        }
        writer.bulk("status")
        writer.bulk(s.isExpired(now: now) ? "expired" : "active")
    }
}
