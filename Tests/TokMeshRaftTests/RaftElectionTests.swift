// Paper §5.2 (leader election) and the thesis's PreVote and CheckQuorum (§9.6).
import Testing
@testable import TokMeshRaft

@Suite struct RaftElectionTests {
    @Test("§5.2: a follower that hears nothing campaigns; a quorum of votes makes it leader of a new term")
    func electionFromTimeout() {
        var c = Cluster(3)
        c.elect(1)
        #expect(c.leaders() == [1])
        #expect(c.nodes.values.allSatisfy { $0.term == 1 && $0.leader == 1 })
        // The leader's no-op of term 1 commits everywhere (§8).
        #expect(c.applied.values.allSatisfy { $0.map(\.term) == [1] })
    }

    @Test("§5.2: PreVote does not raise the term; without PreVote a candidate does")
    func preVoteKeepsTerm() {
        var c = Cluster(3)
        c.cut = [[1, 2], [1, 3]]
        for _ in 0..<40 { c.nodes[1]!.tick() }
        c.stabilize()
        #expect(c.nodes[1]!.term == 0 && c.nodes[1]!.role == .preCandidate)
        var plain = Cluster(3, preVote: false)
        plain.cut = [[1, 2], [1, 3]]
        for _ in 0..<40 { plain.nodes[1]!.tick() }
        #expect(plain.nodes[1]!.term >= 1 && plain.nodes[1]!.role == .candidate)
    }

    @Test("§5.2: one vote per term")
    func oneVotePerTerm() {
        var c = Cluster(3, preVote: false)
        var a = RaftMessage(kind: .vote, from: 2, to: 1, term: 1)
        a.index = 0
        c.nodes[1]!.step(a)
        var b = RaftMessage(kind: .vote, from: 3, to: 1, term: 1)
        b.index = 0
        c.nodes[1]!.step(b)
        let replies = c.nodes[1]!.ready().messages
        #expect(replies.map(\.reject) == [false, true])
        #expect(c.nodes[1]!.vote == 2)
    }

    @Test("CheckQuorum: a leader that hears from no quorum within an election timeout steps down")
    func checkQuorumStepsDown() {
        var c = Cluster(3)
        c.elect(1)
        c.cut = [[2, 1], [3, 1], [1, 2], [1, 3]]
        for _ in 0..<25 {
            c.nodes[1]!.tick()
            c.stabilize()
        }
        #expect(c.nodes[1]!.role != .leader)
    }

    @Test("CheckQuorum lease: followers that hear the leader ignore a disrupting candidate's higher term")
    func leaseIgnoresDisruption() {
        var c = Cluster(3)
        c.elect(1)
        var m = RaftMessage(kind: .vote, from: 3, to: 2, term: 9)
        m.index = 100
        m.logTerm = 9
        c.nodes[2]!.step(m)
        #expect(c.nodes[2]!.term == 1 && c.nodes[2]!.ready().messages.isEmpty)
    }
}
