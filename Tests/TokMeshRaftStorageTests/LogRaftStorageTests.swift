// Tests of the Raft log on the segmented log engine: what is saved comes back after reopening,
// overwritten suffixes stay overwritten, snapshots (files) come back with the entries kept after
// them while older segments and files are deleted, a snapshot batch torn by a crash leaves the
// state before it, a torn tail is cut and the rest kept, and corruption before the tail or a
// missing or damaged snapshot file refuses to open rather than forget acknowledged entries.
import Foundation
import Testing
@testable import TokMeshRaft
@testable import TokMeshRaftStorage

@Suite struct LogRaftStorageTests {
    func directory() -> String {
        let path = NSTemporaryDirectory() + "raft-\(UInt64.random(in: 0...UInt64.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static let key = [UInt8](repeating: 7, count: 32)

    @Test("saved hard state and entries come back after reopening, with overwritten suffixes replaced")
    func roundTrip() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let store = try LogRaftStorage(directory: dir, masterKey: Self.key)
            try store.save(hardState: RaftHardState(term: 1, vote: 2, commit: 0),
                           entries: (1...5).map { RaftEntry(term: 1, index: $0, data: Array("e\($0)".utf8)) })
            // A new leader of term 3 overwrites from index 4.
            try store.save(hardState: RaftHardState(term: 3, vote: 0, commit: 3), entries: [RaftEntry(term: 3, index: 4, data: [9])])
            try store.close()
        }
        let reopened = try LogRaftStorage(directory: dir, masterKey: Self.key)
        let state = reopened.load()
        let (h, entries) = (state.hardState, state.entries)
        #expect(h == RaftHardState(term: 3, vote: 0, commit: 3))
        #expect(entries.map(\.index) == [1, 2, 3, 4] && entries.last == RaftEntry(term: 3, index: 4, data: [9]))
        #expect(entries[0].data == Array("e1".utf8))
        // A node built from it resumes where it was.
        let node = RaftNode(config: RaftConfig(id: 1, voters: [1, 2, 3], seed: 1), state: state)
        #expect(node.term == 3 && node.lastIndex == 4 && node.commit == 3)
        try reopened.close()
    }

    @Test("a torn tail is cut and everything before it kept; a flipped byte before the tail refuses to open")
    func damage() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let store = try LogRaftStorage(directory: dir, masterKey: Self.key)
            for i in UInt64(1)...20 { try store.save(hardState: RaftHardState(term: 1, vote: 1, commit: i - 1), entries: [RaftEntry(term: 1, index: i, data: [UInt8(i)])]) }
            try store.close()
        }
        let segment = try #require(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("raft") }.sorted().last)
        let path = dir + "/" + segment
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        try Data(bytes.dropLast(5)).write(to: URL(fileURLWithPath: path))
        do {
            let torn = try LogRaftStorage(directory: dir, masterKey: Self.key)
            let entries = torn.load().entries
            #expect(!torn.report.tornTails.isEmpty && entries.count >= 19 && entries.count <= 20)
            try torn.close()
        }
        bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: LogRaftStorage.OpenError.self) { _ = try LogRaftStorage(directory: dir, masterKey: Self.key) }
    }

    func meta(_ index: UInt64, term: UInt64 = 1) -> RaftSnapshotMeta {
        RaftSnapshotMeta(index: index, term: term, membership: RaftMembership(voters: [1, 2], learners: [3]))
    }

    @Test("a snapshot file comes back with the entries kept after it; older segments and snapshot files are deleted")
    func snapshotRoundTrip() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = (0..<(5 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let snapshot = RaftSnapshot(meta: meta(20), data: data)
        do {
            let store = try LogRaftStorage(directory: dir, masterKey: Self.key, segmentBytesMax: 4096)
            for i in UInt64(1)...30 { try store.save(hardState: RaftHardState(term: 1, vote: 1, commit: i), entries: [RaftEntry(term: 1, index: i, data: Array(repeating: UInt8(i), count: 200))]) }
            let before = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("raft-") }.count
            #expect(before > 1)
            try store.saveSnapshot(RaftSnapshot(meta: meta(10), data: [1]), hardState: RaftHardState(term: 1, vote: 1, commit: 30), keepFrom: 5)
            try store.saveSnapshot(snapshot, hardState: RaftHardState(term: 2, vote: 1, commit: 30), keepFrom: 15)
            #expect(store.removedFiles.filter { $0.hasPrefix("raft-") }.count >= before - 1)
            #expect(store.removedFiles.contains("snapshot-10-1.snap"))
            try store.save(hardState: nil, entries: [RaftEntry(term: 2, index: 31, data: [31])])
            try store.close()
        }
        let reopened = try LogRaftStorage(directory: dir, masterKey: Self.key)
        let state = reopened.load()
        #expect(state.snapshot == snapshot)
        #expect(state.hardState == RaftHardState(term: 2, vote: 1, commit: 30))
        #expect(state.entries.map(\.index) == Array(15...31) && state.entries[0].data == Array(repeating: 15, count: 200))
        let node = RaftNode(config: RaftConfig(id: 1, voters: [1, 2, 3], seed: 1), state: state, applied: 20)
        #expect(node.logStart == 15 && node.lastIndex == 31 && node.membership == snapshot.meta.membership)
        try reopened.close()
        // The file is sealed: no run of the state machine's bytes is in it in plaintext.
        let file = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/snapshot-20-1.snap")))
        #expect(file.count > data.count && !file.starts(with: data.prefix(64)) && Data(file).range(of: Data(data[4096..<4160])) == nil)
        // A damaged or missing snapshot file refuses to open.
        var damaged = file
        damaged[damaged.count / 2] ^= 1
        try Data(damaged).write(to: URL(fileURLWithPath: dir + "/snapshot-20-1.snap"))
        #expect(throws: LogRaftStorage.OpenError.self) { _ = try LogRaftStorage(directory: dir, masterKey: Self.key) }
        try FileManager.default.removeItem(atPath: dir + "/snapshot-20-1.snap")
        #expect(throws: LogRaftStorage.OpenError.self) { _ = try LogRaftStorage(directory: dir, masterKey: Self.key) }
    }

    @Test("an installed snapshot replaces the log; the log continues after it")
    func installReplacesLog() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let snapshot = RaftSnapshot(meta: meta(50, term: 4), data: [1, 2, 3])
        do {
            let store = try LogRaftStorage(directory: dir, masterKey: nil)
            try store.save(hardState: RaftHardState(term: 1, vote: 0, commit: 2), entries: (1...5).map { RaftEntry(term: 1, index: $0) })
            try store.saveSnapshot(snapshot, hardState: RaftHardState(term: 4, vote: 0, commit: 50), keepFrom: nil)
            try store.save(hardState: nil, entries: [RaftEntry(term: 4, index: 51, data: [5])])
            try store.close()
        }
        let state = try LogRaftStorage(directory: dir, masterKey: nil).load()
        #expect(state.snapshot == snapshot && state.entries == [RaftEntry(term: 4, index: 51, data: [5])])
        #expect(state.hardState.commit == 50)
    }

    @Test("a snapshot batch cut short by a crash leaves the log as it was before it")
    func tornSnapshotBatch() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let store = try LogRaftStorage(directory: dir, masterKey: Self.key)
            try store.save(hardState: RaftHardState(term: 1, vote: 0, commit: 5), entries: (1...5).map { RaftEntry(term: 1, index: $0) })
            try store.close()
        }
        // The crash comes before the batch is durable, so the segments before it are still there.
        let older = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("raft-") }
        let saved = try older.map { ($0, try Data(contentsOf: URL(fileURLWithPath: dir + "/" + $0))) }
        do {
            let store = try LogRaftStorage(directory: dir, masterKey: Self.key)
            try store.saveSnapshot(RaftSnapshot(meta: meta(9, term: 2), data: Array(repeating: 7, count: 64 << 10)),
                                   hardState: RaftHardState(term: 2, vote: 0, commit: 9), keepFrom: nil)
            try store.close()
        }
        for (name, bytes) in saved { try bytes.write(to: URL(fileURLWithPath: dir + "/" + name)) }
        // Only the segment header of the batch's segment reached the disk.
        let segment = try #require(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("raft-") }.sorted().last)
        let path = dir + "/" + segment
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(80 + 10).write(to: URL(fileURLWithPath: path))
        let reopened = try LogRaftStorage(directory: dir, masterKey: Self.key)
        let state = reopened.load()
        #expect(state.snapshot == nil && state.entries.count == 5 && state.hardState == RaftHardState(term: 1, vote: 0, commit: 5))
        #expect(reopened.removedFiles == ["snapshot-9-2.snap"], "the file no batch names is deleted")
    }
}
