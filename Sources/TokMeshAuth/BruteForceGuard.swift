// BruteForceGuard: per-client-IP failure counting over a sliding minute (spec/03 §6). At
// `failureLimit` failures the IP is blocked for one minute; blocked IPs are refused before any
// key lookup or Argon2, except cache hits. Tracks at most `trackedIPsMax` addresses.
import Synchronization
import TokMeshCore

public final class BruteForceGuard: Sendable {
    public static let windowMillis: Int64 = 60_000
    public static let trackedIPsMax = 100_000
    private struct Record { var failures: [Int64] = []; var blockedUntil: Int64 = 0 }
    private let records = Mutex<[IPAddress: Record]>([:])
    private let limit = Atomic<Int>(10)

    public init(failureLimit: Int = 10) { limit.store(failureLimit, ordering: .relaxed) }

    public var failureLimit: Int {
        get { limit.load(ordering: .relaxed) }
        set { limit.store(newValue, ordering: .relaxed) }
    }

    /// Seconds left in a block of `ip`, or nil when it is not blocked.
    public func blockedSeconds(_ ip: IPAddress, now: Int64) -> Int? {
        records.withLock { map in
            guard let r = map[ip], r.blockedUntil > now else { return nil }
            return Int((r.blockedUntil - now + 999) / 1000)
        }
    }

    /// Records a failure; returns true when this failure starts a block.
    @discardableResult
    public func recordFailure(_ ip: IPAddress, now: Int64) -> Bool {
        let failureLimit = self.failureLimit
        return records.withLock { map in
            if map[ip] == nil && map.count >= BruteForceGuard.trackedIPsMax {
                // Drop the entries with the oldest activity to stay bounded.
                let stale = map.filter { $0.value.blockedUntil <= now && ($0.value.failures.last ?? 0) < now - BruteForceGuard.windowMillis }
                for k in stale.keys { map[k] = nil }
                if map.count >= BruteForceGuard.trackedIPsMax, let any = map.keys.first { map[any] = nil }
            }
            var r = map[ip] ?? Record()
            r.failures.removeAll { $0 <= now - BruteForceGuard.windowMillis }
            r.failures.append(now)
            var started = false
            if r.failures.count >= failureLimit && r.blockedUntil <= now {
                r.blockedUntil = now + BruteForceGuard.windowMillis
                r.failures.removeAll()
                started = true
            }
            map[ip] = r
            return started
        }
    }
}
