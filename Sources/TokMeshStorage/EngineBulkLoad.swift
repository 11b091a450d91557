// EngineBulkLoad: loading a snapshot's sessions into an empty engine (recovery base, or a
// restore's state aside) on every core. The batch arrives routed by shard (SessionBatch.swift),
// so each shard is filled by one worker from contiguous lists: its tables stay in that worker's
// cache and no two workers touch a shard. A file may repeat an ID or a token (an unencrypted
// backup is only checksummed): a session whose ID or token an earlier session of the file
// already carries is left out, so a crafted file cannot break the indexes.
import Dispatch
import TokMeshCore

/// Flags indexed by a session's ordinal in the batch, each written by exactly one worker (the
/// owner of that session's ID or token shard) and read after the workers have joined.
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
    /// Loads sessions and tombstones into this (empty, private) engine.
    public func load(sessions: [StoredSession], tombstones: [StoredTombstone], now: Int64) {
        load(SessionBatch(sessions), tombstones: tombstones, now: now)
    }

    /// Loads a routed batch and tombstones into this (empty, private) engine. Holds every shard
    /// lock for the whole load; expired entries are skipped. With `fold` (the WAL after the
    /// snapshot, WALFold.swift), the snapshot's sessions and tombstones the log replaces are
    /// left out and the log's final images and tombstones are loaded with them, as one more
    /// worker's lists after the snapshot's: the state replaying the log record by record would
    /// reach.
    public func load(_ batch: SessionBatch, tombstones: [StoredTombstone], now: Int64, replayedOver fold: WALFold? = nil) {
        precondition(shards.count <= SessionRoutes.buckets, "more shards than routing buckets")
        for shard in shards { shard.lock.lock() }
        defer { for shard in shards.reversed() { shard.lock.unlock() } }
        // Ordinals from `fromLog` on are the log's images: the fold's checks are not for them.
        let fromLog = batch.count
        var allRoutes = batch.routes
        var allTombstones = tombstones
        if let fold {
            var logRoutes = SessionRoutes()
            for (i, image) in fold.liveImages.enumerated() { logRoutes.add(image, ordinal: Int32(fromLog + i)) }
            allRoutes.append(logRoutes)
            allTombstones = tombstones.filter { !fold.supersedes(token: $0.digest.key) } + fold.tombstones.values
        }
        let routes = allRoutes
        @Sendable func replaces(_ e: RoutedSession) -> Bool { Int(e.ordinal) < fromLog && fold?.replaces(e.key) == true }
        @Sendable func supersedes(_ e: RoutedToken) -> Bool { Int(e.ordinal) < fromLog && fold?.supersedes(token: e.token) == true }
        let count = routes.reduce(0) { $0 + $1.count }
        // The buckets that make up shard `index`, each in worker order.
        let bucketsPerShard = SessionRoutes.buckets / shards.count
        let mask = self.mask
        @Sendable func each<T>(_ lists: (SessionRoutes) -> [[T]], shard index: Int, _ body: (T) -> Void) {
            for r in routes {
                let all = lists(r)
                for k in 0..<bucketsPerShard { for e in all[index + k * (mask + 1)] { body(e) } }
            }
        }
        @Sendable func total<T>(_ lists: (SessionRoutes) -> [[T]], shard index: Int) -> Int {
            routes.reduce(0) { n, r in
                let all = lists(r)
                return n + (0..<bucketsPerShard).reduce(0) { $0 + all[index + $1 * (mask + 1)].count }
            }
        }
        // 1. Sessions and the token index, first one wins; later holders of a taken ID or token are flagged.
        let idTaken = Flags(count: count), tokenTaken = Flags(count: count)
        defer { idTaken.free(); tokenTaken.free() }
        DispatchQueue.concurrentPerform(iterations: shards.count) { index in
            let shard = shards[index]
            let ids = total({ $0.ids }, shard: index)
            shard.slotOfSession.reserveCapacity(shard.slotOfSession.count + ids)
            shard.sessionSlots.reserveCapacity(shard.sessionSlots.count + ids)
            shard.tokens.reserveCapacity(shard.tokens.count + total({ $0.tokens }, shard: index))
            each({ $0.ids }, shard: index) { e in
                guard e.expiresAt > now else { return }
                // A session the log names is left out like a repeated ID (its token comes out in 2).
                if shard.slotOfSession[e.key] != nil || replaces(e) {
                    idTaken[e.ordinal] = true
                } else {
                    shard.insertSession(e.session, key: e.key, expiresAt: e.expiresAt)
                }
            }
            each({ $0.tokens }, shard: index) { e in
                guard e.expiresAt > now else { return }
                // A token the log takes over is lost like a repeated one (the session comes out in 2).
                if supersedes(e) {
                    tokenTaken[e.ordinal] = true
                } else if let first = shard.tokens.updateValue(e.key, forKey: e.token) {
                    shard.tokens[e.token] = first
                    tokenTaken[e.ordinal] = true
                }
            }
        }
        // 2. Entries of sessions left out after all (their ID was new but their token was not,
        //    or the reverse) come out again; only a file with repeats has any.
        DispatchQueue.concurrentPerform(iterations: shards.count) { index in
            let shard = shards[index]
            each({ $0.ids }, shard: index) { e in
                if e.expiresAt > now && !idTaken[e.ordinal] && tokenTaken[e.ordinal] { shard.removeSession(e.key) }
            }
            each({ $0.tokens }, shard: index) { e in
                if e.expiresAt > now && !tokenTaken[e.ordinal] && idTaken[e.ordinal] { shard.removeToken(e.token) }
            }
        }
        // 3. User, creator and device indexes of the sessions kept.
        DispatchQueue.concurrentPerform(iterations: shards.count) { index in
            let shard = shards[index]
            shard.users.reserveCapacity(shard.users.count + total({ $0.users }, shard: index))
            each({ $0.users }, shard: index) { e in
                guard e.expiresAt > now, !idTaken[e.ordinal], !tokenTaken[e.ordinal] else { return }
                shard.setUser(e.name, e.key, expiresAt: e.expiresAt)
            }
            for (lists, index2) in [({ (r: SessionRoutes) in r.creators }, \EngineShard.creators), ({ (r: SessionRoutes) in r.devices }, \EngineShard.devices)] {
                // A few issuer keys create nearly every session, so runs of one name are the
                // rule: the group of the last name index is reused before any lookup, and a
                // worker's name index is resolved to its string once.
                var groups: [(name: String, keys: [SessionKey])] = []
                var position: [String: Int] = [:]
                for r in routes {
                    let all = lists(r)
                    var groupOfName: [Int32: Int] = [:]
                    var lastName: Int32 = -1, last = -1
                    for k in 0..<bucketsPerShard {
                        for e in all[index + k * (mask + 1)] {
                            guard e.expiresAt > now, !idTaken[e.ordinal], !tokenTaken[e.ordinal] else { continue }
                            if e.name != lastName {
                                if let found = groupOfName[e.name] {
                                    last = found
                                } else {
                                    let name = r.names[Int(e.name)]
                                    if let found = position[name] {
                                        last = found
                                    } else {
                                        last = groups.count
                                        position[name] = last
                                        groups.append((name, []))
                                    }
                                    groupOfName[e.name] = last
                                }
                                lastName = e.name
                            }
                            groups[last].keys.append(e.key)
                        }
                    }
                }
                for (name, keys) in groups {
                    var set = shard[keyPath: index2].removeValue(forKey: name) ?? []
                    set.reserveCapacity(set.count + keys.count)
                    for key in keys { set.insert(key) }
                    shard[keyPath: index2][name] = set
                }
            }
        }
        // 4. Tombstones (few): only for tokens no session or earlier tombstone holds.
        for t in allTombstones where t.expiresAt > now {
            let shard = shards[shardIndex(t.digest.key)]
            if shard.tokens[t.digest.key] == nil && shard.tombstones[t.digest.key] == nil { shard.setTombstone(t.digest.key, t) }
        }
    }
}
