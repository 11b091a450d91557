// AuditLog: the append-only JSON Lines audit trail of spec/03 §10 under <data_dir>/audit,
// one file per UTC day, mode 0600. Requests only enqueue into a bounded queue; a background
// thread writes every second (or on `flush`). A full queue drops records and counts them.
// Records never hold secrets, tokens, hashes or end-user identifiers: callers build them from
// public fields only.
import Foundation
import Synchronization
import TokMeshCore

public struct AuditRecord: Sendable {
    public var operatorID: String
    public var action: String
    public var resource: String
    public var success: Bool
    public var errorCode: String?
    public var ipAddress: String
    public var tcpRemoteIP: String
    public var userAgent: String
    public var requestID: String
    public var details: JSONObject

    public init(operatorID: String, action: String, resource: String, success: Bool, errorCode: String? = nil,
                ipAddress: String, tcpRemoteIP: String, userAgent: String, requestID: String, details: JSONObject = JSONObject()) {
        self.operatorID = operatorID
        self.action = action
        self.resource = resource
        self.success = success
        self.errorCode = errorCode
        self.ipAddress = ipAddress
        self.tcpRemoteIP = tcpRemoteIP
        self.userAgent = userAgent
        self.requestID = requestID
        self.details = details
    }
}

public final class AuditLog: Sendable {
    public static let queueMax = 10_000
    public static let authFailedPerIPPerMinute = 10

    private struct State {
        var queue: [(Int64, [UInt8])] = []
        var dropped: UInt64 = 0
        var accepted: UInt64 = 0
        var authFailed: [String: (minute: Int64, count: Int)] = [:]
        var stopping = false
    }
    private let state = Mutex(State())
    private let wake = NSCondition()
    private let directory: String
    private let nodeID: String
    private let clock: any TokMeshCore.Clock
    private let writeLock = NSLock()

    public init(directory: String, nodeID: String, clock: any TokMeshCore.Clock) throws {
        self.directory = directory
        self.nodeID = nodeID
        self.clock = clock
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        let thread = Thread { [self] in self.run() }
        thread.name = "tokmesh-audit"
        thread.start()
    }

    public var droppedCount: UInt64 { state.withLock { $0.dropped } }
    /// Records accepted, records lost (queue full or file error) and records waiting (metrics).
    public var counts: (accepted: UInt64, dropped: UInt64, queued: Int) { state.withLock { ($0.accepted, $0.dropped, $0.queue.count) } }

    /// AUTH_FAILED is written at most 10 times per IP per minute (spec/03 §10).
    public func allowAuthFailed(ip: String, now: Int64) -> Bool {
        state.withLock { s in
            let minute = now / 60_000
            var entry = s.authFailed[ip] ?? (minute, 0)
            if entry.minute != minute { entry = (minute, 0) }
            entry.count += 1
            if s.authFailed.count > 100_000 { s.authFailed.removeAll() }
            s.authFailed[ip] = entry
            return entry.count <= AuditLog.authFailedPerIPPerMinute
        }
    }

    /// Enqueues a record; never blocks. Returns false when the queue was full.
    @discardableResult
    public func record(_ r: AuditRecord) -> Bool {
        let now = clock.nowMillis()
        var o = JSONObject()
        o.append("id", .string("audit-" + ((try? ULIDGenerator.shared.next(nowMillis: now)) ?? "0")))
        o.append("timestamp", .int(now))
        o.append("node_id", .string(nodeID))
        o.append("operator_id", .string(r.operatorID))
        o.append("action", .string(r.action))
        o.append("resource", .string(r.resource))
        o.append("result", .string(r.success ? "SUCCESS" : "FAILURE"))
        if let code = r.errorCode { o.append("error_code", .string(code)) }
        o.append("ip_address", .string(r.ipAddress))
        o.append("tcp_remote_ip", .string(r.tcpRemoteIP))
        o.append("user_agent", .string(r.userAgent))
        o.append("request_id", .string(r.requestID))
        o.append("details", .object(r.details))
        var line = JSONWriter.write(.object(o))
        line.append(0x0A)
        return state.withLock { s in
            guard s.queue.count < AuditLog.queueMax else { s.dropped += 1; return false }
            s.queue.append((now, line))
            s.accepted += 1
            return true
        }
    }

    private func run() {
        while true {
            wake.lock()
            _ = wake.wait(until: Date(timeIntervalSinceNow: 1))
            wake.unlock()
            let stopping = state.withLock { $0.stopping }
            flush()
            if stopping { return }
        }
    }

    /// Writes every queued record now (also called before queries and at shutdown).
    public func flush() {
        writeLock.lock()
        defer { writeLock.unlock() }
        let batch = state.withLock { s -> [(Int64, [UInt8])] in
            let q = s.queue
            s.queue.removeAll(keepingCapacity: true)
            return q
        }
        guard !batch.isEmpty else { return }
        var byDay: [String: [UInt8]] = [:]
        var order: [String] = []
        for (ts, line) in batch {
            let day = CivilTime(unixMillis: ts).dateString
            if byDay[day] == nil { order.append(day) }
            byDay[day, default: []].append(contentsOf: line)
        }
        for day in order {
            let path = "\(directory)/audit-\(day).jsonl"
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                state.withLock { $0.dropped += 1 }
                continue
            }
            let bytes = byDay[day]!
            var written = 0
            while written < bytes.count {
                let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
                if n <= 0 { if errno == EINTR { continue }; break }
                written += n
            }
            close(fd)
        }
    }

    public func stop() {
        state.withLock { $0.stopping = true }
        wake.lock(); wake.signal(); wake.unlock()
        flush()
    }

    /// Deletes files older than `retentionDays` (spec/03 §10).
    public func removeOld(retentionDays: Int, now: Int64) {
        let cutoff = CivilTime(unixMillis: now - Int64(retentionDays) * 86_400_000).dateString
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasPrefix("audit-") && name.hasSuffix(".jsonl") {
            let day = String(name.dropFirst(6).dropLast(6))
            if day < cutoff { try? FileManager.default.removeItem(atPath: "\(directory)/\(name)") }
        }
    }

    public struct Query: Sendable {
        public var startTime: Int64
        public var endTime: Int64
        public var operatorID: String?
        public var action: String?
        public var result: String?
        public init(startTime: Int64, endTime: Int64, operatorID: String? = nil, action: String? = nil, result: String? = nil) {
            self.startTime = startTime
            self.endTime = endTime
            self.operatorID = operatorID
            self.action = action
            self.result = result
        }
    }

    /// Records of this node's files matching `query`, newest first.
    public func search(_ query: Query) -> [JSONObject] {
        flush()
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        let first = CivilTime(unixMillis: query.startTime).dateString
        let last = CivilTime(unixMillis: query.endTime).dateString
        var out: [JSONObject] = []
        for name in names.sorted() where name.hasPrefix("audit-") && name.hasSuffix(".jsonl") {
            let day = String(name.dropFirst(6).dropLast(6))
            guard day >= first, day <= last, let data = FileManager.default.contents(atPath: "\(directory)/\(name)") else { continue }
            for line in data.split(separator: 0x0A) {
                guard case .object(let o)? = try? JSONParser.parse(Array(line)),
                      let ts = o["timestamp"]?.intValue, ts >= query.startTime, ts <= query.endTime else { continue }
                if let v = query.operatorID, o["operator_id"]?.stringValue != v { continue }
                if let v = query.action, o["action"]?.stringValue != v { continue }
                if let v = query.result, o["result"]?.stringValue != v { continue }
                out.append(o)
            }
        }
        out.sort { ($0["timestamp"]?.intValue ?? 0, $0["id"]?.stringValue ?? "") > ($1["timestamp"]?.intValue ?? 0, $1["id"]?.stringValue ?? "") }
        return out
    }
}
