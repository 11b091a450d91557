// RaftStorage: where a node's hard state, snapshot and log live between runs, behind one
// protocol — the driver calls `saveSnapshot` with a received snapshot (or one it took when the
// node asked for it) and `save` with each Ready's hard state and entries before sending its
// messages, and `load` once at start. Entries that overwrite an index with another term replace
// the log from there (a new leader's conflict resolution, §5.3); an entry already held is kept.
// `MemoryRaftStorage` serves the simulator and tests; `LogRaftStorage` (module
// TokMeshRaftStorage) keeps them on the segmented log engine.

/// What a node starts from.
public struct RaftPersistentState: Sendable, Equatable {
    public var hardState = RaftHardState()
    public var snapshot: RaftSnapshot?
    /// Contiguous entries: from 1 without a snapshot; otherwise from an index at most one past
    /// the snapshot's (entries before it are kept for lagging followers).
    public var entries: [RaftEntry] = []

    public init(hardState: RaftHardState = RaftHardState(), snapshot: RaftSnapshot? = nil, entries: [RaftEntry] = []) {
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
    }
}

public protocol RaftStorage {
    /// The persisted state.
    func load() throws -> RaftPersistentState
    /// Stores a Ready's hard state (nil: unchanged) and entries durably.
    mutating func save(hardState: RaftHardState?, entries: [RaftEntry]) throws
    /// Stores `snapshot` durably with `hardState`, keeping the entries from `keepFrom` on
    /// (a snapshot the node took: `RaftNode.logStart`) or none (nil: one received from the
    /// leader, which replaces the log).
    mutating func saveSnapshot(_ snapshot: RaftSnapshot, hardState: RaftHardState, keepFrom: UInt64?) throws
}

extension RaftStorage {
    /// `entries` merged into `log`: an entry already held (same index and term) changes
    /// nothing, one of another term cuts the log there, and new ones are appended.
    /// `base` is the index just before `log`'s first entry when `log` is empty.
    public static func merge(_ log: inout [RaftEntry], _ entries: [RaftEntry], base: UInt64 = 0) {
        for entry in entries {
            let start = log.first?.index ?? base + 1
            precondition(entry.index >= start && entry.index <= start + UInt64(log.count), "entries must continue or overwrite the log")
            let position = Int(entry.index - start)
            if position < log.count {
                if log[position].term == entry.term { continue }
                log.removeSubrange(position...)
            }
            log.append(entry)
        }
    }

    /// The state after a snapshot is stored: the log from `keepFrom`, or empty.
    public static func compact(_ state: inout RaftPersistentState, snapshot: RaftSnapshot, hardState: RaftHardState, keepFrom: UInt64?) {
        state.snapshot = snapshot
        state.hardState = hardState
        if let keepFrom { state.entries.removeAll { $0.index < keepFrom } } else { state.entries = [] }
    }
}

/// A disk that is memory: what the simulator's crashes keep.
public struct MemoryRaftStorage: RaftStorage, Sendable {
    public private(set) var state = RaftPersistentState()

    public init() {}

    public func load() -> RaftPersistentState { state }

    public mutating func save(hardState: RaftHardState?, entries: [RaftEntry]) {
        if let hardState { state.hardState = hardState }
        Self.merge(&state.entries, entries, base: state.snapshot?.index ?? 0)
    }

    public mutating func saveSnapshot(_ snapshot: RaftSnapshot, hardState: RaftHardState, keepFrom: UInt64?) {
        Self.compact(&state, snapshot: snapshot, hardState: hardState, keepFrom: keepFrom)
    }
}
