// Authenticator: the check order of spec/03 §4.2 for API keys — credential present, shape,
// validation cache, brute-force block, key state, allow-lists, rate limit, Argon2id, then role
// and anti-replay. `begin` is cheap and runs on the event loop; `verify` runs Argon2 and must be
// called off the event loops. Failures of steps 2, 5 and 8 count toward brute-force blocking.
import Crypto
import Synchronization
import TokMeshCore

public final class Authenticator: Sendable {
    public let registry: KeyRegistry
    public let cache: ValidationCache
    public let rateLimiter = RateLimiter()
    public let bruteForce: BruteForceGuard
    public let nonces: NonceCache
    private let settingsBox: Mutex<AuthSettings>
    private let settingsChanges = Atomic<UInt64>(0)
    private let clock: any TokMeshCore.Clock
    /// Called once when a client IP becomes blocked (the BRUTE_FORCE_BLOCKED audit record).
    private let onBlocked: (@Sendable (IPAddress) -> Void)?

    public init(registry: KeyRegistry, settings: AuthSettings, clock: any TokMeshCore.Clock,
                onBlocked: (@Sendable (IPAddress) -> Void)? = nil) {
        self.onBlocked = onBlocked
        self.registry = registry
        self.cache = ValidationCache(capacity: settings.cacheCapacity, ttlNanos: UInt64(settings.cacheTTLMillis) * 1_000_000)
        self.bruteForce = BruteForceGuard(failureLimit: settings.failureLimit)
        self.nonces = NonceCache(capacity: settings.nonceCacheSize)
        self.settingsBox = Mutex(settings)
        self.clock = clock
    }

    public var settings: AuthSettings { settingsBox.withLock { $0 } }

    public func updateSettings(_ change: (inout AuthSettings) -> Void) {
        let (old, new) = settingsBox.withLock { s -> (AuthSettings, AuthSettings) in
            let old = s
            change(&s)
            return (old, s)
        }
        bruteForce.failureLimit = new.failureLimit
        settingsChanges.wrappingAdd(1, ordering: .releasing)
        if old.allowList != new.allowList { cache.removeAll() }
    }

    /// Picks the credential: `Authorization: Bearer …` first, else `X-API-Key`.
    public static func credential(authorization: String?, apiKey: String?) -> String? {
        if let authorization {
            let u = authorization.utf8
            // "Bearer " compared case-insensitively without allocating.
            let scheme = Array("bearer ".utf8)
            func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c | 0x20 : c }
            if u.count > scheme.count, zip(u.prefix(scheme.count), scheme).allSatisfy({ lower($0) == $1 }) {
                let value = authorization.utf8.dropFirst(scheme.count)
                let trimmed = String(decoding: value, as: UTF8.self).trimmingWhitespace()
                if !trimmed.isEmpty { return trimmed }
            }
        }
        if let apiKey, !apiKey.isEmpty { return apiKey.trimmingWhitespace() }
        return nil
    }

    private func invalid(_ ip: IPAddress, now: Int64) -> TokMeshError {
        countFailure(ip, now: now)
        return TokMeshError(.authInvalid)
    }

    private func countFailure(_ ip: IPAddress, now: Int64) {
        if bruteForce.recordFailure(ip, now: now) { onBlocked?(ip) }
    }

    static let bruteForceMessage = "too many failed authentication attempts"
    private var metrics: AuthMetrics { AuthMetrics.shared }

    /// Steps 1-7. A cache hit completes authentication (and takes a rate-limit token).
    public func begin(credential: String?, clientIP: IPAddress, adminRoute: Bool) throws(TokMeshError) -> AuthStep {
        do {
            let step = try beginSteps(credential: credential, clientIP: clientIP, adminRoute: adminRoute)
            if case .authenticated = step {
                metrics.cacheHits.increment()
                metrics.success.increment()
            } else {
                metrics.cacheMisses.increment()
            }
            return step
        } catch {
            metrics.failed(error)
            throw error
        }
    }

    private func beginSteps(credential: String?, clientIP: IPAddress, adminRoute: Bool) throws(TokMeshError) -> AuthStep {
        let now = clock.nowMillis()
        let nowNanos = monotonicNanos()
        // 1. present
        guard let credential else { throw TokMeshError(.authMissing) }
        // 2. shape
        guard let colon = credential.firstIndex(of: ":"),
              let keyID = Identifiers.normalizeID(String(credential[..<colon]), kind: .apiKey) else { throw invalid(clientIP, now: now) }
        let secret = String(credential[credential.index(after: colon)...])
        guard Identifiers.isValidSecretShape(secret) else { throw invalid(clientIP, now: now) }
        let settings = self.settings
        // 3. cache
        let digest = ValidationCache.cacheKey(keyID: keyID, secret: secret)
        let key = registry.get(keyID)
        if let key, cache.lookup(digest, current: key, nowNanos: nowNanos, nowMillis: now) != nil {
            try checkKeyState(key, clientIP: clientIP, now: now, countFailure: false)
            try checkAllowLists(key, clientIP: clientIP, settings: settings, adminRoute: adminRoute)
            try rateLimiter.check(keyID: keyID, rate: key.rateLimit, take: true, nowNanos: nowNanos, nowMillis: now)
            registry.markUsed(keyID, at: now)
            return .authenticated(Principal(keyID: keyID, role: key.role))
        }
        // 4. brute-force block
        if let seconds = bruteForce.blockedSeconds(clientIP, now: now) {
            throw TokMeshError(.sysRateLimited, "\(Authenticator.bruteForceMessage), retry after \(seconds)s",
                               headers: [("Retry-After", String(seconds))])
        }
        // 5. key state
        guard let key else { throw invalid(clientIP, now: now) }
        try checkKeyState(key, clientIP: clientIP, now: now, countFailure: true)
        // 6. allow-lists
        try checkAllowLists(key, clientIP: clientIP, settings: settings, adminRoute: adminRoute)
        // 7. rate limit (the token is taken once the secret verified)
        try rateLimiter.check(keyID: keyID, rate: key.rateLimit, take: false, nowNanos: nowNanos, nowMillis: now)
        return .needsVerification(PendingVerification(keyID: keyID, secret: secret, clientIP: clientIP, cacheKeyDigest: digest))
    }

    private func checkKeyState(_ key: APIKey, clientIP: IPAddress, now: Int64, countFailure: Bool) throws(TokMeshError) {
        if key.status == .disabled {
            if countFailure { self.countFailure(clientIP, now: now) }
            throw TokMeshError(.authDisabled)
        }
        if key.isExpired(now: now) {
            if countFailure { self.countFailure(clientIP, now: now) }
            throw TokMeshError(.authInvalid)
        }
    }

    private func checkAllowLists(_ key: APIKey, clientIP: IPAddress, settings: AuthSettings, adminRoute: Bool) throws(TokMeshError) {
        let globalOK = settings.allowList.isEmpty || settings.allowList.contains { $0.contains(clientIP) }
        let keyOK = key.allowedlist.isEmpty || key.allowedlist.contains { $0.contains(clientIP) }
        guard globalOK && keyOK else {
            throw TokMeshError(adminRoute ? .adminIP : .authIP, details: ["client_ip": .string(clientIP.description)])
        }
    }

    /// Step 8: Argon2id against the current hash, else the old one inside its grace period.
    /// Blocking (tens of ms): call it off the event loops.
    public func verify(_ pending: PendingVerification) throws(TokMeshError) -> Principal {
        do {
            let principal = try verifySecret(pending)
            metrics.success.increment()
            return principal
        } catch {
            metrics.failed(error)
            throw error
        }
    }

    private func verifySecret(_ pending: PendingVerification) throws(TokMeshError) -> Principal {
        let now = clock.nowMillis()
        guard let key = registry.get(pending.keyID) else { throw invalid(pending.clientIP, now: now) }
        // Requests queued behind a verification of the same credential (a gateway reconnecting
        // its whole pool) find the result cached and skip their own Argon2 run.
        if cache.lookup(pending.cacheKeyDigest, current: key, nowNanos: monotonicNanos(), nowMillis: now) != nil {
            rateLimiter.take(keyID: key.keyID, rate: key.rateLimit, nowNanos: monotonicNanos())
            return Principal(keyID: key.keyID, role: key.role)
        }
        var matchedOld = false
        let argon2Start = monotonicNanos()
        defer { metrics.argon2.recordNanoseconds(Int64(monotonicNanos() - argon2Start)) }
        do {
            if try Argon2id.verify(pending.secret, phc: key.secretHash) {
                matchedOld = false
            } else if !key.oldSecretHash.isEmpty, now < key.gracePeriodEnd, try Argon2id.verify(pending.secret, phc: key.oldSecretHash) {
                matchedOld = true
            } else {
                throw invalid(pending.clientIP, now: now)
            }
        } catch let error as TokMeshError {
            throw error
        } catch {
            // An unusable stored hash: the key cannot authenticate (logged by the caller).
            throw invalid(pending.clientIP, now: now)
        }
        cache.store(pending.cacheKeyDigest, CachedVerification(keyID: key.keyID, keyVersion: key.version, matchedOldSecret: matchedOld, verifiedAtNanos: monotonicNanos()))
        rateLimiter.take(keyID: key.keyID, rate: key.rateLimit, nowNanos: monotonicNanos())
        registry.markUsed(key.keyID, at: now)
        return Principal(keyID: key.keyID, role: key.role)
    }

    /// What a RESP connection remembers between commands to re-check its key cheaply: the key
    /// record and the allow-list verdict for its client IP, valid while neither the registry
    /// nor the settings changed.
    public struct KeyCheckCache: Sendable {
        fileprivate var keyID: String
        fileprivate var role: Role
        fileprivate var version: UInt64
        fileprivate var rateLimit: Int
        fileprivate var disabled: Bool
        fileprivate var expiresAt: Int64
        fileprivate var registryGeneration: UInt64
        fileprivate var settingsGeneration: UInt64
        fileprivate var allowListRefusal: TokMeshError?
        fileprivate var lastMarkedUsed: Int64
    }

    /// spec/03 §4.3: every command on an authenticated RESP connection re-runs steps 5-7 against
    /// the current key record and takes a rate-limit token. Returns the key's current principal,
    /// or nil when its `version` is no longer `version` (the caller then authenticates the
    /// credential it kept again, through `begin`/`verify`). `cache` is the connection's.
    public func recheck(keyID: String, version: UInt64, clientIP: IPAddress, cache: inout KeyCheckCache?) throws(TokMeshError) -> Principal? {
        let now = clock.nowMillis()
        let registryGeneration = registry.generation
        let settingsGeneration = settingsChanges.load(ordering: .acquiring)
        if cache == nil || cache!.registryGeneration != registryGeneration || cache!.settingsGeneration != settingsGeneration || cache!.keyID != keyID {
            guard let key = registry.get(keyID) else {
                cache = nil
                throw TokMeshError(.authInvalid)
            }
            var refusal: TokMeshError?
            do throws(TokMeshError) {
                try checkAllowLists(key, clientIP: clientIP, settings: settings, adminRoute: false)
            } catch {
                refusal = error
            }
            cache = KeyCheckCache(keyID: keyID, role: key.role, version: key.version, rateLimit: key.rateLimit, disabled: key.status == .disabled,
                                  expiresAt: key.expiresAt, registryGeneration: registryGeneration, settingsGeneration: settingsGeneration,
                                  allowListRefusal: refusal, lastMarkedUsed: cache?.lastMarkedUsed ?? 0)
        }
        let entry = cache!
        if entry.disabled { throw TokMeshError(.authDisabled) }
        if entry.expiresAt != 0 && now >= entry.expiresAt { throw TokMeshError(.authInvalid) }
        if let refusal = entry.allowListRefusal { throw refusal }
        guard entry.version == version else { return nil }
        try rateLimiter.check(keyID: keyID, rate: entry.rateLimit, take: true, nowNanos: monotonicNanos(), nowMillis: now)
        if now - entry.lastMarkedUsed >= 1000 {
            registry.markUsed(keyID, at: now)
            cache!.lastMarkedUsed = now
        }
        return Principal(keyID: keyID, role: entry.role)
    }

    /// Step 9: minimum role; TM-AUTH-4030 (TM-ADMIN-4030 on admin routes).
    public static func authorize(_ principal: Principal, minimum: Role, adminRoute: Bool) throws(TokMeshError) {
        guard principal.role >= minimum else {
            let error = TokMeshError(adminRoute ? .adminRole : .authRole, details: [
                "required_roles": .strings(Role.allCases.filter { $0 >= minimum }.map(\.rawValue)),
                "current_role": .string(principal.role.rawValue),
            ])
            AuthMetrics.shared.refused(error)
            throw error
        }
    }

    /// Step 9 for a route that admits an exact set of roles (`/metrics`: metrics and admin).
    public static func authorize(_ principal: Principal, oneOf roles: [Role], adminRoute: Bool) throws(TokMeshError) {
        guard roles.contains(principal.role) else {
            let error = TokMeshError(adminRoute ? .adminRole : .authRole, details: [
                "required_roles": .strings(roles.map(\.rawValue)), "current_role": .string(principal.role.rawValue),
            ])
            AuthMetrics.shared.refused(error)
            throw error
        }
    }

    /// Step 10: anti-replay headers on POSTs (spec/03 §8).
    public func checkReplay(_ principal: Principal, timestamp: String?, nonce: String?, mandatory: Bool) throws(TokMeshError) {
        guard timestamp != nil || nonce != nil || mandatory else { return }
        let settings = self.settings
        guard timestamp != nil || nonce != nil || settings.antiReplayRequired else { return }
        let now = clock.nowMillis()
        if let nonce {
            let u = nonce.utf8
            guard !u.isEmpty, u.count <= 256, u.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E }) else {
                throw TokMeshError.invalid("X-Nonce", "X-Nonce must be 1-256 printable ASCII characters")
            }
        }
        // Compared without subtracting from the client's value, so no input can overflow.
        guard let timestamp, let ts = Int64(timestamp),
              ts >= now - settings.timestampWindowMillis, ts <= now + settings.timestampWindowMillis else {
            metrics.refused(TokMeshError(.authTimestamp))
            throw TokMeshError(.authTimestamp, details: ["server_time": .int(now)])
        }
        guard let nonce, nonces.record(keyID: principal.keyID, nonce: nonce, now: now, ttlMillis: settings.nonceTTLMillis) else {
            metrics.refused(TokMeshError(.authNonce))
            throw TokMeshError(.authNonce)
        }
    }
}
