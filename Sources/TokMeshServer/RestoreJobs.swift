// RestoreJobs: restores from a backup file as a job (spec/02 §7, spec/04 §8.1). The route checks
// the file first (404/422/409) and gets a PENDING job; a dedicated thread then runs the phases:
// maintenance on (writes 503 TM-ADMIN-5031, `/ready` 503 "restoring", touches skipped), a
// `pre_restore` snapshot, decrypt and parse the file into a state aside, write it as a `restore`
// snapshot, then — with every shard locked — append a RESET naming it, wait until that is
// fsynced and swap the engine contents. A failure before the RESET leaves the old state; from
// the RESET on the restored state stands, also across a crash. The last 16 jobs are kept.
import Foundation
import Synchronization
import TokMeshAuth
import TokMeshCore
import TokMeshStorage

struct RestoreJob: Sendable {
    enum Status: String, Sendable { case pending = "PENDING", running = "RUNNING", completed = "COMPLETED", failed = "FAILED" }

    var jobID: String
    var status: Status = .pending
    var progress = 0
    var message = "Validating backup file..."
    var snapshotID: String
    var startedAt: Int64
    var finishedAt: Int64 = 0
    var restoredSessions = 0
    var errorCode = ""

    var json: JSONObject {
        ["job_id": .string(jobID), "status": .string(status.rawValue), "progress": .int(Int64(progress)), "message": .string(message),
         "snapshot_id": .string(snapshotID), "started_at": .int(startedAt), "finished_at": .int(finishedAt),
         "restored_sessions": .int(Int64(restoredSessions)), "error_code": .string(errorCode)]
    }
}

final class RestoreJobs: Sendable {
    static let jobsKept = 16
    /// How long the job waits for a scheduled snapshot to finish before its `pre_restore` one.
    static let snapshotWaitNanos: UInt64 = 120_000_000_000

    private struct State {
        var jobs: [RestoreJob] = []
        var active: String?
    }

    private let state = Mutex(State())
    /// Phase 1 to the end: writes refused, `/ready` 503, touches skipped.
    let maintenance = Atomic<Bool>(false)
    /// RESET records still in the log (index, snapshot ID): their snapshots survive retention.
    private let resets = Mutex<[(index: UInt64, snapshotID: String)]>([])

    func job(_ id: String) -> RestoreJob? { state.withLock { s in s.jobs.first { $0.jobID == id } } }

    var protectedSnapshots: Set<String> { resets.withLock { Set($0.map(\.snapshotID)) } }

    func noteReset(index: UInt64, snapshotID: String) { resets.withLock { $0.append((index, snapshotID)) } }

    /// Forgets RESET records the log no longer needs (before the first index recovery can read).
    func forgetResets(before index: UInt64) { resets.withLock { $0.removeAll { $0.index < index } } }

    /// Registers a PENDING job, or nil when one is pending or running (TM-ADMIN-4091).
    func begin(snapshotID: String, now: Int64) -> RestoreJob? {
        state.withLock { s -> RestoreJob? in
            guard s.active == nil else { return nil }
            let jobs = s.jobs
            let id = CivilTime.stampedID("restore", unixMillis: now) { candidate in jobs.contains { $0.jobID == candidate } }
            let job = RestoreJob(jobID: id, snapshotID: snapshotID, startedAt: now)
            s.jobs.append(job)
            if s.jobs.count > RestoreJobs.jobsKept { s.jobs.removeFirst(s.jobs.count - RestoreJobs.jobsKept) }
            s.active = id
            return job
        }
    }

    /// Updates a job; progress never decreases.
    func update(_ id: String, _ change: (inout RestoreJob) -> Void) {
        state.withLock { s in
            guard let i = s.jobs.firstIndex(where: { $0.jobID == id }) else { return }
            let before = s.jobs[i].progress
            change(&s.jobs[i])
            s.jobs[i].progress = max(before, min(100, s.jobs[i].progress))
            if s.jobs[i].status == .completed || s.jobs[i].status == .failed, s.active == id { s.active = nil }
        }
    }

    /// Starts the job's phases on their own thread (a restore of a large file must not hold a
    /// blocking-pool thread that Argon2 verifications need).
    func start(_ job: RestoreJob, bytes: [UInt8], restoreKeys: Bool, requestedBy: String, node: NodeContext) {
        let file = Mutex<[UInt8]?>(bytes)  // taken by the decode phase, so it is freed before the swap
        let thread = Thread { [self] in run(job, file: file, restoreKeys: restoreKeys, requestedBy: requestedBy, node: node) }
        thread.name = "tokmesh-restore"
        thread.start()
    }

    private struct Failure: Error {
        var code: ErrorCode
        var message: String
    }

    private func run(_ job: RestoreJob, file: borrowing Mutex<[UInt8]?>, restoreKeys: Bool, requestedBy: String, node: NodeContext) {
        let id = job.jobID
        let source = job.snapshotID.isEmpty ? "an uploaded file" : job.snapshotID
        func phase(_ progress: Int, _ message: String) {
            update(id) { j in
                j.status = .running
                j.progress = progress
                j.message = message
            }
        }
        phase(5, "Entering maintenance mode...")
        maintenance.store(true, ordering: .sequentiallyConsistent)
        do {
            guard let writer = node.journal.writer else { throw Failure(code: .sysBackup, message: "the log is not open") }
            phase(10, "Creating pre-restore snapshot...")
            _ = try takeSnapshotWaiting(node) { () throws(SnapshotStore.CreateError) -> SnapshotInfo in
                try node.snapshots.create(engine: node.sessions.engine, writer: writer, trigger: "pre_restore",
                                          description: "before restoring \(source)", now: node.clock.nowMillis())
            }
            phase(30, "Decrypting and parsing backup...")
            let (restoredID, index, count) = try swapIn(file: file, source: source, writer: writer, node: node, phase: phase)
            if let index { noteReset(index: index, snapshotID: restoredID) }
            MemoryTrim.release()  // the old state and the parsed file are gone now
            maintenance.store(false, ordering: .sequentiallyConsistent)  // phase 7, before COMPLETED is visible
            let keysNote = restoreKeys ? " The backup holds no API keys (API keys are not yet part of snapshots); keys were left as they are." : ""
            update(id) { j in
                j.status = .completed
                j.progress = 100
                j.finishedAt = node.clock.nowMillis()
                j.restoredSessions = count
                j.message = "Restore completed: \(count) sessions restored from \(source). Sessions revoked after the backup was taken are valid again.\(keysNote)"
            }
            node.audit.record(AuditRecord(operatorID: requestedBy, action: "RESTORE_COMPLETED", resource: "restores", success: true,
                                          ipAddress: "local", tcpRemoteIP: "local", userAgent: "", requestID: "",
                                          details: ["job_id": .string(id), "restore_snapshot_id": .string(restoredID),
                                                    "restored_sessions": .int(Int64(count)),
                                                    "note": "sessions revoked after the backup was taken are valid again"]))
            node.logger.log(.info, "tokmesh.storage", "restore completed", [
                "event": "restore_completed", "job_id": .string(id), "restore_snapshot_id": .string(restoredID),
                "restored_sessions": .int(Int64(count)),
            ])
        } catch {
            let failure = error as? Failure ?? Failure(code: .sysBackup, message: "\(error)")
            maintenance.store(false, ordering: .sequentiallyConsistent)
            update(id) { j in
                j.status = .failed
                j.finishedAt = node.clock.nowMillis()
                j.errorCode = failure.code.rawValue
                j.message = "Restore failed: \(failure.message)"
            }
            node.audit.record(AuditRecord(operatorID: requestedBy, action: "RESTORE_FAILED", resource: "restores", success: false,
                                          errorCode: failure.code.rawValue, ipAddress: "local", tcpRemoteIP: "local", userAgent: "",
                                          requestID: "", details: ["job_id": .string(id)]))
            node.logger.log(.error, "tokmesh.storage", "restore failed", [
                "event": "restore_failed", "job_id": .string(id), "code": .string(failure.code.rawValue), "error": .string(failure.message),
            ])
        }
    }

    /// Phases 3-5: parse the file aside, write it as the `restore` snapshot, append the RESET
    /// and swap. Everything large lives in this frame only, so it is freed when it returns.
    private func swapIn(file: borrowing Mutex<[UInt8]?>, source: String, writer: LogWriter, node: NodeContext,
                        phase: (Int, String) -> Void) throws -> (String, UInt64?, Int) {
        let contents: SnapshotContents
        do {
            contents = try node.snapshots.decode(file.withLock { f -> [UInt8] in
                defer { f = nil }
                return f ?? []
            })
        } catch {
            throw Failure(code: .adminBackupUnusable, message: "the backup cannot be read: \(error)")
        }
        phase(50, "Writing restore snapshot...")
        let position = writer.lastAssignedIndex
        let restored = try takeSnapshotWaiting(node) { () throws(SnapshotStore.CreateError) -> SnapshotInfo in
            try node.snapshots.create(contents: contents, position: position, trigger: "restore",
                                      description: "restored from \(source)", now: node.clock.nowMillis())
        }
        phase(70, "Loading restored state...")
        let engine = node.sessions.engine
        let aside = SessionEngine(shardCount: engine.shardCount)
        let now = node.clock.nowMillis()
        aside.load(contents.sessions, tombstones: contents.tombstones, now: now)
        let count = aside.stats(now: now).totalSessions
        phase(90, "Switching to the restored state...")
        do {
            let index = try engine.replaceContents(with: aside, logging: .reset(time: now, snapshotID: restored.snapshotID)) { index throws(TokMeshError) in
                guard let index else { return }
                do { try writer.waitAcknowledged(index, durable: true) } catch {
                    throw TokMeshError(.sysStorage, "the RESET record could not be made durable")
                }
            }
            return (restored.snapshotID, index, count)
        } catch {
            throw Failure(code: .sysBackup, message: error.message)
        }
    }

    /// Runs a snapshot write, waiting (with a deadline) while a scheduled one finishes.
    private func takeSnapshotWaiting(_ node: NodeContext, _ create: () throws(SnapshotStore.CreateError) -> SnapshotInfo) throws -> SnapshotInfo {
        let deadline = monotonicNanos() + RestoreJobs.snapshotWaitNanos
        while true {
            do {
                return try create()
            } catch .busy {
                guard monotonicNanos() < deadline else { throw Failure(code: .sysBackup, message: "another snapshot did not finish in time") }
                usleep(20_000)
            } catch {
                throw Failure(code: .sysBackup, message: "a snapshot could not be written: \(error)")
            }
        }
    }
}
