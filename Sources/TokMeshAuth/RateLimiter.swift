// RateLimiter: one token bucket per API key on this node (spec/03 §6): rate = burst =
// `rate_limit`. Wrong secrets never drain a bucket because callers only take a token once the
// request authenticated. A refusal carries the 429 headers of spec/03 §6.
import Synchronization
import TokMeshCore

public final class RateLimiter: Sendable {
    private struct Bucket { var tokens: Double; var lastNanos: UInt64; var rate: Int }
    private let buckets = Mutex<[String: Bucket]>([:])

    public init() {}

    private static func refill(_ b: inout Bucket, rate: Int, nowNanos: UInt64) {
        if b.rate != rate { b.rate = rate; b.tokens = min(b.tokens, Double(rate)) }
        // Readings taken on other threads may arrive out of order: time never runs backwards here.
        guard nowNanos > b.lastNanos else { return }
        let elapsed = Double(nowNanos - b.lastNanos) / 1e9
        b.tokens = min(Double(rate), b.tokens + elapsed * Double(rate))
        b.lastNanos = nowNanos
    }

    /// Refills `b`, then takes a token if `take` and one is there; returns the wait for one
    /// when the bucket is empty.
    private static func consume(_ b: inout Bucket, rate: Int, take: Bool, nowNanos: UInt64) -> Double? {
        refill(&b, rate: rate, nowNanos: nowNanos)
        if b.tokens >= 1 {
            if take { b.tokens -= 1 }
            return nil
        }
        return (1 - b.tokens) / Double(rate)
    }

    /// Throws TM-SYS-4290 when the key's bucket has no token; takes one if `take`.
    public func check(keyID: String, rate: Int, take: Bool, nowNanos: UInt64, nowMillis: Int64) throws(TokMeshError) {
        let waitSeconds: Double? = buckets.withLock { map in
            // One hash: the bucket is changed in place.
            RateLimiter.consume(&map[keyID, default: Bucket(tokens: Double(rate), lastNanos: nowNanos, rate: rate)],
                                rate: rate, take: take, nowNanos: nowNanos)
        }
        guard let waitSeconds else { return }
        let retryAfter = max(1, Int(waitSeconds.rounded(.up)))
        let reset = (nowMillis + Int64((waitSeconds * 1000).rounded(.up)) + 999) / 1000
        throw TokMeshError(.sysRateLimited, "rate limit exceeded, retry after \(retryAfter)s", headers: [
            ("Retry-After", String(retryAfter)), ("X-RateLimit-Limit", String(rate)),
            ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", String(reset)),
        ])
    }

    /// Takes a token after a successful verification (never fails; the check came first).
    public func take(keyID: String, rate: Int, nowNanos: UInt64) {
        buckets.withLock { map in
            var b = map[keyID] ?? Bucket(tokens: Double(rate), lastNanos: nowNanos, rate: rate)
            RateLimiter.refill(&b, rate: rate, nowNanos: nowNanos)
            b.tokens = max(0, b.tokens - 1)
            map[keyID] = b
        }
    }
}
