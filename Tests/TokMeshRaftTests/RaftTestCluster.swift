// The harness of the Raft paper tests (in the style of etcd's raft_paper_test.go): a few nodes
// wired in memory by a driver that runs the Ready contract (install, persist, send, apply,
// advance, compact when asked) until no message is left, with single steps where a test needs
// to look between them, and links that can be cut or messages dropped.
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
