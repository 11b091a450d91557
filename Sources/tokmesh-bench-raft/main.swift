// tokmesh-bench-raft: proposals per second of a 3-node Raft group in one process on real
// threads (issue 6 item 5): each node is a RaftNode on its own NIO event loop with an in-memory
// disk, messages hop between loops, ticks are real 100 ms timers. After a leader is elected a
// client keeps `--window` proposals of `--payload` bytes outstanding on the leader for
// `--seconds`, and the rate of proposals applied on the leader is printed. Nodes compact their
// logs by snapshot at the default threshold, as in production.
import Dispatch
import NIOCore
import NIOPosix
import Synchronization
import TokMeshRaft

var seconds = 5, window = 512, payload = 64
var arguments = Array(CommandLine.arguments.dropFirst())
while arguments.count >= 2 {
    let flag = arguments.removeFirst(), value = Int(arguments.removeFirst()) ?? 0
    switch flag {
    case "--seconds": seconds = max(1, value)
    case "--window": window = max(1, value)
    case "--payload": payload = max(0, value)
    default: break
    }
}

/// One node, confined to its event loop.
final class BenchNode: @unchecked Sendable {
    let loop: any EventLoop
    var node: RaftNode
    var disk = MemoryRaftStorage()
    var peers: [RaftNodeID: BenchNode] = [:]
    var outstanding = 0
    let applied = Atomic<Int>(0)
    var proposing = false
    var snapshots = 0, installed = 0
    let window: Int
    let data: [UInt8]

    init(id: RaftNodeID, loop: any EventLoop, window: Int, payload: Int) {
        self.loop = loop
        self.window = window
        data = [UInt8](repeating: 0x61, count: payload)
        node = RaftNode(config: RaftConfig(id: id, voters: [1, 2, 3], seed: id &* 7919))
    }

    func drive() {
        while node.hasReady {
            let ready = node.ready()
            if let snapshot = ready.snapshot {
                // A follower that fell more than the trailing entries behind gets the leader's.
                disk.saveSnapshot(snapshot, hardState: ready.hardState ?? disk.state.hardState, keepFrom: nil)
                installed += 1
            }
            disk.save(hardState: ready.hardState, entries: ready.entries)
            for m in ready.messages {
                guard let peer = peers[m.to] else { continue }
                peer.loop.execute { peer.step(m) }
            }
            let mine = ready.committedEntries.filter { !$0.data.isEmpty }.count
            if mine > 0 && node.role == .leader {
                applied.wrappingAdd(mine, ordering: .relaxed)
                outstanding -= mine
            }
            node.advance(ready)
            if node.snapshotDue {
                // The state machine is a counter of applied entries; the log is compacted as in
                // production (every 10,000 entries, 1,000 kept).
                let snapshot = node.compact(data: Array(String(applied.load(ordering: .relaxed)).utf8))
                disk.saveSnapshot(snapshot, hardState: disk.state.hardState, keepFrom: node.logStart)
                snapshots += 1
            }
        }
        if proposing { fill() }
    }

    func step(_ m: RaftMessage) {
        node.step(m)
        drive()
    }

    func tick() {
        node.tick()
        drive()
    }

    /// Keeps `window` proposals outstanding while this node leads.
    func fill() {
        guard node.role == .leader else { return }
        var added = false
        while outstanding < window, (try? node.propose(data)) != nil {
            outstanding += 1
            added = true
        }
        if added { drive() }
    }
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: 3)
let nodes = (1...3).map { BenchNode(id: RaftNodeID($0), loop: group.next(), window: window, payload: payload) }
for n in nodes { for p in nodes where p !== n { n.peers[p.node.id] = p } }
for n in nodes { _ = n.loop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { _ in n.tick() } }

// Wait for a leader (real elections take 1-2 s).
var leader: BenchNode?
for _ in 0..<100 where leader == nil {
    Thread.sleepMillis(100)
    for n in nodes where (try? n.loop.submit { n.node.role == .leader }.wait()) == true { leader = n }
}
guard let leader else {
    print("raft bench: no leader elected")
    exit(1)
}
try leader.loop.submit {
    leader.proposing = true
    leader.fill()
}.wait()
let start = DispatchTime.now().uptimeNanoseconds
let before = leader.applied.load(ordering: .relaxed)
Thread.sleepMillis(seconds * 1000)
let after = leader.applied.load(ordering: .relaxed)
let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
let taken = try leader.loop.submit { (leader.snapshots, leader.node.lastIndex - leader.node.logStart) }.wait()
let installs = try nodes.map { n in try n.loop.submit { n.installed }.wait() }.reduce(0, +)
print("raft bench: 3-node in-memory group, 3 event loops, window \(window), payload \(payload) B: "
      + "\(Int(Double(after - before) / elapsed)) proposals/s applied on the leader over \(seconds) s; "
      + "\(taken.0) snapshots on the leader, \(taken.1) entries in its log at the end, \(installs) installed by followers")
// The loops still pass messages and ticks: end the process rather than shut them down under
// traffic.
exit(0)

enum Thread {
    static func sleepMillis(_ ms: Int) { usleep(UInt32(ms) * 1000) }
}
