// ValidationCache: successful secret verifications (spec/03 §5), keyed by SHA-256 of
// "key_id:secret" so the secret itself is never kept. A hit skips Argon2 only; the caller still
// checks state, allow-lists, rate limit and role against the current key record. Bounded LRU
// with a TTL; a changed key version makes its entries misses.
import Crypto
import Synchronization
import TokMeshCore

public struct CachedVerification: Sendable, Equatable {
    public var keyID: String
    public var keyVersion: UInt64
    public var matchedOldSecret: Bool
    public var verifiedAtNanos: UInt64
}

public final class ValidationCache: Sendable {
    private struct Entry { var value: CachedVerification; var lastUse: UInt64 }
    private struct State { var entries: [[UInt8]: Entry] = [:]; var tick: UInt64 = 0; var hits: UInt64 = 0; var misses: UInt64 = 0 }
    private let state = Mutex(State())
    public let capacity: Int
    public let ttlNanos: UInt64

    public init(capacity: Int = 10_000, ttlNanos: UInt64 = 60_000_000_000) {
        self.capacity = capacity
        self.ttlNanos = ttlNanos
    }

    public static func cacheKey(keyID: String, secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Array((keyID + ":" + secret).utf8)))
    }

    /// A usable entry: younger than the TTL, same key version, and (old secret) inside the grace.
    public func lookup(_ key: [UInt8], current: APIKey, nowNanos: UInt64, nowMillis: Int64) -> CachedVerification? {
        state.withLock { s in
            s.tick &+= 1
            guard var entry = s.entries[key] else { s.misses += 1; return nil }
            let v = entry.value
            let fresh = nowNanos &- v.verifiedAtNanos < ttlNanos
            let sameVersion = v.keyVersion == current.version && v.keyID == current.keyID
            let graceOK = !v.matchedOldSecret || nowMillis < current.gracePeriodEnd
            guard fresh, sameVersion, graceOK else {
                s.entries[key] = nil
                s.misses += 1
                return nil
            }
            entry.lastUse = s.tick
            s.entries[key] = entry
            s.hits += 1
            return v
        }
    }

    public func store(_ key: [UInt8], _ value: CachedVerification) {
        state.withLock { s in
            s.tick &+= 1
            s.entries[key] = Entry(value: value, lastUse: s.tick)
            if s.entries.count > capacity {
                // Evict the least recently used tenth in one pass (amortised O(1) per insert).
                let victims = s.entries.sorted { $0.value.lastUse < $1.value.lastUse }.prefix(max(1, capacity / 10))
                for (k, _) in victims { s.entries[k] = nil }
            }
        }
    }

    public func removeAll() { state.withLock { $0.entries.removeAll() } }

    public var counters: (hits: UInt64, misses: UInt64) { state.withLock { ($0.hits, $0.misses) } }
    public var count: Int { state.withLock { $0.entries.count } }
}
