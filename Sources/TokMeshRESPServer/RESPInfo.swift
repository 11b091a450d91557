// RESPInfo: the INFO text of spec/05 §7.1 — sections server, clients, memory, persistence,
// stats, cluster and keyspace (every field `redis-cli --stat` reads), plus Redis's
// commandstats with per-command calls, time and failures. Section names are case-insensitive;
// none, `default`, `all` or `everything` select all but commandstats, which `all`,
// `everything` or its own name add; unknown names are ignored.
import Foundation
import TokMeshCore

enum RESPInfo {
    static let defaultSections = ["server", "clients", "memory", "persistence", "stats", "cluster", "keyspace"]

    static func text(sections requested: [String], server: RESPServerContext, tcpPort: Int) -> String {
        var names = Set(requested.map { $0.lowercased() })
        let everything = names.contains("all") || names.contains("everything")
        if names.isEmpty || names.contains("default") || everything { names.formUnion(defaultSections) }
        if everything { names.insert("commandstats") }
        var blocks: [String] = []
        for section in defaultSections + ["commandstats"] where names.contains(section) {
            let lines = fields(section, server: server, tcpPort: tcpPort).map { "\($0.0):\($0.1)" }
            blocks.append((["# " + section.prefix(1).uppercased() + section.dropFirst()] + lines).joined(separator: "\r\n") + "\r\n")
        }
        return blocks.joined(separator: "\r\n")
    }

    static func fields(_ section: String, server: RESPServerContext, tcpPort: Int) -> [(String, String)] {
        let stats = server.stats
        let now = server.sessions.clock.nowMillis()
        switch section {
        case "server":
            var name = utsname()
            uname(&name)
            let os = [name.sysname, name.release, name.machine].map { field in
                withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            }.joined(separator: " ")
            let uptime = max(0, now - server.startedAtMillis) / 1000
            return [("redis_version", "7.0.0"), ("tokmesh_version", server.version), ("redis_mode", "standalone"),
                    ("node_id", server.nodeID), ("os", os), ("arch_bits", String(MemoryLayout<Int>.size * 8)),
                    ("process_id", String(getpid())), ("tcp_port", String(tcpPort)),
                    ("uptime_in_seconds", String(uptime)), ("uptime_in_days", String(uptime / 86_400))]
        case "clients":
            return [("connected_clients", String(stats.connectedClients.load(ordering: .relaxed))), ("blocked_clients", "0"),
                    ("maxclients", String(server.connections.maxConnections))]
        case "memory":
            let rss = residentBytes()
            return [("used_memory", String(rss)), ("used_memory_human", human(rss))]
        case "persistence":
            let loading = !server.isReady() || server.isRestoring()
            return [("loading", loading ? "1" : "0"), ("bgsave_in_progress", server.isSnapshotting() ? "1" : "0"),
                    ("aof_rewrite_in_progress", "0")]
        case "stats":
            let ops = stats.instantaneousOps(nowNanos: monotonicNanos())
            return [("total_connections_received", String(stats.totalConnections.load(ordering: .relaxed))),
                    ("total_commands_processed", String(stats.commandsProcessed.load(ordering: .relaxed))),
                    ("instantaneous_ops_per_sec", String(Int(ops.rounded()))),
                    ("rejected_connections", String(stats.rejectedConnections.load(ordering: .relaxed))),
                    ("total_error_replies", String(stats.errorReplies.load(ordering: .relaxed)))]
        case "cluster":
            return [("cluster_enabled", "0")]
        case "keyspace":
            let held = server.sessions.engine.heldCount()
            guard held > 0 else { return [] }
            var rng = SystemRandomNumberGenerator()
            let avg = server.sessions.engine.averageTTL(now: now, sample: 64, using: &rng)
            return [("db0", "keys=\(held),expires=\(held),avg_ttl=\(avg)")]
        case "commandstats":
            return stats.commandTable().map { name, t in
                let usec = t.nanos / 1000
                let perCall = t.calls == 0 ? 0 : Double(usec) / Double(t.calls)
                return ("cmdstat_" + name, "calls=\(t.calls),usec=\(usec),usec_per_call=\(String(format: "%.2f", perCall)),rejected_calls=0,failed_calls=\(t.failed)")
            }
        default:
            return []
        }
    }

    /// Resident set size from /proc/self/statm (0 where it does not exist).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func human(_ bytes: Int) -> String {
        let units = ["B", "K", "M", "G", "T"]
        var value = Double(bytes), unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes)B" : String(format: "%.2f%@", value, units[unit])
    }
}
