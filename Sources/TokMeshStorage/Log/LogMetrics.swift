// LogMetrics: what a LogWriter records when it is the session WAL (spec/10 §3 storage) —
// appends, bytes, fsync time and failures, and records made durable per fsync. The log engine
// is shared with the Raft log, so the handles are passed in; a writer without them records
// nothing.
import CoreMetrics

public struct LogMetrics: Sendable {
    let appends: CoreMetrics.Counter
    let bytes: CoreMetrics.Counter
    let fsync: CoreMetrics.Timer
    let fsyncFailed: CoreMetrics.Counter
    let groupCommit: CoreMetrics.Recorder

    /// The session WAL's handles (`tokmesh_wal_*`).
    public static func sessionWAL() -> LogMetrics {
        LogMetrics(appends: CoreMetrics.Counter(label: "tokmesh_wal_appends_total"),
                   bytes: CoreMetrics.Counter(label: "tokmesh_wal_write_bytes_total"),
                   fsync: CoreMetrics.Timer(label: "tokmesh_wal_fsync_duration_seconds"),
                   fsyncFailed: CoreMetrics.Counter(label: "tokmesh_wal_fsync_failed_total"),
                   groupCommit: CoreMetrics.Recorder(label: "tokmesh_wal_group_commit_records"))
    }

    func synced(records: UInt64, nanos: UInt64, ok: Bool) {
        fsync.recordNanoseconds(Int64(nanos))
        if ok { groupCommit.record(Int64(records)) } else { fsyncFailed.increment() }
    }
}
