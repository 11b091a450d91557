// Tests of RaftNode following the Raft paper's sections, in the style of etcd's
// raft_paper_test.go: a few nodes wired by an in-memory harness that runs the Ready contract
// (persist, send, apply, advance) until no message is left, with single steps where a test
// needs to look between them.
import Testing
@testable import TokMeshRaft

/// Nodes 1...n delivering every message at once (no loss), persisting as the driver would.
struct Cluster {
    var nodes: [RaftNodeID: RaftNode] = [:]
    var disks: [RaftNodeID: (RaftHardState, [RaftEntry])] = [:]
    var applied: [RaftNodeID: [RaftEntry]] = [:]
    var reads: [RaftNodeID: [RaftReadState]] = [:]
    var queue: [RaftMessage] = []
    /// Links that drop everything (from, to).
    var cut: Set<[RaftNodeID]> = []

    init(_ n: Int, preVote: Bool = true, checkQuorum: Bool = true, rules: RaftRules = RaftRules()) {
        let ids = (1...UInt64(n)).map { $0 }
        for id in ids {
            var c = RaftConfig(id: id, voters: ids, seed: id * 7919)
            c.preVote = preVote
            c.checkQuorum = checkQuorum
            c.rules = rules
            nodes[id] = RaftNode(config: c)
            disks[id] = (RaftHardState(), [])
            applied[id] = []
        }
    }

    mutating func drain(_ id: RaftNodeID) {
        while let node = nodes[id], node.hasReady {
            let r = node.ready()
            var (hard, entries) = disks[id]!
            if let h = r.hardState { hard = h }
            if let first = r.entries.first {
                entries.removeSubrange(min(entries.count, Int(first.index - 1))...)
                entries += r.entries
            }
            disks[id] = (hard, entries)
            queue += r.messages.filter { !cut.contains([$0.from, $0.to]) }
            applied[id, default: []] += r.committedEntries
            reads[id, default: []] += r.readStates
            nodes[id]!.advance(r)
        }
    }

    /// Delivers messages until none is left.
    mutating func stabilize() {
        for id in nodes.keys.sorted() { drain(id) }
        while !queue.isEmpty {
            let m = queue.removeFirst()
            guard nodes[m.to] != nil else { continue }
            nodes[m.to]!.step(m)
            drain(m.to)
        }
    }

    /// Ticks `id` until its election starts, then runs it to the end.
    mutating func elect(_ id: RaftNodeID) {
        for _ in 0..<40 where nodes[id]!.role == .follower { nodes[id]!.tick() }
        stabilize()
    }

    mutating func tickAll(_ n: Int) {
        for _ in 0..<n {
            for id in nodes.keys.sorted() { nodes[id]!.tick() }
            stabilize()
        }
    }

    func leaders() -> [RaftNodeID] { nodes.filter { $0.value.role == .leader }.map(\.key).sorted() }
}

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

    @Test("§5.4.1: a vote is refused to a candidate whose log is behind")
    func voteNeedsUpToDateLog() {
        var c = Cluster(3, preVote: false, checkQuorum: false)
        c.elect(1)
        _ = try? c.nodes[1]!.propose([1])
        c.stabilize()
        // Node 3's log ends at (term 1, index 2); a candidate with a shorter log is refused.
        var m = RaftMessage(kind: .vote, from: 2, to: 3, term: 5)
        m.index = 1
        m.logTerm = 1
        c.nodes[3]!.step(m)
        #expect(c.nodes[3]!.ready().messages.last?.reject == true)
        var rules = RaftRules()
        rules.voteChecksLog = false
        var broken = Cluster(3, preVote: false, checkQuorum: false, rules: rules)
        broken.elect(1)
        _ = try? broken.nodes[1]!.propose([1])
        broken.stabilize()
        broken.nodes[3]!.step(m)
        #expect(broken.nodes[3]!.ready().messages.last?.reject == false)
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

    @Test("§5.4.2: a leader does not commit an earlier term's entry by counting replicas (Figure 8)")
    func commitOnlyCurrentTerm() {
        for rule in [true, false] {
            var config = RaftConfig(id: 1, voters: [1, 2, 3], seed: 3)
            config.preVote = false
            config.rules.commitOnlyCurrentTerm = rule
            // Node 1 holds index 2 of term 1 that was never committed, and is at term 2.
            var node = RaftNode(config: config, hardState: RaftHardState(term: 2, vote: 0, commit: 1),
                                entries: [RaftEntry(term: 1, index: 1), RaftEntry(term: 1, index: 2, data: [7])])
            for _ in 0..<40 where node.role == .follower { node.tick() }
            #expect(node.role == .candidate && node.term == 3)
            var grant = RaftMessage(kind: .voteResponse, from: 2, to: 1, term: 3)
            grant.reject = false
            node.step(grant)
            #expect(node.role == .leader && node.lastIndex == 3)
            // Node 2 acknowledges index 2 (of term 1) but not yet the leader's no-op of term 3.
            var ack = RaftMessage(kind: .appendResponse, from: 2, to: 1, term: 3)
            ack.index = 2
            node.step(ack)
            #expect(node.commit == (rule ? 1 : 2))
            ack.index = 3
            node.step(ack)
            #expect(node.commit == 3)
        }
    }
}

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
        let (hard, entries) = c.disks[2]!
        var config = RaftConfig(id: 2, voters: [1, 2, 3], seed: 1)
        config.preVote = true
        let restarted = RaftNode(config: config, hardState: hard, entries: entries)
        #expect(restarted.term == c.nodes[2]!.term && restarted.vote == c.nodes[2]!.vote)
        #expect(Array(restarted.entries()) == Array(c.nodes[2]!.entries()))
    }
}

@Suite struct RaftMembershipTests {
    @Test("§4.1 (thesis): a learner replicates but neither votes nor counts; promoted, it counts")
    func learnerThenVoter() throws {
        var c = Cluster(3)
        c.elect(1)
        // Node 4 starts outside the group and joins as a learner.
        var config = RaftConfig(id: 4, voters: [1, 2, 3], seed: 4)
        config.preVote = true
        c.nodes[4] = RaftNode(config: config)
        c.disks[4] = (RaftHardState(), [])
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
        let (hard, entries) = c.disks[2]!
        let restarted = RaftNode(config: RaftConfig(id: 2, voters: [1, 2, 3], seed: 2), hardState: hard, entries: entries)
        #expect(restarted.membership == RaftMembership(voters: [1, 2], learners: [3]))
    }
}
