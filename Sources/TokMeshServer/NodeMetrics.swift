// NodeMetrics: the scrape hooks that copy a node's state into the registry just before
// `/metrics` renders (spec/10 §3) — readiness, session counts, connections, RESP tallies, WAL
// files, the newest snapshot, audit queue, API keys, the data directory's filesystem and the
// standard process metrics. Hot paths keep their own atomics; this runs once per scrape.
import Foundation
import TokMeshCore
import TokMeshStorage
import TokMeshTelemetry

enum NodeMetrics {
    /// Registers the node's hooks (a stopped node's hooks find it gone and do nothing).
    static func install(_ node: NodeContext) {
        let registry = MetricsRegistry.shared
        registry.setGauge("tokmesh_build_info", [("version", NodeContext.version), ("commit", NodeContext.commit)], 1)
        for result in ["valid", "invalid", "error"] { registry.syncCounter("tokmesh_token_validate_calls_total", [("result", result)], total: 0) }
        for result in ["success", "failure"] { registry.syncCounter("tokmesh_config_reloads_total", [("result", result)], total: 0) }
        for status in ["alive", "suspect", "dead", "leaving", "left"] { registry.setGauge("tokmesh_cluster_nodes_total", [("status", status)], status == "alive" ? 1 : 0) }
        registry.addRawSection { [weak node] out in node?.respStats.latencyExposition(into: &out) }
        let cpu = CPUSampler()
        registry.onScrape { [weak node] registry in
            guard let node else { return }
            collect(node, registry, cpu)
        }
    }

    private static func collect(_ node: NodeContext, _ r: MetricsRegistry, _ cpu: CPUSampler) {
        r.setGauge("tokmesh_ready", [], node.isReady ? 1 : 0)
        let stats = node.sessions.stats()
        r.setGauge("tokmesh_sessions_active_total", [], Double(stats.activeSessions))
        r.setGauge("tokmesh_session_tombstones", [], Double(stats.tombstones))
        r.setGauge("tokmesh_shard_keys_count", [("node_id", node.nodeID)], Double(stats.activeSessions))

        r.setGauge("tokmesh_http_connections", [], Double(node.stats.openConnections.load(ordering: .relaxed)))
        r.setGauge("tokmesh_http_requests_in_flight", [], Double(node.requests.inFlight.load(ordering: .relaxed)))
        r.setGauge("tokmesh_http2_streams_open", [], Double(node.stats.openStreams.load(ordering: .relaxed)))

        let resp = node.respStats
        r.setGauge("tokmesh_resp_connections", [], Double(resp.connectedClients.load(ordering: .relaxed)))
        r.syncCounter("tokmesh_resp_connections_accepted_total", total: Double(resp.totalConnections.load(ordering: .relaxed)))
        r.syncCounter("tokmesh_resp_protocol_errors_total", total: Double(resp.protocolErrors.load(ordering: .relaxed)))
        r.syncCounter("tokmesh_connections_rejected_total", [("listener", "redis"), ("reason", "max_connections")],
                      total: Double(resp.rejectedConnections.load(ordering: .relaxed)))
        for (name, tally) in resp.commandTable() {
            r.syncCounter("tokmesh_resp_commands_total", [("command", name), ("result", "ok")], total: Double(tally.calls - tally.failed))
            r.syncCounter("tokmesh_resp_commands_total", [("command", name), ("result", "error")], total: Double(tally.failed))
        }

        let fm = FileManager.default
        let walDir = node.config.walDirectory
        let segments = ((try? fm.contentsOfDirectory(atPath: walDir)) ?? []).filter { $0.hasPrefix("wal-") && $0.hasSuffix(".log") }
        let walBytes = segments.reduce(0) { $0 + (((try? fm.attributesOfItem(atPath: walDir + "/" + $1))?[.size] as? Int) ?? 0) }
        r.setGauge("tokmesh_wal_segments", [], Double(segments.count))
        r.setGauge("tokmesh_wal_size_bytes", [], Double(walBytes))
        if let newest = node.snapshots.list().first {
            r.setGauge("tokmesh_snapshot_last_success_timestamp_seconds", [], Double(newest.createdAt) / 1000)
            r.setGauge("tokmesh_snapshot_size_bytes", [], Double(newest.sizeBytes))
        }
        var fs = statvfs()
        if statvfs(node.config.dataDirectory, &fs) == 0 {
            r.setGauge("tokmesh_data_dir_free_bytes", [], Double(fs.f_bavail) * Double(fs.f_frsize))
            r.setGauge("tokmesh_data_dir_total_bytes", [], Double(fs.f_blocks) * Double(fs.f_frsize))
        }

        let audit = node.audit.counts
        r.syncCounter("tokmesh_audit_records_total", total: Double(audit.accepted))
        r.syncCounter("tokmesh_audit_write_failures_total", total: Double(audit.dropped))
        r.setGauge("tokmesh_audit_queue_depth", [], Double(audit.queued))
        var keys: [String: Int] = [:]
        for key in node.authenticator.registry.all() { keys[key.role.rawValue + "|" + key.status.rawValue, default: 0] += 1 }
        for role in Role.allCases {
            for status in [KeyStatus.active, .disabled] {
                r.setGauge("tokmesh_api_keys", [("role", role.rawValue), ("status", status.rawValue)], Double(keys[role.rawValue + "|" + status.rawValue] ?? 0))
            }
        }

        let rss = Double(ProcessInfo.residentBytes())
        let cpuSeconds = ProcessUsage.cpuSeconds()
        r.syncCounter("process_cpu_seconds_total", total: Double(cpuSeconds))
        r.setGauge("process_resident_memory_bytes", [], rss)
        r.setGauge("process_open_fds", [], Double(((try? fm.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).count))
        r.setGauge("process_max_fds", [], Double(ProcessUsage.maxFileDescriptors()))
        r.setGauge("process_start_time_seconds", [], Double(node.startedAt) / 1000)
        r.setGauge("tokmesh_mem_usage_bytes", [], rss)
        r.setGauge("tokmesh_mem_limit_bytes", [], Double(ProcessUsage.memoryLimitBytes()))
        r.setGauge("tokmesh_cpu_usage_ratio", [], cpu.ratio(cpuSeconds: cpuSeconds, cores: Double(UsableCores.count)))
    }
}
