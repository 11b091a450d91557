// LogRaftStorage: a Raft node's hard state, snapshot and log on the segmented log engine of
// spec/02 §3 (`<data_dir>/raft/`, kind `raft`, always fsynced): every save appends an entry
// record per entry (term, index, a membership-change flag, data) and a hard-state record, then
// fdatasyncs. The log is append-only, so an entry of another term at an index already present
// means the log was cut there (§5.3); one of the same term is the entry already held. A snapshot
// is written as one batch — a snapshot header (index, term, membership, size, the first entry
// kept), its bytes in chunk records, the hard state, then the kept entries again — in a segment
// of its own, after which the segments before the batch hold nothing needed and are deleted. Opening replays the records in
// order; a snapshot counts only once all its bytes are read, so a batch torn by a crash leaves
// the state before it. A torn tail is cut by the engine; corruption before the tail refuses to
// open (spec/07 §5: dropping acknowledged Raft entries breaks safety).
import TokMeshRaft
import TokMeshStorage

public final class LogRaftStorage: RaftStorage {
    static let entryType: UInt8 = 1
    static let hardStateType: UInt8 = 2
    static let snapshotType: UInt8 = 3
    static let snapshotChunkType: UInt8 = 4
    /// Snapshot bytes per record (records hold at most 16 MiB).
    let snapshotChunkBytes: Int

    private let log: SegmentedLog
    private var state: RaftPersistentState
    /// What opening found (torn tails, for the caller's WARN).
    public let report: LogOpenReport
    /// Segments deleted after snapshots since opening.
    public private(set) var removedSegments: [String] = []

    public enum OpenError: Error, Equatable, CustomStringConvertible {
        case corrupt(segment: String, offset: Int, reason: String)
        case undecodable(index: UInt64)

        public var description: String {
            switch self {
            case .corrupt(let segment, let offset, let reason): "corrupt Raft log in \(segment) at offset \(offset): \(reason)"
            case .undecodable(let index): "Raft log record \(index) cannot be decoded"
            }
        }
    }

    /// A snapshot header read, its bytes still arriving.
    private struct PartialSnapshot {
        var meta: RaftSnapshotMeta
        var total: Int
        var keepFrom: UInt64?
        var data: [UInt8] = []
    }

    /// Opens (or creates) the Raft log in `directory`.
    public init(directory: String, masterKey: [UInt8]?, segmentBytesMax: Int = 64 << 20, snapshotChunkBytes: Int = 4 << 20) throws {
        precondition(snapshotChunkBytes > 0 && snapshotChunkBytes <= LogFrame.payloadBytesMax, "snapshot chunk size")
        self.snapshotChunkBytes = snapshotChunkBytes
        let options = LogOptions(directory: directory, kind: .raft, prefix: "raft", masterKey: masterKey, segmentBytesMax: segmentBytesMax,
                                 knownTypes: [Self.entryType, Self.hardStateType, Self.snapshotType, Self.snapshotChunkType])
        var state = RaftPersistentState()
        var partial: PartialSnapshot?
        // Where an entry record may start the log while it is empty: 1, or after a snapshot the
        // first entry it keeps (its batch writes the kept entries again).
        var emptyStart: UInt64 = 1
        let (log, report) = try SegmentedLog.open(options) { record in
            switch record.type {
            case Self.entryType:
                let start = state.entries.first?.index ?? emptyStart
                guard let entry = Self.decodeEntry(record.payload), entry.index >= start, entry.index <= start + UInt64(state.entries.count) else {
                    throw OpenError.undecodable(index: record.index)
                }
                Self.merge(&state.entries, [entry], base: start - 1)
            case Self.hardStateType:
                guard let h = Self.decodeHardState(record.payload) else { throw OpenError.undecodable(index: record.index) }
                state.hardState = h
            case Self.snapshotType:
                guard let header = Self.decodeSnapshotHeader(record.payload) else { throw OpenError.undecodable(index: record.index) }
                partial = header
            default:
                guard partial != nil, partial!.data.count + record.payload.count <= partial!.total else { throw OpenError.undecodable(index: record.index) }
                partial!.data += record.payload
            }
            if let done = partial, done.data.count == done.total {
                Self.compact(&state, snapshot: RaftSnapshot(meta: done.meta, data: done.data), hardState: state.hardState, keepFrom: done.keepFrom)
                emptyStart = min(done.keepFrom ?? done.meta.index + 1, done.meta.index + 1)
                partial = nil
            }
        }
        if let damage = report.corruption {
            try? log.close()
            throw OpenError.corrupt(segment: damage.segment, offset: damage.offset, reason: damage.reason)
        }
        self.log = log
        self.report = report
        self.state = state
    }

    public func load() -> RaftPersistentState { state }

    public func save(hardState: RaftHardState?, entries newEntries: [RaftEntry]) throws {
        var records: [(type: UInt8, payload: [UInt8])] = newEntries.map { (Self.entryType, Self.encode($0)) }
        if let hardState { records.append((Self.hardStateType, Self.encode(hardState))) }
        guard !records.isEmpty else { return }
        try log.append(records)
        try log.sync()
        if let hardState { state.hardState = hardState }
        Self.merge(&state.entries, newEntries, base: state.snapshot?.index ?? 0)
    }

    public func saveSnapshot(_ snapshot: RaftSnapshot, hardState: RaftHardState, keepFrom: UInt64?) throws {
        var next = state
        Self.compact(&next, snapshot: snapshot, hardState: hardState, keepFrom: keepFrom)
        var records: [(type: UInt8, payload: [UInt8])] = [(Self.snapshotType, Self.encodeSnapshotHeader(snapshot.meta, total: snapshot.data.count, keepFrom: keepFrom))]
        var offset = 0
        while offset < snapshot.data.count {
            let end = min(snapshot.data.count, offset + snapshotChunkBytes)
            records.append((Self.snapshotChunkType, Array(snapshot.data[offset..<end])))
            offset = end
        }
        records.append((Self.hardStateType, Self.encode(hardState)))
        records += next.entries.map { (Self.entryType, Self.encode($0)) }
        try log.rotate()
        guard let written = try log.append(records) else { return }
        try log.sync()
        state = next
        // Everything before the batch is written again in it.
        removedSegments += try log.removeSegments(before: written.lowerBound)
    }

    public func close() throws { try log.close() }

    // MARK: record payloads (little-endian)

    static func put(_ v: UInt64, into out: inout [UInt8]) {
        for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    static func get(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << UInt64(8 * $1) }
    }

    static func encode(_ e: RaftEntry) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(17 + e.data.count)
        put(e.term, into: &out)
        put(e.index, into: &out)
        out.append(e.isConfChange ? 1 : 0)
        out += e.data
        return out
    }

    static func decodeEntry(_ bytes: [UInt8]) -> RaftEntry? {
        guard bytes.count >= 17, bytes[16] <= 1 else { return nil }
        return RaftEntry(term: get(bytes, 0), index: get(bytes, 8), data: Array(bytes[17...]), isConfChange: bytes[16] == 1)
    }

    static func encode(_ h: RaftHardState) -> [UInt8] {
        var out: [UInt8] = []
        put(h.term, into: &out)
        put(h.vote, into: &out)
        put(h.commit, into: &out)
        return out
    }

    static func decodeHardState(_ bytes: [UInt8]) -> RaftHardState? {
        guard bytes.count == 24 else { return nil }
        return RaftHardState(term: get(bytes, 0), vote: get(bytes, 8), commit: get(bytes, 16))
    }

    /// index, term, total size, keepFrom + 1 (0: none), voter count, learner count, then the ids.
    static func encodeSnapshotHeader(_ meta: RaftSnapshotMeta, total: Int, keepFrom: UInt64?) -> [UInt8] {
        var out: [UInt8] = []
        for v in [meta.index, meta.term, UInt64(total), keepFrom.map { $0 + 1 } ?? 0, UInt64(meta.membership.voters.count), UInt64(meta.membership.learners.count)] {
            put(v, into: &out)
        }
        for id in meta.membership.voters.sorted() + meta.membership.learners.sorted() { put(id, into: &out) }
        return out
    }

    private static func decodeSnapshotHeader(_ bytes: [UInt8]) -> PartialSnapshot? {
        guard bytes.count >= 48 else { return nil }
        let voters = get(bytes, 32), learners = get(bytes, 40)
        guard voters <= 1 << 16, learners <= 1 << 16, bytes.count == 48 + 8 * Int(voters + learners) else { return nil }
        let ids = (0..<Int(voters + learners)).map { get(bytes, 48 + 8 * $0) }
        let membership = RaftMembership(voters: Set(ids.prefix(Int(voters))), learners: Set(ids.suffix(Int(learners))))
        let keepFrom = get(bytes, 24)
        let total = get(bytes, 16)
        guard total <= UInt64(Int.max) else { return nil }
        return PartialSnapshot(meta: RaftSnapshotMeta(index: get(bytes, 0), term: get(bytes, 8), membership: membership),
                               total: Int(total), keepFrom: keepFrom == 0 ? nil : keepFrom - 1)
    }
}
