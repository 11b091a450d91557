// Tests of the metric catalogue against what uses it: every `tokmesh_*` name in the shipped
// alert rules (deploy/prometheus/alerts.yaml, spec/10 §7) is a declared metric, names follow
// the Prometheus conventions of spec/10 §3, and each bucket set is strictly increasing.
import Foundation
import Testing
@testable import TokMeshTelemetry

@Suite struct MetricCatalogueTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("spec/10 §7: every tokmesh_* name in alerts.yaml is declared in the registry's catalogue")
    func alertNamesDeclared() throws {
        let text = try String(contentsOf: Self.repository.appendingPathComponent("deploy/prometheus/alerts.yaml"), encoding: .utf8)
        let names = Set(text.matches(of: /tokmesh_[a-z0-9_]+/).map { String($0.output) })
        #expect(names.count > 15)
        for name in names {
            var base = name
            for suffix in ["_bucket", "_sum", "_count"] where base.hasSuffix(suffix) && MetricCatalogue.byName[base] == nil {
                base = String(base.dropLast(suffix.count))
            }
            #expect(MetricCatalogue.byName[base] != nil, "alerts.yaml uses \(name), which no metric declares")
        }
    }

    @Test("spec/10 §3: prefix, counters end in _total, histograms in a base unit, unique names")
    func conventions() {
        #expect(MetricCatalogue.byName.count == MetricCatalogue.all.count)
        for m in MetricCatalogue.all {
            #expect(m.name.hasPrefix("tokmesh_") || m.name.hasPrefix("process_"), "\(m.name)")
            switch m.type {
            case .counter: #expect(m.name.hasSuffix("_total"), "\(m.name)")
            case .histogram: #expect(m.name.hasSuffix("_seconds"), "\(m.name)")
            case .gauge, .countHistogram: #expect(!m.name.hasSuffix("_total") || m.name == "tokmesh_sessions_active_total"
                                                  || m.name == "tokmesh_cluster_nodes_total", "\(m.name)")
            }
            for label in m.labels { #expect(!["session_id", "token", "user_id", "key_id", "ip"].contains(label), "\(m.name) \(label)") }
        }
        for b in [MetricBuckets.latency, .fsync, .slow, .lag, .gossip, .argon2, .count] {
            #expect(zip(b.bounds, b.bounds.dropFirst()).allSatisfy { $0 < $1 })
        }
    }
}
