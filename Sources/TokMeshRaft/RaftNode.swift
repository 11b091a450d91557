// RaftNode: the Raft protocol (Ongaro & Ousterhout, extended version) as a pure state machine,
// shaped after etcd's raft: time arrives as `tick()`, everything else as `step(_:)`, and output
// piles up until the driver takes it with `ready()` and confirms it with `advance(_:)` — no
// clocks, threads, I/O or unseeded randomness inside. Implemented: elections with PreVote and
// CheckQuorum leases, log replication with conflict back-off and a bounded number of appends in
// flight per follower, the current-term commit rule, ReadIndex reads confirmed by a heartbeat
// round, leadership transfer with TimeoutNow, and single-server membership changes (learners,
// promotion, demotion, removal) effective when applied, one at a time. The log is held in
// memory (the control-plane log is small; compaction by snapshot is still to come).

public struct RaftNode: Sendable {
    public let id: RaftNodeID
    private let config: RaftConfig
    public private(set) var membership: RaftMembership
    /// `membership.voters` sorted, and every other member sorted (kept in step with it).
    private var voters: [RaftNodeID] = []
    private var peers: [RaftNodeID] = []
    /// The index of the last membership change this leader proposed (one at a time).
    private var pendingConfIndex: UInt64 = 0

    public private(set) var term: UInt64
    public private(set) var vote: RaftNodeID
    public private(set) var commit: UInt64
    public private(set) var role: RaftRole = .follower
    public private(set) var leader: RaftNodeID = 0
    /// Entries by index; index 0 is a sentinel of term 0.
    private var log: [RaftEntry]
    /// Highest index handed to the driver to persist and confirmed by `advance`.
    private var stableIndex: UInt64
    /// Highest index handed to the driver to apply.
    private var applied: UInt64
    private var lastHardState: RaftHardState

    private var electionElapsed = 0
    private var heartbeatElapsed = 0
    private var randomizedElectionTimeout = 0
    private var rng: UInt64

    private var votes: [RaftNodeID: Bool] = [:]
    private var progress: [RaftNodeID: Progress] = [:]
    private var pendingReads: [PendingRead] = []
    private var transferee: RaftNodeID = 0
    private var transferElapsed = 0

    private var outbox: [RaftMessage] = []
    /// Set instead of trapping when a node whose safety rules were switched off (the mutation
    /// test) reaches a state the rules exclude; the node then stops changing.
    public private(set) var brokenInvariant: String?
    private var readStates: [RaftReadState] = []

    /// What the leader knows of a follower's log (§5.3).
    struct Progress: Sendable {
        var match: UInt64 = 0
        var next: UInt64
        /// Probing sends one append at a time until the follower's log position is found;
        /// replicating pipelines up to `maxInflight` appends.
        var probing = true
        var inflight: [UInt64] = []
        /// Heard from within the current election timeout (CheckQuorum).
        var recentActive = false
        /// The commit index the last append to this follower carried.
        var sentCommit: UInt64 = 0
    }

    struct PendingRead: Sendable {
        var context: UInt64
        var index: UInt64
        var acks: Set<RaftNodeID>
    }

    /// A node starting from what it persisted (nothing, on first start). `applied` is the index
    /// the driver's state machine already holds.
    public init(config: RaftConfig, hardState: RaftHardState = RaftHardState(), entries: [RaftEntry] = [], applied: UInt64 = 0) {
        precondition(entries.enumerated().allSatisfy { $0.element.index == UInt64($0.offset + 1) }, "entries must start at 1 without gaps")
        id = config.id
        self.config = config
        membership = RaftMembership(voters: Set(config.voters), learners: Set(config.learners).subtracting(config.voters))
        term = hardState.term
        vote = hardState.vote
        log = [RaftEntry(term: 0, index: 0)] + entries
        commit = min(hardState.commit, UInt64(entries.count))
        stableIndex = UInt64(entries.count)
        self.applied = min(applied, commit)
        lastHardState = hardState
        rng = config.seed
        // Committed membership changes took effect before the restart.
        for entry in log[1..<Int(commit) + 1] where entry.isConfChange {
            if let change = RaftConfChange(encoded: entry.data) { membership.apply(change) }
        }
        voters = membership.voters.sorted()
        peers = membership.members.subtracting([id]).sorted()
        resetElectionTimeout()
    }

    /// This node may vote and campaign.
    public var isVoter: Bool { membership.voters.contains(id) }

    // MARK: log

    public var lastIndex: UInt64 { UInt64(log.count - 1) }
    public var lastTerm: UInt64 { log[log.count - 1].term }

    func termAt(_ index: UInt64) -> UInt64? { index <= lastIndex ? log[Int(index)].term : nil }

    /// The entries from `index` on (for tests and the simulator's checks).
    public func entries(from index: UInt64 = 1) -> ArraySlice<RaftEntry> { log[Int(min(index, lastIndex + 1))...] }

    private var quorum: Int { voters.count / 2 + 1 }

    // MARK: timers

    private mutating func nextRandom() -> UInt64 {
        rng &+= 0x9E37_79B9_7F4A_7C15
        var z = rng
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private mutating func resetElectionTimeout() {
        electionElapsed = 0
        randomizedElectionTimeout = config.electionTicks + Int(nextRandom() % UInt64(config.electionTicks))
    }

    /// One unit of time.
    public mutating func tick() {
        if role == .leader {
            electionElapsed += 1
            heartbeatElapsed += 1
            if transferee != 0 {
                transferElapsed += 1
                if transferElapsed >= config.electionTicks { transferee = 0 }
            }
            if electionElapsed >= config.electionTicks {
                electionElapsed = 0
                if config.checkQuorum {
                    let active = voters.filter { $0 == id || progress[$0]?.recentActive == true }.count
                    for peer in progress.keys { progress[peer]?.recentActive = false }
                    if active < quorum {
                        becomeFollower(term: term, leader: 0)
                        return
                    }
                }
            }
            if heartbeatElapsed >= config.heartbeatTicks {
                heartbeatElapsed = 0
                broadcastHeartbeat(context: pendingReads.last?.context ?? 0)
            }
        } else {
            electionElapsed += 1
            if electionElapsed >= randomizedElectionTimeout {
                if isVoter {
                    campaign(preVote: config.preVote, transfer: false)
                } else {
                    resetElectionTimeout()
                }
            }
        }
    }

    // MARK: roles

    private mutating func becomeFollower(term newTerm: UInt64, leader newLeader: RaftNodeID) {
        if newTerm > term {
            term = newTerm
            vote = 0
        }
        role = .follower
        leader = newLeader
        progress = [:]
        pendingReads = []
        transferee = 0
        resetElectionTimeout()
    }

    private mutating func campaign(preVote: Bool, transfer: Bool) {
        if preVote {
            role = .preCandidate
            leader = 0
        } else {
            term += 1
            vote = id
            role = .candidate
            leader = 0
        }
        votes = [id: true]
        resetElectionTimeout()
        if votes.count >= quorum { return preVote ? campaign(preVote: false, transfer: false) : becomeLeader() }
        for peer in voters where peer != id {
            var m = RaftMessage(kind: preVote ? .preVote : .vote, from: id, to: peer, term: preVote ? term + 1 : term)
            m.index = lastIndex
            m.logTerm = lastTerm
            m.transfer = transfer
            outbox.append(m)
        }
    }

    private mutating func becomeLeader() {
        precondition(role == .candidate, "only a candidate becomes leader")
        role = .leader
        leader = id
        heartbeatElapsed = 0
        electionElapsed = 0
        progress = [:]
        for peer in peers { progress[peer] = Progress(next: lastIndex + 1) }
        // Membership changes still in the log may not be applied yet.
        pendingConfIndex = lastIndex
        // A no-op of the new term: it commits the earlier entries (§5.4.2, §8).
        log.append(RaftEntry(term: term, index: lastIndex + 1))
        maybeCommit()
        broadcastAppend()
    }

    // MARK: proposals and reads

    /// Appends `data` to the log (leader only). Returns the entry's index.
    public mutating func propose(_ data: [UInt8]) throws(RaftProposalError) -> UInt64 {
        guard role == .leader else { throw .notLeader(hint: leader) }
        guard transferee == 0 else { throw .transferring }
        log.append(RaftEntry(term: term, index: lastIndex + 1, data: data))
        maybeCommit()
        broadcastAppend()
        return lastIndex
    }

    /// Proposes a membership change (leader only), once the previous one is applied and an
    /// entry of this term is committed. The leader never removes or demotes itself: transfer
    /// leadership first. Returns the entry's index.
    public mutating func proposeConfChange(_ change: RaftConfChange) throws(RaftProposalError) -> UInt64 {
        guard role == .leader else { throw .notLeader(hint: leader) }
        guard transferee == 0 else { throw .transferring }
        guard termAt(commit) == term, pendingConfIndex <= applied else { throw .notReady }
        switch change {
        case .demote(let node), .remove(let node): if node == id { throw .invalidChange }
        default: break
        }
        var next = membership
        next.apply(change)
        guard next != membership, !next.voters.isEmpty else { throw .invalidChange }
        log.append(RaftEntry(term: term, index: lastIndex + 1, data: change.encoded, isConfChange: true))
        pendingConfIndex = lastIndex
        maybeCommit()
        broadcastAppend()
        return lastIndex
    }

    /// A committed membership change being applied.
    private mutating func applyConfChange(_ change: RaftConfChange) {
        membership.apply(change)
        voters = membership.voters.sorted()
        peers = membership.members.subtracting([id]).sorted()
        guard role == .leader else {
            if !isVoter && (role == .candidate || role == .preCandidate) { becomeFollower(term: term, leader: 0) }
            return
        }
        for peer in peers where progress[peer] == nil { progress[peer] = Progress(next: lastIndex + 1) }
        for peer in progress.keys where !peers.contains(peer) { progress[peer] = nil }
        if transferee != 0 && !membership.voters.contains(transferee) { transferee = 0 }
        maybeCommit()
        for peer in peers where progress[peer]?.match == 0 { sendAppend(to: peer) }
    }

    /// Asks for a linearizable read point tagged `context` (unique per request). It appears in
    /// a later Ready's `readStates` once a quorum confirmed this node still leads (§8).
    public mutating func readIndex(context: UInt64) throws(RaftProposalError) {
        guard role == .leader else { throw .notLeader(hint: leader) }
        // Until an entry of this term is committed, `commit` may lag what earlier leaders did.
        guard termAt(commit) == term else { throw .notReady }
        pendingReads.append(PendingRead(context: context, index: commit, acks: [id]))
        if quorum == 1 { return releaseReads(upTo: pendingReads.count - 1) }
        broadcastHeartbeat(context: context)
    }

    /// Hands leadership to `target` once its log is caught up (TimeoutNow).
    public mutating func transferLeadership(to target: RaftNodeID) {
        guard role == .leader, target != id, voters.contains(target), let pr = progress[target] else { return }
        transferee = target
        transferElapsed = 0
        if pr.match == lastIndex { sendTimeoutNow(to: target) } else { sendAppend(to: target) }
    }

    private mutating func sendTimeoutNow(to target: RaftNodeID) {
        outbox.append(RaftMessage(kind: .timeoutNow, from: id, to: target, term: term))
    }

    // MARK: messages in

    public mutating func step(_ m: RaftMessage) {
        guard m.to == id, m.from != id, brokenInvariant == nil else { return }
        if m.term > term {
            if (m.kind == .preVote || m.kind == .vote) && config.checkQuorum && !m.transfer && leader != 0
                && electionElapsed < config.electionTicks {
                return  // a leader was heard from recently: the lease holds (§6 of the thesis)
            }
            switch m.kind {
            case .preVote:
                break  // answered below without changing our term
            case .preVoteResponse where !m.reject:
                break  // a grant carries the term we would campaign in
            case .append, .heartbeat:
                becomeFollower(term: m.term, leader: m.from)
            default:
                becomeFollower(term: m.term, leader: 0)
            }
        } else if m.term < term {
            switch m.kind {
            case .append, .heartbeat:
                if config.rules.appendChecksTerm {
                    // Tell the stale leader the term, so it steps down.
                    outbox.append(RaftMessage(kind: .appendResponse, from: id, to: m.from, term: term))
                    return
                }
            case .preVote:
                var reply = RaftMessage(kind: .preVoteResponse, from: id, to: m.from, term: term)
                reply.reject = true
                outbox.append(reply)
                return
            default:
                return
            }
        }

        switch m.kind {
        case .preVote, .vote:
            handleVoteRequest(m)
        case .append, .heartbeat:
            // A candidate of the same term learns who won (§5.2).
            if role != .follower && m.term == term { becomeFollower(term: term, leader: m.from) }
            guard role == .follower else { return }
            leader = m.from
            electionElapsed = 0
            if m.kind == .append { handleAppend(m) } else { handleHeartbeat(m) }
        case .timeoutNow:
            if role == .follower { campaign(preVote: false, transfer: true) }
        case .preVoteResponse, .voteResponse:
            handleVoteResponse(m)
        case .appendResponse:
            if role == .leader { handleAppendResponse(m) }
        case .heartbeatResponse:
            if role == .leader { handleHeartbeatResponse(m) }
        }
    }

    private mutating func handleVoteRequest(_ m: RaftMessage) {
        // Anyone who is asked answers, learners and nodes that do not know the candidate
        // included: changes take effect when applied, so this node may have been promoted (or
        // the candidate added) without knowing it yet, and refusing would leave the new
        // configuration without a quorum (etcd's TestLearnerCanVote). Votes are counted by the
        // candidate's own configuration; two adjacent single-server configurations share a
        // member of every quorum, so election safety holds.
        let preVote = m.kind == .preVote
        let canVote = vote == m.from || (vote == 0 && leader == 0) || (preVote && m.term > term)
        let logUpToDate = m.logTerm > lastTerm || (m.logTerm == lastTerm && m.index >= lastIndex)
        var reply = RaftMessage(kind: preVote ? .preVoteResponse : .voteResponse, from: id, to: m.from, term: preVote ? m.term : term)
        if canVote && (logUpToDate || !config.rules.voteChecksLog) {
            if !preVote {
                vote = m.from
                electionElapsed = 0
            }
        } else {
            reply.reject = true
            reply.term = term
        }
        outbox.append(reply)
    }

    private mutating func handleVoteResponse(_ m: RaftMessage) {
        let expected: RaftRole = m.kind == .preVoteResponse ? .preCandidate : .candidate
        guard role == expected else { return }
        if m.kind == .voteResponse && m.term != term { return }
        if m.kind == .preVoteResponse && !m.reject && m.term != term + 1 { return }
        guard membership.voters.contains(m.from) else { return }
        votes[m.from] = !m.reject
        let granted = votes.values.filter { $0 }.count
        let rejected = votes.values.filter { !$0 }.count
        if granted >= quorum {
            if m.kind == .preVoteResponse { campaign(preVote: false, transfer: false) } else { becomeLeader() }
        } else if rejected >= quorum {
            becomeFollower(term: term, leader: 0)
        }
    }

    /// §5.3: accept entries that follow a matching entry, cutting a conflicting suffix.
    private mutating func handleAppend(_ m: RaftMessage) {
        var reply = RaftMessage(kind: .appendResponse, from: id, to: m.from, term: term)
        if m.index < commit {
            reply.index = commit  // that prefix is committed here already
            outbox.append(reply)
            return
        }
        guard termAt(m.index) == m.logTerm else {
            reply.reject = true
            reply.index = m.index
            reply.rejectHint = min(lastIndex, m.index)
            outbox.append(reply)
            return
        }
        for e in m.entries {
            if let existing = termAt(e.index) {
                if existing == e.term { continue }
                guard e.index > commit else {
                    precondition(config.rules != RaftRules(), "a committed entry would be overwritten")
                    brokenInvariant = "committed entry \(e.index) would be overwritten by one of term \(e.term)"
                    return
                }
                log.removeSubrange(Int(e.index)...)
                stableIndex = min(stableIndex, e.index - 1)
            }
            log.append(e)
        }
        let lastNew = m.index + UInt64(m.entries.count)
        if m.commit > commit { commit = min(m.commit, lastNew) }
        reply.index = lastNew
        outbox.append(reply)
    }

    private mutating func handleHeartbeat(_ m: RaftMessage) {
        // The leader sends min(commit, our match): those entries are here and match its log.
        if m.commit > commit { commit = min(m.commit, lastIndex) }
        var reply = RaftMessage(kind: .heartbeatResponse, from: id, to: m.from, term: term)
        reply.readContext = m.readContext
        outbox.append(reply)
    }

    private mutating func handleAppendResponse(_ m: RaftMessage) {
        guard var pr = progress[m.from] else { return }
        pr.recentActive = true
        if m.reject {
            // Only a rejection of what we last probed moves `next` back.
            if m.index == pr.next - 1 || !pr.probing {
                pr.next = max(1, min(m.index, m.rejectHint + 1))
                pr.probing = true
                pr.inflight = []
            }
            progress[m.from] = pr
            sendAppend(to: m.from)
            return
        }
        pr.inflight.removeAll { $0 <= m.index }
        if m.index > pr.match {
            pr.match = m.index
            pr.next = max(pr.next, m.index + 1)
            pr.probing = false
            progress[m.from] = pr
            maybeCommit()
        } else {
            progress[m.from] = pr
        }
        if transferee == m.from && pr.match == lastIndex { sendTimeoutNow(to: m.from) }
        if pr.next <= lastIndex || pr.sentCommit < commit { sendAppend(to: m.from) }
    }

    private mutating func handleHeartbeatResponse(_ m: RaftMessage) {
        guard var pr = progress[m.from] else { return }
        pr.recentActive = true
        if pr.match < lastIndex {
            // An append may have been lost: probe again from what the follower confirmed.
            pr.probing = true
            pr.inflight = []
            pr.next = pr.match + 1
        }
        progress[m.from] = pr
        if pr.match < lastIndex { sendAppend(to: m.from) }
        if m.readContext != 0, membership.voters.contains(m.from), let i = pendingReads.firstIndex(where: { $0.context == m.readContext }) {
            pendingReads[i].acks.insert(m.from)
            if pendingReads[i].acks.count >= quorum { releaseReads(upTo: i) }
        }
    }

    /// A quorum confirmed leadership after read `i` was registered: it and every earlier one
    /// are served at their indexes.
    private mutating func releaseReads(upTo i: Int) {
        for read in pendingReads[...i] { readStates.append(RaftReadState(index: read.index, context: read.context)) }
        pendingReads.removeFirst(i + 1)
    }

    // MARK: messages out (leader)

    private mutating func sendAppend(to peer: RaftNodeID) {
        guard var pr = progress[peer] else { return }
        if pr.probing ? !pr.inflight.isEmpty : pr.inflight.count >= config.maxInflight { return }
        let prev = pr.next - 1
        var m = RaftMessage(kind: .append, from: id, to: peer, term: term)
        m.index = prev
        m.logTerm = termAt(prev) ?? 0
        let end = min(lastIndex, prev + UInt64(config.maxEntriesPerAppend))
        if end > prev { m.entries = Array(log[Int(prev + 1)...Int(end)]) }
        m.commit = commit
        pr.sentCommit = commit
        if !pr.probing { pr.next = end + 1 }
        pr.inflight.append(end)
        progress[peer] = pr
        outbox.append(m)
    }

    private mutating func broadcastAppend() {
        for peer in peers { sendAppend(to: peer) }
    }

    private mutating func broadcastHeartbeat(context: UInt64) {
        for peer in peers {
            var m = RaftMessage(kind: .heartbeat, from: id, to: peer, term: term)
            m.commit = min(commit, progress[peer]?.match ?? 0)
            m.readContext = context
            outbox.append(m)
        }
    }

    /// §5.3-5.4: the highest index a quorum of voters holds becomes committed if it is of
    /// this term.
    private mutating func maybeCommit() {
        var matches = voters.map { $0 == id ? lastIndex : progress[$0]?.match ?? 0 }
        matches.sort(by: >)
        let candidate = matches[quorum - 1]
        guard candidate > commit else { return }
        if config.rules.commitOnlyCurrentTerm && termAt(candidate) != term { return }
        commit = candidate
        broadcastAppend()
    }

    // MARK: ready / advance

    public var hasReady: Bool {
        !outbox.isEmpty || !readStates.isEmpty || stableIndex < lastIndex || applied < commit || hardState != lastHardState
    }

    public var hardState: RaftHardState { RaftHardState(term: term, vote: vote, commit: commit) }

    /// The work accumulated since the last `advance`.
    public func ready() -> RaftReady {
        var r = RaftReady(role: role, leader: leader)
        if hardState != lastHardState { r.hardState = hardState }
        if stableIndex < lastIndex { r.entries = Array(log[Int(stableIndex + 1)...]) }
        r.messages = outbox
        let applyUpTo = min(commit, lastIndex)
        if applied < applyUpTo { r.committedEntries = Array(log[Int(applied + 1)...Int(applyUpTo)]) }
        r.readStates = readStates
        return r
    }

    /// The driver persisted, sent and applied `ready`.
    public mutating func advance(_ ready: RaftReady) {
        if let h = ready.hardState { lastHardState = h }
        if let last = ready.entries.last, last.index <= lastIndex, log[Int(last.index)] == last { stableIndex = max(stableIndex, last.index) }
        for entry in ready.committedEntries where entry.isConfChange && entry.index > applied {
            if let change = RaftConfChange(encoded: entry.data) { applyConfChange(change) }
        }
        if let last = ready.committedEntries.last { applied = max(applied, last.index) }
        outbox.removeFirst(min(outbox.count, ready.messages.count))
        readStates.removeFirst(min(readStates.count, ready.readStates.count))
    }
}
