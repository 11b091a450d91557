// Tests of the Raft log on the segmented log engine: what is saved comes back after reopening,
// overwritten suffixes stay overwritten, a torn tail is cut and the rest kept, and corruption
// before the tail refuses to open rather than forget acknowledged entries.
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
        let (h, entries) = reopened.load()
        #expect(h == RaftHardState(term: 3, vote: 0, commit: 3))
        #expect(entries.map(\.index) == [1, 2, 3, 4] && entries.last == RaftEntry(term: 3, index: 4, data: [9]))
        #expect(entries[0].data == Array("e1".utf8))
        // A node built from it resumes where it was.
        let node = RaftNode(config: RaftConfig(id: 1, voters: [1, 2, 3], seed: 1), hardState: h, entries: entries)
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
            let (_, entries) = torn.load()
            #expect(!torn.report.tornTails.isEmpty && entries.count >= 19 && entries.count <= 20)
            try torn.close()
        }
        bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: LogRaftStorage.OpenError.self) { _ = try LogRaftStorage(directory: dir, masterKey: Self.key) }
    }
}
