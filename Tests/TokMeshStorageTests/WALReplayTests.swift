// Tests of the session WAL (spec/02 §4): record payloads round-trip, every engine mutation is
// journaled, and replaying the journal into an empty engine rebuilds the same sessions,
// tombstones and indexes — twice over too (replay is idempotent).
import Synchronization
import Testing
@testable import TokMeshCore
@testable import TokMeshStorage

final class MemoryJournal: SessionJournal {
    let records = Mutex<[WALRecord]>([])
    func append(_ record: WALRecord, urgent: Bool) throws(TokMeshError) -> UInt64 {
        records.withLock { $0.append(record); return UInt64($0.count) }
    }
}

@Suite struct WALReplayTests {
    @Test("replay drops expired post-images and expired tombstones")
    func replayDropsExpired() {
        let s = makeSession(1, ttl: 1000)  // expires at 2000
        let e = SessionEngine(shardCount: 16)
        e.apply(.create(time: 1000, session: s), now: 2500)
        #expect(e.stats(now: 2500).totalSessions == 0)
        e.apply(.revoke(time: 1500, tombstone: Tombstone(tokenHash: s.tokenHash, sessionID: s.id, revokedAt: 1500, expiresAt: 2000)), now: 2500)
        #expect(e.stats(now: 2500).tombstones == 0)
        e.apply(.create(time: 1000, session: s), now: 1500)
        #expect(e.get(s.id, now: 1500) == .live(s))
    }

    @Test("every record type round-trips through its payload")
    func codec() throws {
        var s = makeSession(1, user: "ü", device: "d")
        s.data = ["k": "v", "a": ""]
        s.version = 9
        s.lastAccessIP = "::1"
        let records: [WALRecord] = [
            .create(time: 5, session: s), .update(time: 6, session: s), .delete(time: 7, sessionID: s.id, reason: .expired),
            .revoke(time: 8, tombstone: Tombstone(tokenHash: s.tokenHash, sessionID: s.id, revokedAt: 8, expiresAt: 99)),
            .reset(time: 9, snapshotID: "snap-20261127-120000-2"),
        ]
        for r in records { #expect(try WALRecord.decode(type: r.type, payload: r.encoded()) == r) }
        // Recovery's fast path decodes the same post-images straight into packed form.
        for r in records.prefix(2) {
            let fast = try #require(WALRecord.decodePostImage(type: r.type, payload: r.encoded()))
            #expect(fast.time == r.time && fast.session.blob == StoredSession(s)?.blob)
        }
        #expect(WALRecord.decodePostImage(type: records[2].type, payload: records[2].encoded()) == nil)
        #expect(WALRecord.decodePostImage(type: 1, payload: Array(records[0].encoded().dropLast())) == nil)
        #expect(throws: WALRecord.DecodeError.self) { try WALRecord.decode(type: 1, payload: Array(records[0].encoded().dropLast())) }
        #expect(throws: WALRecord.DecodeError.self) { try WALRecord.decode(type: 9, payload: records[0].encoded()) }
    }

    @Test("replaceContents logs the record under every lock, then swaps the whole state at once")
    func replaceContents() throws {
        let journal = MemoryJournal()
        let live = SessionEngine(shardCount: 16, journal: journal)
        let old = (0..<50).map { makeSession($0, user: "old") }
        for s in old { try live.create(s, maxPerUser: 1000, now: 1000) }
        let fresh = (100..<130).map { makeSession($0, user: "new", device: "d") }
        let aside = SessionEngine(shardCount: 16)
        aside.load(sessions: fresh.map { StoredSession($0)! }, tombstones: [], now: 1000)
        var sawIndex: UInt64?
        let index = try live.replaceContents(with: aside, logging: .reset(time: 1000, snapshotID: "snap-x")) { i throws(TokMeshError) in sawIndex = i }
        #expect(index == 51 && sawIndex == 51)
        #expect(journal.records.withLock { $0.last } == .reset(time: 1000, snapshotID: "snap-x"))
        #expect(Set(live.scan { _ in true }.map(\.id)) == Set(fresh.map(\.id)))
        #expect(live.sessionIDs(ofUser: "old").isEmpty && live.sessionIDs(ofUser: "new").count == 30)
        #expect(live.sessionIDs(ofDevice: "d").count == 30)
        #expect(live.validate(tokenHash: old[0].tokenHash, now: 1000) == .unknown)
        #expect(live.consistencyProblems().isEmpty)
        // The replacement now holds the old state; a failed `beforeSwap` leaves everything as it was.
        #expect(aside.stats(now: 1000).totalSessions == 50)
        #expect(throws: TokMeshError.self) {
            try live.replaceContents(with: aside, logging: nil) { _ throws(TokMeshError) in throw TokMeshError(.sysStorage) }
        }
        #expect(live.stats(now: 1000).totalSessions == 30)
    }

    func state(_ e: SessionEngine, now: Int64) -> ([String: Session], EngineStats) {
        (Dictionary(uniqueKeysWithValues: e.scan { _ in true }.map { ($0.id, $0) }), e.stats(now: now))
    }

    @Test("replaying the journal rebuilds the engine exactly, and replaying twice changes nothing")
    func replayRebuilds() throws {
        let journal = MemoryJournal()
        let live = SessionEngine(shardCount: 16, journal: journal)
        var ids: [String] = []
        for i in 0..<300 {
            let s = makeSession(i, user: "u\(i % 17)", device: i % 4 == 0 ? "dev" : "", ttl: i % 5 == 0 ? 500 : 60_000)
            try live.create(s, maxPerUser: 1000, now: 1000)
            ids.append(s.id)
        }
        for (n, id) in ids.enumerated() {
            switch n % 6 {
            case 0: _ = try live.revoke(id, now: 1200)
            case 1: _ = try? live.renew(id, ttlMillis: 90_000, expectedVersion: nil, now: 1300)
            case 2: _ = try? live.mutateLive(id, now: 1400) { (s: inout Session) throws(TokMeshError) -> Bool in s.lastActive = 1400; return true }
            case 3: _ = live.touchForValidate(id, tokenHash: Identifiers.tokenHash("token-\(n)-padding-xx"), now: 1450, ip: "10.0.0.1", userAgent: "gw")
            default: break
            }
        }
        var rng = SplitMix64(seed: 7)
        _ = live.gcTick(now: 4000, sampleSize: 50, using: &rng)  // purges the TTL-500 ones (DELETE records)
        let records = journal.records.withLock { $0 }
        #expect(records.contains { if case .delete(_, _, .expired) = $0 { return true }; return false })
        let rebuilt = SessionEngine(shardCount: 16)
        for r in records { rebuilt.apply(r, now: 4000) }
        // Purging an expired tombstone logs nothing (spec/01 §5.10); replay drops expired
        // tombstones itself (spec/02 §4).
        #expect(state(rebuilt, now: 4000).0 == state(live, now: 4000).0)
        #expect(state(rebuilt, now: 4000).1 == state(live, now: 4000).1)
        #expect(rebuilt.consistencyProblems().isEmpty)
        for r in records { rebuilt.apply(r, now: 4000) }
        #expect(state(rebuilt, now: 4000).0 == state(live, now: 4000).0 && rebuilt.consistencyProblems().isEmpty)
        // A revoked token is still refused after replay (session 6 was revoked long before expiry).
        #expect(rebuilt.validate(tokenHash: Identifiers.tokenHash("token-6-padding-xx"), now: 4000) == .revoked(revokedAt: 1200))
    }
}
