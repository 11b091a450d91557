// AdminRoutes: the `/admin/v1` routes this node serves so far (spec/04 §8): status summary, GC
// trigger, API keys (create, list, get, status, rotate) and the audit query. Every POST is
// audited, success or failure, by the responder from the route's AuditSpec.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOHTTP1
import TokMeshAuth
import TokMeshCore
import TokMeshService
import TokMeshStorage

enum AdminRoutes {
    static let gcMinimumIntervalMillis: Int64 = 60_000
    static let auditSizeDefault = 50
    static let auditSizeMax = 500
    /// Unix ms from 1970 to the end of year 9999: the range a calendar date can name.
    static let auditTimeRange: ClosedRange<Int64> = 0...253_402_300_799_999

    static func routes(_ node: NodeContext) -> [(String, String, RouteSpec)] {
        let keys = node.keys
        let keyResource: @Sendable (RouteCall) -> String = { $0.parameter("key_id").lowercased() }
        return [
            ("GET", "/admin/v1/status/summary", RouteSpec(access: .minimum(.admin), servedWhenNotReady: true) { _ throws(TokMeshError) -> RouteResult in
                RouteResult(.ok, summary(node))
            }),
            ("POST", "/admin/v1/gc/trigger", RouteSpec(
                access: .minimum(.admin), bodyFields: ["type"],
                audit: AuditSpec(action: { _ in "GC_TRIGGERED" }, resource: { _ in "gc" })
            ) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
                try gcTrigger(node, type: call.body.string("type") ?? "expired_sessions")
            }),
            ("POST", "/admin/v1/keys", RouteSpec(
                access: .minimum(.admin), bodyFields: ["role", "description", "allowedlist", "rate_limit", "expires_at"], offload: true,
                audit: AuditSpec(action: { _ in "KEY_CREATED" }, resource: { _ in "keys" })
            ) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
                var input = KeyCreateInput()
                input.role = try call.body.string("role")
                input.description = try call.body.string("description")
                input.allowedlist = try call.body.stringList("allowedlist")
                input.rateLimit = try call.body.int("rate_limit")
                input.expiresAt = try call.body.int("expires_at")
                let created = try keys.create(input, createdBy: call.principal.keyID)
                var data = created.key.json().objectValue!
                data["key_secret"] = .string(created.secret)
                if let warning = created.warning { data["warning"] = .string(warning) }
                return RouteResult(.created, data, auditDetails: ["key_id": .string(created.key.keyID), "role": .string(created.key.role.rawValue)])
            }),
            ("GET", "/admin/v1/keys", RouteSpec(access: .minimum(.admin), queryParameters: ["page", "size", "role", "status"]) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
                var role: Role?
                if let r = call.query.string("role") {
                    guard let parsed = Role(rawValue: r) else { throw TokMeshError.invalid("role", "Role must be one of: admin, issuer, validator, metrics") }
                    role = parsed
                }
                var status: KeyStatus?
                if let s = call.query.string("status") {
                    guard let parsed = KeyStatus(rawValue: s) else { throw TokMeshError.invalid("status", "status must be active or disabled") }
                    status = parsed
                }
                let (page, size) = try call.query.paging(defaultSize: SessionLimits.listSizeDefault, maxSize: SessionLimits.listSizeMax)
                let all = keys.list(role: role, status: status)
                return RouteResult(.ok, list(all.map { $0.json() }, page: page, size: size))
            }),
            ("GET", "/admin/v1/keys/{key_id}", RouteSpec(access: .minimum(.admin)) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
                RouteResult(.ok, try keys.get(call.parameter("key_id")).json().objectValue!)
            }),
            ("POST", "/admin/v1/keys/{key_id}/status", RouteSpec(
                access: .minimum(.admin), bodyFields: ["status"],
                audit: AuditSpec(action: { (try? $0.body.string("status")) == "active" ? "KEY_ENABLED" : "KEY_DISABLED" }, resource: keyResource)
            ) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
                let (key, warning) = try keys.setStatus(call.parameter("key_id"), status: try call.body.string("status"))
                var data: JSONObject = ["key_id": .string(key.keyID), "status": .string(key.status.rawValue), "updated_at": .int(node.clock.nowMillis())]
                if let warning { data["warning"] = .string(warning) }
                return RouteResult(.ok, data)
            }),
            ("POST", "/admin/v1/keys/{key_id}/rotate", RouteSpec(
                access: .minimum(.admin), bodyFields: ["grace_seconds"], offload: true,
                audit: AuditSpec(action: { _ in "KEY_ROTATED" }, resource: keyResource)
            ) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
                let (key, secret) = try keys.rotate(call.parameter("key_id"), graceSeconds: try call.body.int("grace_seconds"))
                return RouteResult(.ok, [
                    "key_id": .string(key.keyID), "new_key_secret": .string(secret), "old_secret_valid_until": .int(key.gracePeriodEnd),
                ], auditDetails: ["old_secret_valid_until": .int(key.gracePeriodEnd)])
            }),
            ("GET", "/admin/v1/wal/status", RouteSpec(access: .minimum(.admin)) { _ throws(TokMeshError) -> RouteResult in
                RouteResult(.ok, walStatus(node))
            }),
            ("GET", "/admin/v1/audit/logs", RouteSpec(
                access: .minimum(.admin), queryParameters: ["start_time", "end_time", "operator_id", "action", "result", "page", "size"], offload: true
            ) { (call: RouteCall) throws(TokMeshError) -> RouteResult in
                let q = call.query
                let now = node.clock.nowMillis()
                let end = try q.int("end_time") ?? now
                guard auditTimeRange.contains(end) else { throw TokMeshError.invalid("end_time", "end_time must be Unix ms between 0 and year 9999") }
                let start = try q.int("start_time") ?? max(0, end - 86_400_000)
                guard auditTimeRange.contains(start) else { throw TokMeshError.invalid("start_time", "start_time must be Unix ms between 0 and year 9999") }
                guard start <= end else { throw TokMeshError.invalid("start_time", "start_time must not be after end_time") }
                if let r = q.string("result"), r != "SUCCESS" && r != "FAILURE" { throw TokMeshError.invalid("result", "result must be SUCCESS or FAILURE") }
                let (page, size) = try q.paging(defaultSize: auditSizeDefault, maxSize: auditSizeMax)
                let records = node.audit.search(AuditLog.Query(startTime: start, endTime: end, operatorID: q.string("operator_id"),
                                                               action: q.string("action"), result: q.string("result")))
                return RouteResult(.ok, list(records.map { .object($0) }, page: page, size: size))
            }),
        ]
    }

    static func list(_ all: [JSONValue], page: Int, size: Int) -> JSONObject {
        let start = (page - 1) * size
        let items = start < all.count ? Array(all[start..<min(all.count, start + size)]) : []
        return ["items": .array(items), "pagination": .object(["page": .int(Int64(page)), "size": .int(Int64(size)), "total": .int(Int64(all.count))])]
    }

    static func summary(_ node: NodeContext) -> JSONObject {
        let now = node.clock.nowMillis()
        let stats = node.sessions.stats()
        let requests = node.stats.requestsServed.load(ordering: .relaxed)
        let qps = node.qpsSample.withLock { sample -> Double in
            if now - sample.at >= 1000 {
                let elapsed = Double(now - sample.at) / 1000
                sample.qps = sample.at == 0 ? 0 : Double(requests &- sample.requests) / elapsed
                sample.at = now
                sample.requests = requests
            }
            return sample.qps
        }
        return [
            "uptime_seconds": .int((now - node.startedAt) / 1000),
            "version": .string(NodeContext.version),
            "build_time": .string(NodeContext.buildTime),
            "node_id": .string(node.nodeID),
            "ready": .bool(node.ready.load(ordering: .relaxed)),
            "cluster_state": "standalone",
            "metrics": .object([
                "total_sessions": .int(Int64(stats.totalSessions)),
                "active_sessions": .int(Int64(stats.activeSessions)),
                "tombstones": .int(Int64(stats.tombstones)),
                "memory_usage_mb": .double((Double(ProcessInfo.residentBytes()) / 1_048_576 * 10).rounded() / 10),
                "current_qps": .double((qps * 10).rounded() / 10),
                "connections": .int(Int64(node.stats.openConnections.load(ordering: .relaxed))),
                "http2_streams": .int(Int64(node.stats.openStreams.load(ordering: .relaxed))),
                "threads": .int(Int64(ProcessInfo.threadCount())),
            ]),
        ]
    }

    /// `GET /admin/v1/wal/status` (spec/04 §8.2).
    static func walStatus(_ node: NodeContext) -> JSONObject {
        let config = node.config
        let fm = FileManager.default
        let names = ((try? fm.contentsOfDirectory(atPath: config.walDirectory)) ?? [])
            .filter { $0.hasPrefix("wal-") && $0.hasSuffix(".log") }.sorted()
        let sizes = names.map { ((try? fm.attributesOfItem(atPath: config.walDirectory + "/" + $0))?[.size] as? Int) ?? 0 }
        let wal = node.journal.wal
        let times = wal?.recordTimes ?? (0, 0)
        var syncMode = "sync", intervalMillis: Int64 = 0
        if case .batch(let ms) = config.walSyncMode { syncMode = "batch"; intervalMillis = Int64(ms) }
        let keyPath = config.dataDirectory + "/encryption.key"
        let fingerprint: String
        if config.encryptionEnabled {
            let hex = config.encryptionKeyHex.isEmpty ? ((try? String(contentsOfFile: keyPath, encoding: .utf8)) ?? "") : config.encryptionKeyHex
            fingerprint = StorageKey.parseHex(hex.trimmingWhitespace()).map { Identifiers.hex(LogCipher.fingerprint(masterKey: $0)) } ?? ""
        } else {
            fingerprint = ""
        }
        return [
            "enabled": true,
            "sync_mode": .string(syncMode),
            "sync_interval_ms": .int(intervalMillis),
            "encrypted": .bool(config.encryptionEnabled),
            "cipher": .string(config.encryptionEnabled ? CipherID.preferred().name : CipherID.none.name),
            "key_fingerprint": .string(fingerprint),
            "current_segment": .string(names.last ?? ""),
            "total_segments": .int(Int64(names.count)),
            "total_size_bytes": .int(Int64(sizes.reduce(0, +))),
            "oldest_entry_time": .int(times.0),
            "newest_entry_time": .int(times.1),
            "last_position": .uint(wal?.writer.progress.written ?? 0),
            "last_snapshot_position": .uint(node.snapshots.list().first?.walPosition ?? 0),
            "failed": .bool(wal?.writer.failure != nil),
        ]
    }

    static func gcTrigger(_ node: NodeContext, type: String) throws(TokMeshError) -> RouteResult {
        let types: [String]
        switch type {
        case "expired_sessions": types = ["expired_sessions"]
        case "memory": types = ["memory"]
        case "all": types = ["expired_sessions", "memory"]
        default: throw TokMeshError.invalid("type", "type must be expired_sessions, memory or all")
        }
        let now = node.clock.nowMillis()
        let waitMillis: Int64? = node.gcTriggers.withLock { last in
            let blocked = types.compactMap { t -> Int64? in
                guard let at = last[t], now - at < gcMinimumIntervalMillis else { return nil }
                return gcMinimumIntervalMillis - (now - at)
            }
            if let wait = blocked.max() { return wait }
            for t in types { last[t] = now }
            return nil
        }
        if let waitMillis {
            let seconds = max(1, (waitMillis + 999) / 1000)
            throw TokMeshError(.adminTooFrequent, "GC of this type was triggered less than 60 s ago", headers: [("Retry-After", String(seconds))])
        }
        let started = monotonicNanos()
        var cleaned = 0
        var freedMB = 0.0
        if types.contains("expired_sessions") { cleaned += node.sessions.sweepAll() }
        if types.contains("memory") {
            let before = ProcessInfo.residentBytes()
            cleaned += node.authenticator.nonces.removeExpired(now: now)
            #if canImport(Glibc)
            _ = glibcMallocTrim(0)
            #endif
            freedMB = max(0, Double(before - ProcessInfo.residentBytes()) / 1_048_576)
        }
        return RouteResult(.ok, [
            "type": .string(type), "cleaned_count": .int(Int64(cleaned)),
            "duration_ms": .int(Int64((monotonicNanos() - started) / 1_000_000)), "freed_memory_mb": .double((freedMB * 10).rounded() / 10),
        ], auditDetails: ["type": .string(type), "cleaned_count": .int(Int64(cleaned))])
    }
}

#if canImport(Glibc)
/// glibc's malloc_trim(3): returns free heap pages to the OS (not exported by the Glibc module).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif

extension ProcessInfo {
    /// Resident set size from /proc/self/statm.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func threadCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
    }
}
