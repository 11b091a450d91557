// SessionEngine: the in-memory session store of spec/02 §2. Sharded maps (sessions, token index,
// user/device/creator indexes); a mutation locks every shard it touches in ascending shard order,
// checks, applies all map and expiry changes, then unlocks, so no reader sees a session without
// its index entries. Reads lock one shard at a time. Expiry: lazy on every read, plus the
// sampler and due sweep driven by `gcTick` (spec/01 §5.10).
import TokMeshCore

public enum ValidateOutcome: Sendable, Equatable {
    case live(Session)
    case expired
    case revoked(revokedAt: Int64)
    case unknown
}

public enum StoredValidateOutcome: Sendable {
    case live(StoredSession)
    case expired
    case revoked(revokedAt: Int64)
    case unknown
}

public enum LookupOutcome: Sendable, Equatable {
    case live(Session)
    case expired
    case notFound
}

public struct RevokeOutcome: Sendable, Equatable {
    public var revoked: Bool
    public var revokedAt: Int64?
    /// The WAL index to wait for before acknowledging (nil: nothing was logged).
    public var logIndex: UInt64?

    public init(revoked: Bool, revokedAt: Int64?, logIndex: UInt64? = nil) {
        self.revoked = revoked
        self.revokedAt = revokedAt
        self.logIndex = logIndex
    }
}

public struct EngineStats: Sendable, Equatable {
    public var totalSessions: Int
    public var activeSessions: Int
    public var tombstones: Int
}

public final class SessionEngine: Sendable {
    let shards: [EngineShard]
    let mask: Int
    /// Receives every mutation's record under its locks; nil keeps the engine memory-only.
    public let journal: (any SessionJournal)?

    /// Shards: spec/02 §2 asks for a power of two ≥ 4 × cores within 16…256; we take 256 on
    /// every machine, because the first write to a shard after a snapshot cut copies that shard,
    /// and at 1M sessions a 1/256 share keeps that copy near a millisecond (docs/decisions.md).
    public static func defaultShardCount(cores: Int) -> Int { 256 }

    public init(shardCount: Int, journal: (any SessionJournal)? = nil) {
        precondition(shardCount > 0 && shardCount & (shardCount - 1) == 0, "shard count must be a power of two")
        shards = (0..<shardCount).map { _ in EngineShard() }
        mask = shardCount - 1
        self.journal = journal
    }

    /// Logs `record` (under the caller's locks) before the caller applies it.
    @inline(__always)
    private func log(_ record: @autoclosure () -> WALRecord, urgent: Bool = false) throws(TokMeshError) -> UInt64? {
        guard let journal else { return nil }
        return try journal.append(record(), urgent: urgent)
    }

    @inline(__always)
    func shardIndex(_ key: String) -> Int { Int(MurmurHash3.hash32(key)) & mask }
    @inline(__always)
    func shardIndex(_ key: SessionKey) -> Int { Int(truncatingIfNeeded: key.mixed) & mask }
    @inline(__always)
    func shardIndex(_ key: TokenKey) -> Int { Int(truncatingIfNeeded: key.mixed) & mask }

    /// Locks the given shards in ascending order, runs `body`, unlocks.
    private func withShards<T>(_ indexes: [Int], _ body: () throws(TokMeshError) -> T) throws(TokMeshError) -> T {
        var ordered = indexes
        ordered.sort()
        for (n, i) in ordered.enumerated() where n == 0 || ordered[n - 1] != i { shards[i].lock.lock() }
        defer { for (n, i) in ordered.enumerated().reversed() where n == 0 || ordered[n - 1] != i { shards[i].lock.unlock() } }
        return try body()
    }

    private func withShard<T>(_ index: Int, _ body: (EngineShard) -> T) -> T {
        let shard = shards[index]
        shard.lock.lock()
        defer { shard.lock.unlock() }
        return body(shard)
    }

    private func stored(_ key: SessionKey) -> StoredSession? {
        withShard(shardIndex(key)) { $0.stored(key) }
    }

    /// The shards a session's maps and indexes live in.
    private func shardsOf(_ s: StoredSession) -> [Int] { shardsOf(s, s.indexStrings) }

    /// The creator and device indexes live in the session's own shard, so they need no lock of
    /// their own (see EngineShard).
    private func shardsOf(_ s: StoredSession, _ strings: (user: String, device: String, creator: String)) -> [Int] {
        [shardIndex(s.key), shardIndex(s.digest.key), shardIndex(strings.user)]
    }

    private static func pack(_ session: Session) throws(TokMeshError) -> StoredSession {
        guard let stored = StoredSession(session) else {
            throw TokMeshError(.sysInternal, "a session with a non-canonical ID or token hash reached the engine")
        }
        return stored
    }

    // MARK: create

    /// Inserts a new session: quota, ID and token uniqueness are checked in the same atomic step.
    @discardableResult
    public func create(_ session: Session, maxPerUser: Int, now: Int64) throws(TokMeshError) -> UInt64? {
        precondition(session.version == 1 && session.expiresAt > session.createdAt, "create takes a fresh session")
        let stored = try SessionEngine.pack(session)
        let key = stored.key, tokenKey = stored.digest.key
        let sessionShard = shards[shardIndex(key)]
        let tokenShard = shards[shardIndex(tokenKey)]
        let userShard = shards[shardIndex(session.userID)]
        let strings = (user: session.userID, device: session.deviceID, creator: session.createdBy)
        return try withShards(shardsOf(stored, strings)) { () throws(TokMeshError) -> UInt64? in
            let current = userShard.users[session.userID]?.unexpired(now: now) ?? 0
            if current >= maxPerUser {
                throw TokMeshError(.sessQuota, "Session quota exceeded for this user", details: [
                    "limit": .int(Int64(maxPerUser)), "current": .int(Int64(current)),
                ])
            }
            if sessionShard.slotOfSession[key] != nil {
                throw TokMeshError(.sessExists, details: ["session_id": .string(session.id)])
            }
            if tokenShard.tokens[tokenKey] != nil { throw TokMeshError(.toknInUse) }
            if let t = tokenShard.tombstones[tokenKey] {
                guard t.expiresAt <= now else { throw TokMeshError(.toknInUse) }
                tokenShard.removeToken(tokenKey)
            }
            let index = try log(.create(time: now, session: session))
            insertLocked(stored, strings)
            return index
        }
    }

    // MARK: reads

    public func get(_ id: String, now: Int64) -> LookupOutcome {
        guard let key = SessionKey(id), let s = stored(key) else { return .notFound }
        return s.isExpired(now: now) ? .expired : .live(s.session)
    }

    /// The packed form of a live session (nil: absent or expired); no unpacking. For reads
    /// that need one field or the JSON (RESP GET, TTL, EXISTS, TYPE).
    public func storedLive(_ key: SessionKey, now: Int64) -> StoredSession? {
        guard let s = stored(key), !s.isExpired(now: now) else { return nil }
        return s
    }

    /// The session behind a token hash. A reader whose index entry points at a missing session
    /// re-reads the index once (a revoke raced it), so it answers revoked, never unknown.
    public func validate(tokenHash: String, now: Int64) -> ValidateOutcome {
        guard let digest = TokenDigest(tokenHash) else { return .unknown }
        return switch validate(digest: digest, now: now) {
        case .live(let s): .live(s.session)
        case .expired: .expired
        case .revoked(let at): .revoked(revokedAt: at)
        case .unknown: .unknown
        }
    }

    /// `validate` by digest, answering with the packed session (the RESP hot path unpacks
    /// nothing unless asked for the session).
    public func validate(digest: TokenDigest, now: Int64) -> StoredValidateOutcome {
        let tokenKey = digest.key
        let tokenShardIndex = shardIndex(tokenKey)
        for _ in 0..<2 {
            let (holder, tombstone) = withShard(tokenShardIndex) { ($0.tokens[tokenKey], $0.tombstones[tokenKey]) }
            if let t = tombstone {
                guard t.digest == digest else { return .unknown }
                return t.expiresAt <= now ? .unknown : .revoked(revokedAt: t.revokedAt)
            }
            guard let holder else { return .unknown }
            guard let s = stored(holder) else { continue }
            guard s.digest == digest else { return .unknown }
            return s.isExpired(now: now) ? .expired : .live(s)
        }
        return .unknown
    }

    // MARK: single-shard mutations

    /// Applies `change` to a live session under its shard lock; `change` returns whether it
    /// changed anything (then `version` + 1).
    public func mutateLive(_ id: String, now: Int64, _ change: (inout Session) throws(TokMeshError) -> Bool) throws(TokMeshError) -> (Session, UInt64?) {
        guard let key = SessionKey(id) else { throw TokMeshError(.sessNotFound, details: ["session_id": .string(id)]) }
        let shard = shards[shardIndex(key)]
        return try withShards([shardIndex(key)]) { () throws(TokMeshError) -> (Session, UInt64?) in
            guard var s = shard.stored(key)?.session else { throw TokMeshError(.sessNotFound, details: ["session_id": .string(id)]) }
            if s.isExpired(now: now) { throw TokMeshError(.sessExpired, details: ["session_id": .string(id)]) }
            let expiresBefore = s.expiresAt
            guard try change(&s) else { return (s, nil) }
            precondition(s.expiresAt == expiresBefore && s.id == id, "mutateLive must not move expires_at or the ID")
            s.version += 1
            let packed = try SessionEngine.pack(s)
            let index = try log(.update(time: now, session: s))
            shard.replaceSession(packed)
            return (s, index)
        }
    }

    /// Validate with touch: moves last_active and the last-access fields, on the session shard
    /// only (no index changes). Returns the possibly updated session; nil if it vanished.
    /// Best effort (spec/01 §5.3): when the log refuses writes the session is returned untouched.
    public func touchForValidate(_ id: String, tokenHash: String, now: Int64, ip: String, userAgent: String) -> (Session, UInt64?)? {
        guard let key = SessionKey(id), let digest = TokenDigest(tokenHash) else { return nil }
        return withShard(shardIndex(key)) { shard in
            guard let stored = shard.stored(key), stored.digest == digest else { return nil }
            let current = stored.session
            guard !current.isExpired(now: now) else { return (current, nil) }
            var s = current
            let newActive = max(s.lastActive, now)
            guard newActive != s.lastActive || s.lastAccessIP != ip || s.lastAccessUA != userAgent else { return (s, nil) }
            s.lastActive = newActive
            s.lastAccessIP = ip
            s.lastAccessUA = userAgent
            s.version += 1
            guard let packed = StoredSession(s) else { return (current, nil) }
            let index: UInt64?
            do { index = try log(.update(time: now, session: s)) } catch { return (current, nil) }
            shard.replaceSession(packed)
            return (s, index)
        }
    }

    /// Renew: new expires_at (may shorten), last_active = max(last_active, now), version + 1.
    /// Returns (previous expires_at, updated session).
    public func renew(_ id: String, ttlMillis: Int64, expectedVersion: UInt64?, now: Int64) throws(TokMeshError) -> (Int64, Session, UInt64?) {
        guard let key = SessionKey(id), let userID = stored(key)?.userID else {
            throw TokMeshError(.sessNotFound, details: ["session_id": .string(id)])
        }
        let shard = shards[shardIndex(key)]
        let userShard = shards[shardIndex(userID)]
        return try withShards([shardIndex(key), shardIndex(userID)]) { () throws(TokMeshError) -> (Int64, Session, UInt64?) in
            guard var s = shard.stored(key)?.session else { throw TokMeshError(.sessNotFound, details: ["session_id": .string(id)]) }
            if s.isExpired(now: now) { throw TokMeshError(.sessExpired, details: ["session_id": .string(id)]) }
            if let expectedVersion, expectedVersion != s.version {
                throw TokMeshError(.sessVersion, details: [
                    "current_version": .uint(s.version), "expected_version": .uint(expectedVersion),
                ])
            }
            let previous = s.expiresAt
            s.expiresAt = now + ttlMillis
            s.lastActive = max(s.lastActive, now)
            s.version += 1
            let packed = try SessionEngine.pack(s)
            let index = try log(.update(time: now, session: s))
            shard.replaceSession(packed)
            userShard.setUser(userID, key, expiresAt: s.expiresAt)
            return (previous, s, index)
        }
    }

    /// A full update (spec/01 §5.6; RESP SET on a live key): `change` edits the session, an
    /// optional TTL moves `expires_at` to now + TTL, `version` + 1 even when nothing differs;
    /// one UPDATE record. `expectedVersion` makes it a compare-and-set (TM-SESS-4091).
    public func update(_ id: String, ttlMillis: Int64?, expectedVersion: UInt64?, now: Int64,
                       _ change: (inout Session) throws(TokMeshError) -> Void) throws(TokMeshError) -> (Session, UInt64?) {
        guard let key = SessionKey(id), let userID = stored(key)?.userID else {
            throw TokMeshError(.sessNotFound, details: ["session_id": .string(id)])
        }
        let shard = shards[shardIndex(key)]
        let userShard = shards[shardIndex(userID)]
        return try withShards([shardIndex(key), shardIndex(userID)]) { () throws(TokMeshError) -> (Session, UInt64?) in
            guard var s = shard.stored(key)?.session, s.userID == userID else { throw TokMeshError(.sessNotFound, details: ["session_id": .string(id)]) }
            if s.isExpired(now: now) { throw TokMeshError(.sessExpired, details: ["session_id": .string(id)]) }
            if let expectedVersion, expectedVersion != s.version {
                throw TokMeshError(.sessVersion, details: ["current_version": .uint(s.version), "expected_version": .uint(expectedVersion)])
            }
            let before = s
            try change(&s)
            precondition(s.id == before.id && s.userID == before.userID && s.tokenHash == before.tokenHash,
                         "update must not change the ID, user or token")
            if let ttlMillis { s.expiresAt = now + ttlMillis }
            s.version += 1
            let packed = try SessionEngine.pack(s)
            let index = try log(.update(time: now, session: s))
            shard.replaceSession(packed)
            if s.expiresAt != before.expiresAt { userShard.setUser(userID, key, expiresAt: s.expiresAt) }
            return (s, index)
        }
    }

    // MARK: removal

    /// Revoke: a live session becomes a tombstone, an expired one is deleted, a missing one is
    /// a no-op (idempotent).
    public func revoke(_ id: String, now: Int64, urgent: Bool = false) throws(TokMeshError) -> RevokeOutcome {
        guard let key = SessionKey(id), let snapshot = stored(key) else { return RevokeOutcome(revoked: false, revokedAt: nil) }
        let digest = snapshot.digest
        let result: RevokeOutcome? = try withShards(shardsOf(snapshot)) { () throws(TokMeshError) -> RevokeOutcome? in
            guard let current = shards[shardIndex(key)].stored(key), current.digest == digest else { return nil }
            let tokenShard = shards[shardIndex(digest.key)]
            if current.isExpired(now: now) {
                let index = try log(.delete(time: now, sessionID: id, reason: .revokedExpired), urgent: urgent)
                removeLocked(current)
                tokenShard.removeToken(digest.key)
                return RevokeOutcome(revoked: true, revokedAt: now, logIndex: index)
            }
            let tombstone = StoredTombstone(session: key, digest: digest, revokedAt: now, expiresAt: current.expiresAt)
            let index = try log(.revoke(time: now, tombstone: tombstone.tombstone), urgent: urgent)
            removeLocked(current)
            tokenShard.setTombstone(digest.key, tombstone)
            return RevokeOutcome(revoked: true, revokedAt: now, logIndex: index)
        }
        return result ?? RevokeOutcome(revoked: false, revokedAt: nil)
    }

    /// Adds a session to the sessions map and every index (all its shards locked).
    private func insertLocked(_ s: StoredSession) { insertLocked(s, s.indexStrings) }

    private func insertLocked(_ s: StoredSession, _ strings: (user: String, device: String, creator: String)) {
        let key = s.key
        let (user, device, creator) = strings
        let shard = shards[shardIndex(key)]
        shard.insertSession(s)
        shard.addToSet(&shard.creators, creator, key)
        if !device.isEmpty { shard.addToSet(&shard.devices, device, key) }
        shards[shardIndex(s.digest.key)].setToken(s.digest.key, session: key)
        shards[shardIndex(user)].setUser(user, key, expiresAt: s.expiresAt)
    }

    /// Removes a session from the sessions map and every secondary index (all shards locked).
    private func removeLocked(_ s: StoredSession) {
        let key = s.key
        let (user, device, creator) = s.indexStrings
        let shard = shards[shardIndex(key)]
        shard.removeSession(key)
        shard.removeFromSet(&shard.creators, creator, key)
        if !device.isEmpty { shard.removeFromSet(&shard.devices, device, key) }
        shards[shardIndex(user)].removeFromUser(user, key)
    }

    /// Held session IDs of a user (live or expired).
    public func sessionIDs(ofUser userID: String) -> [String] {
        withShard(shardIndex(userID)) { shard in shard.users[userID]?.keys ?? [] }.map(\.string)
    }

    /// Purges a session if it is expired (GC). Returns true when it removed one.
    @discardableResult
    public func purgeIfExpired(_ id: String, now: Int64) -> Bool {
        guard let key = SessionKey(id) else { return false }
        return purgeIfExpired(key, now: now)
    }

    private func purgeIfExpired(_ key: SessionKey, now: Int64) -> Bool {
        guard let snapshot = stored(key), snapshot.isExpired(now: now) else { return false }
        let digest = snapshot.digest
        let purged: Bool? = try? withShards(shardsOf(snapshot)) { () throws(TokMeshError) -> Bool in
            guard let current = shards[shardIndex(key)].stored(key), current.digest == digest, current.isExpired(now: now) else { return false }
            _ = try log(.delete(time: now, sessionID: key.string, reason: .expired))
            removeLocked(current)
            shards[shardIndex(digest.key)].removeToken(digest.key)
            return true
        }
        return purged ?? false
    }

    private func purgeTombstoneIfExpired(_ key: TokenKey, now: Int64) -> Bool {
        withShard(shardIndex(key)) { shard in
            guard let t = shard.tombstones[key], t.expiresAt <= now else { return false }
            shard.removeToken(key)
            return true
        }
    }

    // MARK: expiry

    /// How long an expired session stays held before background GC may purge it, so a client
    /// validating just after expiry gets the precise "expired" answer (TM-TOKN-4011,
    /// TM-SESS-4041) rather than "unknown". Reads are exact regardless (lazy expiry).
    public static let expiredRetentionMillis: Int64 = 2000

    /// One GC tick: the sampler (up to `rounds` rounds of `sampleSize` random picks, another
    /// round only while more than 25% of a sample was expired) and the due sweep (≤ `dueLimit`
    /// items whose expiry second is wholly past), both over items expired for at least
    /// `expiredRetentionMillis`. Returns the number of sessions and tombstones purged.
    public func gcTick<R: RandomNumberGenerator>(now currentTime: Int64, sampleSize: Int, rounds: Int = 4, dueLimit: Int = 10_000, using rng: inout R) -> Int {
        let now = currentTime - SessionEngine.expiredRetentionMillis
        var purged = 0
        for _ in 0..<rounds {
            let picks = sample(count: sampleSize, using: &rng)
            guard !picks.isEmpty else { break }
            var expired = 0
            for s in picks where s.isExpired(now: now) {
                expired += 1
                if purgeIfExpired(s.key, now: now) { purged += 1 }
            }
            if expired * 4 <= picks.count { break }
        }
        purged += sweepDue(now: now, limit: dueLimit)
        return purged
    }

    /// Uniform random picks over all sessions (weighted by shard size).
    func sample<R: RandomNumberGenerator>(count: Int, using rng: inout R) -> [StoredSession] {
        let sizes = shards.map { shard in shard.lock.lock(); defer { shard.lock.unlock() }; return shard.sessionSlots.count }
        let total = sizes.reduce(0, +)
        guard total > 0 else { return [] }
        var picks: [StoredSession] = []
        picks.reserveCapacity(count)
        for _ in 0..<count {
            var r = Int.random(in: 0..<total, using: &rng)
            var shardIndex = 0
            while shardIndex < sizes.count - 1 && r >= sizes[shardIndex] { r -= sizes[shardIndex]; shardIndex += 1 }
            let slot = r
            if let s: StoredSession = withShard(shardIndex, { $0.sessionSlots.count > slot ? $0.sessionSlots[slot] : nil }) {
                picks.append(s)
            }
        }
        return picks
    }

    /// Purges every session and tombstone whose expiry second is wholly past, oldest first per
    /// shard, up to `limit` items.
    public func sweepDue(now: Int64, limit: Int) -> Int {
        var purged = 0
        var budget = limit
        for index in shards.indices where budget > 0 {
            let (sessions, tombstones) = withShard(index) { $0.takeDueItems(now: now, limit: budget) }
            budget -= sessions.count + tombstones.count
            for key in sessions where purgeIfExpired(key, now: now) { purged += 1 }
            for key in tombstones where purgeTombstoneIfExpired(key, now: now) { purged += 1 }
        }
        return purged
    }

    /// A full sweep of every shard (manual GC): purges every expired session and tombstone.
    public func sweepAll(now: Int64) -> Int {
        var purged = 0
        for index in shards.indices {
            let (sessions, tombstones): ([SessionKey], [TokenKey]) = withShard(index) { shard in
                (shard.sessionSlots.filter { $0.isExpired(now: now) }.map(\.key),
                 shard.tombstones.compactMap { key, t in t.expiresAt <= now ? key : nil })
            }
            for key in sessions where purgeIfExpired(key, now: now) { purged += 1 }
            for key in tombstones where purgeTombstoneIfExpired(key, now: now) { purged += 1 }
        }
        return purged
    }

    // MARK: replay

    /// Applies a WAL record during recovery (spec/02 §4): put overwrites, but a post-image that
    /// is already expired at `now` removes the session instead; removal of a missing session is
    /// a no-op; expired tombstones are dropped. No checks, nothing logged; replaying a record
    /// twice is harmless. A record whose ID or token hash is not canonical is skipped.
    public func apply(_ record: WALRecord, now: Int64) {
        switch record {
        case .create(_, let session), .update(_, let session):
            if let stored = StoredSession(session) { applyPostImage(stored, now: now) }
        case .delete(_, let id, _):
            if let key = SessionKey(id) { remove(key) }
        case .revoke(_, let tombstone):
            guard let t = StoredTombstone(tombstone) else { return }
            remove(t.session)
            guard t.expiresAt > now else { return }
            withShard(shardIndex(t.digest.key)) { $0.setTombstone(t.digest.key, t) }
        case .reset:
            break  // the caller loads the named snapshot and calls `replaceContents`
        }
    }

    /// Replays a create or update post-image (see `apply`), already packed: recovery decodes
    /// these records straight from the log payload (`WALRecord.decodePostImage`).
    public func applyPostImage(_ stored: StoredSession, now: Int64) {
        let key = stored.key, tokenKey = stored.digest.key
        remove(key)
        guard !stored.isExpired(now: now) else { return }
        // A tombstone or another session holding this token hash is superseded by the post-image.
        if let other = withShard(shardIndex(tokenKey), { $0.tokens[tokenKey] }), other != key { remove(other) }
        let strings = stored.indexStrings
        _ = try? withShards(shardsOf(stored, strings)) { () throws(TokMeshError) in insertLocked(stored, strings) }
    }

    /// Removes a session and its index entries, if held (replay only).
    private func remove(_ key: SessionKey) {
        guard let s = stored(key) else { return }
        _ = try? withShards(shardsOf(s)) { () throws(TokMeshError) in
            guard let current = shards[shardIndex(key)].stored(key) else { return }
            removeLocked(current)
            let tokenKey = current.digest.key
            let tokenShard = shards[shardIndex(tokenKey)]
            if tokenShard.tokens[tokenKey] == key { tokenShard.removeToken(tokenKey) }
        }
    }

    // MARK: snapshots

    /// The snapshot cut (spec/02 §5.2): each shard's session array and tombstone map are taken
    /// by reference under its lock (copy-on-write, O(1)); the first later write to a shard pays
    /// for copying it — an array of references, a few kilobytes. Filtering happens after the
    /// locks are released.
    public func snapshotCut(now: Int64) -> (sessions: [StoredSession], tombstones: [StoredTombstone]) {
        var sessionParts: [ContiguousArray<StoredSession>] = []
        var tombstoneParts: [[TokenKey: StoredTombstone]] = []
        sessionParts.reserveCapacity(shards.count)
        tombstoneParts.reserveCapacity(shards.count)
        for index in shards.indices {
            withShard(index) { shard in
                sessionParts.append(shard.sessionSlots)
                tombstoneParts.append(shard.tombstones)
            }
        }
        var sessions: [StoredSession] = []
        sessions.reserveCapacity(sessionParts.reduce(0) { $0 + $1.count })
        for part in sessionParts { for s in part where !s.isExpired(now: now) { sessions.append(s) } }
        let tombstones = tombstoneParts.flatMap { $0.values.filter { $0.expiresAt > now } }
        return (sessions, tombstones)
    }

    /// Replaces the whole state with `replacement`'s (a restore, spec/02 §7 steps 4-5, or a
    /// RESET met during replay). With every shard locked it logs `record` (if any), lets
    /// `beforeSwap` wait for that record to be durable, then swaps each shard's maps in O(1);
    /// readers pause only for that. `replacement` must have the same shard count and be private
    /// to the caller; it ends up holding the old state. Returns the record's log index.
    @discardableResult
    public func replaceContents(with replacement: SessionEngine, logging record: WALRecord? = nil,
                                beforeSwap: (UInt64?) throws(TokMeshError) -> Void = { _ throws(TokMeshError) in }) throws(TokMeshError) -> UInt64? {
        precondition(replacement.shards.count == shards.count, "replacement engine has another shard count")
        for shard in shards { shard.lock.lock() }
        defer { for shard in shards.reversed() { shard.lock.unlock() } }
        let index = try record.flatMap { r throws(TokMeshError) in try log(r, urgent: true) }
        try beforeSwap(index)
        for (mine, theirs) in zip(shards, replacement.shards) {
            theirs.lock.lock()
            mine.exchangeContents(with: theirs)
            theirs.lock.unlock()
        }
        return index
    }

    /// The shard count (a replacement engine for `replaceContents` needs the same).
    public var shardCount: Int { shards.count }

    // MARK: scans and stats

    /// Copies of sessions whose IDs are given (missing ones skipped).
    public func sessions(withIDs ids: some Sequence<String>) -> [Session] {
        ids.compactMap { id in SessionKey(id).flatMap { stored($0)?.session } }
    }

    /// Held session IDs with this device ID, gathered from every shard (one lock at a time).
    public func sessionIDs(ofDevice deviceID: String) -> [String] {
        shards.indices.flatMap { index in withShard(index) { Array($0.devices[deviceID] ?? []) } }.map(\.string)
    }

    /// Held session IDs created by this API key, gathered from every shard (one lock at a time).
    public func sessionIDs(ofCreator createdBy: String) -> [String] {
        shards.indices.flatMap { index in withShard(index) { Array($0.creators[createdBy] ?? []) } }.map(\.string)
    }

    /// Every session matching `predicate`, one shard at a time (each shard's array is taken
    /// under its lock and unpacked after).
    public func scan(_ predicate: (Session) -> Bool) -> [Session] {
        var out: [Session] = []
        for index in shards.indices {
            let part = withShard(index) { $0.sessionSlots }
            for stored in part {
                let s = stored.session
                if predicate(s) { out.append(s) }
            }
        }
        return out
    }

    /// RESP SCAN (spec/05 §7.2): up to `count` live session IDs at ring positions ≥ `cursor`,
    /// in position order, a position never split; `next` is the position to continue from, or 0
    /// when nothing follows. Each shard answers from its ScanIndex under its lock.
    public func scanPage(from cursor: UInt32, count: Int, now: Int64) -> (ids: [String], next: UInt32) {
        var candidates: [ScanIndex.Entry] = []
        var more = false
        for index in shards.indices {
            withShard(index) { shard in
                shard.scanIndex.refresh(allKeys: { Array(shard.slotOfSession.keys) }, isPresent: { shard.slotOfSession[$0] != nil })
                let (keys, shardMore) = shard.scanIndex.page(from: cursor, count: count) { key in
                    shard.stored(key).map { !$0.isExpired(now: now) }
                }
                candidates.append(contentsOf: keys)
                more = more || shardMore
            }
        }
        candidates.sort()
        var taken = candidates.prefix(count)
        if let last = taken.last {
            var end = taken.endIndex
            while end < candidates.count && candidates[end].position == last.position { end += 1 }
            taken = candidates[..<end]
            more = more || end < candidates.count
        }
        guard more, let last = taken.last else { return (taken.map(\.key.string), 0) }
        // Past UInt32.max nothing can follow: the position was taken whole.
        return (taken.map(\.key.string), last.position == .max ? 0 : last.position + 1)
    }

    /// Held sessions (live or expired-unpurged), O(shards): DBSIZE and INFO keyspace.
    public func heldCount() -> Int {
        shards.indices.reduce(0) { sum, index in sum + withShard(index) { $0.sessionSlots.count } }
    }

    /// The mean remaining lifetime (ms) of up to `sample` held live sessions picked at random
    /// (INFO keyspace `avg_ttl`, as Redis estimates it by sampling); 0 when none is live.
    public func averageTTL<R: RandomNumberGenerator>(now: Int64, sample: Int, using rng: inout R) -> Int64 {
        var total: Int64 = 0, seen: Int64 = 0
        sampling: for _ in 0..<sample {
            // From a random shard on to the next one holding sessions: a few sessions spread
            // over many shards must not read as none.
            let start = Int.random(in: 0..<shards.count, using: &rng)
            for step in 0..<shards.count {
                let found: Int64?? = withShard((start + step) % shards.count) { shard in
                    guard !shard.sessionSlots.isEmpty else { return nil }
                    let s = shard.sessionSlots[Int.random(in: 0..<shard.sessionSlots.count, using: &rng)]
                    return .some(s.expiresAt > now ? s.expiresAt - now : nil)
                }
                guard let found else { continue }
                if let left = found { total += left; seen += 1 }
                continue sampling
            }
            break  // every shard is empty
        }
        return seen == 0 ? 0 : total / seen
    }

    public func stats(now: Int64) -> EngineStats {
        var total = 0, active = 0, tombstones = 0
        for index in shards.indices {
            withShard(index) { shard in
                total += shard.sessionSlots.count
                active += shard.sessionSlots.reduce(0) { $0 + ($1.isExpired(now: now) ? 0 : 1) }
                tombstones += shard.tombstones.count
            }
        }
        return EngineStats(totalSessions: total, activeSessions: active, tombstones: tombstones)
    }

    /// Test hook: checks that every index agrees with the sessions map. Returns the problems.
    public func consistencyProblems() -> [String] {
        for shard in shards { shard.lock.lock() }
        defer { for shard in shards.reversed() { shard.lock.unlock() } }
        var problems: [String] = []
        var all: [SessionKey: StoredSession] = [:]
        for shard in shards {
            for (key, slot) in shard.slotOfSession {
                guard Int(slot) < shard.sessionSlots.count, shard.sessionSlots[Int(slot)].key == key else { problems.append("slot map broken for \(key.string)"); continue }
                all[key] = shard.sessionSlots[Int(slot)]
            }
            if shard.slotOfSession.count != shard.sessionSlots.count { problems.append("slot count mismatch") }
            for key in shard.tokens.keys where shard.tombstones[key] != nil { problems.append("token both live and revoked") }
        }
        for (key, s) in all {
            let id = key.string
            let (user, device, creator) = s.indexStrings
            if shards[shardIndex(s.digest.key)].tokens[s.digest.key] != key { problems.append("token index missing \(id)"); continue }
            if shards[shardIndex(user)].users[user]?.expiry(of: key) != s.expiresAt { problems.append("user index wrong for \(id)") }
            if shards[shardIndex(key)].creators[creator]?.contains(key) != true { problems.append("creator index missing \(id)") }
            if !device.isEmpty, shards[shardIndex(key)].devices[device]?.contains(key) != true { problems.append("device index missing \(id)") }
        }
        var indexed = 0
        for shard in shards {
            for key in shard.tokens.values { indexed += 1; if all[key] == nil { problems.append("dangling token entry \(key.string)") } }
            for entry in shard.users.values { for key in entry.keys where all[key] == nil { problems.append("dangling user entry \(key.string)") } }
            for (name, map) in [("creator", shard.creators), ("device", shard.devices)] {
                for set in map.values { for key in set where shard.slotOfSession[key] == nil { problems.append("dangling \(name) entry \(key.string)") } }
            }
        }
        if indexed != all.count { problems.append("token index has \(indexed) entries for \(all.count) sessions") }
        return problems
    }
}
