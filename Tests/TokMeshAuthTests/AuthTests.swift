// Tests of spec/03: Argon2id PHC handling, the authentication order (cache, brute force, key
// state, allow-lists, rate limit, rotation grace), client IP resolution and anti-replay.
import Testing
@testable import TokMeshAuth
@testable import TokMeshCore

final class ManualClock: TokMeshCore.Clock, @unchecked Sendable {
    // Tests drive it from one task at a time.
    var now: Int64
    init(_ now: Int64) { self.now = now }
    func nowMillis() -> Int64 { now }
}

let fastArgon2 = Argon2Parameters(memory: 8192, iterations: 1, parallelism: 1)

@Suite struct Argon2Tests {
    @Test("spec/03 §2.1: PHC string, parameters read back, wrong secret refused")
    func hashAndVerify() throws {
        let phc = try Argon2id.hash("tmas_secret", parameters: fastArgon2)
        #expect(phc.hasPrefix("$argon2id$v=19$m=8192,t=1,p=1$"))
        #expect(try Argon2id.parameters(of: phc) == fastArgon2)
        #expect(try Argon2id.verify("tmas_secret", phc: phc))
        #expect(try !Argon2id.verify("tmas_other", phc: phc))
    }

    @Test("unusable stored strings: other algorithm, version or out-of-range parameters")
    func unusable() throws {
        let phc = try Argon2id.hash("s", parameters: fastArgon2)
        for bad in [phc.replacingOccurrences(of: "argon2id", with: "argon2i"),
                    phc.replacingOccurrences(of: "v=19", with: "v=16"),
                    phc.replacingOccurrences(of: "m=8192", with: "m=1024"),
                    "plaintext"] {
            #expect(throws: Argon2Error.self) { try Argon2id.verify("s", phc: bad) }
        }
    }
}

@Suite struct AuthenticatorTests {
    struct Fixture {
        let clock = ManualClock(1_000_000)
        let auth: Authenticator
        let key: APIKey
        let secret: String
        let ip = IPAddress("127.0.0.1")!

        init(rate: Int = 1000, allowed: [CIDR] = [], settings: AuthSettings = AuthSettings()) throws {
            var s = settings
            s.argon2 = fastArgon2
            auth = Authenticator(registry: KeyRegistry(), settings: s, clock: clock)
            secret = try Identifiers.newSecret()
            key = APIKey(keyID: try Identifiers.newKeyID(nowMillis: 1), role: .issuer, description: "", allowedlist: allowed, rateLimit: rate,
                         expiresAt: 0, createdAt: 1, createdBy: "test", secretHash: try Argon2id.hash(secret, parameters: fastArgon2))
            auth.registry.insert(key)
        }

        func authenticate(_ credential: String?, ip: IPAddress? = nil) throws(TokMeshError) -> (Principal, cached: Bool) {
            switch try auth.begin(credential: credential, clientIP: ip ?? self.ip, adminRoute: false) {
            case .authenticated(let p): return (p, true)
            case .needsVerification(let pending): return (try auth.verify(pending), false)
            }
        }
        var credential: String { key.keyID + ":" + secret }
    }

    func code(_ body: () throws -> Void) -> ErrorCode? {
        do { try body(); return nil } catch let error as TokMeshError { return error.code } catch { return .sysInternal }
    }

    @Test("spec/03 §4.2: missing, malformed, unknown and wrong credentials")
    func credentials() throws {
        let f = try Fixture()
        #expect(code { _ = try f.authenticate(nil) } == .authMissing)
        #expect(code { _ = try f.authenticate("garbage") } == .authInvalid)
        #expect(code { _ = try f.authenticate(f.key.keyID + ":tmas_short") } == .authInvalid)
        #expect(code { _ = try f.authenticate(f.key.keyID + ":" + (try! Identifiers.newSecret())) } == .authInvalid)
        let (p, cached) = try f.authenticate(f.credential)
        #expect(p.role == .issuer && !cached)
        #expect(try f.authenticate(f.credential).cached, "a verified secret is cached")
    }

    @Test("spec/03 §5: a status change invalidates the cache and refuses the very next request")
    func disable() throws {
        let f = try Fixture()
        _ = try f.authenticate(f.credential)
        try f.auth.registry.update(f.key.keyID) { $0.status = .disabled }
        #expect(code { _ = try f.authenticate(f.credential) } == .authDisabled)
        try f.auth.registry.update(f.key.keyID) { $0.status = .active }
        #expect(try !f.authenticate(f.credential).cached)
        try f.auth.registry.update(f.key.keyID) { $0.expiresAt = f.clock.now - 1 }
        #expect(code { _ = try f.authenticate(f.credential) } == .authInvalid)
    }

    @Test("spec/03 §6: the bucket refuses when empty; wrong secrets do not drain it")
    func rateLimit() throws {
        let f = try Fixture(rate: 10)
        for _ in 0..<5 { _ = code { _ = try f.authenticate(f.key.keyID + ":" + (try! Identifiers.newSecret()), ip: IPAddress("10.9.9.9")!) } }
        var ok = 0, limited = 0
        for _ in 0..<40 {
            do throws(TokMeshError) { _ = try f.authenticate(f.credential); ok += 1 } catch {
                #expect(error.code == .sysRateLimited)
                #expect(error.headers.contains { $0.0 == "Retry-After" } && error.headers.contains { $0.0 == "X-RateLimit-Limit" && $0.1 == "10" })
                limited += 1
            }
        }
        #expect(ok >= 10 && ok <= 12 && limited == 40 - ok)
    }

    @Test("spec/03 §6: ten failures block the IP for uncached attempts; cache hits still pass")
    func bruteForce() throws {
        let f = try Fixture()
        _ = try f.authenticate(f.credential)
        for _ in 0..<10 { #expect(code { _ = try f.authenticate(f.key.keyID + ":" + (try! Identifiers.newSecret())) } == .authInvalid) }
        #expect(code { _ = try f.authenticate(f.key.keyID + ":" + (try! Identifiers.newSecret())) } == .sysRateLimited)
        #expect(try f.authenticate(f.credential).cached)
        f.clock.now += 61_000
        #expect(code { _ = try f.authenticate(f.key.keyID + ":" + (try! Identifiers.newSecret())) } == .authInvalid)
    }

    @Test("spec/03 §7: global and per-key allow-lists must both match")
    func allowLists() throws {
        let f = try Fixture(allowed: [CIDR("10.0.0.0/8")!])
        #expect(code { _ = try f.authenticate(f.credential) } == .authIP)
        #expect(try f.authenticate(f.credential, ip: IPAddress("10.1.2.3")!).0.role == .issuer)
        f.auth.updateSettings { $0.allowList = [CIDR("192.0.2.0/24")!] }
        #expect(code { _ = try f.authenticate(f.credential, ip: IPAddress("10.1.2.3")!) } == .authIP)
    }

    @Test("spec/03 §2.2: after rotation both secrets work until the grace ends")
    func rotation() throws {
        let f = try Fixture()
        let newSecret = try Identifiers.newSecret()
        let newHash = try Argon2id.hash(newSecret, parameters: fastArgon2)
        let now = f.clock.now
        try f.auth.registry.update(f.key.keyID) { k in
            k.oldSecretHash = k.secretHash
            k.secretHash = newHash
            k.gracePeriodEnd = now + 1000
        }
        #expect(try f.authenticate(f.credential).0.keyID == f.key.keyID)
        #expect(try f.authenticate(f.key.keyID + ":" + newSecret).0.keyID == f.key.keyID)
        f.clock.now += 2000
        #expect(code { _ = try f.authenticate(f.credential) } == .authInvalid, "the old secret's cache entry ends with the grace too")
        #expect(try f.authenticate(f.key.keyID + ":" + newSecret).cached)
    }

    @Test("spec/03 §8: timestamps outside the window and repeated nonces are refused")
    func antiReplay() throws {
        let f = try Fixture()
        let p = Principal(keyID: f.key.keyID, role: .issuer)
        let now = String(f.clock.now)
        try f.auth.checkReplay(p, timestamp: nil, nonce: nil, mandatory: true)
        try f.auth.checkReplay(p, timestamp: now, nonce: "n1", mandatory: false)
        #expect(code { try f.auth.checkReplay(p, timestamp: now, nonce: "n1", mandatory: false) } == .authNonce)
        #expect(code { try f.auth.checkReplay(p, timestamp: String(f.clock.now - 31_000), nonce: "n2", mandatory: false) } == .authTimestamp)
        #expect(code { try f.auth.checkReplay(p, timestamp: now, nonce: String(repeating: "x", count: 257), mandatory: false) } == .argInvalid)
        f.auth.updateSettings { $0.antiReplayRequired = true }
        #expect(code { try f.auth.checkReplay(p, timestamp: nil, nonce: nil, mandatory: true) } == .authTimestamp)
        try f.auth.checkReplay(p, timestamp: nil, nonce: nil, mandatory: false)
    }

    @Test("spec/03 §3: roles are levels; refusals carry required and current roles")
    func roles() throws {
        try Authenticator.authorize(Principal(keyID: "k", role: .admin), minimum: .issuer, adminRoute: false)
        do throws(TokMeshError) {
            try Authenticator.authorize(Principal(keyID: "k", role: .validator), minimum: .issuer, adminRoute: false)
            Issue.record("expected 4030")
        } catch {
            #expect(error.code == .authRole && error.details["required_roles"] == .strings(["issuer", "admin"]))
        }
        #expect(code { try Authenticator.authorize(Principal(keyID: "k", role: .issuer), minimum: .admin, adminRoute: true) } == .adminRole)
    }

    @Test("credential headers: Bearer first, then X-API-Key; other schemes ignored")
    func credentialHeaders() {
        #expect(Authenticator.credential(authorization: "Bearer a:b", apiKey: "c:d") == "a:b")
        #expect(Authenticator.credential(authorization: "Basic xyz", apiKey: "c:d") == "c:d")
        #expect(Authenticator.credential(authorization: nil, apiKey: nil) == nil)
    }
}

@Suite struct ClientIPTests {
    let peer = IPAddress("127.0.0.1")!

    func resolve(_ proxies: [String], _ headers: [String: String]) -> String {
        ClientIPResolver(trustedProxies: proxies.compactMap(CIDR.init))
            .resolve(peer: peer) { name in headers[name].map { [$0] } ?? [] }.description
    }

    @Test("spec/03 §7: headers are read only from trusted proxies, walked from the right")
    func resolution() {
        #expect(resolve([], ["x-forwarded-for": "10.1.2.3"]) == "127.0.0.1")
        #expect(resolve(["127.0.0.1/32"], ["x-forwarded-for": "10.1.2.3"]) == "10.1.2.3")
        #expect(resolve(["127.0.0.1/32"], ["x-forwarded-for": "10.1.2.3, 192.0.2.9"]) == "192.0.2.9")
        #expect(resolve(["127.0.0.1/32", "192.0.2.0/24"], ["x-forwarded-for": "10.1.2.3, 192.0.2.9"]) == "10.1.2.3")
        #expect(resolve(["127.0.0.1/32"], ["forwarded": "for=192.0.2.60;proto=http, for=\"[2001:db8::17]:4711\"", "x-forwarded-for": "9.9.9.9"]) == "2001:db8::17")
        #expect(resolve(["127.0.0.1/32"], ["x-forwarded-for": "unknown"]) == "127.0.0.1")
        #expect(resolve(["127.0.0.1/32"], ["x-real-ip": "::ffff:10.0.0.1"]) == "10.0.0.1")
    }
}

@Suite struct SingleVerificationTests {
    @Test("queued verifications of one credential reuse the first result")
    func queuedVerifications() throws {
        let f = try AuthenticatorTests.Fixture()
        var pendings: [PendingVerification] = []
        for _ in 0..<5 {
            guard case .needsVerification(let p) = try f.auth.begin(credential: f.credential, clientIP: f.ip, adminRoute: false) else {
                Issue.record("expected a verification"); return
            }
            pendings.append(p)
        }
        for p in pendings { #expect(try f.auth.verify(p).keyID == f.key.keyID) }
        #expect(f.auth.cache.counters.hits == 4, "only the first queued verification runs Argon2")
    }
}
