// Logger: JSON lines on stdout with the level filter of `telemetry.logging.level`. Callers pass
// only public fields; tokens, secrets and bodies are never handed to it (spec/03 §11), and as a
// second line of defence every line passes the redaction of spec/10 §2 (secret-class values in
// any string, secret field names) and is cut at 16 KiB.
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

    private let minimum: Atomic<Int>
    private let nodeID: Mutex<String>
    private let clock: any TokMeshCore.Clock
    private let output = Mutex(())

    public init(level: Level, clock: any TokMeshCore.Clock) {
        minimum = Atomic(level.rawValue)
        nodeID = Mutex("")
        self.clock = clock
    }

    /// spec/10 §1: a line is cut at 16 KiB.
    static let lineBytesMax = 16 * 1024

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
            // Cut inside the message's own fields: keep the envelope, mark the cut.
            var cut = JSONObject()
            for (k, v) in o.pairs.prefix(5) { cut.append(k, v) }
            cut.append("truncated", .string(String(decoding: line.prefix(Self.lineBytesMax - 1024), as: UTF8.self) + "…[truncated]"))
            line = JSONWriter.write(.object(cut))
        }
        line.append(0x0A)
        output.withLock { _ in
            var written = 0
            while written < line.count {
                let n = line.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress! + written, $0.count - written) }
                if n <= 0 { if errno == EINTR { continue }; break }
                written += n
            }
        }
    }
}
