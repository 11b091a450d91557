// The thesis's §4 (single-server membership changes): learners, promotion (by hand and
// automatic), demotion, removal, and membership after a restart.
import Testing
@testable import TokMeshRaft

@Suite struct RaftMembershipTests {
    @Test("§4.1 (thesis): a learner replicates but neither votes nor counts; promoted, it counts")
    func learnerThenVoter() throws {
        var c = Cluster(3)
        c.elect(1)
        // Node 4 starts outside the group and joins as a learner.
        var config = RaftConfig(id: 4, voters: [1, 2, 3], seed: 4)
        config.preVote = true
        c.nodes[4] = RaftNode(config: config)
        c.disks[4] = MemoryRaftStorage()
        _ = try c.nodes[1]!.proposeConfChange(.addLearner(4))
        c.stabilize()
        c.tickAll(2)
        #expect(c.nodes[1]!.membership.learners == [4] && c.nodes[4]!.membership.learners == [4])
        #expect(c.applied[4]!.count == c.applied[1]!.count)
        // It never campaigns, and a quorum still needs two of the three voters.
        for _ in 0..<60 { c.nodes[4]!.tick() }
        c.stabilize()
        #expect(c.nodes[4]!.role == .follower && c.leaders() == [1])
        c.cut = [[1, 2], [1, 3]]
        let before = c.nodes[1]!.commit
        _ = try c.nodes[1]!.propose([1])
        c.stabilize()
        #expect(c.nodes[1]!.commit == before, "a learner's acknowledgement does not commit")
        c.cut = []
        c.tickAll(2)
        _ = try c.nodes[1]!.proposeConfChange(.promote(4))
        c.tickAll(2)
        #expect(c.nodes[1]!.membership.voters == [1, 2, 3, 4] && c.nodes[4]!.isVoter)
    }

    @Test("a node that thinks it is a learner still grants a vote: it may have been promoted without knowing")
    func learnerCanVote() throws {
        var c = Cluster(3)
        c.elect(1)
        _ = try c.nodes[1]!.proposeConfChange(.demote(3))
        c.tickAll(2)
        // The promotion commits with node 2's acknowledgement; node 3 never hears of it.
        c.cut = [[1, 3]]
        _ = try c.nodes[1]!.proposeConfChange(.promote(3))
        c.stabilize()
        #expect(c.nodes[2]!.membership.voters == [1, 2, 3])
        #expect(c.nodes[3]!.membership == RaftMembership(voters: [1, 2], learners: [3]))
        // Node 1 is lost: node 2 needs node 3's vote, which node 3 gives as a learner.
        c.nodes[1] = nil
        c.cut = []
        for _ in 0..<60 where c.leaders().isEmpty { c.tickAll(1) }
        #expect(c.leaders() == [2])
        c.tickAll(2)
        #expect(c.nodes[3]!.isVoter)
    }

    @Test("automatic promotion: a caught-up learner is promoted while voters are fewer than maxVoters; a lagging one waits")
    func automaticPromotion() throws {
        var c = Cluster(3) { $0.maxVoters = 5; $0.promoteLag = 5 }
        c.elect(1)
        for id in [RaftNodeID(4), 5] {
            var config = RaftConfig(id: id, voters: [1, 2, 3], seed: id)
            config.maxVoters = 5
            c.nodes[id] = RaftNode(config: config)
            c.disks[id] = MemoryRaftStorage()
        }
        c.cut = [[1, 5]]
        _ = try c.nodes[1]!.proposeConfChange(.addLearner(5))
        c.tickAll(2)
        for i in 0..<10 { _ = try c.nodes[1]!.propose([UInt8(i)]) }
        _ = try c.nodes[1]!.proposeConfChange(.addLearner(4))
        c.tickAll(6)
        #expect(c.nodes[1]!.membership == RaftMembership(voters: [1, 2, 3, 4], learners: [5]), "node 5 lags by more than promoteLag")
        c.cut = []
        c.tickAll(6)
        #expect(c.nodes[1]!.membership.voters == [1, 2, 3, 4, 5])
    }

    @Test("automatic promotion picks the most caught up, then a zone no voter is in, then the smallest id")
    func promotionOrder() {
        for zones in [[:], [1: "a", 2: "a", 3: "a", 4: "a", 5: "b"] as [RaftNodeID: String]] {
            var c = Cluster(5) { $0.voters = [1, 2, 3]; $0.learners = [4, 5]; $0.maxVoters = 4 }
            c.nodes[1]!.zones = zones
            c.elect(1)
            c.tickAll(4)
            #expect(c.nodes[1]!.membership == RaftMembership(voters: [1, 2, 3, zones.isEmpty ? 4 : 5], learners: [zones.isEmpty ? 5 : 4]))
        }
    }

    @Test("one change at a time; the leader neither removes nor demotes itself; demotion keeps the member")
    func changeRules() throws {
        var c = Cluster(3)
        c.elect(1)
        _ = try c.nodes[1]!.proposeConfChange(.demote(3))
        #expect(throws: RaftProposalError.notReady) { _ = try c.nodes[1]!.proposeConfChange(.remove(2)) }
        c.tickAll(2)
        #expect(c.nodes[1]!.membership == RaftMembership(voters: [1, 2], learners: [3]))
        #expect(throws: RaftProposalError.invalidChange) { _ = try c.nodes[1]!.proposeConfChange(.remove(1)) }
        #expect(throws: RaftProposalError.invalidChange) { _ = try c.nodes[1]!.proposeConfChange(.demote(1)) }
        #expect(throws: RaftProposalError.invalidChange) { _ = try c.nodes[1]!.proposeConfChange(.addLearner(3)) }
        _ = try c.nodes[1]!.proposeConfChange(.remove(3))
        c.tickAll(2)
        #expect(c.nodes[1]!.membership == RaftMembership(voters: [1, 2]))
        #expect(throws: RaftProposalError.notLeader(hint: 1)) { _ = try c.nodes[2]!.proposeConfChange(.addLearner(3)) }
    }

    @Test("a restarted node rebuilds its membership from the committed changes in its log")
    func membershipSurvivesRestart() throws {
        var c = Cluster(3)
        c.elect(1)
        _ = try c.nodes[1]!.proposeConfChange(.demote(3))
        c.tickAll(2)
        let restarted = RaftNode(config: RaftConfig(id: 2, voters: [1, 2, 3], seed: 2), state: c.disks[2]!.load())
        #expect(restarted.membership == RaftMembership(voters: [1, 2], learners: [3]))
    }
}
