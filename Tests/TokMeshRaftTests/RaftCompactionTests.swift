// Paper §7 (log compaction): snapshots taken at the threshold with trailing entries, sent in
// chunks with resend and restart, installed or only committed, and restarts from them.
import Testing
@testable import TokMeshRaft

@Suite struct RaftCompactionTests {
    static func small(_ c: inout RaftConfig) {
        c.snapshotThreshold = 10
        c.snapshotTrailing = 3
        c.snapshotChunkBytes = 4
    }

    @Test("§7: after `snapshotThreshold` applied entries the node asks for a snapshot and keeps `snapshotTrailing` entries behind it")
    func compactionKeepsTrailingEntries() throws {
        var c = Cluster(3, configure: Self.small)
        c.elect(1)
        for i in 0..<12 { _ = try c.nodes[1]!.propose([UInt8(i)]) }
        c.stabilize()
        c.tickAll(1)
        for id in [RaftNodeID(1), 2, 3] {
            let node = c.nodes[id]!
            let snapshot = try #require(node.snapshot)
            #expect(snapshot.index >= 10 && snapshot.index <= node.commit)
            #expect(node.logStart == snapshot.index - 3)
            #expect(node.entries(from: 1).first?.index == node.logStart + 1)
            let disk = c.disks[id]!.load()
            #expect(disk.snapshot == snapshot && disk.entries.first?.index == node.logStart)
            #expect(snapshot.meta.membership == RaftMembership(voters: [1, 2, 3]))
        }
        #expect(!c.nodes[1]!.snapshotDue)
    }

    @Test("§7: a follower that needs compacted entries gets the snapshot in chunks, installs it and catches up by appends")
    func installInChunks() throws {
        var c = Cluster(3, configure: Self.small)
        c.elect(1)
        c.cut = [[1, 3], [3, 1]]
        for i in 0..<25 { _ = try c.nodes[1]!.propose([UInt8(i)]) }
        c.stabilize()
        #expect(c.nodes[1]!.logStart > c.nodes[3]!.lastIndex, "node 3 needs entries node 1 compacted")
        c.cut = []
        c.sent = []
        c.tickAll(3)
        let snapshot = try #require(c.nodes[1]!.snapshot)
        let chunks = c.sent.filter { $0.kind == .snapshot && $0.to == 3 }
        #expect(chunks.count >= (snapshot.data.count + 3) / 4 && snapshot.data.count > 4)
        #expect(chunks.allSatisfy { $0.snapshotChunk.count <= 4 })
        #expect(c.restored[3]?.last == snapshot)
        #expect(c.nodes[3]!.lastIndex == c.nodes[1]!.lastIndex && c.nodes[3]!.commit == c.nodes[1]!.commit)
        // Entries after the snapshot came by appends and were applied on top of it.
        #expect(c.applied[3]!.first?.index == snapshot.index + 1 && c.applied[3]!.last?.index == c.nodes[1]!.commit)
        #expect(c.disks[3]!.load().snapshot == snapshot)
    }

    @Test("a lost chunk is sent again after the next heartbeat; a receiver that restarted starts the transfer over")
    func lostChunks() throws {
        var c = Cluster(3, configure: Self.small)
        c.elect(1)
        c.cut = [[1, 3], [3, 1]]
        for i in 0..<25 { _ = try c.nodes[1]!.propose([UInt8(i)]) }
        c.stabilize()
        c.cut = []
        // The second chunk is lost once.
        var lost = false
        c.drop = { m in
            guard m.kind == .snapshot, m.snapshotOffset == 4, !lost else { return false }
            lost = true
            return true
        }
        c.tickAll(1)
        #expect(lost && c.restored[3] == nil, "the transfer stopped at the lost chunk")
        c.drop = nil
        c.tickAll(3)
        #expect(c.restored[3]?.count == 1 && c.nodes[3]!.commit == c.nodes[1]!.commit)

        // Node 2 loses its partial transfer in a crash: the leader's next chunk is refused and
        // the transfer starts again from offset 0.
        c.cut = [[1, 2], [2, 1]]
        for i in 0..<25 { _ = try c.nodes[1]!.propose([UInt8(i)]) }
        c.stabilize()
        c.cut = []
        var seen = 0
        c.drop = { m in
            guard m.kind == .snapshot, m.to == 2 else { return false }
            seen += 1
            return seen == 3  // two chunks arrive, the third is lost
        }
        c.tickAll(1)
        var config = RaftConfig(id: 2, voters: [1, 2, 3], seed: 99)
        Self.small(&config)
        c.nodes[2] = RaftNode(config: config, state: c.disks[2]!.load())
        c.drop = nil
        c.sent = []
        c.tickAll(4)
        #expect(c.sent.contains { $0.kind == .snapshotResponse && $0.from == 2 && $0.reject })
        #expect(c.sent.contains { $0.kind == .snapshot && $0.to == 2 && $0.snapshotOffset == 0 })
        #expect(c.nodes[2]!.commit == c.nodes[1]!.commit && c.restored[2]?.last == c.nodes[1]!.snapshot)
    }

    @Test("a snapshot whose last entry the follower holds only moves its commit index; an older one changes nothing")
    func snapshotAlreadyHeld() {
        var config = RaftConfig(id: 2, voters: [1, 2, 3], seed: 5)
        Self.small(&config)
        var node = RaftNode(config: config, state: RaftPersistentState(hardState: RaftHardState(term: 1, vote: 0, commit: 2),
                                                                       entries: (1...6).map { RaftEntry(term: 1, index: $0, data: [UInt8($0)]) }))
        var m = RaftMessage(kind: .snapshot, from: 1, to: 2, term: 1)
        m.snapshotMeta = RaftSnapshotMeta(index: 4, term: 1, membership: RaftMembership(voters: [1, 2, 3]))
        m.snapshotChunk = [1, 2]
        m.snapshotTotal = 2
        m.snapshotDone = true
        node.step(m)
        #expect(node.commit == 4 && node.lastIndex == 6 && node.logStart == 0)
        let ready = node.ready()
        #expect(ready.snapshot == nil && ready.committedEntries.map(\.index) == [1, 2, 3, 4])
        #expect(ready.messages.last?.kind == .appendResponse && ready.messages.last?.index == 4)
        node.advance(ready)
        m.snapshotMeta!.index = 3
        node.step(m)
        #expect(node.commit == 4 && node.ready().messages.last?.index == 4)
    }

    @Test("a node restarts from its snapshot and the entries kept after it, with the snapshot's membership")
    func restartFromSnapshot() throws {
        var c = Cluster(3, configure: Self.small)
        c.elect(1)
        _ = try c.nodes[1]!.proposeConfChange(.demote(3))
        c.tickAll(2)
        for i in 0..<12 { _ = try c.nodes[1]!.propose([UInt8(i)]) }
        c.stabilize()
        c.tickAll(1)
        let disk = c.disks[2]!.load()
        let snapshot = try #require(disk.snapshot)
        var config = RaftConfig(id: 2, voters: [1, 2, 3], seed: 2)
        Self.small(&config)
        let restarted = RaftNode(config: config, state: disk, applied: snapshot.index)
        #expect(restarted.membership == RaftMembership(voters: [1, 2], learners: [3]))
        #expect(restarted.logStart == c.nodes[2]!.logStart && restarted.lastIndex == c.nodes[2]!.lastIndex)
        #expect(restarted.commit >= snapshot.index && restarted.snapshot == snapshot)
        #expect(restarted.ready().committedEntries.first.map { $0.index > snapshot.index } ?? true)
    }
}
