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
    private let shards: [EngineShard]
    private let mask: Int
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

    /// Locks the given shards in ascending order, runs `body`, unlocks.
    private func withShards<T>(_ indexes: [Int], _ body: () throws(TokMeshError) -> T) throws(TokMeshError) -> T {
        let ordered = Array(Set(indexes)).sorted()
        for i in ordered { shards[i].lock.lock() }
        defer { for i in ordered.reversed() { shards[i].lock.unlock() } }
        return try body()
    }

    private func withShard<T>(_ index: Int, _ body: (EngineShard) -> T) -> T {
        let shard = shards[index]
        shard.lock.lock()
        defer { shard.lock.unlock() }
        return body(shard)
    }

    private func shardsOf(_ s: Session) -> [Int] {
        var list = [shardIndex(s.id), shardIndex(s.tokenHash), shardIndex(s.userID), shardIndex(s.createdBy)]
        if !s.deviceID.isEmpty { list.append(shardIndex(s.deviceID)) }
        return list
    }

    // MARK: create

    /// Inserts a new session: quota, ID and token uniqueness are checked in the same atomic step.
    @discardableResult
    public func create(_ session: Session, maxPerUser: Int, now: Int64) throws(TokMeshError) -> UInt64? {
        precondition(session.version == 1 && session.expiresAt > session.createdAt, "create takes a fresh session")
        let sessionShard = shards[shardIndex(session.id)]
        let tokenShard = shards[shardIndex(session.tokenHash)]
        let userShard = shards[shardIndex(session.userID)]
        return try withShards(shardsOf(session)) { () throws(TokMeshError) -> UInt64? in
            let userSessions = userShard.users[session.userID] ?? [:]
            let current = userSessions.values.reduce(0) { $0 + ($1 > now ? 1 : 0) }
            if current >= maxPerUser {
                throw TokMeshError(.sessQuota, "Session quota exceeded for this user", details: [
                    "limit": .int(Int64(maxPerUser)), "current": .int(Int64(current)),
                ])
            }
            if sessionShard.slotOfSession[session.id] != nil {
                throw TokMeshError(.sessExists, details: ["session_id": .string(session.id)])
            }
            if let entry = tokenShard.tokens[session.tokenHash] {
                if case .tombstone(let t) = entry, t.expiresAt <= now {
                    tokenShard.removeToken(session.tokenHash)
                } else {
                    throw TokMeshError(.toknInUse)
                }
            }
            let index = try log(.create(time: now, session: session))
            insertLocked(session)
            return index
        }
    }

    // MARK: reads

    public func get(_ id: String, now: Int64) -> LookupOutcome {
        withShard(shardIndex(id)) { shard in
            guard let s = shard.session(id) else { return .notFound }
            return s.isExpired(now: now) ? .expired : .live(s)
        }
    }

    /// The session behind a token hash. A reader whose index entry points at a missing session
    /// re-reads the index once (a revoke raced it), so it answers revoked, never unknown.
    public func validate(tokenHash: String, now: Int64) -> ValidateOutcome {
        let tokenShardIndex = shardIndex(tokenHash)
        for _ in 0..<2 {
            let entry = withShard(tokenShardIndex) { $0.tokens[tokenHash] }
            switch entry {
            case .none:
                return .unknown
            case .tombstone(let t):
                return t.expiresAt <= now ? .unknown : .revoked(revokedAt: t.revokedAt)
            case .session(let id):
                let found: Session? = withShard(shardIndex(id)) { $0.session(id) }
                guard let s = found else { continue }
                guard s.tokenHash == tokenHash else { return .unknown }
                return s.isExpired(now: now) ? .expired : .live(s)
            }
        }
        return .unknown
    }

    // MARK: single-shard mutations

    /// Applies `change` to a live session under its shard lock; `change` returns whether it
    /// changed anything (then `version` + 1).
    public func mutateLive(_ id: String, now: Int64, _ change: (inout Session) throws(TokMeshError) -> Bool) throws(TokMeshError) -> (Session, UInt64?) {
        let shard = shards[shardIndex(id)]
        return try withShards([shardIndex(id)]) { () throws(TokMeshError) -> (Session, UInt64?) in
            guard var s = shard.session(id) else { throw TokMeshError(.sessNotFound, details: ["session_id": .string(id)]) }
            if s.isExpired(now: now) { throw TokMeshError(.sessExpired, details: ["session_id": .string(id)]) }
            let expiresBefore = s.expiresAt
            guard try change(&s) else { return (s, nil) }
            precondition(s.expiresAt == expiresBefore, "mutateLive must not move expires_at")
            s.version += 1
            let index = try log(.update(time: now, session: s))
            shard.replaceSession(s)
            return (s, index)
        }
    }

    /// Validate with touch: moves last_active and the last-access fields, on the session shard
    /// only (no index changes). Returns the possibly updated session; nil if it vanished.
    /// Best effort (spec/01 §5.3): when the log refuses writes the session is returned untouched.
    public func touchForValidate(_ id: String, tokenHash: String, now: Int64, ip: String, userAgent: String) -> (Session, UInt64?)? {
        withShard(shardIndex(id)) { shard in
            guard let current = shard.session(id), current.tokenHash == tokenHash else { return nil }
            guard !current.isExpired(now: now) else { return (current, nil) }
            var s = current
            let newActive = max(s.lastActive, now)
            guard newActive != s.lastActive || s.lastAccessIP != ip || s.lastAccessUA != userAgent else { return (s, nil) }
            s.lastActive = newActive
            s.lastAccessIP = ip
            s.lastAccessUA = userAgent
            s.version += 1
            let index: UInt64?
            do { index = try log(.update(time: now, session: s)) } catch { return (current, nil) }
            shard.replaceSession(s)
            return (s, index)
        }
    }

    /// Renew: new expires_at (may shorten), last_active = max(last_active, now), version + 1.
    /// Returns (previous expires_at, updated session).
    public func renew(_ id: String, ttlMillis: Int64, expectedVersion: UInt64?, now: Int64) throws(TokMeshError) -> (Int64, Session, UInt64?) {
        let userID: String? = withShard(shardIndex(id)) { $0.session(id)?.userID }
        guard let userID else { throw TokMeshError(.sessNotFound, details: ["session_id": .string(id)]) }
        let shard = shards[shardIndex(id)]
        let userShard = shards[shardIndex(userID)]
        return try withShards([shardIndex(id), shardIndex(userID)]) { () throws(TokMeshError) -> (Int64, Session, UInt64?) in
            guard var s = shard.session(id) else { throw TokMeshError(.sessNotFound, details: ["session_id": .string(id)]) }
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
            let index = try log(.update(time: now, session: s))
            shard.replaceSession(s)
            userShard.users[userID]?[id] = s.expiresAt
            return (previous, s, index)
        }
    }

    // MARK: removal

    /// Revoke: a live session becomes a tombstone, an expired one is deleted, a missing one is
    /// a no-op (idempotent).
    public func revoke(_ id: String, now: Int64, urgent: Bool = false) throws(TokMeshError) -> RevokeOutcome {
        guard let snapshot: Session = withShard(shardIndex(id), { $0.session(id) }) else {
            return RevokeOutcome(revoked: false, revokedAt: nil)
        }
        let result: RevokeOutcome? = try withShards(shardsOf(snapshot)) { () throws(TokMeshError) -> RevokeOutcome? in
            let shard = shards[shardIndex(id)]
            guard let current = shard.session(id), current.tokenHash == snapshot.tokenHash else { return nil }
            let tokenShard = shards[shardIndex(current.tokenHash)]
            if current.isExpired(now: now) {
                let index = try log(.delete(time: now, sessionID: id, reason: .revokedExpired), urgent: urgent)
                removeLocked(current)
                tokenShard.removeToken(current.tokenHash)
                return RevokeOutcome(revoked: true, revokedAt: now, logIndex: index)
            }
            let tombstone = Tombstone(tokenHash: current.tokenHash, sessionID: id, revokedAt: now, expiresAt: current.expiresAt)
            let index = try log(.revoke(time: now, tombstone: tombstone), urgent: urgent)
            removeLocked(current)
            tokenShard.setToken(current.tokenHash, .tombstone(tombstone))
            return RevokeOutcome(revoked: true, revokedAt: now, logIndex: index)
        }
        return result ?? RevokeOutcome(revoked: false, revokedAt: nil)
    }

    /// Adds a session to the sessions map and every index (all its shards locked).
    private func insertLocked(_ s: Session) {
        shards[shardIndex(s.id)].insertSession(s)
        shards[shardIndex(s.tokenHash)].setToken(s.tokenHash, .session(s.id))
        shards[shardIndex(s.userID)].users[s.userID, default: [:]][s.id] = s.expiresAt
        let creatorShard = shards[shardIndex(s.createdBy)]
        creatorShard.addToSet(&creatorShard.creators, s.createdBy, s.id)
        if !s.deviceID.isEmpty {
            let deviceShard = shards[shardIndex(s.deviceID)]
            deviceShard.addToSet(&deviceShard.devices, s.deviceID, s.id)
        }
    }

    /// Removes a session from the sessions map and every secondary index (all shards locked).
    private func removeLocked(_ s: Session) {
        shards[shardIndex(s.id)].removeSession(s.id)
        shards[shardIndex(s.userID)].removeFromUser(s.userID, s.id)
        let creatorShard = shards[shardIndex(s.createdBy)]
        creatorShard.removeFromSet(&creatorShard.creators, s.createdBy, s.id)
        if !s.deviceID.isEmpty {
            let deviceShard = shards[shardIndex(s.deviceID)]
            deviceShard.removeFromSet(&deviceShard.devices, s.deviceID, s.id)
        }
    }

    /// Held session IDs of a user (live or expired).
    public func sessionIDs(ofUser userID: String) -> [String] {
        withShard(shardIndex(userID)) { shard in shard.users[userID].map { Array($0.keys) } ?? [] }
    }

    /// Purges a session if it is expired (GC). Returns true when it removed one.
    @discardableResult
    public func purgeIfExpired(_ id: String, now: Int64) -> Bool {
        guard let snapshot: Session = withShard(shardIndex(id), { $0.session(id) }), snapshot.isExpired(now: now) else { return false }
        let purged: Bool? = try? withShards(shardsOf(snapshot)) { () throws(TokMeshError) -> Bool in
            guard let current = shards[shardIndex(id)].session(id), current.tokenHash == snapshot.tokenHash,
                  current.isExpired(now: now) else { return false }
            _ = try log(.delete(time: now, sessionID: id, reason: .expired))
            removeLocked(current)
            shards[shardIndex(current.tokenHash)].removeToken(current.tokenHash)
            return true
        }
        return purged ?? false
    }

    private func purgeTombstoneIfExpired(_ hash: String, now: Int64) -> Bool {
        withShard(shardIndex(hash)) { shard in
            guard case .tombstone(let t) = shard.tokens[hash], t.expiresAt <= now else { return false }
            shard.removeToken(hash)
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
                if purgeIfExpired(s.id, now: now) { purged += 1 }
            }
            if expired * 4 <= picks.count { break }
        }
        purged += sweepDue(now: now, limit: dueLimit)
        return purged
    }

    /// Uniform random picks over all sessions (weighted by shard size).
    func sample<R: RandomNumberGenerator>(count: Int, using rng: inout R) -> [Session] {
        let sizes = shards.map { shard in shard.lock.lock(); defer { shard.lock.unlock() }; return shard.sessionSlots.count }
        let total = sizes.reduce(0, +)
        guard total > 0 else { return [] }
        var picks: [Session] = []
        picks.reserveCapacity(count)
        for _ in 0..<count {
            var r = Int.random(in: 0..<total, using: &rng)
            var shardIndex = 0
            while shardIndex < sizes.count - 1 && r >= sizes[shardIndex] { r -= sizes[shardIndex]; shardIndex += 1 }
            let slot = r
            if let s: Session = withShard(shardIndex, { $0.sessionSlots.count > slot ? $0.sessionSlots[slot] : nil }) {
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
            let items = withShard(index) { $0.takeDueItems(now: now, limit: budget) }
            budget -= items.count
            for item in items {
                switch item {
                case .session(let id): if purgeIfExpired(id, now: now) { purged += 1 }
                case .tombstone(let hash): if purgeTombstoneIfExpired(hash, now: now) { purged += 1 }
                }
            }
        }
        return purged
    }

    /// A full sweep of every shard (manual GC): purges every expired session and tombstone.
    public func sweepAll(now: Int64) -> Int {
        var purged = 0
        for index in shards.indices {
            let (ids, hashes): ([String], [String]) = withShard(index) { shard in
                let ids = shard.sessionSlots.filter { $0.isExpired(now: now) }.map(\.id)
                let hashes = shard.tokens.compactMap { key, entry -> String? in
                    if case .tombstone(let t) = entry, t.expiresAt <= now { return key }
                    return nil
                }
                return (ids, hashes)
            }
            for id in ids where purgeIfExpired(id, now: now) { purged += 1 }
            for hash in hashes where purgeTombstoneIfExpired(hash, now: now) { purged += 1 }
        }
        return purged
    }

    // MARK: replay

    /// Applies a WAL record during recovery (spec/02 §4): put overwrites, but a post-image that
    /// is already expired at `now` removes the session instead; removal of a missing session is
    /// a no-op; expired tombstones are dropped. No checks, nothing logged; replaying a record
    /// twice is harmless.
    public func apply(_ record: WALRecord, now: Int64) {
        switch record {
        case .create(_, let session), .update(_, let session):
            remove(id: session.id)
            guard !session.isExpired(now: now) else { return }
            // A tombstone or another session holding this token hash is superseded by the post-image.
            if case .session(let other)? = withShard(shardIndex(session.tokenHash), { $0.tokens[session.tokenHash] }), other != session.id {
                remove(id: other)
            }
            _ = try? withShards(shardsOf(session)) { () throws(TokMeshError) in insertLocked(session) }
        case .delete(_, let id, _):
            remove(id: id)
        case .revoke(_, let tombstone):
            remove(id: tombstone.sessionID)
            guard tombstone.expiresAt > now else { return }
            withShard(shardIndex(tombstone.tokenHash)) { $0.setToken(tombstone.tokenHash, .tombstone(tombstone)) }
        case .reset:
            break  // the caller loads the named snapshot and calls `replaceContents`
        }
    }

    /// Removes a session and its index entries, if held (replay only).
    private func remove(id: String) {
        guard let s: Session = withShard(shardIndex(id), { $0.session(id) }) else { return }
        _ = try? withShards(shardsOf(s)) { () throws(TokMeshError) in
            guard let current = shards[shardIndex(id)].session(id) else { return }
            removeLocked(current)
            let tokenShard = shards[shardIndex(current.tokenHash)]
            if case .session(let holder)? = tokenShard.tokens[current.tokenHash], holder == id { tokenShard.removeToken(current.tokenHash) }
        }
    }

    // MARK: snapshots

    /// The snapshot cut (spec/02 §5.2): each shard's session array and token map are taken by
    /// reference under its lock (copy-on-write, O(1)); the first later write to a shard pays
    /// for copying it. Filtering and encoding happen after the locks are released.
    public func snapshotCut(now: Int64) -> (sessions: [Session], tombstones: [Tombstone]) {
        var sessionParts: [ContiguousArray<Session>] = []
        var tokenParts: [[String: TokenEntry]] = []
        for index in shards.indices {
            withShard(index) { shard in
                sessionParts.append(shard.sessionSlots)
                tokenParts.append(shard.tokens)
            }
        }
        let sessions = sessionParts.flatMap { $0.filter { !$0.isExpired(now: now) } }
        var tombstones: [Tombstone] = []
        for part in tokenParts {
            for entry in part.values {
                if case .tombstone(let t) = entry, t.expiresAt > now { tombstones.append(t) }
            }
        }
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

    /// Loads a snapshot's contents into an empty engine (recovery base, or a restore's state
    /// aside). Holds every shard lock for the whole load and sizes the maps first.
    public func load(sessions: [Session], tombstones: [Tombstone], now: Int64) {
        var sessionsPer = [Int](repeating: 0, count: shards.count), tokensPer = sessionsPer, usersPer = sessionsPer
        for s in sessions where !s.isExpired(now: now) {
            sessionsPer[shardIndex(s.id)] += 1
            tokensPer[shardIndex(s.tokenHash)] += 1
            usersPer[shardIndex(s.userID)] += 1
        }
        for t in tombstones where t.expiresAt > now { tokensPer[shardIndex(t.tokenHash)] += 1 }
        for shard in shards { shard.lock.lock() }
        defer { for shard in shards.reversed() { shard.lock.unlock() } }
        for (i, shard) in shards.enumerated() {
            shard.slotOfSession.reserveCapacity(shard.slotOfSession.count + sessionsPer[i])
            shard.sessionSlots.reserveCapacity(shard.sessionSlots.count + sessionsPer[i])
            shard.tokens.reserveCapacity(shard.tokens.count + tokensPer[i])
            shard.users.reserveCapacity(shard.users.count + usersPer[i])
        }
        // A file may repeat an ID or a token (an unencrypted backup is only checksummed): the
        // first one wins, so a crafted file cannot break the indexes.
        for s in sessions where !s.isExpired(now: now) {
            guard shards[shardIndex(s.id)].slotOfSession[s.id] == nil, shards[shardIndex(s.tokenHash)].tokens[s.tokenHash] == nil else { continue }
            insertLocked(s)
        }
        for t in tombstones where t.expiresAt > now {
            let shard = shards[shardIndex(t.tokenHash)]
            if shard.tokens[t.tokenHash] == nil { shard.setToken(t.tokenHash, .tombstone(t)) }
        }
    }

    // MARK: scans and stats

    /// Copies of sessions whose IDs are given (missing ones skipped).
    public func sessions(withIDs ids: some Sequence<String>) -> [Session] {
        ids.compactMap { id in withShard(shardIndex(id)) { $0.session(id) } }
    }

    public func sessionIDs(ofDevice deviceID: String) -> [String] {
        withShard(shardIndex(deviceID)) { Array($0.devices[deviceID] ?? []) }
    }

    public func sessionIDs(ofCreator createdBy: String) -> [String] {
        withShard(shardIndex(createdBy)) { Array($0.creators[createdBy] ?? []) }
    }

    /// Every session matching `predicate`, one shard lock at a time.
    public func scan(_ predicate: (Session) -> Bool) -> [Session] {
        var out: [Session] = []
        for index in shards.indices {
            withShard(index) { shard in
                for s in shard.sessionSlots where predicate(s) { out.append(s) }
            }
        }
        return out
    }

    public func stats(now: Int64) -> EngineStats {
        var total = 0, active = 0, tombstones = 0
        for index in shards.indices {
            withShard(index) { shard in
                total += shard.sessionSlots.count
                active += shard.sessionSlots.reduce(0) { $0 + ($1.isExpired(now: now) ? 0 : 1) }
                tombstones += shard.tombstoneCount
            }
        }
        return EngineStats(totalSessions: total, activeSessions: active, tombstones: tombstones)
    }

    /// Test hook: checks that every index agrees with the sessions map. Returns the problems.
    public func consistencyProblems() -> [String] {
        for shard in shards { shard.lock.lock() }
        defer { for shard in shards.reversed() { shard.lock.unlock() } }
        var problems: [String] = []
        var all: [String: Session] = [:]
        for shard in shards {
            for (id, slot) in shard.slotOfSession {
                guard slot < shard.sessionSlots.count, shard.sessionSlots[slot].id == id else { problems.append("slot map broken for \(id)"); continue }
                all[id] = shard.sessionSlots[slot]
            }
            if shard.slotOfSession.count != shard.sessionSlots.count { problems.append("slot count mismatch") }
        }
        for s in all.values {
            guard case .session(let id) = shards[shardIndex(s.tokenHash)].tokens[s.tokenHash], id == s.id else { problems.append("token index missing \(s.id)"); continue }
            if shards[shardIndex(s.userID)].users[s.userID]?[s.id] != s.expiresAt { problems.append("user index wrong for \(s.id)") }
            if shards[shardIndex(s.createdBy)].creators[s.createdBy]?.contains(s.id) != true { problems.append("creator index missing \(s.id)") }
            if !s.deviceID.isEmpty, shards[shardIndex(s.deviceID)].devices[s.deviceID]?.contains(s.id) != true { problems.append("device index missing \(s.id)") }
        }
        var indexed = 0
        for shard in shards {
            for entry in shard.tokens.values { if case .session(let id) = entry { indexed += 1; if all[id] == nil { problems.append("dangling token entry \(id)") } } }
            for ids in shard.users.values { for id in ids.keys where all[id] == nil { problems.append("dangling user entry \(id)") } }
        }
        if indexed != all.count { problems.append("token index has \(indexed) entries for \(all.count) sessions") }
        return problems
    }
}
