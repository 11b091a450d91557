// SessionJournal: where the session engine sends each mutation's WAL record while it still
// holds the mutation's shard locks (spec/02 §2), so log order equals apply order for every
// session. Appending only enqueues; the caller waits for the returned index to be acknowledged
// before answering its client. `WALJournal` is the production one, over the group-commit writer.
import Synchronization
import TokMeshCore

public protocol SessionJournal: Sendable {
    /// Enqueues `record`; returns its log index. Throws TM-SYS-5001 once the log has failed.
    func append(_ record: WALRecord, urgent: Bool) throws(TokMeshError) -> UInt64
}

public final class WALJournal: SessionJournal {
    public let writer: LogWriter
    /// Record times (Unix ms) of the oldest record kept and the newest appended (0: none).
    private let oldestTime: Atomic<Int64>
    private let newestTime: Atomic<Int64>

    public init(writer: LogWriter, oldestRecordTime: Int64 = 0, newestRecordTime: Int64 = 0) {
        self.writer = writer
        oldestTime = Atomic(oldestRecordTime)
        newestTime = Atomic(newestRecordTime)
    }

    public var recordTimes: (oldest: Int64, newest: Int64) {
        (oldestTime.load(ordering: .relaxed), newestTime.load(ordering: .relaxed))
    }

    public func append(_ record: WALRecord, urgent: Bool) throws(TokMeshError) -> UInt64 {
        do {
            let index = try writer.append(type: record.type, payload: record.encoded(), urgent: urgent)
            newestTime.store(record.time, ordering: .relaxed)
            _ = oldestTime.compareExchange(expected: 0, desired: record.time, ordering: .relaxed)
            return index
        } catch {
            throw TokMeshError(.sysStorage, "the session log has failed; restart the node")
        }
    }
}
