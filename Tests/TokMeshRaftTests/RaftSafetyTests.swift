// Paper §5.4 (safety): the election restriction, the current-term commit rule and its
// Figure 8 (scripted, the teeth of that rule), and leader completeness.
import Testing
@testable import TokMeshRaft

@Suite struct RaftSafetyTests {
    /// Figure 8 of the paper, scripted on five nodes with one entry per append: an entry of an
    /// old term replicated to a majority by a later leader, which then dies, is overwritten by
    /// a node holding an entry of a newer term. Whether the old entry was committed depends
    /// only on the current-term rule.
    static func scriptedFigure8(rule: Bool) throws -> Cluster {
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
    @Test("§5.4.3: the node that wins after the leader dies holds every committed entry; a node behind cannot win")
    func leaderCompleteness() throws {
        var c = Cluster(3)
        c.elect(1)
        c.cut = [[1, 3]]
        for i in 0..<5 { _ = try c.nodes[1]!.propose([UInt8(i)]) }
        c.stabilize()
        let committed = Array(c.nodes[1]!.entries(from: 1).prefix(Int(c.nodes[1]!.commit)))
        #expect(c.nodes[3]!.lastIndex < c.nodes[1]!.commit)
        c.nodes[1] = nil
        c.cut = []
        for _ in 0..<100 where c.leaders().isEmpty { c.tickAll(1) }
        #expect(c.leaders() == [2])
        #expect(Array(c.nodes[2]!.entries(from: 1).prefix(committed.count)) == committed)
    }

    @Test("teeth (§5.4.2, Figure 8): without the current-term rule a committed entry is overwritten; with it nothing committed is lost")
    func figure8() throws {
        let broken = try Self.scriptedFigure8(rule: false)
        #expect(broken.nodes.values.contains { $0.brokenInvariant != nil }, "the overwrite of a committed entry is caught")
        let safe = try Self.scriptedFigure8(rule: true)
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
