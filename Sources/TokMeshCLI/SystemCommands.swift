// SystemCommands: `tokmesh-cli system …` (spec/09 §8.6) — status (admin summary as component
// rows), health and ready (no key; exit 1 when not OK, 69 when unreachable), gc, wal status,
// audit and shutdown (local socket).
import ArgumentParser
import Foundation
import TokMeshCore

struct SystemCommand: CLIRunnable {
    static let configuration = CommandConfiguration(
        commandName: "system", abstract: "Node status, health, readiness, GC, WAL, audit, shutdown.",
        subcommands: [SystemStatus.self, SystemHealth.self, SystemReady.self, SystemGC.self, SystemWAL.self, SystemAudit.self, SystemShutdown.self])
}

struct SystemStatus: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "The node's summary (admin).")
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            let data = try await ctx.connection().call(.GET, "/admin/v1/status/summary")
            let out = ctx.output
            if out.structured { return out.out(out.document(data)) }
            if out.quiet { return }
            let s = data.objectValue ?? JSONObject()
            let m = s["metrics"]?.objectValue ?? JSONObject()
            let ready = s["ready"]?.boolValue == true
            let rows: [[String]] = [
                ["Service", out.status(ready ? "Ready" : "Not ready"),
                 "Uptime: \(Output.duration((s["uptime_seconds"]?.intValue ?? 0) * 1000)), Version: \(s["version"]?.stringValue ?? "-"), Node: \(s["node_id"]?.stringValue ?? "-")"],
                ["Cluster", out.status(s["cluster_state"]?.stringValue ?? "-"), s["cluster_state"]?.stringValue == "standalone" ? "standalone" : "-"],
                ["Sessions", "-", "Total: \(Output.count(m["total_sessions"]?.intValue ?? 0)), Active: \(Output.count(m["active_sessions"]?.intValue ?? 0)), "
                    + "Tombstones: \(Output.count(m["tombstones"]?.intValue ?? 0))"],
                ["Memory", "-", "Used: \(Output.size(Int64((m["memory_usage_mb"].flatMap { v -> Double? in if case .double(let d) = v { d } else { v.intValue.map(Double.init) } } ?? 0) * 1_048_576)))"],
                ["Load", "-", "QPS: \(m["current_qps"].map(Output.plain) ?? "0"), Connections: \(m["connections"]?.intValue ?? 0)"],
            ]
            out.table(["COMPONENT", "STATUS", "DETAILS"], rows, footer: nil)
        }
    }
}

struct SystemHealth: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "health", abstract: "Liveness: OK, else exit 1 (69 when unreachable).")
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            do throws(CLIError) {
                let data = try await ctx.connection(needKey: false).call(.GET, "/health")
                if ctx.output.structured { return ctx.output.out(ctx.output.document(data)) }
                ctx.output.out(ctx.output.status("OK"))
            } catch where error.kind == .server {
                ctx.output.out("UNHEALTHY: \(error.code ?? error.message)")
                throw CLIError(.failed, "unhealthy")
            }
        }
    }
}

struct SystemReady: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "ready", abstract: "Readiness: OK, else NOT READY with the failing checks (exit 1).")
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            do throws(CLIError) {
                let data = try await ctx.connection(needKey: false).call(.GET, "/ready")
                if ctx.output.structured { return ctx.output.out(ctx.output.document(data)) }
                ctx.output.out(ctx.output.status("OK"))
            } catch where error.kind == .server {
                let checks = error.details["checks"]?.objectValue ?? JSONObject()
                let failing = checks.pairs.filter { $0.value.stringValue != "ok" && $0.value.stringValue != "running" }
                ctx.output.out("NOT READY: " + (failing.isEmpty ? (error.code ?? "") : failing.map { "\($0.key)=\(Output.plain($0.value))" }.joined(separator: ", ")))
                throw CLIError(.failed, "not ready")
            }
        }
    }
}

struct SystemGC: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "gc", abstract: "Run garbage collection now (admin; once a minute per type).")
    @Option(name: .customLong("type"), help: "expired, memory or all") var type: String = "expired"
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            let apiType: String
            switch type {
            case "expired": apiType = "expired_sessions"
            case "memory", "all": apiType = type
            default: throw CLIError.usage("invalid GC type: \(type)")
            }
            let connection = try ctx.connection()
            let r = try await connection.call(.POST, "/admin/v1/gc/trigger", body: ["type": .string(apiType)]).objectValue ?? JSONObject()
            if ctx.output.structured { return ctx.output.out(ctx.output.document(.object(r))) }
            if ctx.output.quiet { return }
            ctx.output.out("\(ctx.output.remote(connection.label)) GC completed.")
            ctx.output.details(nil, [("Cleaned Sessions", Output.plain(r["cleaned_count"] ?? .null)), ("Duration", "\(r["duration_ms"]?.intValue ?? 0) ms"),
                                     ("Freed Memory", "\(Output.plain(r["freed_memory_mb"] ?? .null)) MB")])
        }
    }
}

struct SystemWAL: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "wal", abstract: "WAL state (admin): `wal status`.")
    @Argument(help: "status") var action: String = "status"
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            guard action == "status" else { throw CLIError.usage("unknown wal command: \(action)") }
            let data = try await ctx.connection().call(.GET, "/admin/v1/wal/status")
            if ctx.output.structured { return ctx.output.out(ctx.output.document(data)) }
            if ctx.output.quiet { return }
            let w = data.objectValue ?? JSONObject()
            ctx.output.details("WAL Status", [
                ("Enabled", Output.plain(w["enabled"] ?? .null)), ("Sync Mode", Output.plain(w["sync_mode"] ?? .null)),
                ("Encryption", w["encrypted"]?.boolValue == true ? Output.plain(w["cipher"] ?? .null) : "off"),
                ("Current Segment", Output.plain(w["current_segment"] ?? .null)), ("Segments", Output.plain(w["total_segments"] ?? .null)),
                ("Size", Output.size(w["total_size_bytes"]?.intValue ?? 0)), ("Oldest Entry", Output.detailTime(w["oldest_entry_time"]?.intValue ?? 0)),
                ("Newest Entry", Output.detailTime(w["newest_entry_time"]?.intValue ?? 0)), ("Last Position", Output.plain(w["last_position"] ?? .null)),
                ("Last Snapshot", Output.plain(w["last_snapshot_position"] ?? .null)),
            ])
        }
    }
}

struct SystemAudit: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Query the audit log (admin).")
    @Option(name: .customLong("since")) var since: String?
    @Option(name: .customLong("until")) var until: String?
    @Option(name: .customLong("operator")) var operatorID: String?
    @Option(name: .customLong("action")) var action: String?
    @Option(name: .customLong("result")) var result: String?
    @Option(name: .customLong("page")) var page: Int = 1
    @Option(name: .customLong("page-size")) var pageSize: Int = 50
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            var query: [(String, String)] = [("page", String(page)), ("size", String(pageSize))]
            if let since { guard let t = Times.parse(since) else { throw CLIError.usage("bad time: \(since)") }; query.append(("start_time", String(t))) }
            if let until { guard let t = Times.parse(until) else { throw CLIError.usage("bad time: \(until)") }; query.append(("end_time", String(t))) }
            if let operatorID { query.append(("operator_id", operatorID)) }
            if let action { query.append(("action", action)) }
            if let result { query.append(("result", result)) }
            let data = try await ctx.connection().call(.GET, "/admin/v1/audit/logs", query: query)
            let out = ctx.output
            if out.structured { return out.out(out.document(data)) }
            let items = data.objectValue?["items"]?.arrayValue?.compactMap(\.objectValue) ?? []
            out.table(["TIME", "OPERATOR", "ACTION", "RESOURCE", "RESULT", "IP"], items.map { r in
                [Output.localTime(r["timestamp"]?.intValue ?? 0, seconds: true), Output.plain(r["operator_id"] ?? .null), Output.plain(r["action"] ?? .null),
                 Output.plain(r["resource"] ?? .null), out.status(r["result"]?.stringValue ?? "-"), Output.plain(r["ip_address"] ?? .null)]
            }, footer: "Total: \(data.objectValue?["pagination"]?.objectValue?["total"]?.intValue ?? Int64(items.count)) records")
        }
    }
}

struct SystemShutdown: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "shutdown", abstract: "Stop the node gracefully (local socket only).")
    @Option(name: .customLong("grace")) var grace: String = "30s"
    @Flag(name: [.customShort("f"), .customLong("force")]) var force = false
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            guard let ms = Durations.parseMillis(grace, allowDays: true) else { throw CLIError.usage("bad duration: \(grace)") }
            let connection = try ctx.connection(needKey: false)
            guard connection.isSocket else { throw CLIError.usage("shutdown works only over the local socket (-t local)") }
            try ctx.confirm("Shut down the node at \(connection.address)?", action: "shut down the node", force: force)
            _ = try await connection.call(.POST, "/local/v1/shutdown", body: ["grace_seconds": .int(ms / 1000)])
            if !ctx.output.quiet { ctx.output.out("\(ctx.output.remote(connection.label)) Shutdown started (grace \(Output.duration(ms))).") }
        }
    }
}
