// MetricsRegistry: the process's one Prometheus registry (swift-prometheus) behind the
// swift-metrics facade. Creating it bootstraps `MetricsSystem` with histogram buckets from the
// catalogue, so every `Counter`/`Timer`/`Recorder` a module creates afterwards lands here; the
// unlabelled metrics exist at zero from the start (spec/10 §3). Values that live elsewhere
// (connection counts, engine sizes, per-command RESP tallies) are copied in by scrape hooks
// just before the text is rendered, so the hot paths keep their own cheap counters.
import CoreMetrics
import Prometheus
import Synchronization

public final class MetricsRegistry: Sendable {
    /// Created on first use; the server touches it before anything records a metric.
    public static let shared = MetricsRegistry()

    public let prometheus: PrometheusCollectorRegistry
    private let hooks = Mutex<[@Sendable (MetricsRegistry) -> Void]>([])
    private let rawSections = Mutex<[@Sendable (inout [UInt8]) -> Void]>([])
    private let counterTotals = Mutex<[String: Double]>([:])
    private let renderLock = Mutex(())

    private init() {
        prometheus = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: prometheus)
        for d in MetricCatalogue.all {
            switch d.type {
            case .histogram(let b): factory.durationHistogramBuckets[d.name] = Self.durations(b)
            case .countHistogram: factory.valueHistogramBuckets[d.name] = MetricBuckets.count.bounds
            case .counter, .gauge: break
            }
        }
        MetricsSystem.bootstrap(factory)
        for d in MetricCatalogue.all where d.labels.isEmpty {
            switch d.type {
            case .counter: _ = prometheus.makeCounter(name: d.name)
            case .gauge: _ = prometheus.makeGauge(name: d.name)
            case .histogram(let b): _ = prometheus.makeDurationHistogram(name: d.name, buckets: Self.durations(b))
            case .countHistogram: _ = prometheus.makeValueHistogram(name: d.name, buckets: MetricBuckets.count.bounds)
            }
        }
    }

    static func durations(_ b: MetricBuckets) -> [Duration] {
        b.bounds.map { Duration.nanoseconds(Int64(($0 * 1e9).rounded())) }
    }

    /// Runs `hook` before every render (gauges and counters copied from their sources).
    public func onScrape(_ hook: @escaping @Sendable (MetricsRegistry) -> Void) { hooks.withLock { $0.append(hook) } }

    /// Appends exposition text after the registry's own (families the registry cannot hold,
    /// e.g. histograms merged from per-connection bucket tallies).
    public func addRawSection(_ section: @escaping @Sendable (inout [UInt8]) -> Void) { rawSections.withLock { $0.append(section) } }

    public func setGauge(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        let gauge = labels.isEmpty ? prometheus.makeGauge(name: name) : prometheus.makeGauge(name: name, labels: labels)
        gauge.set(value)
    }

    /// Moves a counter up to `total`, a running total kept elsewhere (never down: a smaller
    /// total after a restart of its source is ignored).
    public func syncCounter(_ name: String, _ labels: [(String, String)] = [], total: Double) {
        let key = labels.reduce(name) { $0 + "\u{0}" + $1.0 + "=" + $1.1 }
        let delta = counterTotals.withLock { totals -> Double in
            let previous = totals[key] ?? 0
            guard total > previous else { return 0 }
            totals[key] = total
            return total - previous
        }
        let counter = labels.isEmpty ? prometheus.makeCounter(name: name) : prometheus.makeCounter(name: name, labels: labels)
        if delta > 0 { counter.increment(by: delta) }
    }

    /// Prometheus text format 0.0.4 of everything, after running the scrape hooks.
    public func render() -> [UInt8] {
        renderLock.withLock { _ in
            for hook in hooks.withLock({ $0 }) { hook(self) }
            var out: [UInt8] = []
            out.reserveCapacity(64 * 1024)
            prometheus.emit(into: &out)
            for section in rawSections.withLock({ $0 }) { section(&out) }
            return out
        }
    }
}
