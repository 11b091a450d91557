// RaftStorage: where a node's hard state and log live between runs, behind one protocol — the
// driver calls `save` with each Ready's hard state and entries before sending its messages, and
// `load` once at start. Entries that overwrite an index replace the log from there (a new
// leader's conflict resolution, §5.3). `MemoryRaftStorage` serves the simulator and tests;
// `LogRaftStorage` (module TokMeshRaftStorage) keeps them on the segmented log engine.

public protocol RaftStorage {
    /// The persisted hard state and log (entries from index 1, without gaps).
    func load() throws -> (RaftHardState, [RaftEntry])
    /// Stores a Ready's hard state (nil: unchanged) and entries durably.
    mutating func save(hardState: RaftHardState?, entries: [RaftEntry]) throws
}

extension RaftStorage {
    /// Entries appended after `log`, replacing it from the first new entry's index.
    public static func merge(_ log: inout [RaftEntry], _ entries: [RaftEntry]) {
        guard let first = entries.first else { return }
        precondition(first.index >= 1 && first.index <= UInt64(log.count) + 1, "entries must continue or overwrite the log")
        log.removeSubrange(Int(first.index - 1)...)
        log += entries
    }
}

/// A disk that is memory: what the simulator's crashes keep.
public struct MemoryRaftStorage: RaftStorage, Sendable {
    public private(set) var hardState = RaftHardState()
    public private(set) var entries: [RaftEntry] = []

    public init() {}

    public func load() -> (RaftHardState, [RaftEntry]) { (hardState, entries) }

    public mutating func save(hardState: RaftHardState?, entries: [RaftEntry]) {
        if let hardState { self.hardState = hardState }
        Self.merge(&self.entries, entries)
    }
}
