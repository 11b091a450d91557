// Paper §5.3 (log replication): commit on a quorum, back-off to a follower's log, conflicting
// suffixes replaced, and a restart from disk.
import Testing
@testable import TokMeshRaft

@Suite struct RaftReplicationTests {
    @Test("§5.3: proposals replicate and commit on a quorum, and followers learn the commit")
    func replicateAndCommit() throws {
        var c = Cluster(3)
        c.elect(1)
        for i in 0..<5 { _ = try c.nodes[1]!.propose([UInt8(i)]) }
        c.stabilize()
        c.tickAll(1)
        for id in [RaftNodeID(1), 2, 3] {
            #expect(c.applied[id]!.count == 6, "node \(id)")
            #expect(c.applied[id]!.last?.data == [4])
        }
    }

    @Test("§5.3: a follower missing entries is found by back-off and repaired")
    func repairLaggingFollower() throws {
        var c = Cluster(3)
        c.elect(1)
        c.cut = [[1, 3]]
        for i in 0..<10 { _ = try c.nodes[1]!.propose([UInt8(i)]) }
        c.stabilize()
        #expect(c.applied[1]!.count == 11 && c.applied[3]!.count <= 1)
        c.cut = []
        c.tickAll(3)
        #expect(c.applied[3]! == c.applied[1]!)
    }

    @Test("§5.3: a conflicting suffix on a follower is replaced by the leader's entries")
    func conflictingSuffixReplaced() {
        var c = Cluster(3, preVote: false, checkQuorum: false)
        // Node 3 holds an entry of term 1 at index 1 that nobody else has (its leader, node 2,
        // lost it); node 1 knows term 1 from a heartbeat.
        var append = RaftMessage(kind: .append, from: 2, to: 3, term: 1)
        append.entries = [RaftEntry(term: 1, index: 1, data: [9])]
        c.nodes[3]!.step(append)
        c.nodes[1]!.step(RaftMessage(kind: .heartbeat, from: 2, to: 1, term: 1))
        c.drain(3)
        c.drain(1)
        c.queue = []
        // Node 1 becomes leader of term 2 with node 2's vote; its no-op replaces node 3's entry.
        c.elect(1)
        #expect(c.nodes[1]!.term == 2 && c.nodes[1]!.role == .leader)
        c.tickAll(2)
        #expect(c.nodes[3]!.entries().map(\.term) == c.nodes[1]!.entries().map(\.term))
        #expect(!c.nodes[3]!.entries().contains { $0.data == [9] })
    }
}
