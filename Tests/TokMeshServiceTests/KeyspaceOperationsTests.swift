// Tests of the Redis-shaped session operations (spec/05 §7.2): SET's create-or-update with NX/XX
// and its field rules, DEL's counting, EXPIRE's conditions, and SCAN's ring-position pages —
// every live key exactly once, positions never split, stable keys found while others change.
import Testing
@testable import TokMeshCore
@testable import TokMeshService
@testable import TokMeshStorage

@Suite struct KeyspaceOperationsTests {
    let clock = TestClock(1_800_000_000_000)
    let service: SessionService
    let caller = CallerContext(createdBy: "tmak-01m8dj4nv1rn4ra90dznrh4xqz", clientIP: "10.0.0.7", userAgent: "redis-py/5.0")
    let id = "tmss-01jf8xzm7e3xqh5p8n4r6s2w0t"

    init() {
        service = SessionService(engine: SessionEngine(shardCount: 16), limits: SessionLimits(maxPerUser: 50), clock: clock)
    }

    func write(_ user: String?, token: String? = nil, data: [String: String]? = nil) -> SessionWrite {
        var w = SessionWrite()
        w.userID = user
        w.token = token
        w.data = data
        return w
    }

    @Test("SET creates when absent (token required), updates when live (token refused), NX/XX decide")
    func setCreateAndUpdate() throws {
        #expect(errorCode { _ = try service.set(id, write("bob"), ttlMillis: nil, condition: .always, caller: caller) } == .argMissing)
        #expect(try service.set(id, write("bob"), ttlMillis: nil, condition: .onlyIfPresent, caller: caller) == .conditionUnmet)
        guard case .written = try service.set(id, write("bob", token: "idp-opaque-token-0001"), ttlMillis: 60_000, condition: .always, caller: caller) else {
            Issue.record("create was not written")
            return
        }
        var s = try #require(service.live(id))
        #expect(s.userID == "bob" && s.expiresAt == clock.nowMillis() + 60_000 && s.ipAddress == "10.0.0.7" && s.userAgent == "redis-py/5.0")
        #expect(try service.set(id, write("bob", token: "idp-opaque-token-0001"), ttlMillis: nil, condition: .onlyIfAbsent, caller: caller) == .conditionUnmet)
        #expect(errorCode { _ = try service.set(id, write(nil, token: "idp-opaque-token-0002"), ttlMillis: nil, condition: .always, caller: caller) } == .argConflict)
        #expect(errorCode { _ = try service.set(id, write("carol"), ttlMillis: nil, condition: .always, caller: caller) } == .argConflict)
        clock.advance(1000)
        _ = try service.set(id, write(nil, data: ["plan": "pro"]), ttlMillis: nil, condition: .onlyIfPresent, caller: caller)
        let updated = try #require(service.live(id))
        #expect(updated.data == ["plan": "pro"] && updated.version == s.version + 1 && updated.expiresAt == s.expiresAt)
        // With a TTL the update moves expires_at (it may shorten), in the same record.
        _ = try service.set(id, write(nil), ttlMillis: 5_000, condition: .always, caller: caller)
        s = try #require(service.live(id))
        #expect(s.expiresAt == clock.nowMillis() + 5_000 && s.version == updated.version + 1 && s.data == ["plan": "pro"])
        // A CAS never creates.
        var cas = write("bob")
        cas.expectedVersion = 1
        #expect(errorCode { _ = try service.set("tmss-01jf8xzm7e3xqh5p8n4r6s2w0v", cas, ttlMillis: nil, condition: .always, caller: caller) } == .sessNotFound)
        #expect(errorCode { _ = try service.set(id, cas, ttlMillis: nil, condition: .always, caller: caller) } == .sessVersion)
    }

    @Test("an expired key is absent: SET and TM.CREATE purge it and create anew; EXPIRE answers 0")
    func expiredIsAbsent() throws {
        _ = try service.set(id, write("carol", token: "idp-opaque-token-0003"), ttlMillis: 1_000, condition: .always, caller: caller)
        clock.advance(1_500)
        #expect(service.live(id) == nil)
        #expect(try service.expire(id, ttlMillis: 60_000, condition: .always).applied == false)
        guard case .written = try service.set(id, write("carol", token: "idp-opaque-token-0003"), ttlMillis: nil, condition: .onlyIfAbsent, caller: caller) else {
            Issue.record("NX over an expired key did not create")
            return
        }
        #expect(try #require(service.live(id)).version == 1)
    }

    @Test("DEL counts live sessions once each; absent, repeated and expired keys count 0; over 1000 is refused")
    func deleteCounts() throws {
        var input = CreateSessionInput()
        input.userID = "dan"
        let a = try service.create(input, caller: caller).sessionID
        input.ttlMillis = 60_000
        let b = try service.create(input, caller: caller).sessionID
        #expect(try service.delete([a, a, b, id]).count == 2)
        #expect(try service.delete([a, b]).count == 0)
        #expect(errorCode { _ = try service.delete(Array(repeating: id, count: 1001)) } == .sessQuota)
    }

    @Test("EXPIRE: renew to now + TTL; GT/LT only when later/earlier; NX never")
    func expireConditions() throws {
        var input = CreateSessionInput()
        input.userID = "erin"
        input.ttlMillis = 100_000
        let sid = try service.create(input, caller: caller).sessionID
        #expect(try service.expire(sid, ttlMillis: 50_000, condition: .onlyIfLater).applied == false)
        #expect(try service.expire(sid, ttlMillis: 200_000, condition: .onlyIfEarlier).applied == false)
        #expect(try service.expire(sid, ttlMillis: 200_000, condition: .never).applied == false)
        #expect(try service.expire(sid, ttlMillis: 200_000, condition: .onlyIfLater).applied)
        #expect(try #require(service.live(sid)).expiresAt == clock.nowMillis() + 200_000)
        #expect(try service.expire(sid, ttlMillis: 10_000, condition: .always).applied)
        #expect(try #require(service.live(sid)).expiresAt == clock.nowMillis() + 10_000)
    }

    /// Every ID a full SCAN iteration returns, page by page.
    func fullScan(count: Int, between: () throws -> Void = {}) throws -> [String] {
        var cursor: UInt32 = 0
        var out: [String] = []
        repeat {
            let (ids, next) = service.engine.scanPage(from: cursor, count: count, now: clock.nowMillis())
            out += ids
            cursor = next
            try between()
        } while cursor != 0
        return out
    }

    @Test("SCAN: every live key exactly once, in ring order; expired and revoked ones never")
    func scanExactlyOnce() throws {
        var ids: [String] = []
        for i in 0..<500 {
            var input = CreateSessionInput()
            input.userID = "u\(i)"
            ids.append(try service.create(input, caller: caller).sessionID)
        }
        for count in [1, 7, 10, 1000] {
            let seen = try fullScan(count: count)
            #expect(seen.count == ids.count && Set(seen) == Set(ids), "COUNT \(count)")
            let positions = seen.map { MurmurHash3.hash32($0) }
            #expect(positions == positions.sorted(), "COUNT \(count): ring order")
        }
        _ = try service.revoke(ids[0])
        var input = CreateSessionInput()
        input.userID = "short"
        input.ttlMillis = 1000
        let short = try service.create(input, caller: caller).sessionID
        clock.advance(1500)
        let seen = Set(try fullScan(count: 10))
        #expect(!seen.contains(ids[0]) && !seen.contains(short) && seen.count == ids.count - 1)
    }

    @Test("SCAN: keys live through the whole iteration are returned exactly once while others come and go")
    func scanUnderChurn() throws {
        var stable: [String] = []
        for i in 0..<300 {
            var input = CreateSessionInput()
            input.userID = "s\(i)"
            stable.append(try service.create(input, caller: caller).sessionID)
        }
        var churn: [String] = []
        var rng = SplitMix64(seed: 5)
        let seen = try fullScan(count: 10) {
            for _ in 0..<5 {
                var input = CreateSessionInput()
                input.userID = "c\(rng.next() % 40)"
                churn.append(try service.create(input, caller: caller).sessionID)
            }
            if churn.count > 3, let victim = churn.indices.randomElement(using: &rng) {
                _ = try service.revoke(churn.remove(at: victim))
            }
        }
        var counts: [String: Int] = [:]
        for id in seen { counts[id, default: 0] += 1 }
        #expect(stable.allSatisfy { counts[$0] == 1 })
        #expect(counts.values.allSatisfy { $0 == 1 })
    }

    @Test("TM.VALIDATE's packed path gives validate's verdicts, with the digest computed without hex")
    func validateStored() throws {
        for token in ["idp-opaque-token-0001", "tmtk_" + String(repeating: "A", count: 43), String(repeating: "~", count: 512)] {
            #expect(TokenDigest(token: token) == TokenDigest(Identifiers.tokenHash(token)))
        }
        var input = CreateSessionInput()
        input.userID = "frank"
        let out = try service.create(input, caller: caller)
        let stored = try service.validateStored(token: out.token)
        #expect(stored.session == (try service.validate(token: out.token, touch: false, ipAddress: nil, userAgent: nil, caller: caller)).session)
        #expect(errorCode { _ = try service.validateStored(token: "short") } == .toknMalformed)
        #expect(errorCode { _ = try service.validateStored(token: "idp-opaque-token-9999") } == .toknUnknown)
        _ = try service.revoke(out.sessionID)
        #expect(errorCode { _ = try service.validateStored(token: out.token) } == .toknRevoked)
        input.ttlMillis = 1000
        let short = try service.create(input, caller: caller)
        clock.advance(1500)
        #expect(errorCode { _ = try service.validateStored(token: short.token) } == .toknExpired)
    }

    @Test("SCAN pages never split a ring position and the cursor continues after the last one")
    func scanIndexPages() {
        var index = ScanIndex()
        let keys = (0..<50).map { i in SessionKey("tmss-01jf8xzm7e3xqh5p8n4r6s2w" + String(format: "%02d", i).replacingOccurrences(of: "0", with: "a"))! }
        index.refresh(allKeys: { keys }, isPresent: { _ in true })
        let sorted = keys.map { ScanIndex.Entry(position: ScanIndex.position($0), key: $0) }.sorted()
        #expect(index.entries == sorted)
        let (page, more) = index.page(from: sorted[10].position, count: 5) { _ in true }
        #expect(page == Array(sorted[10..<15]) && more)
        let (rest, none) = index.page(from: sorted[45].position, count: 10) { _ in true }
        #expect(rest == Array(sorted[45...]) && !none)
    }
}
