// AuthSettings: the security configuration the authenticator reads on every request
// (spec/03 §12). Hot-reloadable values (allow-list, default rate limit, failure limit) are
// swapped atomically by the server through `Authenticator.updateSettings`.
import TokMeshCore

public struct AuthSettings: Sendable, Equatable {
    public var allowList: [CIDR] = []
    public var trustedProxies: [CIDR] = []
    public var rotationGraceMillis: Int64 = 3_600_000
    public var cacheCapacity: Int = 10_000
    public var cacheTTLMillis: Int64 = 60_000
    public var argon2 = Argon2Parameters()
    public var defaultRateLimit: Int = 1000
    public var failureLimit: Int = 10
    public var antiReplayRequired = false
    public var timestampWindowMillis: Int64 = 30_000
    public var nonceTTLMillis: Int64 = 60_000
    public var nonceCacheSize: Int = 100_000

    public init() {}
}
