// EngineShard: one shard of the session engine — every map of spec/02 §2 for the keys that hash
// here (sessions with a dense array for O(1) sampling, token index, user/device/creator indexes)
// plus one-second expiry buckets. All state is guarded by `lock`; callers lock in shard order.
import HeapModule
import TokMeshCore

/// A token-index entry: the session holding the token, or the tombstone of a revoked one.
enum TokenEntry: Sendable {
    case session(String)
    case tombstone(Tombstone)
}

/// Something due for purging at the end of its expiry second.
enum ExpiryItem: Sendable {
    case session(String)
    case tombstone(String)
}

final class EngineShard: @unchecked Sendable {
    // Everything below is guarded by `lock`.
    let lock = ShardLock()
    var slotOfSession: [String: Int] = [:]
    var sessionSlots: ContiguousArray<Session> = []
    var tokens: [String: TokenEntry] = [:]
    var tombstoneCount = 0
    /// user_id → (session ID → expires_at), so the quota is counted within this shard.
    var users: [String: [String: Int64]] = [:]
    var devices: [String: Set<String>] = [:]
    var creators: [String: Set<String>] = [:]
    var buckets: [Int64: [ExpiryItem]] = [:]
    var bucketSeconds = Heap<Int64>()

    // MARK: sessions (dense array + slot map)

    func session(_ id: String) -> Session? {
        guard let slot = slotOfSession[id] else { return nil }
        return sessionSlots[slot]
    }

    func insertSession(_ session: Session) {
        let previous = slotOfSession.updateValue(sessionSlots.count, forKey: session.id)
        precondition(previous == nil, "session inserted twice")
        sessionSlots.append(session)
        addExpiry(.session(session.id), at: session.expiresAt)
    }

    func replaceSession(_ session: Session) {
        guard let slot = slotOfSession[session.id] else { preconditionFailure("replacing a missing session") }
        let previous = sessionSlots[slot].expiresAt
        sessionSlots[slot] = session
        if previous / 1000 != session.expiresAt / 1000 { addExpiry(.session(session.id), at: session.expiresAt) }
    }

    @discardableResult
    func removeSession(_ id: String) -> Session? {
        guard let slot = slotOfSession.removeValue(forKey: id) else { return nil }
        let removed = sessionSlots[slot]
        let last = sessionSlots.count - 1
        if slot != last {
            sessionSlots[slot] = sessionSlots[last]
            slotOfSession[sessionSlots[slot].id] = slot
        }
        sessionSlots.removeLast()
        return removed
    }

    // MARK: token index

    func setToken(_ hash: String, _ entry: TokenEntry) {
        if case .tombstone = tokens.updateValue(entry, forKey: hash) { tombstoneCount -= 1 }
        if case .tombstone(let t) = entry {
            tombstoneCount += 1
            addExpiry(.tombstone(hash), at: t.expiresAt)
        }
    }

    func removeToken(_ hash: String) {
        if case .tombstone = tokens.removeValue(forKey: hash) { tombstoneCount -= 1 }
    }

    // MARK: secondary indexes

    func addToSet(_ map: inout [String: Set<String>], _ key: String, _ id: String) {
        map[key, default: []].insert(id)
    }

    func removeFromSet(_ map: inout [String: Set<String>], _ key: String, _ id: String) {
        guard var set = map[key] else { return }
        set.remove(id)
        map[key] = set.isEmpty ? nil : set
    }

    func removeFromUser(_ userID: String, _ id: String) {
        guard var ids = users[userID] else { return }
        ids.removeValue(forKey: id)
        users[userID] = ids.isEmpty ? nil : ids
    }

    // MARK: expiry buckets

    func addExpiry(_ item: ExpiryItem, at expiresAt: Int64) {
        let second = expiresAt / 1000
        if buckets[second] == nil { bucketSeconds.insert(second) }
        buckets[second, default: []].append(item)
    }

    /// Removes and returns buckets whose second is wholly past, up to about `limit` items.
    func takeDueItems(now: Int64, limit: Int) -> [ExpiryItem] {
        var out: [ExpiryItem] = []
        while out.count < limit, let second = bucketSeconds.min, (second + 1) * 1000 <= now {
            guard var items = buckets[second] else { bucketSeconds.removeMin(); continue }
            let room = limit - out.count
            if items.count > room {
                out.append(contentsOf: items.suffix(room))
                items.removeLast(room)
                buckets[second] = items
                break
            }
            bucketSeconds.removeMin()
            buckets[second] = nil
            out.append(contentsOf: items)
        }
        return out
    }
}

extension EngineShard {
    /// Swaps every map with `other`'s (both locked by the caller): O(1), the restore swap.
    func exchangeContents(with other: EngineShard) {
        swap(&slotOfSession, &other.slotOfSession)
        swap(&sessionSlots, &other.sessionSlots)
        swap(&tokens, &other.tokens)
        swap(&tombstoneCount, &other.tombstoneCount)
        swap(&users, &other.users)
        swap(&devices, &other.devices)
        swap(&creators, &other.creators)
        swap(&buckets, &other.buckets)
        swap(&bucketSeconds, &other.bucketSeconds)
    }
}
