// KeyspaceOperations: the Redis-shaped session operations of spec/05 §7.2 as SessionService
// methods — SET's create-or-update, DEL's counted revocation, EXPIRE's conditional renew and
// the "expired does not exist" reads — built from the same engine calls as spec/01 §5, so the
// RESP front end only parses and renders. An expired session is purged (DELETE record, token
// released) before a write that treats its key as absent.
import TokMeshCore
import TokMeshStorage

/// The fields a SET may carry (spec/05 §7.2 table), already type-checked by the front end.
public struct SessionWrite: Sendable {
    public var userID: String?
    public var token: String?
    public var deviceID: String?
    public var ipAddress: String?
    public var userAgent: String?
    public var data: [String: String]?
    public var expectedVersion: Int64?
    public init() {}
}

public enum WriteCondition: Sendable, Equatable { case always, onlyIfAbsent, onlyIfPresent }

public enum SetOutcome: Sendable, Equatable {
    /// Created or updated; the WAL index to acknowledge.
    case written(logIndex: UInt64?)
    /// NX or XX was not met; nothing changed.
    case conditionUnmet
}

public enum ExpireCondition: Sendable, Equatable { case always, never, onlyIfLater, onlyIfEarlier }

extension SessionService {
    /// A live session by normalised ID, or nil when absent, expired, revoked or purged.
    public func live(_ id: String) -> Session? {
        if case .live(let s) = engine.get(id, now: clock.nowMillis()) { return s }
        return nil
    }

    /// Purges `id` if it is held but expired, so a write can treat the key as absent.
    func purgeExpired(_ id: String) {
        if case .expired = engine.get(id, now: clock.nowMillis()) { engine.purgeIfExpired(id, now: clock.nowMillis()) }
    }

    /// SET: create when the key is absent (or expired, purged first), update when live; NX only
    /// creates, XX only updates. `ttlMillis` nil = default TTL on create, unchanged on update.
    public func set(_ id: String, _ write: SessionWrite, ttlMillis: Int64?, condition: WriteCondition,
                    caller: CallerContext) throws(TokMeshError) -> SetOutcome {
        for _ in 0..<3 {
            purgeExpired(id)
            if live(id) != nil {
                guard condition != .onlyIfAbsent else { return .conditionUnmet }
                do {
                    return .written(logIndex: try update(id, write, ttlMillis: ttlMillis))
                } catch let error where error.code == .sessNotFound || error.code == .sessExpired {
                    continue  // revoked or expired meanwhile: decide again
                }
            }
            guard condition != .onlyIfPresent else { return .conditionUnmet }
            if write.expectedVersion != nil { throw TokMeshError(.sessNotFound, details: ["session_id": .string(id)]) }
            var input = CreateSessionInput()
            input.sessionID = id
            input.userID = write.userID
            input.token = write.token
            input.deviceID = write.deviceID
            input.ipAddress = write.ipAddress
            input.userAgent = write.userAgent
            input.data = write.data
            input.ttlMillis = ttlMillis
            if write.token == nil { throw TokMeshError.missing("token") }
            do {
                return .written(logIndex: try create(input, caller: caller).logIndex)
            } catch let error where error.code == .sessExists {
                continue  // created meanwhile: decide again
            }
        }
        throw TokMeshError(.sessExists, details: ["session_id": .string(id)])
    }

    /// The update column of SET: fixed fields must match, `token` is refused, `data` replaces
    /// the map; one UPDATE record, version + 1.
    func update(_ id: String, _ write: SessionWrite, ttlMillis: Int64?) throws(TokMeshError) -> UInt64? {
        if write.token != nil { throw TokMeshError(.argConflict, "token cannot be changed by SET", details: ["field": "token"]) }
        if let data = write.data { try SessionLimits.checkData(data) }
        let ttl = try ttlMillis.map { (ms: Int64) throws(TokMeshError) -> Int64 in try limits.checkTTL(millis: ms) }
        if let v = write.expectedVersion, v < 1 { throw TokMeshError.invalid("expected_version", "expected_version must be at least 1") }
        let (_, index) = try engine.update(id, ttlMillis: ttl, expectedVersion: write.expectedVersion.map { UInt64($0) },
                                           now: clock.nowMillis()) { (s: inout Session) throws(TokMeshError) in
            for (field, given, stored) in [("user_id", write.userID, s.userID), ("device_id", write.deviceID, s.deviceID),
                                           ("ip_address", write.ipAddress, s.ipAddress), ("user_agent", write.userAgent, s.userAgent)] {
                if let given, given != stored {
                    throw TokMeshError(.argConflict, "\(field) cannot be changed by SET", details: ["field": .string(field)])
                }
            }
            if let data = write.data { s.data = data }
        }
        return index
    }

    /// TM.CREATE with a chosen ID: an expired session under it is purged first; a live one is
    /// TM-SESS-4090.
    public func createReplacingExpired(_ input: CreateSessionInput, caller: CallerContext) throws(TokMeshError) -> CreateSessionOutput {
        if let id = input.sessionID { purgeExpired(id) }
        return try create(input, caller: caller)
    }

    /// DEL: revokes each distinct live key; returns how many live sessions it revoked and the
    /// last WAL index. Expired ones are purged uncounted; absent or revoked ones count 0.
    public func delete(_ ids: [String]) throws(TokMeshError) -> (count: Int, logIndex: UInt64?) {
        if ids.count > SessionLimits.revokeByUserMax {
            throw TokMeshError(.sessQuota, "Too many keys to delete in one call", details: ["limit": .int(Int64(SessionLimits.revokeByUserMax))])
        }
        var seen = Set<String>()
        var count = 0
        var last: UInt64?
        for id in ids where seen.insert(id).inserted {
            switch engine.get(id, now: clock.nowMillis()) {
            case .notFound:
                continue
            case .expired:
                engine.purgeIfExpired(id, now: clock.nowMillis())
            case .live:
                let outcome = try engine.revoke(id, now: clock.nowMillis())
                if outcome.revoked { count += 1 }
                last = outcome.logIndex ?? last
            }
        }
        return (count, last)
    }

    /// EXPIRE/PEXPIRE: renew to now + TTL when the key is live and the condition holds.
    /// Returns whether it applied and the WAL index.
    public func expire(_ id: String, ttlMillis: Int64, condition: ExpireCondition) throws(TokMeshError) -> (applied: Bool, logIndex: UInt64?) {
        guard condition != .never else { return (false, nil) }
        for _ in 0..<3 {
            guard let s = live(id) else { return (false, nil) }
            let target = clock.nowMillis() + ttlMillis
            if condition == .onlyIfLater && target <= s.expiresAt || condition == .onlyIfEarlier && target >= s.expiresAt {
                return (false, nil)
            }
            do {
                let out = try renew(id, ttlMillis: ttlMillis, expectedVersion: Int64(s.version))
                return (true, out.logIndex)
            } catch let error where error.code == .sessVersion {
                continue  // changed meanwhile: compare again
            } catch let error where error.code == .sessNotFound || error.code == .sessExpired {
                return (false, nil)
            }
        }
        return (false, nil)
    }
}
