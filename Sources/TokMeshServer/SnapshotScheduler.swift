// SnapshotScheduler: takes snapshots (scheduled, by WAL growth, or manual), then applies
// retention and compacts the WAL (spec/02 §5.3-§5.4, §3.7). Runs on the blocking pool.
import CoreMetrics
import Foundation
import TokMeshCore
import TokMeshStorage

enum SnapshotScheduler {
    static let snapshotDuration = CoreMetrics.Timer(label: "tokmesh_snapshot_duration_seconds")
    static let snapshotFailures = CoreMetrics.Counter(label: "tokmesh_snapshot_failures_total")
    static func walBytes(_ node: NodeContext) -> Int {
        let dir = node.config.walDirectory
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).reduce(0) { sum, name in
            sum + (((try? FileManager.default.attributesOfItem(atPath: dir + "/" + name))?[.size] as? Int) ?? 0)
        }
    }

    /// The periodic check: snapshot when the interval has passed or the WAL grew by the threshold.
    static func tick(_ node: NodeContext, now: Int64) {
        let (at, bytesThen) = node.lastSnapshot.withLock { $0 }
        let startedAt = at == 0 ? node.startedAt : at
        let bytesNow = walBytes(node)
        let trigger: String
        if now - startedAt >= node.config.snapshotIntervalMillis {
            trigger = "interval"
        } else if bytesNow - bytesThen >= node.config.snapshotThresholdBytes {
            trigger = "wal_size"
        } else {
            return
        }
        _ = try? take(node, trigger: trigger, description: "", now: now)
    }

    /// Takes one snapshot, then retention and WAL compaction. Throws the admin error codes.
    static func take(_ node: NodeContext, trigger: String, description: String, now: Int64) throws(TokMeshError) -> SnapshotInfo {
        guard let writer = node.journal.writer else { throw TokMeshError(.sysUnavailable, "Node is recovering", headers: [("Retry-After", "1")]) }
        let started = monotonicNanos()
        let info: SnapshotInfo
        do {
            info = try node.snapshots.create(engine: node.sessions.engine, writer: writer, trigger: trigger, description: description, now: now)
        } catch .busy {
            throw TokMeshError(.adminConflict, "a snapshot is already being written")
        } catch {
            snapshotFailures.increment()
            node.logger.log(.error, "tokmesh.storage", "snapshot failed", ["event": "snapshot_failed", "error": .string("\(error)"),
                                                                            "code": .string(ErrorCode.sysBackup.rawValue)])
            throw TokMeshError(.adminFailed, "the snapshot could not be written")
        }
        snapshotDuration.recordNanoseconds(Int64(monotonicNanos() - started))
        MemoryTrim.release()
        node.lastSnapshot.withLock { $0 = (now, walBytes(node)) }
        let deleted = node.snapshots.applyRetention(count: node.config.snapshotRetentionCount, days: node.config.snapshotRetentionDays,
                                                    now: now, protected: node.restores.protectedSnapshots)
        let (compacted, keepFrom) = node.snapshots.compactWAL(directory: node.config.walDirectory, prefix: "wal")
        node.restores.forgetResets(before: keepFrom)
        node.logger.log(.info, "tokmesh.storage", "snapshot written", [
            "event": "snapshot_created", "snapshot_id": .string(info.snapshotID), "trigger": .string(trigger),
            "sessions": .int(Int64(info.sessionCount)), "wal_position": .uint(info.walPosition),
            "duration_ms": .int(Int64((monotonicNanos() - started) / 1_000_000)),
            "retention_deleted": .strings(deleted), "wal_segments_deleted": .strings(compacted),
        ])
        return info
    }
}
