// APIKey: the API key record of spec/01 §3 with its role levels (spec/03 §3). Secret hashes are
// Argon2id PHC strings and are never rendered; `json()` gives the key object of spec/04 §8.

public enum Role: String, Sendable, CaseIterable, Comparable {
    case metrics, validator, issuer, admin

    public var level: Int {
        switch self {
        case .metrics: 1
        case .validator: 2
        case .issuer: 3
        case .admin: 4
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.level < rhs.level }
}

public enum KeyStatus: String, Sendable {
    case active, disabled
}

public struct APIKey: Sendable, Equatable {
    public var keyID: String
    public var role: Role
    public var status: KeyStatus
    public var description: String
    public var allowedlist: [CIDR]
    public var rateLimit: Int
    public var expiresAt: Int64
    public var createdAt: Int64
    public var createdBy: String
    public var lastUsedAt: Int64
    public var gracePeriodEnd: Int64
    public var version: UInt64
    public var secretHash: String
    public var oldSecretHash: String

    public init(keyID: String, role: Role, description: String, allowedlist: [CIDR], rateLimit: Int,
                expiresAt: Int64, createdAt: Int64, createdBy: String, secretHash: String) {
        self.keyID = keyID
        self.role = role
        self.status = .active
        self.description = description
        self.allowedlist = allowedlist
        self.rateLimit = rateLimit
        self.expiresAt = expiresAt
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.lastUsedAt = 0
        self.gracePeriodEnd = 0
        self.version = 1
        self.secretHash = secretHash
        self.oldSecretHash = ""
    }

    public func isExpired(now: Int64) -> Bool { expiresAt != 0 && now >= expiresAt }

    public func json() -> JSONValue {
        .object([
            "key_id": .string(keyID),
            "role": .string(role.rawValue),
            "status": .string(status.rawValue),
            "description": .string(description),
            "allowedlist": .strings(allowedlist.map(\.description)),
            "rate_limit": .int(Int64(rateLimit)),
            "expires_at": .int(expiresAt),
            "created_at": .int(createdAt),
            "created_by": .string(createdBy),
            "last_used_at": .int(lastUsedAt),
            "grace_period_end": .int(gracePeriodEnd),
            "version": .uint(version),
        ])
    }
}
