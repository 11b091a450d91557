// EngineShard: one shard of the session engine — every map of spec/02 §2 for the keys that hash
// here (packed sessions in a dense array for O(1) sampling, the token index and its tombstones,
// user/device/creator indexes) plus one-second expiry buckets. Keys are fixed-size values
// (SessionKeys.swift) so the tables hold no per-key heap blocks. All state is guarded by `lock`;
// callers lock in shard order.
import HeapModule
import TokMeshCore

/// The sessions of one user held in a shard's user index, with their expiry (for the quota
/// count under the user's shard lock alone). One session, the common case, needs no table.
enum UserSessions: Sendable {
    case one(SessionKey, Int64)
    case many([SessionKey: Int64])

    var keys: [SessionKey] {
        switch self {
        case .one(let k, _): [k]
        case .many(let d): Array(d.keys)
        }
    }

    func expiry(of key: SessionKey) -> Int64? {
        switch self {
        case .one(let k, let e): k == key ? e : nil
        case .many(let d): d[key]
        }
    }

    func unexpired(now: Int64) -> Int {
        switch self {
        case .one(_, let e): e > now ? 1 : 0
        case .many(let d): d.values.reduce(0) { $0 + ($1 > now ? 1 : 0) }
        }
    }

    func setting(_ key: SessionKey, _ expiresAt: Int64) -> UserSessions {
        switch self {
        case .one(let k, _) where k == key: return .one(key, expiresAt)
        case .one(let k, let e): return .many([k: e, key: expiresAt])
        case .many(var d):
            d[key] = expiresAt
            return .many(d)
        }
    }

    /// Without `key`; nil when nothing is left.
    func removing(_ key: SessionKey) -> UserSessions? {
        switch self {
        case .one(let k, _): return k == key ? nil : self
        case .many(var d):
            d.removeValue(forKey: key)
            if d.count == 1, let (k, e) = d.first { return .one(k, e) }
            return d.isEmpty ? nil : .many(d)
        }
    }
}

final class EngineShard: @unchecked Sendable {
    // Everything below is guarded by `lock`.
    let lock = ShardLock()
    var slotOfSession: [SessionKey: Int32] = [:]
    var sessionSlots: ContiguousArray<StoredSession> = []
    /// Token index: the live session holding a token (by digest head)…
    var tokens: [TokenKey: SessionKey] = [:]
    /// …or the tombstone of a revoked one; a key is never in both.
    var tombstones: [TokenKey: StoredTombstone] = [:]
    var users: [String: UserSessions] = [:]
    /// Device and creator indexes of the sessions held in this shard (not of the names hashed
    /// here): a create or delete updates them under the session's own lock, and a bulk load
    /// fills every shard's share at once. A lookup gathers a name's sets from every shard.
    var devices: [String: Set<SessionKey>] = [:]
    var creators: [String: Set<SessionKey>] = [:]
    var sessionBuckets: [Int64: [SessionKey]] = [:]
    var tombstoneBuckets: [Int64: [TokenKey]] = [:]
    /// Every second present in either bucket map (possibly also stale ones, skipped when met).
    var bucketSeconds = Heap<Int64>()
    /// Ring-position order for SCAN, built on the first scan.
    var scanIndex = ScanIndex()

    // MARK: sessions (dense array + slot map)

    func stored(_ key: SessionKey) -> StoredSession? {
        guard let slot = slotOfSession[key] else { return nil }
        return sessionSlots[Int(slot)]
    }

    func insertSession(_ session: StoredSession) {
        insertSession(session, key: session.key, expiresAt: session.expiresAt)
    }

    /// `insertSession` with the key and expiry already read from the session.
    func insertSession(_ session: StoredSession, key: SessionKey, expiresAt: Int64) {
        let previous = slotOfSession.updateValue(Int32(sessionSlots.count), forKey: key)
        precondition(previous == nil, "session inserted twice")
        sessionSlots.append(session)
        scanIndex.noteInsert(key)
        addExpiry(session: key, at: expiresAt)
    }

    func replaceSession(_ session: StoredSession) {
        let key = session.key
        guard let slot = slotOfSession[key] else { preconditionFailure("replacing a missing session") }
        let previous = sessionSlots[Int(slot)].expiresAt
        sessionSlots[Int(slot)] = session
        if previous / 1000 != session.expiresAt / 1000 { addExpiry(session: key, at: session.expiresAt) }
    }

    func removeSession(_ key: SessionKey) {
        guard let slot = slotOfSession.removeValue(forKey: key).map(Int.init) else { return }
        let last = sessionSlots.count - 1
        if slot != last {
            sessionSlots[slot] = sessionSlots[last]
            slotOfSession[sessionSlots[slot].key] = Int32(slot)
        }
        sessionSlots.removeLast()
    }

    // MARK: token index

    func setToken(_ key: TokenKey, session: SessionKey) {
        tokens[key] = session
        tombstones.removeValue(forKey: key)
    }

    func setTombstone(_ key: TokenKey, _ tombstone: StoredTombstone) {
        tokens.removeValue(forKey: key)
        tombstones[key] = tombstone
        addExpiry(tombstone: key, at: tombstone.expiresAt)
    }

    func removeToken(_ key: TokenKey) {
        tokens.removeValue(forKey: key)
        tombstones.removeValue(forKey: key)
    }

    // MARK: secondary indexes

    func addToSet(_ map: inout [String: Set<SessionKey>], _ key: String, _ id: SessionKey) {
        map[key, default: []].insert(id)
    }

    func removeFromSet(_ map: inout [String: Set<SessionKey>], _ key: String, _ id: SessionKey) {
        guard var set = map.removeValue(forKey: key) else { return }
        set.remove(id)
        if !set.isEmpty { map[key] = set }
    }

    func setUser(_ userID: String, _ id: SessionKey, expiresAt: Int64) {
        users[userID] = users[userID]?.setting(id, expiresAt) ?? .one(id, expiresAt)
    }

    func removeFromUser(_ userID: String, _ id: SessionKey) {
        guard let entry = users.removeValue(forKey: userID) else { return }
        if let rest = entry.removing(id) { users[userID] = rest }
    }

    // MARK: expiry buckets

    private func noteSecond(_ second: Int64) {
        if sessionBuckets[second] == nil && tombstoneBuckets[second] == nil { bucketSeconds.insert(second) }
    }

    func addExpiry(session key: SessionKey, at expiresAt: Int64) {
        let second = expiresAt / 1000
        noteSecond(second)
        sessionBuckets[second, default: []].append(key)
    }

    func addExpiry(tombstone key: TokenKey, at expiresAt: Int64) {
        let second = expiresAt / 1000
        noteSecond(second)
        tombstoneBuckets[second, default: []].append(key)
    }

    /// Removes and returns bucket entries whose second is wholly past, up to about `limit`.
    func takeDueItems(now: Int64, limit: Int) -> (sessions: [SessionKey], tombstones: [TokenKey]) {
        var sessions: [SessionKey] = [], tombstones: [TokenKey] = []
        while sessions.count + tombstones.count < limit, let second = bucketSeconds.min, (second + 1) * 1000 <= now {
            guard EngineShard.take(second, from: &sessionBuckets, room: limit - sessions.count - tombstones.count, into: &sessions),
                  EngineShard.take(second, from: &tombstoneBuckets, room: limit - sessions.count - tombstones.count, into: &tombstones)
            else { break }
            bucketSeconds.removeMin()
        }
        return (sessions, tombstones)
    }

    /// Moves up to `room` entries of `buckets[second]` into `out`; false when some are left.
    private static func take<Key>(_ second: Int64, from buckets: inout [Int64: [Key]], room: Int, into out: inout [Key]) -> Bool {
        guard var items = buckets.removeValue(forKey: second) else { return true }
        guard items.count > room else {
            out.append(contentsOf: items)
            return true
        }
        out.append(contentsOf: items.suffix(room))
        items.removeLast(room)
        buckets[second] = items
        return false
    }
}

extension EngineShard {
    /// Swaps every map with `other`'s (both locked by the caller): O(1), the restore swap.
    func exchangeContents(with other: EngineShard) {
        swap(&slotOfSession, &other.slotOfSession)
        swap(&sessionSlots, &other.sessionSlots)
        swap(&tokens, &other.tokens)
        swap(&tombstones, &other.tombstones)
        swap(&users, &other.users)
        swap(&devices, &other.devices)
        swap(&creators, &other.creators)
        swap(&sessionBuckets, &other.sessionBuckets)
        swap(&tombstoneBuckets, &other.tombstoneBuckets)
        swap(&bucketSeconds, &other.bucketSeconds)
        scanIndex.reset()
        other.scanIndex.reset()
    }
}
