// EngineBulkLoad: loading a snapshot's sessions into an empty engine (recovery base, or a
// restore's state aside) on every core. Sessions are first routed to the shards their ID,
// token, user, creator and device hash to (in file order); then each shard's share is
// inserted by one worker at a time, so a worker's tables stay in its cache and no two workers
// touch a shard. A file may repeat an ID or a token (an unencrypted backup is only
// checksummed): a session whose ID or token an earlier session of the file already carries is
// left out, so a crafted file cannot break the indexes.
import Dispatch
import TokMeshCore

/// Per-shard lists of session positions, one set per routing worker.
private final class Routes: @unchecked Sendable {
    var byID: [[Int32]], byToken: [[Int32]], byUser: [[Int32]], byCreator: [[Int32]], byDevice: [[Int32]]

    init(shards: Int) {
        byID = Array(repeating: [], count: shards)
        (byToken, byUser, byCreator, byDevice) = (byID, byID, byID, byID)
    }
}

/// The positions routed to `shard` by every worker, in file order.
private func positions(_ routes: [Routes], _ list: (Routes) -> [[Int32]], _ shard: Int) -> FlattenSequence<[[Int32]]> {
    routes.map { list($0)[shard] }.joined()
}

/// Flags written by exactly one worker per element (the owner of that session's ID or token
/// shard), read after the workers have joined.
private struct Flags: @unchecked Sendable {
    let bits: UnsafeMutableBufferPointer<Bool>

    init(count: Int) { bits = .allocate(capacity: max(1, count)); bits.initialize(repeating: false) }
    func free() { bits.deallocate() }
    subscript(_ i: Int32) -> Bool {
        get { bits[Int(i)] }
        nonmutating set { bits[Int(i)] = newValue }
    }
}

extension SessionEngine {
    /// Loads sessions and tombstones into this (empty, private) engine. Holds every shard lock
    /// for the whole load; expired entries are skipped.
    public func load(sessions: [StoredSession], tombstones: [StoredTombstone], now: Int64) {
        for shard in shards { shard.lock.lock() }
        defer { for shard in shards.reversed() { shard.lock.unlock() } }
        let shardCount = shards.count
        let mask = self.mask
        // 1. Routing, a slice of the file per worker.
        let workers = 8
        let routes = (0..<workers).map { _ in Routes(shards: shardCount) }
        let perWorker = (sessions.count + workers - 1) / workers
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let r = routes[w]
            for i in (w * perWorker)..<min(sessions.count, (w + 1) * perWorker) {
                let s = sessions[i]
                guard !s.isExpired(now: now) else { continue }
                let position = Int32(i)
                r.byID[shardIndex(s.key)].append(position)
                r.byToken[shardIndex(s.digest.key)].append(position)
                s.withIndexBytes { user, device, creator in
                    r.byUser[Int(MurmurHash3.hash32(user)) & mask].append(position)
                    r.byCreator[Int(MurmurHash3.hash32(creator)) & mask].append(position)
                    if !device.isEmpty { r.byDevice[Int(MurmurHash3.hash32(device)) & mask].append(position) }
                }
            }
        }
        // 2. Sessions and the token index, first one wins; later holders of a taken ID or token are flagged.
        let idTaken = Flags(count: sessions.count), tokenTaken = Flags(count: sessions.count)
        defer { idTaken.free(); tokenTaken.free() }
        DispatchQueue.concurrentPerform(iterations: shardCount) { index in
            let shard = shards[index]
            let ids = positions(routes, { $0.byID }, index), tokens = positions(routes, { $0.byToken }, index)
            let idCount = routes.reduce(0) { $0 + $1.byID[index].count }
            shard.slotOfSession.reserveCapacity(shard.slotOfSession.count + idCount)
            shard.sessionSlots.reserveCapacity(shard.sessionSlots.count + idCount)
            shard.tokens.reserveCapacity(shard.tokens.count + routes.reduce(0) { $0 + $1.byToken[index].count })
            for i in ids {
                let s = sessions[Int(i)]
                if shard.slotOfSession[s.key] != nil { idTaken[i] = true } else { shard.insertSession(s) }
            }
            for i in tokens {
                let s = sessions[Int(i)]
                let key = s.digest.key
                if shard.tokens[key] != nil || shard.tombstones[key] != nil { tokenTaken[i] = true } else { shard.setToken(key, session: s.key) }
            }
        }
        // 3. Entries of sessions left out after all (their ID was new but their token was not,
        //    or the reverse) come out again; only a file with repeats has any.
        DispatchQueue.concurrentPerform(iterations: shardCount) { index in
            let shard = shards[index]
            for i in positions(routes, { $0.byID }, index) where !idTaken[i] && tokenTaken[i] { shard.removeSession(sessions[Int(i)].key) }
            for i in positions(routes, { $0.byToken }, index) where !tokenTaken[i] && idTaken[i] { shard.removeToken(sessions[Int(i)].digest.key) }
        }
        // 4. User, creator and device indexes of the accepted sessions.
        DispatchQueue.concurrentPerform(iterations: shardCount) { index in
            let shard = shards[index]
            shard.users.reserveCapacity(shard.users.count + routes.reduce(0) { $0 + $1.byUser[index].count })
            for i in positions(routes, { $0.byUser }, index) where !idTaken[i] && !tokenTaken[i] {
                let s = sessions[Int(i)]
                shard.setUser(s.userID, s.key, expiresAt: s.expiresAt)
            }
            shard.addGrouped(to: \.creators, positions(routes, { $0.byCreator }, index).lazy.filter { !idTaken[$0] && !tokenTaken[$0] }.map { sessions[Int($0)] }, creator: true)
            shard.addGrouped(to: \.devices, positions(routes, { $0.byDevice }, index).lazy.filter { !idTaken[$0] && !tokenTaken[$0] }.map { sessions[Int($0)] }, creator: false)
        }
        // 5. Tombstones (few): only for tokens no session or earlier tombstone holds.
        for t in tombstones where t.expiresAt > now {
            let shard = shards[shardIndex(t.digest.key)]
            if shard.tokens[t.digest.key] == nil && shard.tombstones[t.digest.key] == nil { shard.setTombstone(t.digest.key, t) }
        }
    }
}

extension EngineShard {
    /// Adds sessions to the creator or device index, grouped by key so each set grows once and
    /// a key shared by many sessions (one API key's creations) is made into a string once.
    fileprivate func addGrouped(to index: ReferenceWritableKeyPath<EngineShard, [String: Set<SessionKey>]>,
                                _ sessions: some Sequence<StoredSession>, creator: Bool) {
        var groups: [String: [SessionKey]] = [:]
        var lastBytes: [UInt8] = [], lastKey = ""
        for s in sessions {
            s.withIndexBytes { _, device, createdBy in
                let bytes = creator ? createdBy : device
                guard !bytes.elementsEqual(lastBytes) || lastKey.isEmpty else { return }
                lastBytes = Array(bytes)
                lastKey = String(decoding: bytes, as: UTF8.self)
            }
            groups[lastKey, default: []].append(s.key)
        }
        for (k, keys) in groups {
            var set = self[keyPath: index].removeValue(forKey: k) ?? []
            set.reserveCapacity(set.count + keys.count)
            for key in keys { set.insert(key) }
            self[keyPath: index][k] = set
        }
    }
}
