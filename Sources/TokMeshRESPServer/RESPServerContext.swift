// RESPServerContext: what the RESP listener needs from the node, gathered once at start-up and
// shared read-only by every connection — the session and key services, the blocking pool for
// Argon2, the node's readiness and restore state, the WAL acknowledgement hook, counters and
// the few configuration values the commands read, and the audit trail. Closures keep this module free of the node
// type, so it builds and tests on its own.
import NIOPosix
import TokMeshAuth
import TokMeshCore
import TokMeshHTTP
import TokMeshService

public struct RESPServerContext: Sendable {
    public var sessions: SessionService
    public var authenticator: Authenticator
    /// Argon2 verifications (max(1, cores/2) threads).
    public var blockingPool: NIOThreadPool
    /// Client connections over every listener (`server.max_connections`).
    public var connections: ConnectionStats
    public var stats: RESPStats
    public var nodeID: String
    public var version: String
    public var startedAtMillis: Int64
    /// API keys are loaded: AUTH may run (spec/05 §2 node states).
    public var keysLoaded: @Sendable () -> Bool
    /// `/ready` is 200: keyspace and TM.* commands may run.
    public var isReady: @Sendable () -> Bool
    /// A restore runs: writes get TM-ADMIN-5031, TM.VALIDATE skips TOUCH.
    public var isRestoring: @Sendable () -> Bool
    /// INFO persistence: `loading` (recovering or restoring) and `bgsave_in_progress`.
    public var isSnapshotting: @Sendable () -> Bool
    /// Calls `done(true)` once the WAL record `index` is written (fsynced when `durable`), or
    /// `done(false)` if the log failed; on any thread.
    public var acknowledge: @Sendable (_ index: UInt64, _ durable: Bool, _ done: @escaping @Sendable (Bool) -> Void) -> Void
    /// WARN lines (cross-protocol requests): event name and fields, never arguments.
    public var warn: @Sendable (_ message: String, _ fields: [String: String]) -> Void
    /// The node's audit trail (spec/03 §10): AUTH failures and TM.REVOKE_USER are recorded as
    /// over HTTP. Nil in module tests.
    public var audit: AuditLog? = nil
    /// Access lines (spec/05 §9, spec/10 §1): `wants(level)` is asked per finished command
    /// (an atomic load: 0 DEBUG, 2 WARN, 3 ERROR); `write` gets the fields of one line. Nil in
    /// module tests.
    public var accessLog: RESPAccessLog? = nil
    /// With tracing on: a root span for one command (`TM.VALIDATE`), nil when not sampled.
    public var startSpan: (@Sendable (_ command: String) -> (any TraceParentSpan & TraceChildSpan)?)? = nil

    public init(sessions: SessionService, authenticator: Authenticator, blockingPool: NIOThreadPool, connections: ConnectionStats,
                stats: RESPStats, nodeID: String, version: String, startedAtMillis: Int64,
                keysLoaded: @escaping @Sendable () -> Bool, isReady: @escaping @Sendable () -> Bool,
                isRestoring: @escaping @Sendable () -> Bool, isSnapshotting: @escaping @Sendable () -> Bool,
                acknowledge: @escaping @Sendable (UInt64, Bool, @escaping @Sendable (Bool) -> Void) -> Void,
                warn: @escaping @Sendable (String, [String: String]) -> Void) {
        self.sessions = sessions
        self.authenticator = authenticator
        self.blockingPool = blockingPool
        self.connections = connections
        self.stats = stats
        self.nodeID = nodeID
        self.version = version
        self.startedAtMillis = startedAtMillis
        self.keysLoaded = keysLoaded
        self.isReady = isReady
        self.isRestoring = isRestoring
        self.isSnapshotting = isSnapshotting
        self.acknowledge = acknowledge
        self.warn = warn
    }

    /// CONFIG GET's read-only table (spec/05 §7.1).
    var configTable: [(String, String)] {
        [("save", ""), ("appendonly", "yes"), ("databases", "1"), ("maxclients", String(connections.maxConnections)), ("timeout", "0")]
    }
}

/// Where a RESP connection sends its access lines; the node caps and formats them.
public struct RESPAccessLog: Sendable {
    public enum Level: Int, Sendable { case debug = 0, warn = 2, error = 3 }
    public var wants: @Sendable (Level) -> Bool
    public var write: @Sendable (Level, JSONObject) -> Void

    public init(wants: @escaping @Sendable (Level) -> Bool, write: @escaping @Sendable (Level, JSONObject) -> Void) {
        self.wants = wants
        self.write = write
    }

    /// spec/10 §1 by the answer's TM code: 401/403/429 classes WARN, 5xx ERROR, the rest DEBUG.
    public static func level(code: String?) -> Level {
        guard let code, let number = code.split(separator: "-").last.flatMap({ Int($0) }) else { return .debug }
        switch number / 10 {
        case 401, 403, 429: return .warn
        default: return number >= 5000 ? .error : .debug
        }
    }
}
