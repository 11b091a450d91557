// KeyAdminService: API key administration of spec/03 §2.2 — create (also the emergency key of
// the local socket), list, get, status and rotate. Secrets are generated here, returned once
// and stored only as Argon2id PHC strings. Hashing blocks: call from off the event loops.
import TokMeshAuth
import TokMeshCore

public struct CreatedKey: Sendable {
    public var key: APIKey
    public var secret: String
    public var warning: String?
}

public struct KeyCreateInput: Sendable {
    public var role: String?
    public var description: String?
    public var allowedlist: [String]?
    public var rateLimit: Int64?
    public var expiresAt: Int64?
    public init() {}
}

public final class KeyAdminService: Sendable {
    public static let longLivedWarning = "Security Warning: This key is valid for more than 1 year. Please consider a shorter rotation cycle."
    public static let emergencyWarning = "This key was created via emergency channel. Please rotate it after normal access is restored."
    public static let noAdminWarning = "No active admin key remains; create one through the local admin socket."
    public static let yearMillis: Int64 = 365 * 86_400_000
    public static let descriptionBytesMax = 256
    public static let allowedlistMax = 100
    public static let rateLimitRange: ClosedRange<Int64> = 1...1_000_000
    public static let graceSecondsMax: Int64 = 86_400

    public let authenticator: Authenticator
    public let clock: any TokMeshCore.Clock

    public init(authenticator: Authenticator, clock: any TokMeshCore.Clock) {
        self.authenticator = authenticator
        self.clock = clock
    }

    private var registry: KeyRegistry { authenticator.registry }

    public func create(_ input: KeyCreateInput, createdBy: String) throws(TokMeshError) -> CreatedKey {
        guard let rawRole = input.role else { throw TokMeshError.missing("role") }
        guard let role = Role(rawValue: rawRole) else {
            throw TokMeshError(.argInvalid, "Role must be one of: admin, issuer, validator, metrics", details: ["field": "role"])
        }
        let description = input.description ?? ""
        guard description.utf8.count <= KeyAdminService.descriptionBytesMax else {
            throw TokMeshError.invalid("description", "description must be at most 256 bytes")
        }
        let list = input.allowedlist ?? []
        guard list.count <= KeyAdminService.allowedlistMax else { throw TokMeshError.invalid("allowedlist", "allowedlist holds at most 100 entries") }
        var cidrs: [CIDR] = []
        for item in list {
            guard let c = CIDR(item) else { throw TokMeshError.invalid("allowedlist", "allowedlist entries must be IP addresses or CIDRs") }
            cidrs.append(c)
        }
        let settings = authenticator.settings
        let rate = input.rateLimit ?? Int64(settings.defaultRateLimit)
        guard KeyAdminService.rateLimitRange.contains(rate) else { throw TokMeshError.invalid("rate_limit", "rate_limit must be 1-1000000") }
        let now = clock.nowMillis()
        let expiresAt = input.expiresAt ?? 0
        guard expiresAt == 0 || expiresAt > now else { throw TokMeshError.invalid("expires_at", "expires_at must be 0 or in the future") }
        let (key, secret) = try makeKey(role: role, description: description, allowedlist: cidrs, rateLimit: Int(rate),
                                        expiresAt: expiresAt, createdBy: createdBy, now: now)
        let warning = (expiresAt == 0 || expiresAt - now > KeyAdminService.yearMillis) ? KeyAdminService.longLivedWarning : nil
        return CreatedKey(key: key, secret: secret, warning: warning)
    }

    /// A never-expiring admin key for the local socket (spec/03 §9).
    public func createEmergency(description: String?) throws(TokMeshError) -> CreatedKey {
        let description = description ?? "Emergency Admin Key"
        guard description.utf8.count <= KeyAdminService.descriptionBytesMax else {
            throw TokMeshError.invalid("description", "description must be at most 256 bytes")
        }
        let (key, secret) = try makeKey(role: .admin, description: description, allowedlist: [],
                                        rateLimit: authenticator.settings.defaultRateLimit, expiresAt: 0,
                                        createdBy: Principal.localAdminID, now: clock.nowMillis())
        return CreatedKey(key: key, secret: secret, warning: KeyAdminService.emergencyWarning)
    }

    private func hash(_ secret: String) throws(TokMeshError) -> String {
        do {
            return try Argon2id.hash(secret, parameters: authenticator.settings.argon2)
        } catch {
            throw TokMeshError(.sysInternal, "could not hash the key secret")
        }
    }

    private func makeKey(role: Role, description: String, allowedlist: [CIDR], rateLimit: Int, expiresAt: Int64,
                         createdBy: String, now: Int64) throws(TokMeshError) -> (APIKey, String) {
        let secret = try Identifiers.newSecret()
        let key = APIKey(keyID: try Identifiers.newKeyID(nowMillis: now), role: role, description: description,
                         allowedlist: allowedlist, rateLimit: rateLimit, expiresAt: expiresAt, createdAt: now,
                         createdBy: createdBy, secretHash: try hash(secret))
        registry.insert(key)
        return (key, secret)
    }

    public static func keyID(_ raw: String) throws(TokMeshError) -> String {
        guard let id = Identifiers.normalizeID(raw, kind: .apiKey) else { throw TokMeshError.invalid("key_id", "Malformed key ID") }
        return id
    }

    public func get(_ rawID: String) throws(TokMeshError) -> APIKey {
        let id = try KeyAdminService.keyID(rawID)
        guard let key = registry.get(id) else { throw TokMeshError(.adminNotFound, "API key not found", details: ["key_id": .string(id)]) }
        return key
    }

    /// Keys newest first, optionally filtered.
    public func list(role: Role?, status: KeyStatus?) -> [APIKey] {
        registry.all()
            .filter { (role == nil || $0.role == role) && (status == nil || $0.status == status) }
            .sorted { ($0.createdAt, $0.keyID) > ($1.createdAt, $1.keyID) }
    }

    /// Sets the status; returns the key and the no-admin-left warning when it applies.
    public func setStatus(_ rawID: String, status rawStatus: String?) throws(TokMeshError) -> (APIKey, String?) {
        let id = try KeyAdminService.keyID(rawID)
        guard let rawStatus else { throw TokMeshError.missing("status") }
        guard let status = KeyStatus(rawValue: rawStatus) else { throw TokMeshError.invalid("status", "status must be active or disabled") }
        let key = try registry.update(id) { $0.status = status }
        let adminsLeft = registry.all().contains { $0.role == .admin && $0.status == .active && !$0.isExpired(now: clock.nowMillis()) }
        return (key, adminsLeft ? nil : KeyAdminService.noAdminWarning)
    }

    /// Rotation: new secret; the previous one stays valid for the grace period (one old secret
    /// at most). Returns the key and the new secret.
    public func rotate(_ rawID: String, graceSeconds: Int64?) throws(TokMeshError) -> (APIKey, String) {
        let id = try KeyAdminService.keyID(rawID)
        _ = try get(id)
        let graceMillis: Int64
        if let graceSeconds {
            guard (0...KeyAdminService.graceSecondsMax).contains(graceSeconds) else {
                throw TokMeshError.invalid("grace_seconds", "grace_seconds must be 0-86400")
            }
            graceMillis = graceSeconds * 1000
        } else {
            graceMillis = authenticator.settings.rotationGraceMillis
        }
        let secret = try Identifiers.newSecret()
        let newHash = try hash(secret)
        let now = clock.nowMillis()
        let key = try registry.update(id) { key in
            key.oldSecretHash = graceMillis > 0 ? key.secretHash : ""
            key.secretHash = newHash
            key.gracePeriodEnd = graceMillis > 0 ? now + graceMillis : 0
        }
        return (key, secret)
    }
}
