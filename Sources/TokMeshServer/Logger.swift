// Logger: JSON lines on stdout with the level filter of `telemetry.logging.level` (spec/10 §1).
// Callers pass only public fields; tokens, secrets and bodies are never handed to it (spec/03
// §11), and as a second line of defence every line passes the redaction of spec/10 §2 (secret-
// class values in any string, secret field names) and is cut at 16 KiB. Lines go through a
// bounded queue (10,000) drained by one writer thread, so a slow stdout (a stalled journald or
// pipe) never blocks an event loop: when the queue is full the line is dropped and counted in
// `tokmesh_log_dropped_total`.
import CoreMetrics
import Foundation
import Synchronization
import TokMeshCore
import TokMeshTelemetry

public final class Logger: Sendable {
    public enum Level: Int, Sendable, Comparable {
        case debug, info, warn, error
        var name: String { ["DEBUG", "INFO", "WARN", "ERROR"][rawValue] }
        public init?(name: String) {
            switch name { case "debug": self = .debug; case "info": self = .info; case "warn": self = .warn; case "error": self = .error; default: return nil }
        }
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    /// spec/10 §1: a line is cut at 16 KiB; at most 10,000 lines wait for the writer.
    static let lineBytesMax = 16 * 1024
    static let queueMax = 10_000

    private let minimum: Atomic<Int>
    private let nodeID: Mutex<String>
    private let clock: any TokMeshCore.Clock
    private let queue = Mutex<(lines: [[UInt8]], writing: Bool)>(([], false))
    private let wake = NSCondition()
    private let idle = NSCondition()
    private let dropped = CoreMetrics.Counter(label: "tokmesh_log_dropped_total")

    public init(level: Level, clock: any TokMeshCore.Clock) {
        minimum = Atomic(level.rawValue)
        nodeID = Mutex("")
        self.clock = clock
        let thread = Thread { [self] in self.run() }
        thread.name = "tokmesh-log-writer"
        thread.start()
    }

    public func setLevel(_ level: Level) { minimum.store(level.rawValue, ordering: .relaxed) }
    /// Whether a line at `level` would be written (build costly fields only when it is).
    public func enabled(_ level: Level) -> Bool { level.rawValue >= minimum.load(ordering: .relaxed) }
    func setNodeID(_ id: String) { nodeID.withLock { $0 = id } }

    public func log(_ level: Level, _ logger: String, _ message: String, _ fields: JSONObject = JSONObject()) {
        guard level.rawValue >= minimum.load(ordering: .relaxed) else { return }
        var o = JSONObject()
        o.append("timestamp", .string(CivilTime(unixMillis: clock.nowMillis()).rfc3339))
        o.append("level", .string(level.name))
        o.append("logger", .string(logger))
        let node = nodeID.withLock { $0 }
        if !node.isEmpty { o.append("node_id", .string(node)) }
        o.append("message", .string(Redaction.redact(message)))
        for (k, v) in fields.pairs { o.append(k, Redaction.isSecretField(k) ? .string(Redaction.marker) : Self.redacted(v)) }
        var line = JSONWriter.write(.object(o))
        if line.count > Self.lineBytesMax {
            // Keep the envelope (timestamp … message), mark the cut.
            var cut = JSONObject()
            for (k, v) in o.pairs.prefix(node.isEmpty ? 4 : 5) { cut.append(k, v) }
            cut.append("truncated", .string(String(decoding: line.prefix(Self.lineBytesMax - 1024), as: UTF8.self) + "…[truncated]"))
            line = JSONWriter.write(.object(cut))
        }
        line.append(0x0A)
        let accepted = queue.withLock { q -> Bool in
            guard q.lines.count < Self.queueMax else { return false }
            q.lines.append(line)
            return true
        }
        guard accepted else { dropped.increment(); return }
        wake.lock()
        wake.signal()
        wake.unlock()
    }

    /// Waits (up to `timeoutSeconds`) until every queued line is on stdout: the last lines of a
    /// stop are written before the process exits.
    public func flush(timeoutSeconds: Double = 5) {
        let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
        idle.lock()
        while queue.withLock({ !$0.lines.isEmpty || $0.writing }) && Date() < deadline {
            wake.lock(); wake.signal(); wake.unlock()
            _ = idle.wait(until: min(deadline, Date(timeIntervalSinceNow: 0.01)))
        }
        idle.unlock()
    }

    private func run() {
        while true {
            wake.lock()
            while queue.withLock({ $0.lines.isEmpty }) { wake.wait() }
            wake.unlock()
            let batch = queue.withLock { q -> [[UInt8]] in
                let lines = q.lines
                q.lines.removeAll(keepingCapacity: true)
                q.writing = true
                return lines
            }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(batch.reduce(0) { $0 + $1.count })
            for line in batch { bytes.append(contentsOf: line) }
            var written = 0
            while written < bytes.count {
                let n = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress! + written, $0.count - written) }
                if n <= 0 { if errno == EINTR { continue }; break }
                written += n
            }
            queue.withLock { $0.writing = false }
            idle.lock(); idle.broadcast(); idle.unlock()
        }
    }

    private static func redacted(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let s): .string(Redaction.redact(s))
        case .array(let items): .array(items.map(redacted))
        case .object(let o):
            .object(o.pairs.reduce(into: JSONObject()) { out, pair in
                out.append(pair.key, Redaction.isSecretField(pair.key) ? .string(Redaction.marker) : redacted(pair.value))
            })
        default: value
        }
    }
}
