// Paper §8 (ReadIndex reads) and the thesis's leadership transfer (§3.10).
import Testing
@testable import TokMeshRaft

@Suite struct RaftReadAndTransferTests {
    @Test("§8 ReadIndex: a read state appears once a quorum confirmed the leader, at the commit index")
    func readIndex() throws {
        var c = Cluster(3)
        c.elect(1)
        _ = try c.nodes[1]!.propose([1])
        c.stabilize()
        try c.nodes[1]!.readIndex(context: 42)
        c.stabilize()
        #expect(c.reads[1] == [RaftReadState(index: 2, context: 42)])
        // Followers cannot serve it.
        #expect(throws: RaftProposalError.self) { try c.nodes[2]!.readIndex(context: 43) }
    }

    @Test("a read confirmed by nobody never appears (the leader is cut off)")
    func readIndexNeedsQuorum() throws {
        var c = Cluster(3)
        c.elect(1)
        c.cut = [[1, 2], [1, 3]]
        try c.nodes[1]!.readIndex(context: 7)
        c.stabilize()
        #expect(c.reads[1, default: []].isEmpty)
    }

    @Test("leader transfer: TimeoutNow makes the caught-up target leader of the next term")
    func transfer() throws {
        var c = Cluster(3)
        c.elect(1)
        _ = try c.nodes[1]!.propose([5])
        c.stabilize()
        c.nodes[1]!.transferLeadership(to: 3)
        c.stabilize()
        #expect(c.leaders() == [3])
        #expect(c.nodes[3]!.term == 2)
        #expect(throws: RaftProposalError.self) { _ = try c.nodes[1]!.propose([6]) }
    }

    @Test("restart: a node rebuilt from its disk keeps its term, vote and log")
    func restartFromDisk() throws {
        var c = Cluster(3)
        c.elect(1)
        _ = try c.nodes[1]!.propose([3])
        c.stabilize()
        var config = RaftConfig(id: 2, voters: [1, 2, 3], seed: 1)
        config.preVote = true
        let restarted = RaftNode(config: config, state: c.disks[2]!.load())
        #expect(restarted.term == c.nodes[2]!.term && restarted.vote == c.nodes[2]!.vote)
        #expect(Array(restarted.entries()) == Array(c.nodes[2]!.entries()))
    }
}
