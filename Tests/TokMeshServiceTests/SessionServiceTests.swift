// Tests of the session service (spec/01 §5): the one implementation every protocol calls —
// create checks and outputs, validate outcomes, touch/renew rules, revoke-by-user limits, list
// filters, sorting, paging and projections.
import Dispatch
import Synchronization
import Testing
@testable import TokMeshCore
@testable import TokMeshService
@testable import TokMeshStorage

final class TestClock: TokMeshCore.Clock, @unchecked Sendable {
    // Tests move it between calls, never concurrently with readers that care.
    let value: Atomic<Int64>
    init(_ now: Int64) { value = Atomic(now) }
    func nowMillis() -> Int64 { value.load(ordering: .relaxed) }
    func advance(_ ms: Int64) { value.wrappingAdd(ms, ordering: .relaxed) }
}

func errorCode(_ body: () throws -> Void) -> ErrorCode? {
    do { try body(); return nil } catch let e as TokMeshError { return e.code } catch { return .sysInternal }
}

@Suite struct SessionServiceTests {
    let clock = TestClock(1_800_000_000_000)
    let service: SessionService
    let caller = CallerContext(createdBy: "tmak-01m8dj4nv1rn4ra90dznrh4xqz", clientIP: "127.0.0.1", userAgent: "curl/8")

    init() {
        service = SessionService(engine: SessionEngine(shardCount: 16), limits: SessionLimits(maxPerUser: 50), clock: clock)
    }

    func create(_ user: String = "alice", _ change: (inout CreateSessionInput) -> Void = { _ in }) throws -> CreateSessionOutput {
        var input = CreateSessionInput()
        input.userID = user
        change(&input)
        return try service.create(input, caller: caller)
    }

    @Test("spec/01 §5.1: create defaults, generated token, transport IP and agent")
    func createDefaults() throws {
        let out = try create()
        #expect(out.token.hasPrefix("tmtk_") && out.token.utf8.count == 48 && out.sessionID.utf8.count == 31)
        #expect(out.expiresAt - out.createdAt == 7_200_000 && out.version == 1)
        let s = try service.get(out.sessionID.uppercased())
        #expect(s.ipAddress == "127.0.0.1" && s.userAgent == "curl/8" && s.createdBy == caller.createdBy && s.lastActive == s.createdAt)
    }

    @Test("spec/01 §9.2-9.3: client token echoed; bad inputs give their codes")
    func createInputs() throws {
        let token = "client-token-16c"
        #expect(try create { $0.token = token }.token == token)
        #expect(errorCode { _ = try create { $0.token = token } } == .toknInUse)
        #expect(errorCode { _ = try create { $0.token = "short-token-15c" } } == .toknMalformed)
        #expect(errorCode { _ = try create { $0.token = "has inner space!!" } } == .toknMalformed)
        #expect(errorCode { _ = try create(String(repeating: "u", count: 129)) } == .sessLimit)
        #expect(errorCode { _ = try create("") } == .argMissing)
        #expect(errorCode { _ = try create { $0.data = ["k": String(repeating: "v", count: 4097)] } } == .sessLimit)
        #expect(errorCode { _ = try create { $0.ttlMillis = 721 * 3_600_000 } } == .argInvalid)
        #expect(errorCode { _ = try create { $0.sessionID = "tmss-bad" } } == .argInvalid)
        #expect(errorCode { _ = try create { $0.ipAddress = "999.1.1.1" } } == .sessLimit)
        let ua = try create { $0.userAgent = String(repeating: "a", count: 600) }
        #expect(try service.get(ua.sessionID).userAgent.utf8.count == 512)
        let chosen = try Identifiers.newSessionID(nowMillis: 5)
        #expect(try create { $0.sessionID = chosen.uppercased() }.sessionID == chosen)
        #expect(errorCode { _ = try create("bob") { $0.sessionID = chosen } } == .sessExists)
    }

    @Test("spec/01 §9.4: the 51st live session is refused until one expires")
    func quota() throws {
        _ = try create { $0.ttlMillis = 1000 }
        for _ in 0..<49 { _ = try create() }
        #expect(errorCode { _ = try create() } == .sessQuota)
        clock.advance(1000)
        _ = try create()
    }

    @Test("spec/01 §9.5: live, revoked, expired; TTL 1 s valid at 0.5 s and expired at 1.5 s")
    func validateOutcomes() throws {
        let out = try create { $0.ttlMillis = 1000 }
        clock.advance(500)
        #expect(try service.validate(token: out.token, touch: false, ipAddress: nil, userAgent: nil, caller: caller).session.id == out.sessionID)
        clock.advance(1000)
        #expect(errorCode { _ = try service.validate(token: out.token, touch: false, ipAddress: nil, userAgent: nil, caller: caller) } == .toknExpired)
        #expect(errorCode { _ = try service.get(out.sessionID) } == .sessExpired)
        let other = try create()
        #expect(try service.revoke(other.sessionID).revoked)
        #expect(errorCode { _ = try service.validate(token: other.token, touch: false, ipAddress: nil, userAgent: nil, caller: caller) } == .toknRevoked)
        #expect(errorCode { _ = try service.get(other.sessionID) } == .sessNotFound)
        #expect(try !service.revoke(other.sessionID).revoked)
        #expect(errorCode { _ = try service.validate(token: "tmtk_unknown-token-here", touch: false, ipAddress: nil, userAgent: nil, caller: caller) } == .toknUnknown)
        #expect(errorCode { _ = try service.validate(token: "bad", touch: false, ipAddress: nil, userAgent: nil, caller: caller) } == .toknMalformed)
    }

    @Test("spec/01 §9.6: GET changes nothing; touch never lowers last_active; renew keeps IP and agent")
    func touchAndRenew() throws {
        let out = try create()
        let before = try service.get(out.sessionID)
        #expect(try service.get(out.sessionID) == before)
        #expect(try service.touch(out.sessionID).session.version == 1, "a touch in the same millisecond changes nothing")
        clock.advance(10)
        let touched = try service.touch(out.sessionID).session
        #expect(touched.lastActive == before.lastActive + 10 && touched.version == 2)
        let validated = try service.validate(token: out.token, touch: true, ipAddress: "10.0.0.9", userAgent: "gw", caller: caller).session
        #expect(validated.lastAccessIP == "10.0.0.9" && validated.lastAccessUA == "gw" && validated.ipAddress == "127.0.0.1")
        clock.advance(10)
        let renewed = try service.renew(out.sessionID, ttlMillis: 60_000, expectedVersion: Int64(validated.version))
        #expect(renewed.newExpiresAt == clock.nowMillis() + 60_000 && renewed.version == validated.version + 1)
        let after = try service.get(out.sessionID)
        #expect(after.ipAddress == before.ipAddress && after.userAgent == before.userAgent)
        #expect(errorCode { _ = try service.renew(out.sessionID, ttlMillis: 60_000, expectedVersion: 1) } == .sessVersion)
        #expect(errorCode { _ = try service.renew(out.sessionID, ttlMillis: nil, expectedVersion: nil) } == .argMissing)
    }

    @Test("spec/01 §9.9: of 100 concurrent renews with one expected version exactly one wins")
    func concurrentRenews() throws {
        let out = try create()
        let wins = Atomic<Int>(0), conflicts = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 100) { _ in
            do throws(TokMeshError) {
                _ = try service.renew(out.sessionID, ttlMillis: 60_000, expectedVersion: 1)
                wins.wrappingAdd(1, ordering: .relaxed)
            } catch {
                if error.code == .sessVersion { conflicts.wrappingAdd(1, ordering: .relaxed) }
            }
        }
        #expect(wins.load(ordering: .relaxed) == 1 && conflicts.load(ordering: .relaxed) == 99)
    }

    @Test("spec/01 §9.7: revoke-by-user over 1000 held sessions revokes nothing")
    func revokeByUser() throws {
        let big = SessionService(engine: SessionEngine(shardCount: 16), limits: SessionLimits(maxPerUser: 2000), clock: clock)
        for _ in 0..<1001 { var i = CreateSessionInput(); i.userID = "bulk"; _ = try big.create(i, caller: caller) }
        do throws(TokMeshError) { _ = try big.revokeByUser("bulk"); Issue.record("expected 4002") } catch {
            #expect(error.code == .sessQuota && error.details["found"] == .int(1001))
        }
        #expect(big.stats().totalSessions == 1001)
        for _ in 0..<3 { _ = try create("carol") }
        #expect(try service.revokeByUser("carol").count == 3)
        #expect(try service.revokeByUser("carol").count == 0)
    }

    @Test("spec/01 §9.8: list filters, sort orders, paging")
    func list() throws {
        var ids: [String] = []
        for i in 0..<5 {
            clock.advance(10)
            ids.append(try create("dave") { $0.deviceID = i % 2 == 0 ? "phone" : "laptop"; $0.ipAddress = "10.0.0.\(i)" }.sessionID)
        }
        _ = try create("erin")
        var q = SessionQuery()
        q.userID = "dave"
        #expect(service.list(q).items.map(\.id) == ids.reversed())
        q.ascending = true
        q.size = 2
        q.page = 2
        #expect(service.list(q).items.map(\.id) == Array(ids[2..<4]) && service.list(q).total == 5)
        q = SessionQuery()
        q.deviceID = "phone"
        #expect(service.list(q).total == 3)
        q = SessionQuery()
        q.ipRange = CIDR("10.0.0.0/31")
        #expect(Set(service.list(q).items.map(\.id)) == Set(ids[0..<2]))
        q = SessionQuery()
        q.createdAfter = try service.get(ids[3]).createdAt
        #expect(service.list(q).total == 3)
        q = SessionQuery()
        q.keyID = caller.createdBy
        q.createdBefore = try service.get(ids[1]).createdAt
        #expect(service.list(q).items.map(\.id) == [ids[0]])
        clock.advance(10)
        _ = try service.touch(ids[0])
        q = SessionQuery()
        q.sortBy = .lastActive
        #expect(service.list(q).items.first?.id == ids[0])
        q.activeAfter = clock.nowMillis()
        #expect(service.list(q).items.map(\.id) == [ids[0]])
        q = SessionQuery()
        q.page = 9
        #expect(service.list(q).items.isEmpty)
        q = SessionQuery()
        q.status = .expired
        #expect(service.list(q).total == 0)
    }

    @Test("projections keep id and drop token_hash always")
    func projection() throws {
        let s = try service.get(try create().sessionID)
        let full = s.json(now: clock.nowMillis())
        #expect(full.objectValue?["token_hash"] == nil && full.objectValue?["status"] == .string("active"))
        #expect(s.json(now: clock.nowMillis(), fields: ["user_id"]).objectValue?.keys == ["id", "user_id"])
    }
}
