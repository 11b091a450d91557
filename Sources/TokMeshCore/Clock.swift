// Clock: time as an input. Services read "now" (Unix ms) from a Clock so tests can drive time;
// production uses the wall clock.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public protocol Clock: Sendable {
    /// Unix time in milliseconds (UTC).
    func nowMillis() -> Int64
}

public struct SystemClock: Clock {
    public init() {}
    public func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

/// A monotonic reading in nanoseconds, for durations (rate limiting, timeouts).
public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
