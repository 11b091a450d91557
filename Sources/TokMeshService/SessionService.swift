// SessionService: the one implementation of every session operation of spec/01 §5 — create,
// get, validate, touch, renew, revoke, revoke-by-user, list — over the session engine. Every
// front end (JSON HTTP; RESP in TokMeshRESPServer; Connect/gRPC in TokMeshServer/SessionRPC,
// by way of the JSON routes) only decodes, calls this, and encodes, so limits, checks and
// error codes cannot drift between protocols.
import Synchronization
import TokMeshCore
import TokMeshStorage

public struct CreateSessionInput: Sendable {
    public var userID: String?
    public var deviceID: String?
    public var ttlMillis: Int64?
    public var data: [String: String]?
    public var token: String?
    public var sessionID: String?
    public var ipAddress: String?
    public var userAgent: String?
    public init() {}
}

public struct CreateSessionOutput: Sendable, Equatable {
    public var sessionID: String
    public var token: String
    public var userID: String
    public var createdAt: Int64
    public var expiresAt: Int64
    public var version: UInt64
    /// WAL index to be acknowledged before answering (nil: memory-only engine).
    public var logIndex: UInt64?
}

public struct RenewOutput: Sendable, Equatable {
    public var sessionID: String
    public var previousExpiresAt: Int64
    public var newExpiresAt: Int64
    public var version: UInt64
    public var logIndex: UInt64?
}

/// A session read or changed by a call, with the WAL index of its change (nil: none logged).
public struct SessionResult: Sendable, Equatable {
    public var session: Session
    public var logIndex: UInt64?
}

/// Transport facts a call carries: the caller's key (or LOCAL_ADMIN), client IP and agent.
public struct CallerContext: Sendable {
    public var createdBy: String
    public var clientIP: String
    public var userAgent: String
    public init(createdBy: String, clientIP: String, userAgent: String) {
        self.createdBy = createdBy
        self.clientIP = clientIP
        self.userAgent = userAgent
    }
}

public final class SessionService: Sendable {
    public let engine: SessionEngine
    private let limitsBox: Mutex<SessionLimits>
    public let clock: any TokMeshCore.Clock

    public init(engine: SessionEngine, limits: SessionLimits, clock: any TokMeshCore.Clock) {
        self.engine = engine
        self.limitsBox = Mutex(limits)
        self.clock = clock
    }

    public var limits: SessionLimits { limitsBox.withLock { $0 } }

    private var metrics: SessionMetrics { SessionMetrics.shared }

    /// Normalises a `tmss-` ID or throws TM-ARG-1001.
    public static func sessionID(_ raw: String) throws(TokMeshError) -> String {
        guard let id = Identifiers.normalizeID(raw, kind: .session) else {
            throw TokMeshError.invalid("session_id", "Malformed session ID")
        }
        return id
    }

    // MARK: 5.1 create

    public func create(_ input: CreateSessionInput, caller: CallerContext) throws(TokMeshError) -> CreateSessionOutput {
        try metrics.measure(.create) { () throws(TokMeshError) in
            let limits = self.limits
            let userID = try SessionLimits.checkUserID(input.userID)
            let deviceID = try SessionLimits.checkDeviceID(input.deviceID)
            let data = input.data ?? [:]
            try SessionLimits.checkData(data)
            let ip = try input.ipAddress.map { (ip: String) throws(TokMeshError) -> String in try SessionLimits.checkIPAddress(ip) } ?? caller.clientIP
            let userAgent = SessionLimits.truncateUTF8(input.userAgent ?? caller.userAgent)
            let ttl = try limits.checkTTL(millis: input.ttlMillis)
            let clientSessionID = try input.sessionID.map { (raw: String) throws(TokMeshError) -> String in try SessionService.sessionID(raw) }
            if let token = input.token, !Identifiers.isValidToken(token) { throw TokMeshError(.toknMalformed) }
            let token: String
            if let supplied = input.token { token = supplied } else { token = try Identifiers.newToken() }
            let tokenHash = Identifiers.tokenHash(token)

            var attempts = 0
            while true {
                let now = clock.nowMillis()
                let id: String
                if let clientSessionID { id = clientSessionID } else { id = try Identifiers.newSessionID(nowMillis: now) }
                let session = Session(id: id, userID: userID, tokenHash: tokenHash, ipAddress: ip, userAgent: userAgent,
                                      deviceID: deviceID, createdBy: caller.createdBy, createdAt: now, expiresAt: now + ttl, data: data)
                do throws(TokMeshError) {
                    let index = try engine.create(session, maxPerUser: limits.maxPerUser, now: now)
                    return CreateSessionOutput(sessionID: id, token: token, userID: userID, createdAt: now, expiresAt: session.expiresAt,
                                               version: 1, logIndex: index)
                } catch let error where error.code == .sessExists && clientSessionID == nil {
                    attempts += 1
                    if attempts > 3 { throw TokMeshError(.sysInternal, "could not generate a unique session ID") }
                }
            }
        }
    }

    // MARK: 5.2 get

    public func get(_ rawID: String) throws(TokMeshError) -> Session {
        try metrics.measure(.get) { () throws(TokMeshError) in
            let id = try SessionService.sessionID(rawID)
            switch engine.get(id, now: clock.nowMillis()) {
            case .live(let s): return s
            case .expired: throw TokMeshError(.sessExpired, details: ["session_id": .string(id)])
            case .notFound: throw TokMeshError(.sessNotFound, details: ["session_id": .string(id)])
            }
        }
    }

    // MARK: 5.3 validate

    public func validate(token: String, touch: Bool, ipAddress: String?, userAgent: String?, caller: CallerContext) throws(TokMeshError) -> SessionResult {
        try metrics.measure(.validate) { () throws(TokMeshError) in
            guard Identifiers.isValidToken(token) else { throw TokMeshError(.toknMalformed) }
            let hash = Identifiers.tokenHash(token)
            let now = clock.nowMillis()
            switch engine.validate(tokenHash: hash, now: now) {
            case .unknown: throw TokMeshError(.toknUnknown)
            case .expired: throw TokMeshError(.toknExpired)
            case .revoked(let revokedAt): throw TokMeshError(.toknRevoked, details: ["revoked_at": .int(revokedAt)])
            case .live(let session):
                guard touch else { return SessionResult(session: session, logIndex: nil) }
                let ip = try ipAddress.map { (ip: String) throws(TokMeshError) -> String in try SessionLimits.checkIPAddress(ip) } ?? caller.clientIP
                let ua = SessionLimits.truncateUTF8(userAgent ?? caller.userAgent)
                guard let (touched, index) = engine.touchForValidate(session.id, tokenHash: hash, now: now, ip: ip, userAgent: ua) else {
                    return SessionResult(session: session, logIndex: nil)
                }
                return SessionResult(session: touched, logIndex: index)
            }
        }
    }

    /// Validation without touch, answering with the packed session (RESP TM.VALIDATE): the
    /// same verdicts and codes as `validate`, no unpacking on the way.
    public func validateStored(token: String) throws(TokMeshError) -> StoredSession {
        try metrics.measure(.validate) { () throws(TokMeshError) in
            guard Identifiers.isValidToken(token) else { throw TokMeshError(.toknMalformed) }
            switch engine.validate(digest: TokenDigest(token: token), now: clock.nowMillis()) {
            case .unknown: throw TokMeshError(.toknUnknown)
            case .expired: throw TokMeshError(.toknExpired)
            case .revoked(let revokedAt): throw TokMeshError(.toknRevoked, details: ["revoked_at": .int(revokedAt)])
            case .live(let s): return s
            }
        }
    }

    // MARK: 5.4 touch

    public func touch(_ rawID: String) throws(TokMeshError) -> SessionResult {
        try metrics.measure(.touch) { () throws(TokMeshError) in
            let id = try SessionService.sessionID(rawID)
            let now = clock.nowMillis()
            let (session, index) = try engine.mutateLive(id, now: now) { (s: inout Session) throws(TokMeshError) -> Bool in
                let active = max(s.lastActive, now)
                guard active != s.lastActive else { return false }
                s.lastActive = active
                return true
            }
            return SessionResult(session: session, logIndex: index)
        }
    }

    // MARK: 5.5 renew

    public func renew(_ rawID: String, ttlMillis: Int64?, expectedVersion: Int64?) throws(TokMeshError) -> RenewOutput {
        try metrics.measure(.renew) { () throws(TokMeshError) in
            let id = try SessionService.sessionID(rawID)
            guard let ttlMillis else { throw TokMeshError.missing("ttl_seconds") }
            let ttl = try limits.checkTTL(millis: ttlMillis)
            if let v = expectedVersion, v < 1 { throw TokMeshError.invalid("expected_version", "expected_version must be at least 1") }
            let (previous, s, index) = try engine.renew(id, ttlMillis: ttl, expectedVersion: expectedVersion.map { UInt64($0) }, now: clock.nowMillis())
            return RenewOutput(sessionID: id, previousExpiresAt: previous, newExpiresAt: s.expiresAt, version: s.version, logIndex: index)
        }
    }

    // MARK: 5.7 revoke

    /// `sync` revocations are logged as urgent: fsynced with their write in either mode.
    public func revoke(_ rawID: String, sync: Bool = false) throws(TokMeshError) -> RevokeOutcome {
        try metrics.measure(.revoke) { () throws(TokMeshError) in
            let id = try SessionService.sessionID(rawID)
            let outcome = try engine.revoke(id, now: clock.nowMillis(), urgent: sync)
            if outcome.revoked { metrics.revokedSingle.increment() }
            return outcome
        }
    }

    // MARK: 5.8 revoke by user

    /// Returns the number revoked and the WAL index of the last revocation (nil: none logged).
    public func revokeByUser(_ rawUserID: String, sync: Bool = false) throws(TokMeshError) -> (count: Int, logIndex: UInt64?) {
        try metrics.measure(.revokeUser) { () throws(TokMeshError) in
            let userID = try SessionLimits.checkUserID(rawUserID)
            let ids = engine.sessionIDs(ofUser: userID)
            if ids.count > SessionLimits.revokeByUserMax {
                throw TokMeshError(.sessQuota, "Too many sessions to revoke in one call", details: [
                    "limit": .int(Int64(SessionLimits.revokeByUserMax)), "found": .int(Int64(ids.count)),
                ])
            }
            let now = clock.nowMillis()
            var count = 0
            var last: UInt64?
            for id in ids {
                do {
                    let outcome = try engine.revoke(id, now: now, urgent: sync)
                    if outcome.revoked { count += 1 }
                    last = outcome.logIndex ?? last
                } catch {
                    throw TokMeshError(.sysStorage, "storage failed during revoke-by-user", details: ["revoked_count": .int(Int64(count))])
                }
            }
            metrics.revokedUser.increment(by: Int64(count))
            return (count, last)
        }
    }

    // MARK: 5.9 list

    public func list(_ query: SessionQuery) -> (items: [Session], total: Int) {
        let started = monotonicNanos()
        defer { metrics.succeeded(.list, since: started) }
        let now = clock.nowMillis()
        var candidateIDs: Set<String>?
        func intersect(_ ids: [String]) {
            let set = Set(ids)
            candidateIDs = candidateIDs.map { $0.intersection(set) } ?? set
        }
        if let u = query.userID { intersect(engine.sessionIDs(ofUser: u)) }
        if let d = query.deviceID { intersect(engine.sessionIDs(ofDevice: d)) }
        if let k = query.keyID { intersect(engine.sessionIDs(ofCreator: k)) }
        let predicate = { (s: Session) -> Bool in query.matches(s, now: now) }
        var matches = candidateIDs.map { engine.sessions(withIDs: $0).filter(predicate) } ?? engine.scan(predicate)
        matches.sort { a, b in
            let ka = query.sortBy == .lastActive ? a.lastActive : a.createdAt
            let kb = query.sortBy == .lastActive ? b.lastActive : b.createdAt
            if ka != kb { return query.ascending ? ka < kb : ka > kb }
            return query.ascending ? a.id < b.id : a.id > b.id
        }
        let start = (query.page - 1) * query.size
        guard start < matches.count else { return ([], matches.count) }
        return (Array(matches[start..<min(matches.count, start + query.size)]), matches.count)
    }

    // MARK: expiry

    public func gcTick<R: RandomNumberGenerator>(sampleSize: Int, using rng: inout R) -> Int {
        let purged = engine.gcTick(now: clock.nowMillis(), sampleSize: sampleSize, using: &rng)
        metrics.purged.increment(by: Int64(purged))
        return purged
    }

    public func sweepAll() -> Int {
        let purged = engine.sweepAll(now: clock.nowMillis())
        metrics.purged.increment(by: Int64(purged))
        return purged
    }

    public func stats() -> EngineStats { engine.stats(now: clock.nowMillis()) }
}
