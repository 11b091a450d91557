// RaftSimulation: a deterministic simulator for TokMeshRaft in the style of TigerBeetle's VOPR
// — one UInt64 seed drives every choice: a network that delays, loses, duplicates and reorders
// messages and partitions nodes (symmetric and one-way), crashes and restarts from what was
// persisted, leadership transfers, membership changes (and automatic promotion), log compaction with snapshots sent in
// small chunks, and clients running puts (through the log) and gets (through ReadIndex) on a
// key-value state machine with timeouts and retries. The driver follows the Ready contract:
// install a received snapshot, persist, send, apply, serve reads, advance, and take a snapshot
// when the node asks. Safety is checked after every event (election safety, log matching,
// leader completeness, state-machine safety, every installed snapshot equal to the committed
// prefix it stands for) and the client history is checked for linearizability at the end.
import TokMeshCore
import TokMeshRaft

public struct RaftSimulationOptions: Sendable {
    public var nodes = 3
    /// Simulated milliseconds; a node ticks every `tickMillis`.
    public var durationMillis = 60_000
    public var tickMillis = 100
    public var electionTicks = 10
    /// Entries per append; nil picks 1, 4 or 64 from the seed (small batches open the windows
    /// of §5.4.2's Figure 8).
    public var maxEntriesPerAppend: Int?
    /// Log compaction: applied entries between snapshots, entries kept behind one, and bytes
    /// per snapshot chunk; nil picks from the seed (small values, so that snapshots are taken,
    /// sent in several chunks and installed many times a run).
    public var snapshotThreshold: UInt64?
    public var snapshotTrailing: UInt64?
    public var snapshotChunkBytes: Int?
    /// Automatic promotion of caught-up learners up to this many voters (0: off); nil picks
    /// 0 or 5 from the seed.
    public var maxVoters: Int?
    public var clients = 4
    public var keys = 3
    /// A client waits up to this long between operations.
    public var thinkMillisMax = 200
    public var lossPercent = 3
    /// Messages held back up to two seconds (stale messages across terms).
    public var slowPercent = 1
    public var duplicatePercent = 2
    public var delayMillisMax = 30
    /// How often a fault round runs.
    public var faultRoundMillis = 1000
    /// The share of crashes and partitions aimed at the current leader, in percent (others pick
    /// any node).
    public var leaderCrashPercent = 0
    /// Per-round chances of the faults, in percent.
    public var crashPercent = 10
    public var partitionPercent = 10
    public var transferPercent = 5
    /// Per-Ready chance, in tenths of a percent, that the node crashes after persisting the
    /// Ready and before sending its messages (while faults run and a majority stays up).
    public var crashInReadyPermille = 1
    /// Per-round chance of a membership change proposed on the leader: demote or remove a
    /// voter that is not the leader, add a non-member as learner, promote or remove a learner
    /// (between 2 and 5 voters).
    public var membershipPercent = 10
    /// The driver's rule: hard state and entries on disk before the Ready's messages leave.
    public var persistBeforeSend = true
    public var rules = RaftRules()
    /// Stop at the first violation (a mutation test wants only to know one exists).
    public var stopAtViolation = true
    /// The final fault-free period in which a leader must emerge and clients finish.
    public var settleMillis = 10_000
    /// Check the client history at the end (a caller that times the check runs it itself on
    /// `RaftSimulationReport.history`).
    public var checkLinearizability = true

    public init() {}

    /// Harsher faults for the mutation test: five nodes, frequent crashes and partitions, many
    /// stale messages, one entry per append.
    public static func mutationHunt(_ base: RaftSimulationOptions) -> RaftSimulationOptions {
        var o = base
        o.nodes = 5
        o.crashPercent = 40
        o.partitionPercent = 40
        o.leaderCrashPercent = 70
        o.membershipPercent = 0
        o.slowPercent = 10
        o.maxEntriesPerAppend = 1
        o.crashInReadyPermille = 10
        o.stopAtViolation = true
        return o
    }
}

public struct RaftSimulationReport: Sendable {
    public var seed: UInt64
    /// Safety violations (election safety, log matching, leader completeness, state-machine
    /// safety, a node's broken invariant).
    public var violations: [String] = []
    /// No leader after the fault-free period.
    public var livenessFailures: [String] = []
    public var linearizability: LinearizabilityVerdict = .linearizable
    public var checkSteps = 0
    public var operations = 0
    public var completedOperations = 0
    public var committedEntries: UInt64 = 0
    /// Membership changes committed.
    public var membershipChanges = 0
    /// Snapshots nodes took, and snapshots followers installed from a leader.
    public var snapshotsTaken = 0
    public var snapshotsInstalled = 0
    /// Simulated milliseconds from a leader's crash to the next leader's election.
    public var electionMillis: [Int] = []
    /// Simulated milliseconds from a proposal to its apply on the proposing leader.
    public var commitMillis: [Int] = []
    public var events = 0
    /// The client history, for a caller that checks it itself.
    public var history: [KVOperation] = []

    /// No safety violation and a linearizable history (liveness aside).
    public var safe: Bool {
        if case .violation = linearizability { return false }
        return violations.isEmpty
    }

    public var passed: Bool { safe && livenessFailures.isEmpty }
}

/// The simulator's choices come from one SplitMix64: the same seed, the same run.
extension SplitMix64 {
    /// Uniform in 0..<n; 0 without drawing when n ≤ 1.
    public mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
    /// True with probability p/100.
    public mutating func percent(_ p: Int) -> Bool { below(100) < p }
}

public struct RaftSimulation {
    struct InFlight {
        var at: Int
        var sequence: Int
        var message: RaftMessage
    }

    struct Replica {
        var node: RaftNode?
        var disk = MemoryRaftStorage()
        var store: [String: String] = [:]
        /// ReadIndex results waiting for the state machine to reach their index.
        var readsToServe: [RaftReadState] = []
        var phase: Int
    }

    enum ClientOp {
        case put(key: String, value: String, node: RaftNodeID, index: UInt64, term: UInt64, proposedTick: Int)
        case get(key: String, node: RaftNodeID, context: UInt64)
    }

    struct Client {
        var pending: (op: ClientOp, historyIndex: Int, deadline: Int)?
        var leaderGuess: RaftNodeID = 0
        var nextStart = 0
        var counter = 0
    }

    let seed: UInt64
    let options: RaftSimulationOptions
    var random: SplitMix64
    var now = 0
    var sequence = 0
    var replicas: [Replica]
    let ids: [RaftNodeID]
    var network: [InFlight] = []
    /// Blocked directed links (from, to).
    var blocked: Set<[RaftNodeID]> = []
    /// The partition holds messages and delivers them when it heals (as TCP would retransmit
    /// them), instead of losing them: a burst of stale messages from older terms.
    var blockedHolds = false
    var healAt = Int.max
    var clients: [Client]
    var history: [KVOperation] = []
    var report: RaftSimulationReport
    var leaderOfTerm: [UInt64: RaftNodeID] = [:]
    /// Every entry known committed (applied somewhere), by index.
    var committed: [UInt64: RaftEntry] = [:]
    var committedUpTo: UInt64 = 0
    var leaderCrashedAt: Int?
    var nextContext: UInt64 = 1
    let entriesPerAppend: Int
    let snapshotThreshold: UInt64, snapshotTrailing: UInt64, snapshotChunkBytes: Int, maxVoters: Int

    public init(seed: UInt64, options: RaftSimulationOptions = RaftSimulationOptions()) {
        self.seed = seed
        self.options = options
        var random = SplitMix64(seed: seed)
        entriesPerAppend = options.maxEntriesPerAppend ?? [1, 4, 64][random.below(3)]
        snapshotThreshold = options.snapshotThreshold ?? [25, 100, 10_000][random.below(3)]
        snapshotTrailing = options.snapshotTrailing ?? [0, 5, 50][random.below(3)]
        snapshotChunkBytes = options.snapshotChunkBytes ?? [7, 64, 1 << 20][random.below(3)]
        maxVoters = options.maxVoters ?? [0, 5][random.below(2)]
        self.random = random
        ids = (1...UInt64(options.nodes)).map { $0 }
        replicas = []
        clients = Array(repeating: Client(), count: options.clients)
        report = RaftSimulationReport(seed: seed)
        for id in ids {
            replicas.append(Replica(node: nil, phase: random.below(options.tickMillis)))
            start(id)
        }
    }

    func config(_ id: RaftNodeID) -> RaftConfig {
        var c = RaftConfig(id: id, voters: ids, seed: seed &* 31 &+ id &* 1_000_003 &+ UInt64(now))
        c.electionTicks = options.electionTicks
        c.maxEntriesPerAppend = entriesPerAppend
        c.snapshotThreshold = snapshotThreshold
        c.snapshotTrailing = snapshotTrailing
        c.snapshotChunkBytes = snapshotChunkBytes
        c.maxVoters = maxVoters
        c.promoteLag = 20
        c.rules = options.rules
        return c
    }

    mutating func start(_ id: RaftNodeID) {
        let i = Int(id - 1)
        let state = replicas[i].disk.load()
        // The state machine restarts from the snapshot; the node hands the entries after it.
        replicas[i].store = state.snapshot.map { Self.decodeStore($0.data) } ?? [:]
        replicas[i].node = RaftNode(config: config(id), state: state, applied: state.snapshot?.index ?? 0)
        replicas[i].readsToServe = []
    }

    // MARK: run

    public mutating func run() -> RaftSimulationReport {
        let faultsEnd = options.durationMillis - options.settleMillis
        while now < options.durationMillis {
            if options.stopAtViolation && !report.violations.isEmpty { break }
            let faults = now < faultsEnd
            if faults && now % options.faultRoundMillis == 0 { injectFaults() }
            if now >= healAt || (!faults && !blocked.isEmpty) {
                blocked = []
                healAt = .max
            }
            if !faults { restartAll() }
            for i in replicas.indices where (now - replicas[i].phase) % options.tickMillis == 0 && replicas[i].node != nil {
                replicas[i].node!.tick()
                drive(ids[i])
            }
            deliver()
            runClients(faultsAllowed: faults)
            if now % 500 == 0 { checkLogMatching() }
            now = nextEventTime(after: now)
        }
        finish()
        return report
    }

    /// The next millisecond at which anything can happen: a tick, a delivery, a client's
    /// start or deadline, a fault round, a heal or a log-matching check.
    func nextEventTime(after t: Int) -> Int {
        var next = min((t / 500 + 1) * 500, (t / options.faultRoundMillis + 1) * options.faultRoundMillis)
        for r in replicas where r.node != nil {
            next = min(next, t < r.phase ? r.phase : r.phase + ((t - r.phase) / options.tickMillis + 1) * options.tickMillis)
        }
        for item in network { next = min(next, item.at) }
        for c in clients { next = min(next, c.pending?.deadline ?? max(c.nextStart, t + 1)) }
        if healAt > t { next = min(next, healAt) }
        return max(t + 1, next)
    }

    mutating func restartAll() {
        for id in ids where replicas[Int(id - 1)].node == nil { start(id) }
    }

    mutating func injectFaults() {
        let down = replicas.filter { $0.node == nil }.count
        let tolerable = (ids.count - 1) / 2
        if random.percent(options.crashPercent), down < tolerable {
            let leader = ids.first { replicas[Int($0 - 1)].node?.role == .leader }
            let victim = leader.flatMap { random.percent(options.leaderCrashPercent) ? $0 : nil } ?? ids[random.below(ids.count)]
            // Election time is measured for a leader crash on a healthy network only.
            if replicas[Int(victim - 1)].node?.role == .leader && blocked.isEmpty && down == 0 { leaderCrashedAt = now }
            crash(victim)
        } else if down > 0 && random.percent(30) {
            if let id = ids.first(where: { replicas[Int($0 - 1)].node == nil }) { start(id) }
        }
        if random.percent(options.partitionPercent) && blocked.isEmpty {
            let leader = ids.first { replicas[Int($0 - 1)].node?.role == .leader }
            let isolated = leader.flatMap { random.percent(options.leaderCrashPercent) ? $0 : nil } ?? ids[random.below(ids.count)]
            let oneWay = random.percent(30)
            for other in ids where other != isolated {
                blocked.insert([isolated, other])
                if !oneWay { blocked.insert([other, isolated]) }
            }
            healAt = now + 1000 + random.below(4000)
            blockedHolds = random.percent(50)
            leaderCrashedAt = nil
        }
        if options.membershipPercent > 0 && random.percent(options.membershipPercent) { changeMembership() }
        if random.percent(options.transferPercent), let leader = ids.first(where: { replicas[Int($0 - 1)].node?.role == .leader }) {
            let target = ids[random.below(ids.count)]
            replicas[Int(leader - 1)].node!.transferLeadership(to: target)
            drive(leader)
        }
    }

    mutating func changeMembership() {
        guard let leader = ids.first(where: { replicas[Int($0 - 1)].node?.role == .leader }) else { return }
        let membership = replicas[Int(leader - 1)].node!.membership
        var choices: [RaftConfChange] = []
        for id in ids where id != leader {
            if membership.voters.contains(id) {
                if membership.voters.count > 2 { choices += [.demote(id), .remove(id)] }
            } else if membership.learners.contains(id) {
                if membership.voters.count < 5 { choices.append(.promote(id)) }
                choices.append(.remove(id))
            } else {
                choices.append(.addLearner(id))
            }
        }
        guard !choices.isEmpty else { return }
        _ = try? replicas[Int(leader - 1)].node!.proposeConfChange(choices[random.below(choices.count)])
        drive(leader)
    }

    mutating func crash(_ id: RaftNodeID) {
        replicas[Int(id - 1)].node = nil
        replicas[Int(id - 1)].store = [:]
        replicas[Int(id - 1)].readsToServe = []
    }

    // MARK: network

    mutating func send(_ m: RaftMessage) {
        if blocked.contains([m.from, m.to]) {
            guard blockedHolds, healAt != .max else { return }
            sequence += 1
            network.append(InFlight(at: healAt + 1 + random.below(options.delayMillisMax), sequence: sequence, message: m))
            return
        }
        if random.percent(options.lossPercent) { return }
        let copies = random.percent(options.duplicatePercent) ? 2 : 1
        for _ in 0..<copies {
            sequence += 1
            let delay = random.percent(options.slowPercent) ? random.below(2000) : random.below(options.delayMillisMax)
            network.append(InFlight(at: now + 1 + delay, sequence: sequence, message: m))
        }
    }

    mutating func deliver() {
        guard network.contains(where: { $0.at <= now }) else { return }
        let due = network.filter { $0.at <= now }.sorted { ($0.at, $0.sequence) < ($1.at, $1.sequence) }
        network.removeAll { $0.at <= now }
        for item in due {
            let m = item.message
            guard !blocked.contains([m.from, m.to]), replicas[Int(m.to - 1)].node != nil else { continue }
            replicas[Int(m.to - 1)].node!.step(m)
            drive(m.to)
        }
    }

    // MARK: the driver

    mutating func drive(_ id: RaftNodeID) {
        let i = Int(id - 1)
        while let node = replicas[i].node, node.hasReady {
            if let broken = node.brokenInvariant {
                violation("node \(id): \(broken)")
                return
            }
            let ready = node.ready()
            report.events += 1
            if ready.role == .leader {
                checkLeader(id, node: node)
                // What a leader marks committed is committed, applied yet or not (§5.4.2's
                // Figure 8 turns on an entry a leader commits just before it crashes).
                var index = committedUpTo + 1
                while index <= ready.hardState.map({ $0.commit }) ?? node.commit, index <= node.lastIndex {
                    if let entry = node.entries(from: index).first { record(entry, by: id) }
                    index += 1
                }
            }
            if options.persistBeforeSend {
                persist(ready, on: i)
                if now < options.durationMillis - options.settleMillis && random.below(1000) < options.crashInReadyPermille
                    && replicas.filter({ $0.node == nil }).count < (ids.count - 1) / 2 {
                    crash(id)  // after the disk write, before any message leaves
                    return
                }
                for m in ready.messages { send(m) }
            } else {
                // The broken driver of the mutation test: messages first, and a crash may come
                // before the disk write.
                for m in ready.messages { send(m) }
                if ready.hardState != nil && now < options.durationMillis - options.settleMillis && random.percent(20) {
                    crash(id)
                    return
                }
                persist(ready, on: i)
            }
            if let snapshot = ready.snapshot { install(snapshot, on: i, id: id) }
            for entry in ready.committedEntries { apply(entry, on: i, id: id) }
            replicas[i].readsToServe += ready.readStates
            serveReads(on: i, id: id)
            replicas[i].node!.advance(ready)
            if replicas[i].node!.snapshotDue {
                let snapshot = replicas[i].node!.compact(data: Self.encodeStore(replicas[i].store))
                replicas[i].disk.saveSnapshot(snapshot, hardState: replicas[i].disk.state.hardState, keepFrom: replicas[i].node!.logStart)
                report.snapshotsTaken += 1
            }
        }
    }

    mutating func persist(_ ready: RaftReady, on i: Int) {
        if let snapshot = ready.snapshot {
            replicas[i].disk.saveSnapshot(snapshot, hardState: ready.hardState ?? replicas[i].disk.state.hardState, keepFrom: nil)
        }
        replicas[i].disk.save(hardState: ready.hardState, entries: ready.entries)
    }

    /// A follower's state machine replaced by a snapshot from the leader, which must equal the
    /// committed prefix it stands for (state-machine safety across compaction).
    mutating func install(_ snapshot: RaftSnapshot, on i: Int, id: RaftNodeID) {
        report.snapshotsInstalled += 1
        var expected: [String: String] = [:]
        for index in stride(from: UInt64(1), through: snapshot.index, by: 1) {
            guard let entry = committed[index] else {
                violation("snapshot safety: node \(id) installed a snapshot at \(snapshot.index) past the committed entries")
                return
            }
            if let (key, value) = Self.decodePut(entry.data) { expected[key] = value }
        }
        if committed[snapshot.index]?.term != snapshot.meta.term || Self.decodeStore(snapshot.data) != expected {
            violation("snapshot safety: node \(id) installed a snapshot at \(snapshot.index) that differs from the committed entries")
        }
        replicas[i].store = Self.decodeStore(snapshot.data)
    }

    /// State-machine safety: one entry committed (and applied) at an index, whoever commits it.
    mutating func record(_ entry: RaftEntry, by id: RaftNodeID) {
        if let known = committed[entry.index] {
            if known != entry { violation("state machine safety: node \(id) committed \(describe(entry)) at \(entry.index), another \(describe(known))") }
        } else {
            committed[entry.index] = entry
            committedUpTo = max(committedUpTo, entry.index)
            if entry.isConfChange { report.membershipChanges += 1 }
            report.committedEntries = committedUpTo
        }
    }

    mutating func apply(_ entry: RaftEntry, on i: Int, id: RaftNodeID) {
        record(entry, by: id)
        if let (key, value) = Self.decodePut(entry.data) { replicas[i].store[key] = value }
        // Complete the client put proposed on this node at this index.
        for c in clients.indices {
            guard let pending = clients[c].pending, case .put(_, let value, let node, let index, let term, let proposed) = pending.op,
                  node == id, index == entry.index else { continue }
            if entry.term == term, Self.decodePut(entry.data)?.1 == value {
                history[pending.historyIndex].returnedAt = now
                report.completedOperations += 1
                report.commitMillis.append(now - proposed)
            }
            finishOperation(c)  // an overwritten proposal stays unknown in the history
        }
    }

    mutating func serveReads(on i: Int, id: RaftNodeID) {
        guard let node = replicas[i].node else { return }
        let appliedIndex = committedApplied(node)
        var remaining: [RaftReadState] = []
        for read in replicas[i].readsToServe {
            guard read.index <= appliedIndex else { remaining.append(read); continue }
            for c in clients.indices {
                guard let pending = clients[c].pending, case .get(let key, let node, let context) = pending.op,
                      node == id, context == read.context else { continue }
                history[pending.historyIndex].kind = .get(key: key, observed: replicas[i].store[key])
                history[pending.historyIndex].returnedAt = now
                report.completedOperations += 1
                finishOperation(c)
            }
        }
        replicas[i].readsToServe = remaining
    }

    /// The index the node's state machine holds once this Ready is applied.
    func committedApplied(_ node: RaftNode) -> UInt64 { min(node.commit, node.lastIndex) }

    // MARK: clients

    mutating func runClients(faultsAllowed: Bool) {
        for c in clients.indices {
            if let pending = clients[c].pending {
                if now >= pending.deadline {
                    finishOperation(c)  // unknown outcome: returnedAt stays nil
                    clients[c].leaderGuess = 0
                }
                continue
            }
            guard now >= clients[c].nextStart else { continue }
            let target = clients[c].leaderGuess != 0 ? clients[c].leaderGuess : ids[random.below(ids.count)]
            let i = Int(target - 1)
            guard replicas[i].node != nil else {
                clients[c].leaderGuess = 0
                clients[c].nextStart = now + 20
                continue
            }
            let key = "k\(random.below(options.keys))"
            clients[c].counter += 1
            if random.percent(50) {
                let value = "c\(c)-\(clients[c].counter)"
                do {
                    let index = try replicas[i].node!.propose(Self.encodePut(key, value))
                    let term = replicas[i].node!.term
                    history.append(KVOperation(client: c, kind: .put(key: key, value: value), invokedAt: now, returnedAt: nil))
                    report.operations += 1
                    clients[c].pending = (.put(key: key, value: value, node: target, index: index, term: term, proposedTick: now),
                                          history.count - 1, now + 3000)
                    drive(target)
                } catch {
                    clients[c].leaderGuess = Self.hint(error)
                    clients[c].nextStart = now + 10
                }
            } else {
                let context = nextContext
                nextContext += 1
                do {
                    try replicas[i].node!.readIndex(context: context)
                    history.append(KVOperation(client: c, kind: .get(key: key, observed: nil), invokedAt: now, returnedAt: nil))
                    report.operations += 1
                    clients[c].pending = (.get(key: key, node: target, context: context), history.count - 1, now + 3000)
                    drive(target)
                } catch {
                    clients[c].leaderGuess = Self.hint(error)
                    clients[c].nextStart = now + 10
                }
            }
        }
    }

    mutating func finishOperation(_ c: Int) {
        clients[c].pending = nil
        clients[c].nextStart = now + 1 + random.below(options.thinkMillisMax)
    }

    static func hint(_ error: RaftProposalError) -> RaftNodeID {
        if case .notLeader(let hint) = error { return hint }
        return 0
    }

    static func encodePut(_ key: String, _ value: String) -> [UInt8] { Array("P|\(key)|\(value)".utf8) }

    /// The key-value store as snapshot bytes (`key=value` lines, sorted).
    static func encodeStore(_ store: [String: String]) -> [UInt8] {
        Array(store.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n").utf8)
    }

    static func decodeStore(_ data: [UInt8]) -> [String: String] {
        var store: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { store[String(parts[0])] = String(parts[1]) }
        }
        return store
    }

    static func decodePut(_ data: [UInt8]) -> (String, String)? {
        let parts = String(decoding: data, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "P" else { return nil }
        return (String(parts[1]), String(parts[2]))
    }

    // MARK: checks

    mutating func violation(_ text: String) {
        report.violations.append("t=\(now)ms: \(text)")
    }

    func describe(_ e: RaftEntry) -> String { "(term \(e.term), \(String(decoding: e.data, as: UTF8.self)))" }

    /// Election safety (one leader per term) and leader completeness (a leader holds every
    /// committed entry).
    mutating func checkLeader(_ id: RaftNodeID, node: RaftNode) {
        if let other = leaderOfTerm[node.term], other != id {
            violation("election safety: nodes \(other) and \(id) both lead term \(node.term)")
        }
        if leaderOfTerm[node.term] == nil {
            leaderOfTerm[node.term] = id
            if let crashed = leaderCrashedAt {
                report.electionMillis.append(now - crashed)
                leaderCrashedAt = nil
            }
            // Entries it compacted are in its snapshot (checked when that was installed).
            let log = node.entries(from: node.logStart + 1)
            for index in stride(from: node.logStart + 1, through: committedUpTo, by: 1) {
                guard let entry = committed[index] else { continue }
                if index > node.lastIndex || log[log.startIndex + Int(index - node.logStart - 1)] != entry {
                    violation("leader completeness: leader \(id) of term \(node.term) lacks committed entry \(index) \(describe(entry))")
                    break
                }
            }
        }
    }

    /// Log matching: two logs with an entry of the same index and term are identical up to it.
    /// Compared over the indexes both logs still hold.
    mutating func checkLogMatching() {
        let logs = replicas.compactMap { $0.node.map { Array($0.entries(from: $0.logStart + 1)) } }
        for a in logs.indices {
            for b in logs.indices where b > a {
                let x = logs[a], y = logs[b]
                guard let xFirst = x.first?.index, let yFirst = y.first?.index else { continue }
                let low = max(xFirst, yFirst), high = min(x.last!.index, y.last!.index)
                guard low <= high else { continue }
                let xs = x[Int(low - xFirst)...Int(high - xFirst)], ys = y[Int(low - yFirst)...Int(high - yFirst)]
                var i = xs.count - 1
                while i >= 0 && xs[xs.startIndex + i].term != ys[ys.startIndex + i].term { i -= 1 }
                if i >= 0 && Array(xs.prefix(i + 1)) != Array(ys.prefix(i + 1)) {
                    violation("log matching: two logs agree on the term at index \(low + UInt64(i)) but differ before it")
                    return
                }
            }
        }
    }

    mutating func finish() {
        if report.violations.isEmpty || !options.stopAtViolation {
            if !replicas.contains(where: { $0.node?.role == .leader }) {
                let states = zip(ids, replicas).map { id, r in
                    guard let n = r.node else { return "node \(id): down" }
                    return "node \(id): \(n.role) term \(n.term) leader \(n.leader) last \(n.lastIndex) commit \(n.commit) voters \(n.membership.voters.sorted()) learners \(n.membership.learners.sorted())"
                }
                report.livenessFailures.append("no leader at the end of the \(options.settleMillis) ms fault-free period; " + states.joined(separator: "; "))
            }
        }
        report.history = history
        guard options.checkLinearizability else { return }
        let (verdict, steps) = LinearizabilityChecker.checkWithStats(history)
        report.linearizability = verdict
        report.checkSteps = steps
    }
}
