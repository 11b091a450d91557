// Tests of RaftNode following the Raft paper's sections, in the style of etcd's
// raft_paper_test.go: a few nodes wired by an in-memory harness that runs the Ready contract
// (persist, send, apply, advance) until no message is left, with single steps where a test
// needs to look between them.
import Testing
@testable import TokMeshRaft

/// Nodes 1...n delivering every message at once (no loss), persisting as the driver would.
/// The state machine is the list of applied entries; its snapshot is their count, and a node
/// that installs one starts its list over (`restored` keeps the snapshots installed).
struct Cluster {
    var nodes: [RaftNodeID: RaftNode] = [:]
    var disks: [RaftNodeID: MemoryRaftStorage] = [:]
    var applied: [RaftNodeID: [RaftEntry]] = [:]
    var restored: [RaftNodeID: [RaftSnapshot]] = [:]
    var reads: [RaftNodeID: [RaftReadState]] = [:]
    var queue: [RaftMessage] = []
    /// Every message sent (after `cut` and `drop`), for tests that count them.
    var sent: [RaftMessage] = []
    /// Links that drop everything (from, to).
    var cut: Set<[RaftNodeID]> = []
    /// Drops the messages it returns true for.
    var drop: ((RaftMessage) -> Bool)?

    init(_ n: Int, preVote: Bool = true, checkQuorum: Bool = true, rules: RaftRules = RaftRules(), configure: (inout RaftConfig) -> Void = { _ in }) {
        let ids = (1...UInt64(n)).map { $0 }
        for id in ids {
            var c = RaftConfig(id: id, voters: ids, seed: id * 7919)
            c.preVote = preVote
            c.checkQuorum = checkQuorum
            c.rules = rules
            c.maxVoters = 0  // membership tests propose their changes themselves
            configure(&c)
            nodes[id] = RaftNode(config: c)
            disks[id] = MemoryRaftStorage()
            applied[id] = []
        }
    }

    mutating func drain(_ id: RaftNodeID) {
        while let node = nodes[id], node.hasReady {
            let r = node.ready()
            if let s = r.snapshot {
                disks[id]!.saveSnapshot(s, hardState: r.hardState ?? disks[id]!.state.hardState, keepFrom: nil)
                restored[id, default: []].append(s)
                applied[id] = []
            }
            disks[id]!.save(hardState: r.hardState, entries: r.entries)
            let out = r.messages.filter { !cut.contains([$0.from, $0.to]) && !(drop?($0) ?? false) }
            queue += out
            sent += out
            applied[id, default: []] += r.committedEntries
            reads[id, default: []] += r.readStates
            nodes[id]!.advance(r)
            if nodes[id]!.snapshotDue {
                let s = nodes[id]!.compact(data: Array("applied \(applied[id]!.count)".utf8))
                disks[id]!.saveSnapshot(s, hardState: disks[id]!.state.hardState, keepFrom: nodes[id]!.logStart)
            }
        }
    }

    /// Delivers messages until none is left (a test fails rather than spin on a message loop).
    mutating func stabilize() {
        for id in nodes.keys.sorted() { drain(id) }
        var delivered = 0
        while !queue.isEmpty {
            delivered += 1
            if delivered > 100_000 {
                Issue.record("messages never stop: \(queue.prefix(4))")
                queue = []
                return
            }
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
            var node = RaftNode(config: config, state: RaftPersistentState(hardState: RaftHardState(term: 2, vote: 0, commit: 1),
                                entries: [RaftEntry(term: 1, index: 1), RaftEntry(term: 1, index: 2, data: [7])]))
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
        var config = RaftConfig(id: 2, voters: [1, 2, 3], seed: 1)
        config.preVote = true
        let restarted = RaftNode(config: config, state: c.disks[2]!.load())
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

@Suite struct RaftFigure8Tests {
    /// Figure 8 of the paper, scripted on five nodes with one entry per append: an entry of an
    /// old term replicated to a majority by a later leader, which then dies, is overwritten by
    /// a node holding an entry of a newer term. Whether the old entry was committed depends
    /// only on the current-term rule.
    static func run(rule: Bool) throws -> Cluster {
        var c = Cluster(5, preVote: false, checkQuorum: false, rules: { var r = RaftRules(); r.commitOnlyCurrentTerm = rule; return r }()) {
            $0.maxEntriesPerAppend = 1
        }
        func restart(_ c: inout Cluster, _ id: RaftNodeID) {
            var config = RaftConfig(id: id, voters: [1, 2, 3, 4, 5], seed: id * 31)
            config.preVote = false
            config.checkQuorum = false
            config.maxEntriesPerAppend = 1
            config.rules.commitOnlyCurrentTerm = rule
            c.nodes[id] = RaftNode(config: config, state: c.disks[id]!.load(), applied: 0)
            c.applied[id] = []
        }
        /// Only `id` ticks (the others never time out): until it leads, then `beats` more.
        func lead(_ c: inout Cluster, _ id: RaftNodeID, beats: Int = 0) {
            for _ in 0..<200 where c.nodes[id]!.role != .leader {
                c.nodes[id]!.tick()
                c.stabilize()
            }
            for _ in 0..<beats {
                c.nodes[id]!.tick()
                c.stabilize()
            }
        }
        // (a) Node 1 leads term 1; its entry at index 2 reaches only node 2.
        c.elect(1)
        c.cut = [[1, 3], [1, 4], [1, 5]]
        _ = try c.nodes[1]!.propose([0xA])
        c.stabilize()
        c.cut = []
        c.nodes[1] = nil
        // (b) Node 5 wins term 2 with nodes 3 and 4, appends its no-op at index 2, and dies
        // before sending it.
        c.drop = { $0.from == 5 && $0.kind == .append }
        lead(&c, 5)
        #expect(c.nodes[5]!.role == .leader && c.nodes[5]!.lastTerm == 2)
        c.nodes[5] = nil
        c.drop = nil
        // (c) Node 1 returns and wins term 3; index 2 (term 1) reaches nodes 3 and 4, its own
        // no-op at index 3 reaches nobody, and the commit index travels with heartbeats.
        restart(&c, 1)
        c.drop = { $0.kind == .append && $0.entries.contains { $0.index >= 3 } }
        lead(&c, 1, beats: 3)
        #expect(c.nodes[1]!.role == .leader && c.nodes[3]!.lastIndex == 2 && c.nodes[3]!.lastTerm == 1)
        #expect(c.nodes[1]!.commit == (rule ? 1 : 2))
        // (d) Node 1 dies; node 5 returns and wins term 4 (its last term 2 beats their 1).
        c.nodes[1] = nil
        c.drop = nil
        restart(&c, 5)
        lead(&c, 5, beats: 3)
        return c
    }

    @Test("teeth (§5.4.2, Figure 8): without the current-term rule a committed entry is overwritten; with it nothing committed is lost")
    func figure8() throws {
        let broken = try Self.run(rule: false)
        #expect(broken.nodes.values.contains { $0.brokenInvariant != nil }, "the overwrite of a committed entry is caught")
        let safe = try Self.run(rule: true)
        #expect(safe.leaders() == [5] && safe.nodes.values.allSatisfy { $0.brokenInvariant == nil })
        // Every node applied the same entry at each index.
        var byIndex: [UInt64: RaftEntry] = [:]
        for entries in safe.applied.values {
            for e in entries {
                #expect(byIndex[e.index] == nil || byIndex[e.index] == e)
                byIndex[e.index] = e
            }
        }
        #expect(byIndex[2]?.term == 2, "node 5's entry of term 2 is the one committed at index 2")
    }
}
