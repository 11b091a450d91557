// LogRaftStorage: a Raft node's hard state, snapshot and log on the segmented log engine of
// spec/02 §3 (`<data_dir>/raft/`, kind `raft`, always fsynced): every save appends an entry
// record per entry (term, index, a membership-change flag, data) and a hard-state record, then
// fdatasyncs. The log is append-only, so an entry of another term at an index already present
// means the log was cut there (§5.3); one of the same term is the entry already held.
// Snapshots are files (`snapshot-<index>-<term>.snap`, `SealedFile`: durable, encrypted,
// SHA-256 checked). Storing one writes the file, then one batch in a segment of its own — a
// snapshot record (index, term, the first entry kept), the hard state, the kept entries again —
// after which the segments before the batch and the older snapshot files hold nothing needed
// and are deleted. A crash before the batch is durable leaves the state before it (and a file
// nobody names, deleted at the next open). A torn tail is cut by the engine; corruption before
// the tail, or a snapshot file that is missing or damaged, refuses to open (spec/07 §5:
// dropping acknowledged Raft entries breaks safety).
import Foundation
import TokMeshRaft
import TokMeshStorage

public final class LogRaftStorage: RaftStorage {
    static let entryType: UInt8 = 1
    static let hardStateType: UInt8 = 2
    static let snapshotType: UInt8 = 3
    static let fileMagic = Array("TMRAFTSN".utf8)

    private let log: SegmentedLog
    private let directory: String
    private let masterKey: [UInt8]?
    private var state: RaftPersistentState
    /// What opening found (torn tails, for the caller's WARN).
    public let report: LogOpenReport
    /// Segments and snapshot files deleted since opening.
    public private(set) var removedFiles: [String] = []

    public enum OpenError: Error, Equatable, CustomStringConvertible {
        case corrupt(segment: String, offset: Int, reason: String)
        case undecodable(index: UInt64)
        case snapshot(String)

        public var description: String {
            switch self {
            case .corrupt(let segment, let offset, let reason): "corrupt Raft log in \(segment) at offset \(offset): \(reason)"
            case .undecodable(let index): "Raft log record \(index) cannot be decoded"
            case .snapshot(let reason): "Raft snapshot unreadable: \(reason)"
            }
        }
    }

    static func fileName(index: UInt64, term: UInt64) -> String { "snapshot-\(index)-\(term).snap" }

    /// Opens (or creates) the Raft log in `directory`.
    public init(directory: String, masterKey: [UInt8]?, segmentBytesMax: Int = 64 << 20) throws {
        self.directory = directory
        self.masterKey = masterKey
        let options = LogOptions(directory: directory, kind: .raft, prefix: "raft", masterKey: masterKey, segmentBytesMax: segmentBytesMax,
                                 knownTypes: [Self.entryType, Self.hardStateType, Self.snapshotType])
        var state = RaftPersistentState()
        var latest: (index: UInt64, term: UInt64)?
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
            default:
                guard record.payload.count == 24 else { throw OpenError.undecodable(index: record.index) }
                let index = Self.get(record.payload, 0), term = Self.get(record.payload, 8), keep = Self.get(record.payload, 16)
                let keepFrom: UInt64? = keep == 0 ? nil : keep - 1
                if let keepFrom { state.entries.removeAll { $0.index < keepFrom } } else { state.entries = [] }
                emptyStart = min(keepFrom ?? index + 1, index + 1)
                latest = (index, term)
            }
        }
        if let damage = report.corruption {
            try? log.close()
            throw OpenError.corrupt(segment: damage.segment, offset: damage.offset, reason: damage.reason)
        }
        if let latest {
            do {
                state.snapshot = try Self.readSnapshot(directory + "/" + Self.fileName(index: latest.index, term: latest.term), masterKey: masterKey)
            } catch {
                try? log.close()
                throw error
            }
            guard state.snapshot?.meta.index == latest.index, state.snapshot?.meta.term == latest.term else {
                try? log.close()
                throw OpenError.snapshot("\(Self.fileName(index: latest.index, term: latest.term)) holds another snapshot")
            }
        }
        self.log = log
        self.report = report
        self.state = state
        removedFiles = removeSnapshotFiles(except: latest.map { Self.fileName(index: $0.index, term: $0.term) })
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
        let name = Self.fileName(index: snapshot.index, term: snapshot.meta.term)
        try SealedFile.write(directory: directory, name: name, magic: Self.fileMagic, kind: .raft,
                             payload: Self.encodeSnapshot(snapshot), masterKey: masterKey)
        var marker: [UInt8] = []
        for v in [snapshot.index, snapshot.meta.term, keepFrom.map { $0 + 1 } ?? 0] { Self.put(v, into: &marker) }
        var records: [(type: UInt8, payload: [UInt8])] = [(Self.snapshotType, marker), (Self.hardStateType, Self.encode(hardState))]
        records += next.entries.map { (Self.entryType, Self.encode($0)) }
        try log.rotate()
        guard let written = try log.append(records) else { return }
        try log.sync()
        state = next
        // Everything before the batch is written again in it or in the file.
        removedFiles += try log.removeSegments(before: written.lowerBound)
        removedFiles += removeSnapshotFiles(except: name)
    }

    /// Deletes the snapshot files other than `keep` (older ones, or one whose batch a crash
    /// cut short).
    private func removeSnapshotFiles(except keep: String?) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix("snapshot-") && ($0.hasSuffix(".snap") || $0.hasSuffix(".snap.tmp")) && $0 != keep }
            .filter { (try? FileManager.default.removeItem(atPath: directory + "/" + $0)) != nil }
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

    /// A snapshot file's payload: index, term, voter count, learner count, the ids (8 bytes
    /// each), then the state machine's bytes.
    static func encodeSnapshot(_ snapshot: RaftSnapshot) -> [UInt8] {
        let m = snapshot.meta
        var out: [UInt8] = []
        for v in [m.index, m.term, UInt64(m.membership.voters.count), UInt64(m.membership.learners.count)] { put(v, into: &out) }
        for id in m.membership.voters.sorted() + m.membership.learners.sorted() { put(id, into: &out) }
        return out + snapshot.data
    }

    static func readSnapshot(_ path: String, masterKey: [UInt8]?) throws -> RaftSnapshot {
        let bytes: [UInt8]
        do { bytes = try SealedFile.read(path: path, magic: fileMagic, kind: .raft, masterKey: masterKey) } catch {
            throw OpenError.snapshot(error.description)
        }
        guard bytes.count >= 32 else { throw OpenError.snapshot("\(path): too short") }
        let voters = get(bytes, 16), learners = get(bytes, 24)
        guard voters <= 1 << 16, learners <= 1 << 16, bytes.count >= 32 + 8 * Int(voters + learners) else {
            throw OpenError.snapshot("\(path): bad membership")
        }
        let ids = (0..<Int(voters + learners)).map { get(bytes, 32 + 8 * $0) }
        let membership = RaftMembership(voters: Set(ids.prefix(Int(voters))), learners: Set(ids.suffix(Int(learners))))
        return RaftSnapshot(meta: RaftSnapshotMeta(index: get(bytes, 0), term: get(bytes, 8), membership: membership),
                            data: Array(bytes[(32 + 8 * Int(voters + learners))...]))
    }
}
