// ULID: 48-bit millisecond time + 80 random bits, rendered as 26 lowercase Crockford characters,
// monotonic per process (spec/01 §1): within one millisecond, or when the clock steps back, the
// last time is kept and the random part incremented.
import Synchronization

public final class ULIDGenerator: Sendable {
    private struct State { var lastTime: UInt64 = 0; var high: UInt16 = 0; var low: UInt64 = 0 }
    private let state = Mutex(State())

    public init() {}

    /// Process-wide generator (monotonic across every caller).
    public static let shared = ULIDGenerator()

    public func next(nowMillis: Int64) throws(TokMeshError) -> String {
        let random = try SecureRandom.bytes(10)
        let (time, high, low) = state.withLock { s -> (UInt64, UInt16, UInt64) in
            let now = UInt64(max(0, nowMillis)) & 0xFFFF_FFFF_FFFF
            if now > s.lastTime {
                s.lastTime = now
                s.high = UInt16(random[0]) << 8 | UInt16(random[1])
                s.low = random[2..<10].reduce(0) { $0 << 8 | UInt64($1) }
            } else {
                let (low, overflow) = s.low.addingReportingOverflow(1)
                s.low = low
                if overflow { s.high &+= 1 }
            }
            return (s.lastTime, s.high, s.low)
        }
        return ULIDGenerator.encode(time: time, high: high, low: low)
    }

    static func encode(time: UInt64, high: UInt16, low: UInt64) -> String {
        var chars = [UInt8](repeating: 0, count: 26)
        // 48-bit time → 10 chars (top char holds 3 bits, so it is 0-7).
        var t = time
        for i in stride(from: 9, through: 0, by: -1) { chars[i] = Crockford.alphabet[Int(t & 31)]; t >>= 5 }
        // 80 random bits → 16 chars.
        var lo = low
        var hi = UInt64(high)
        for i in stride(from: 25, through: 10, by: -1) {
            chars[i] = Crockford.alphabet[Int(lo & 31)]
            lo = (lo >> 5) | ((hi & 31) << 59)
            hi >>= 5
        }
        return String(decoding: chars, as: UTF8.self)
    }

    /// True if `body` is 26 lowercase Crockford characters with a first character 0-7.
    public static func isValidBody<S: Collection<UInt8>>(_ body: S) -> Bool {
        guard body.count == 26, let first = body.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "7") else { return false }
        return body.allSatisfy { Crockford.value(of: $0) != nil }
    }
}
