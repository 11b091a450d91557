// Tests of the session engine (spec/02 §2, spec/01 §5-§7): atomic create with quota and
// uniqueness, tombstones, expiry (lazy, sampler, due sweep) and index consistency under
// concurrent mutation.
import Dispatch
import Synchronization
import Testing
@testable import TokMeshCore
@testable import TokMeshStorage


func makeSession(_ n: Int, user: String = "alice", device: String = "", createdAt: Int64 = 1000, ttl: Int64 = 60_000) -> Session {
    Session(id: try! Identifiers.newSessionID(nowMillis: createdAt), userID: user, tokenHash: Identifiers.tokenHash("token-\(n)-padding-xx"),
            ipAddress: "127.0.0.1", userAgent: "test", deviceID: device, createdBy: "tmak-test", createdAt: createdAt,
            expiresAt: createdAt + ttl, data: [:])
}

@Suite struct SessionEngineTests {
    @Test("spec/01 §5.1: create, get, validate; a reused token or ID is refused")
    func createAndRead() throws {
        let engine = SessionEngine(shardCount: 16)
        let s = makeSession(1)
        try engine.create(s, maxPerUser: 50, now: 1000)
        #expect(engine.get(s.id, now: 1001) == .live(s))
        #expect(engine.validate(tokenHash: s.tokenHash, now: 1001) == .live(s))
        var sameToken = makeSession(1)
        sameToken.userID = "bob"
        #expect(throws: TokMeshError(.toknInUse)) { try engine.create(sameToken, maxPerUser: 50, now: 1000) }
        var sameID = makeSession(2)
        sameID.id = s.id
        do { try engine.create(sameID, maxPerUser: 50, now: 1000); Issue.record("expected 4090") } catch { #expect(error.code == .sessExists) }
        #expect(engine.consistencyProblems().isEmpty)
    }

    @Test("spec/01 §5.10: expiry is exact on read whatever the purge lag")
    func lazyExpiry() throws {
        let engine = SessionEngine(shardCount: 16)
        let s = makeSession(1, ttl: 1000)
        try engine.create(s, maxPerUser: 50, now: 1000)
        #expect(engine.validate(tokenHash: s.tokenHash, now: 1999) == .live(s))
        #expect(engine.validate(tokenHash: s.tokenHash, now: 2000) == .expired)
        #expect(engine.get(s.id, now: 2000) == .expired)
    }

    @Test("INFO keyspace avg_ttl: one session among many shards is found; an empty engine averages 0")
    func averageTTL() throws {
        let engine = SessionEngine(shardCount: 256)
        var rng = SplitMix64(seed: 7)
        #expect(engine.averageTTL(now: 1000, sample: 64, using: &rng) == 0)
        try engine.create(makeSession(1, ttl: 120_000), maxPerUser: 50, now: 1000)
        #expect(engine.averageTTL(now: 21_000, sample: 64, using: &rng) == 100_000)
    }

    @Test("spec/01 §6: the per-user quota counts unexpired sessions only")
    func quota() throws {
        let engine = SessionEngine(shardCount: 16)
        for i in 0..<3 { try engine.create(makeSession(i, ttl: i == 0 ? 500 : 60_000), maxPerUser: 3, now: 1000) }
        do { try engine.create(makeSession(9), maxPerUser: 3, now: 1000); Issue.record("expected quota error") } catch {
            #expect(error.code == .sessQuota && error.details["current"] == .int(3))
        }
        // After one expires the same create succeeds.
        try engine.create(makeSession(9, createdAt: 1600), maxPerUser: 3, now: 1600)
    }

    @Test("spec/01 §7: revoke leaves a tombstone until the original expiry; revoke is idempotent")
    func tombstones() throws {
        let engine = SessionEngine(shardCount: 16)
        let s = makeSession(1, ttl: 10_000)
        try engine.create(s, maxPerUser: 50, now: 1000)
        #expect(try engine.revoke(s.id, now: 2000) == RevokeOutcome(revoked: true, revokedAt: 2000))
        #expect(try engine.revoke(s.id, now: 2001) == RevokeOutcome(revoked: false, revokedAt: nil))
        #expect(engine.validate(tokenHash: s.tokenHash, now: 3000) == .revoked(revokedAt: 2000))
        #expect(engine.get(s.id, now: 3000) == .notFound)
        var reuse = makeSession(1)
        reuse.userID = "carol"
        #expect(throws: TokMeshError(.toknInUse)) { try engine.create(reuse, maxPerUser: 50, now: 3000) }
        #expect(engine.validate(tokenHash: s.tokenHash, now: 11_000) == .unknown)
        #expect(engine.stats(now: 3000).tombstones == 1)
        _ = engine.sweepDue(now: 12_000, limit: 100)
        #expect(engine.stats(now: 12_000).tombstones == 0)
        #expect(engine.consistencyProblems().isEmpty)
    }

    @Test("renew checks the expected version and may shorten; expired sessions are never revived")
    func renew() throws {
        let engine = SessionEngine(shardCount: 16)
        let s = makeSession(1, ttl: 10_000)
        try engine.create(s, maxPerUser: 50, now: 1000)
        do { _ = try engine.renew(s.id, ttlMillis: 5000, expectedVersion: 7, now: 2000); Issue.record("expected 4091") } catch {
            #expect(error.code == .sessVersion && error.details["current_version"] == .int(1))
        }
        let (previous, renewed, _) = try engine.renew(s.id, ttlMillis: 500, expectedVersion: 1, now: 2000)
        #expect(previous == 11_000 && renewed.expiresAt == 2500 && renewed.version == 2 && renewed.lastActive == 2000)
        do { _ = try engine.renew(s.id, ttlMillis: 5000, expectedVersion: nil, now: 2500); Issue.record("expected 4041") } catch {
            #expect(error.code == .sessExpired)
        }
        #expect(engine.consistencyProblems().isEmpty)
    }

    @Test("spec/01 §5.10: sampler and due sweep purge expired sessions; 10,000 TTL-1s sessions mostly gone after 5 s of ticks")
    func gc() throws {
        let engine = SessionEngine(shardCount: 16)
        for i in 0..<10_000 { try engine.create(makeSession(i, user: "u\(i % 200)", ttl: 1000), maxPerUser: 100, now: 1000) }
        let live = makeSession(99_999, user: "keeper", ttl: 3_600_000)
        try engine.create(live, maxPerUser: 100, now: 1000)
        var rng = SplitMix64(seed: 42)
        var now: Int64 = 1000
        while now < 6000 { _ = engine.gcTick(now: now, sampleSize: 20, using: &rng); now += 100 }
        let stats = engine.stats(now: now)
        #expect(stats.totalSessions < 2000)
        #expect(engine.get(live.id, now: now) == .live(live))
        #expect(engine.consistencyProblems().isEmpty)
        #expect(engine.sweepAll(now: now) == stats.totalSessions - 1)
        #expect(engine.stats(now: now).totalSessions == 1)
    }

    @Test("the due sweep honours its per-tick limit")
    func dueLimit() throws {
        let engine = SessionEngine(shardCount: 16)
        for i in 0..<300 { try engine.create(makeSession(i, user: "u\(i % 10)", ttl: 1000), maxPerUser: 100, now: 1000) }
        #expect(engine.sweepDue(now: 5000, limit: 100) == 100)
        #expect(engine.stats(now: 5000).totalSessions == 200)
        #expect(engine.sweepDue(now: 5000, limit: 1000) == 200)
    }

    @Test("spec/02 §2: indexes stay consistent under concurrent creates, renews, touches and revokes")
    func concurrentConsistency() throws {
        let engine = SessionEngine(shardCount: 16)
        let ids = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for i in 0..<400 {
                let n = worker * 10_000 + i
                let s = makeSession(n, user: "user\(n % 37)", device: n % 3 == 0 ? "dev\(n % 5)" : "")
                do { try engine.create(s, maxPerUser: 10_000, now: 1000); ids.withLock { $0.append(s.id) } } catch {}
                let pick = ids.withLock { $0.isEmpty ? nil : $0[(n * 7) % $0.count] }
                guard let pick else { continue }
                switch n % 4 {
                case 0: _ = try? engine.revoke(pick, now: 1500)
                case 1: _ = try? engine.renew(pick, ttlMillis: 90_000, expectedVersion: nil, now: 1200)
                case 2: _ = try? engine.mutateLive(pick, now: 1300) { (s: inout Session) throws(TokMeshError) -> Bool in s.lastActive = 1300; return true }
                default: _ = engine.validate(tokenHash: Identifiers.tokenHash("token-\(n)-padding-xx"), now: 1400)
                }
            }
        }
        #expect(engine.consistencyProblems() == [])
        let stats = engine.stats(now: 1600)
        #expect(stats.totalSessions + stats.tombstones == ids.withLock { $0.count })
    }

    @Test("spec/01 §6: of many concurrent creates with one token exactly one wins")
    func concurrentSameToken() throws {
        let engine = SessionEngine(shardCount: 16)
        let wins = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            var s = makeSession(7)
            s.userID = "user\(i)"
            do { try engine.create(s, maxPerUser: 50, now: 1000); wins.wrappingAdd(1, ordering: .relaxed) } catch {}
        }
        #expect(wins.load(ordering: .relaxed) == 1)
    }
}
