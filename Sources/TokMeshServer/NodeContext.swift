// NodeContext: everything a route handler may use — the services, the configuration, the
// audit log, readiness and counters — gathered once at start-up and shared read-only by every
// listener.
import Foundation
import NIOPosix
import Synchronization
import TokMeshAuth
import TokMeshCore
import TokMeshHTTP
import TokMeshRESPServer
import TokMeshService
import TokMeshStorage
import TokMeshTelemetry

final class NodeContext: Sendable {
    static let version = "0.1.0"
    /// When this binary was built (installed), RFC 3339.
    static let buildTime = BuildInfo.builtAt
    /// The source commit, when the build passed one in (`TOKMESH_COMMIT` at build time is not
    /// wired yet, so the label reads `unknown`).
    static let commit = "unknown"

    /// The configuration at start; hot values in effect live in `runtime`.
    let config: ServerConfig
    let runtime: RuntimeConfig
    /// The tracer when `telemetry.tracing.enabled` (nil: tracing costs nothing).
    let tracer: TokMeshTracer?
    let nodeID: String
    let clock: any TokMeshCore.Clock
    let logger: Logger
    let sessions: SessionService
    let keys: KeyAdminService
    let authenticator: Authenticator
    let audit: AuditLog
    /// The session WAL (its writer exists once recovery has replayed the log).
    let journal: LateJournal
    let snapshots: SnapshotStore
    let restores = RestoreJobs()
    /// When the last snapshot was taken and how large the WAL was then (for the triggers).
    let lastSnapshot = Mutex<(at: Int64, walBytes: Int)>((0, 0))
    let stats: ConnectionStats
    /// RESP listener counters (INFO, and the tokmesh_resp_* metrics).
    let respStats = RESPStats()
    /// Latency, errors, in-flight count and access lines of the JSON API.
    let requests: RequestObserver
    /// Argon2 and other blocking work: max(1, cores/2) threads (spec/03 §2.1).
    let blockingPool: NIOThreadPool
    /// Snapshots and backup checks (two threads, so a second snapshot request meets the first
    /// and gets 409 instead of queueing behind it).
    let maintenancePool: NIOThreadPool
    let startedAt: Int64
    /// True once every listener is up; the readiness gate of spec/04 §2 (stays true while stopping).
    let started = Atomic<Bool>(false)
    /// What `/ready` reports: false before start and from the first moment of a graceful stop.
    let ready = Atomic<Bool>(false)
    /// Set when a stop begins (spec/11 §6 step 1: `lifecycle=shutting_down`).
    let stopping = Atomic<Bool>(false)
    /// Last GC trigger per type (Unix ms), for the once-per-60-s rule.
    let gcTriggers = Mutex<[String: Int64]>([:])
    let qpsSample = Mutex<(at: Int64, requests: UInt64, qps: Double)>((0, 0, 0))
    let shutdownRequest: @Sendable (Int64) -> Void

    /// The storage part of readiness: ok, recovering, restoring or failed (spec/02 §3.5).
    var storageState: String {
        var storage = journal.writer.map { $0.failure == nil ? "ok" : "failed" } ?? "recovering"
        if storage == "ok" && restores.maintenance.load(ordering: .relaxed) { storage = "restoring" }
        return storage
    }

    /// The `/ready` test, shared with gRPC health.
    var isReady: Bool { ready.load(ordering: .relaxed) && storageState == "ok" }

    init(config: ServerConfig, runtime: RuntimeConfig, tracer: TokMeshTracer?, nodeID: String, clock: any TokMeshCore.Clock, logger: Logger, sessions: SessionService,
         keys: KeyAdminService, authenticator: Authenticator, audit: AuditLog, journal: LateJournal, snapshots: SnapshotStore, stats: ConnectionStats,
         blockingPool: NIOThreadPool, maintenancePool: NIOThreadPool, shutdownRequest: @escaping @Sendable (Int64) -> Void) {
        self.config = config
        self.runtime = runtime
        self.tracer = tracer
        self.nodeID = nodeID
        self.clock = clock
        self.logger = logger
        self.requests = RequestObserver(logger: logger)
        self.sessions = sessions
        self.keys = keys
        self.authenticator = authenticator
        self.audit = audit
        self.journal = journal
        self.snapshots = snapshots
        self.stats = stats
        self.blockingPool = blockingPool
        self.maintenancePool = maintenancePool
        self.startedAt = clock.nowMillis()
        self.shutdownRequest = shutdownRequest
    }
}
