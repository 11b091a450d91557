// SessionJournal: where the session engine sends each mutation's WAL record while it still
// holds the mutation's shard locks (spec/02 §2), so log order equals apply order for every
// session. Appending only enqueues; the caller waits for the returned index to be acknowledged
// before answering its client. `WALJournal` is the production one, over the group-commit writer.
import TokMeshCore

public protocol SessionJournal: Sendable {
    /// Enqueues `record`; returns its log index. Throws TM-SYS-5001 once the log has failed.
    func append(_ record: WALRecord, urgent: Bool) throws(TokMeshError) -> UInt64
}

public final class WALJournal: SessionJournal {
    public let writer: LogWriter

    public init(writer: LogWriter) { self.writer = writer }

    public func append(_ record: WALRecord, urgent: Bool) throws(TokMeshError) -> UInt64 {
        do {
            return try writer.append(type: record.type, payload: record.encoded(), urgent: urgent)
        } catch {
            throw TokMeshError(.sysStorage, "the session log has failed; restart the node")
        }
    }
}
