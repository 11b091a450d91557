// LogRaftStorage: a Raft node's hard state and log on the segmented log engine of spec/02 §3
// (`<data_dir>/raft/`, kind `raft`, always fsynced): every save appends an entry record per
// entry (term, index, a membership-change flag, data) and a hard-state record, then fdatasyncs. The log is append-only, so an entry whose
// index is already present means the log was cut there (§5.3); opening replays the records in
// order to the current hard state and log. A torn tail is cut by the engine; corruption before
// the tail refuses to open (spec/07 §5: dropping acknowledged Raft entries breaks safety).
import TokMeshRaft
import TokMeshStorage

public final class LogRaftStorage: RaftStorage {
    static let entryType: UInt8 = 1
    static let hardStateType: UInt8 = 2

    private let log: SegmentedLog
    private var hardState: RaftHardState
    private var entries: [RaftEntry]
    /// What opening found (torn tails, for the caller's WARN).
    public let report: LogOpenReport

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

    /// Opens (or creates) the Raft log in `directory`.
    public init(directory: String, masterKey: [UInt8]?, segmentBytesMax: Int = 64 << 20) throws {
        let options = LogOptions(directory: directory, kind: .raft, prefix: "raft", masterKey: masterKey, segmentBytesMax: segmentBytesMax,
                                 knownTypes: [Self.entryType, Self.hardStateType])
        var hardState = RaftHardState()
        var entries: [RaftEntry] = []
        let (log, report) = try SegmentedLog.open(options) { record in
            switch record.type {
            case Self.entryType:
                guard let entry = Self.decodeEntry(record.payload), entry.index >= 1, entry.index <= UInt64(entries.count) + 1 else {
                    throw OpenError.undecodable(index: record.index)
                }
                Self.merge(&entries, [entry])
            default:
                guard let h = Self.decodeHardState(record.payload) else { throw OpenError.undecodable(index: record.index) }
                hardState = h
            }
        }
        if let damage = report.corruption {
            try? log.close()
            throw OpenError.corrupt(segment: damage.segment, offset: damage.offset, reason: damage.reason)
        }
        self.log = log
        self.report = report
        self.hardState = hardState
        self.entries = entries
    }

    public func load() -> (RaftHardState, [RaftEntry]) { (hardState, entries) }

    public func save(hardState: RaftHardState?, entries newEntries: [RaftEntry]) throws {
        var records: [(type: UInt8, payload: [UInt8])] = newEntries.map { (Self.entryType, Self.encode($0)) }
        if let hardState { records.append((Self.hardStateType, Self.encode(hardState))) }
        guard !records.isEmpty else { return }
        try log.append(records)
        try log.sync()
        if let hardState { self.hardState = hardState }
        Self.merge(&entries, newEntries)
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
}
