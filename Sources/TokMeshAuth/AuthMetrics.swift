// AuthMetrics: the credential-check metrics of spec/10 §3 — every check's result, failures by
// reason, validation-cache hits and misses, Argon2 time and rate-limit refusals — recorded by
// the Authenticator through the swift-metrics facade (no-ops until a backend is bootstrapped).
import CoreMetrics
import TokMeshCore

final class AuthMetrics: Sendable {
    static let shared = AuthMetrics()

    let success = CoreMetrics.Counter(label: "tokmesh_auth_requests_total", dimensions: [("result", "success")])
    let failure = CoreMetrics.Counter(label: "tokmesh_auth_requests_total", dimensions: [("result", "failure")])
    let cacheHits = CoreMetrics.Counter(label: "tokmesh_auth_cache_hits_total")
    let cacheMisses = CoreMetrics.Counter(label: "tokmesh_auth_cache_misses_total")
    let argon2 = CoreMetrics.Timer(label: "tokmesh_auth_argon2_duration_seconds")
    private let reasons: [String: CoreMetrics.Counter]
    private let rateLimitedKey = CoreMetrics.Counter(label: "tokmesh_rate_limited_total", dimensions: [("scope", "key")])
    private let rateLimitedIP = CoreMetrics.Counter(label: "tokmesh_rate_limited_total", dimensions: [("scope", "ip")])

    static let reasonNames = ["missing", "invalid_key", "disabled", "expired", "ip_blocked", "role", "rate_limited", "replay", "brute_force"]

    private init() {
        reasons = Dictionary(uniqueKeysWithValues: Self.reasonNames.map {
            ($0, CoreMetrics.Counter(label: "tokmesh_auth_failures_total", dimensions: [("reason", $0)]))
        })
    }

    /// Counts a failed credential check (steps 1-8) and its reason.
    func failed(_ error: TokMeshError) {
        failure.increment()
        refused(error)
    }

    /// Counts a refusal under the reason its error code names (role and anti-replay refusals
    /// come after a successful credential check and are counted only here).
    func refused(_ error: TokMeshError) {
        let reason: String
        switch error.code {
        case .authMissing: reason = "missing"
        case .authDisabled: reason = "disabled"
        case .authIP, .adminIP: reason = "ip_blocked"
        case .authRole, .adminRole: reason = "role"
        case .authTimestamp, .authNonce: reason = "replay"
        case .sysRateLimited:
            if error.message.hasPrefix(Authenticator.bruteForceMessage) {
                reason = "brute_force"
                rateLimitedIP.increment()
            } else {
                reason = "rate_limited"
                rateLimitedKey.increment()
            }
        default: reason = "invalid_key"
        }
        reasons[reason]?.increment()
    }
}
