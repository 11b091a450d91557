// TraceSampler: the sampling rule of spec/10 §5 — parent-based (a remote parent's sampled flag
// is obeyed), a root is sampled with probability `sampling_ratio`, and at most 100 new sampled
// roots a second per node whatever the ratio. Pure apart from the random draw it is handed.
import Synchronization

public final class TraceSampler: Sendable {
    public static let rootsPerSecondMax = 100
    public let ratio: Double
    private let window = Mutex<(second: Int64, roots: Int)>((0, 0))

    public init(ratio: Double) { self.ratio = min(1, max(0, ratio)) }

    /// Whether a new trace (no parent) is recorded; `draw` is uniform in [0, 1).
    public func sampleRoot(nowMillis: Int64, draw: Double) -> Bool {
        guard ratio > 0, draw < ratio else { return false }
        let second = nowMillis / 1000
        return window.withLock { w in
            if w.second != second { w = (second, 0) }
            guard w.roots < Self.rootsPerSecondMax else { return false }
            w.roots += 1
            return true
        }
    }
}
