// NonceCache: anti-replay nonces per API key on this node (spec/03 §8), an LRU bounded by
// `capacity` whose entries live `ttlMillis`. Never replicated.
import Synchronization

public final class NonceCache: Sendable {
    private struct State { var expiry: [String: Int64] = [:] }
    private let state = Mutex(State())
    public let capacity: Int

    public init(capacity: Int = 100_000) { self.capacity = capacity }

    /// Records the nonce; false if it was already seen within its TTL.
    public func record(keyID: String, nonce: String, now: Int64, ttlMillis: Int64) -> Bool {
        let key = keyID + "\u{0}" + nonce
        return state.withLock { s in
            if let until = s.expiry[key], until > now { return false }
            if s.expiry.count >= capacity {
                for (k, until) in s.expiry where until <= now { s.expiry[k] = nil }
                if s.expiry.count >= capacity {
                    let oldest = s.expiry.sorted { $0.value < $1.value }.prefix(max(1, capacity / 10))
                    for (k, _) in oldest { s.expiry[k] = nil }
                }
            }
            s.expiry[key] = now + ttlMillis
            return true
        }
    }

    public func removeExpired(now: Int64) -> Int {
        state.withLock { s in
            let before = s.expiry.count
            s.expiry = s.expiry.filter { $0.value > now }
            return before - s.expiry.count
        }
    }
}
