// RaftNode: the Raft protocol (Ongaro & Ousterhout, extended version) as a pure state machine,
// shaped after etcd's raft: time arrives as `tick()`, everything else as `step(_:)`, and output
// piles up until the driver takes it with `ready()` and confirms it with `advance(_:)` — no
// clocks, threads, I/O or unseeded randomness inside. Implemented: elections with PreVote and
// CheckQuorum leases, log replication with conflict back-off and a bounded number of appends in
// flight per follower, the current-term commit rule, ReadIndex reads confirmed by a heartbeat
// round, leadership transfer with TimeoutNow, and single-server membership changes (learners,
// promotion, demotion, removal) effective when applied, one at a time, and log compaction: once
// `snapshotThreshold` entries are applied past the last snapshot the node asks its driver for
// one (`snapshotDue`, `compact(data:)`), keeps `snapshotTrailing` entries behind it, and sends a
// follower that needs a compacted entry the snapshot in chunks instead. The log after the last
// compaction is held in memory (the control-plane log is small).

public struct RaftNode: Sendable {
    public let id: RaftNodeID
    private let config: RaftConfig
    public private(set) var membership: RaftMembership
    /// Failure domains of members, set by the driver; a tie-break of automatic promotion.
    public var zones: [RaftNodeID: String] = [:]
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
    /// Entries from `logStart` on: `log[0]` is the entry at `logStart` (a compacted one, kept
    /// for its term, or the snapshot's index and term, or the sentinel of index 0).
    private var log: [RaftEntry]
    /// The index of `log[0]`; entries after it can be sent, entries before it are compacted.
    public private(set) var logStart: UInt64
    /// The newest snapshot (taken here or installed), sent to followers that need it.
    public private(set) var snapshot: RaftSnapshot?
    /// An installed snapshot the driver has not taken with a Ready yet.
    private var pendingSnapshot: RaftSnapshot?
    /// A snapshot arriving in chunks: its meta and the bytes so far.
    private var incoming: (meta: RaftSnapshotMeta, bytes: [UInt8])?
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
        /// A snapshot being sent instead of appends: its index and where the next chunk
        /// starts (one chunk in flight at a time; a heartbeat response resends it).
        var snapshotIndex: UInt64?
        var snapshotOffset = 0
    }

    struct PendingRead: Sendable {
        var context: UInt64
        var index: UInt64
        var acks: Set<RaftNodeID>
    }

    /// A node starting from what it persisted (nothing, on first start). `applied` is the index
    /// the driver's state machine already holds; a driver that restored it from the snapshot
    /// holds at least the snapshot's index.
    public init(config: RaftConfig, state: RaftPersistentState = RaftPersistentState(), applied: UInt64 = 0) {
        let entries = state.entries, snapshot = state.snapshot
        let first = entries.first?.index ?? (snapshot?.index ?? 0) + 1
        precondition(entries.enumerated().allSatisfy { $0.element.index == first + UInt64($0.offset) }, "entries must be contiguous")
        precondition(first <= (snapshot?.index ?? 0) + 1 && (snapshot != nil || first == 1), "entries must start at 1 or at most one past the snapshot")
        id = config.id
        self.config = config
        membership = snapshot?.meta.membership
            ?? RaftMembership(voters: Set(config.voters), learners: Set(config.learners).subtracting(config.voters))
        term = state.hardState.term
        vote = state.hardState.vote
        if let snapshot, first == snapshot.index + 1 {
            log = [RaftEntry(term: snapshot.meta.term, index: snapshot.index)] + entries
        } else if first == 1 {
            log = [RaftEntry(term: 0, index: 0)] + entries
        } else {
            log = entries
        }
        logStart = log[0].index
        self.snapshot = snapshot
        let last = logStart + UInt64(log.count - 1)
        let snapshotIndex = snapshot?.index ?? 0
        commit = max(snapshotIndex, min(state.hardState.commit, last))
        stableIndex = last
        self.applied = max(snapshotIndex, min(applied, commit))
        lastHardState = state.hardState
        rng = config.seed
        // Committed membership changes after the snapshot took effect before the restart.
        for entry in log[Int(snapshotIndex + 1 - logStart)..<Int(commit + 1 - logStart)] where entry.isConfChange {
            if let change = RaftConfChange(encoded: entry.data) { membership.apply(change) }
        }
        voters = membership.voters.sorted()
        peers = membership.members.subtracting([id]).sorted()
        resetElectionTimeout()
    }

    /// This node may vote and campaign.
    public var isVoter: Bool { membership.voters.contains(id) }

    // MARK: log

    public var lastIndex: UInt64 { logStart + UInt64(log.count - 1) }
    public var lastTerm: UInt64 { log[log.count - 1].term }

    /// The term of the entry at `index`; nil past the end or before `logStart` (compacted).
    func termAt(_ index: UInt64) -> UInt64? { index >= logStart && index <= lastIndex ? log[Int(index - logStart)].term : nil }

    /// The entries held from `index` on (never a compacted one); for tests and the simulator.
    public func entries(from index: UInt64 = 1) -> ArraySlice<RaftEntry> {
        log[Int(min(max(index, logStart + 1), lastIndex + 1) - logStart)...]
    }

    /// Slice of the log for indexes `from...through`, all held.
    private func slice(_ from: UInt64, _ through: UInt64) -> ArraySlice<RaftEntry> { log[Int(from - logStart)...Int(through - logStart)] }

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
            if let learner = promotionCandidate { _ = try? proposeConfChange(.promote(learner)) }
        } else {
            electionElapsed += 1
            // A learner's count keeps growing: past an election timeout without a leader it
            // no longer holds the lease, and grants votes (it may have been promoted).
            if electionElapsed >= randomizedElectionTimeout && isVoter {
                campaign(preVote: config.preVote, transfer: false)
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

    /// The learner automatic promotion would promote now (spec/07 §5): only while voters are
    /// fewer than `maxVoters`, among learners caught up to within `promoteLag` entries (and
    /// not receiving a snapshot), the most caught up, then one from a zone no voter is in, then
    /// the smallest id.
    public var promotionCandidate: RaftNodeID? {
        guard role == .leader, config.maxVoters > 0, voters.count < config.maxVoters else { return nil }
        let floor = lastIndex > config.promoteLag ? lastIndex - config.promoteLag : 0
        let voterZones = Set(voters.compactMap { zones[$0] })
        return membership.learners.compactMap { id -> (RaftNodeID, UInt64, Bool)? in
            guard let pr = progress[id], pr.match > 0, pr.match >= floor, pr.snapshotIndex == nil else { return nil }
            return (id, pr.match, zones[id].map { !voterZones.contains($0) } ?? false)
        }.min { a, b in
            if a.1 != b.1 { return a.1 > b.1 }
            if a.2 != b.2 { return a.2 }
            return a.0 < b.0
        }?.0
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
            case .append, .heartbeat, .snapshot:
                becomeFollower(term: m.term, leader: m.from)
            default:
                becomeFollower(term: m.term, leader: 0)
            }
        } else if m.term < term {
            switch m.kind {
            case .append, .heartbeat, .snapshot:
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
        case .append, .heartbeat, .snapshot:
            // A candidate of the same term learns who won (§5.2).
            if role != .follower && m.term == term { becomeFollower(term: term, leader: m.from) }
            guard role == .follower else { return }
            leader = m.from
            electionElapsed = 0
            switch m.kind {
            case .append: handleAppend(m)
            case .heartbeat: handleHeartbeat(m)
            default: handleSnapshotChunk(m)
            }
        case .timeoutNow:
            if role == .follower { campaign(preVote: false, transfer: true) }
        case .preVoteResponse, .voteResponse:
            handleVoteResponse(m)
        case .appendResponse:
            if role == .leader { handleAppendResponse(m) }
        case .heartbeatResponse:
            if role == .leader { handleHeartbeatResponse(m) }
        case .snapshotResponse:
            if role == .leader { handleSnapshotResponse(m) }
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
        // A leader never sends an entry that conflicts with one committed here (etcd panics).
        if let e = m.entries.first(where: { e in e.index <= commit && termAt(e.index).map { $0 != e.term } == true }) {
            return breakInvariant("committed entry \(e.index) conflicts with one of term \(e.term) from leader \(m.from)")
        }
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
                    return breakInvariant("committed entry \(e.index) would be overwritten by one of term \(e.term)")
                }
                log.removeSubrange(Int(e.index - logStart)...)
                stableIndex = min(stableIndex, e.index - 1)
            }
            log.append(e)
        }
        let lastNew = m.index + UInt64(m.entries.count)
        if m.commit > commit { commit = min(m.commit, lastNew) }
        reply.index = lastNew
        outbox.append(reply)
    }

    /// A state the safety rules exclude: a trap in production; with a rule switched off (the
    /// mutation test) the node records it and stops changing.
    private mutating func breakInvariant(_ text: String) {
        precondition(config.rules != RaftRules(), text)
        brokenInvariant = text
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
        if let sending = pr.snapshotIndex {
            // Answers to earlier appends are stale; the installed snapshot is acknowledged at
            // its index (or later, when the follower already held it).
            guard !m.reject, m.index >= sending else { progress[m.from] = pr; return }
            pr.snapshotIndex = nil
            pr.probing = true
            pr.inflight = []
            pr.next = m.index + 1
        }
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
        if pr.snapshotIndex != nil {
            // A chunk (or its answer) may have been lost: send the one expected again.
            progress[m.from] = pr
            sendSnapshotChunk(to: m.from)
        } else if pr.match < lastIndex {
            // An append may have been lost: probe again from what the follower confirmed.
            pr.probing = true
            pr.inflight = []
            pr.next = pr.match + 1
        }
        progress[m.from] = pr
        if pr.snapshotIndex == nil && pr.match < lastIndex { sendAppend(to: m.from) }
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
        guard var pr = progress[peer], pr.snapshotIndex == nil else { return }
        if pr.probing ? !pr.inflight.isEmpty : pr.inflight.count >= config.maxInflight { return }
        let prev = pr.next - 1
        guard let prevTerm = termAt(prev) else {
            // The follower needs entries that are compacted: it gets the snapshot instead.
            guard let snapshot else { preconditionFailure("entries before \(logStart) compacted without a snapshot") }
            pr.snapshotIndex = snapshot.index
            pr.snapshotOffset = 0
            pr.inflight = []
            progress[peer] = pr
            return sendSnapshotChunk(to: peer)
        }
        var m = RaftMessage(kind: .append, from: id, to: peer, term: term)
        m.index = prev
        m.logTerm = prevTerm
        let end = min(lastIndex, prev + UInt64(config.maxEntriesPerAppend))
        if end > prev { m.entries = Array(slice(prev + 1, end)) }
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

    // MARK: snapshots

    /// The driver should take a snapshot: `snapshotThreshold` entries were applied since the
    /// last one.
    public var snapshotDue: Bool { applied >= (snapshot?.index ?? 0) + config.snapshotThreshold }

    /// Records `data`, the driver's state machine after applying every entry up to the applied
    /// index, as the newest snapshot, and compacts the log to keep `snapshotTrailing` entries
    /// behind it. The driver stores the returned snapshot with `keepFrom: logStart`.
    public mutating func compact(data: [UInt8]) -> RaftSnapshot {
        precondition(applied > (snapshot?.index ?? 0) && applied <= stableIndex, "a snapshot covers applied, persisted entries past the last one")
        let taken = RaftSnapshot(meta: RaftSnapshotMeta(index: applied, term: termAt(applied)!, membership: membership), data: data)
        snapshot = taken
        let newStart = max(logStart, applied > config.snapshotTrailing ? applied - config.snapshotTrailing : 0)
        log.removeFirst(Int(newStart - logStart))
        logStart = newStart
        return taken
    }

    /// The next chunk of the snapshot a follower is being sent.
    private mutating func sendSnapshotChunk(to peer: RaftNodeID) {
        guard let pr = progress[peer], pr.snapshotIndex != nil, let snapshot else { return }
        // A newer snapshot replaced the one being sent: start it over.
        if pr.snapshotIndex != snapshot.index {
            progress[peer]!.snapshotIndex = snapshot.index
            progress[peer]!.snapshotOffset = 0
        }
        let start = progress[peer]!.snapshotOffset
        let end = min(snapshot.data.count, start + config.snapshotChunkBytes)
        var m = RaftMessage(kind: .snapshot, from: id, to: peer, term: term)
        m.snapshotMeta = snapshot.meta
        m.snapshotOffset = UInt64(start)
        m.snapshotTotal = UInt64(snapshot.data.count)
        m.snapshotChunk = Array(snapshot.data[start..<end])
        m.snapshotDone = end == snapshot.data.count
        outbox.append(m)
    }

    private mutating func handleSnapshotResponse(_ m: RaftMessage) {
        guard var pr = progress[m.from] else { return }
        pr.recentActive = true
        guard let sending = pr.snapshotIndex, m.snapshotMeta?.index == sending else { progress[m.from] = pr; return }
        let next = Int(clamping: m.snapshotOffset)
        guard next != pr.snapshotOffset || m.reject else { progress[m.from] = pr; return }  // a duplicate answer
        pr.snapshotOffset = m.reject ? 0 : min(next, snapshot?.data.count ?? 0)
        progress[m.from] = pr
        sendSnapshotChunk(to: m.from)
    }

    /// A follower receiving a snapshot chunk by chunk; the last one installs it.
    private mutating func handleSnapshotChunk(_ m: RaftMessage) {
        guard let meta = m.snapshotMeta else { return }
        if meta.index <= commit {
            // Everything it holds is committed here already.
            incoming = nil
            var reply = RaftMessage(kind: .appendResponse, from: id, to: m.from, term: term)
            reply.index = commit
            outbox.append(reply)
            return
        }
        var reply = RaftMessage(kind: .snapshotResponse, from: id, to: m.from, term: term)
        reply.snapshotMeta = meta
        if incoming?.meta != meta {
            guard m.snapshotOffset == 0 else {
                reply.reject = true  // a chunk of a transfer this node did not see begin
                outbox.append(reply)
                return
            }
            incoming = (meta, [])
        }
        guard var received = incoming, m.snapshotOffset == UInt64(received.bytes.count) else {
            reply.snapshotOffset = UInt64(incoming?.bytes.count ?? 0)
            outbox.append(reply)
            return
        }
        received.bytes += m.snapshotChunk
        guard m.snapshotDone else {
            incoming = received
            reply.snapshotOffset = UInt64(received.bytes.count)
            outbox.append(reply)
            return
        }
        incoming = nil
        guard UInt64(received.bytes.count) == m.snapshotTotal else {
            reply.reject = true
            outbox.append(reply)
            return
        }
        install(RaftSnapshot(meta: meta, data: received.bytes))
        var done = RaftMessage(kind: .appendResponse, from: id, to: m.from, term: term)
        done.index = meta.index
        outbox.append(done)
    }

    /// §7: a snapshot past the commit index replaces the log (or, when the log holds its last
    /// entry, only moves the commit index there, keeping the entries after it).
    private mutating func install(_ s: RaftSnapshot) {
        if termAt(s.index) == s.meta.term {
            commit = s.index
            return
        }
        log = [RaftEntry(term: s.meta.term, index: s.index)]
        logStart = s.index
        stableIndex = s.index
        commit = s.index
        applied = s.index
        snapshot = s
        pendingSnapshot = s
        membership = s.meta.membership
        voters = membership.voters.sorted()
        peers = membership.members.subtracting([id]).sorted()
    }

    // MARK: ready / advance

    public var hasReady: Bool {
        pendingSnapshot != nil || !outbox.isEmpty || !readStates.isEmpty || stableIndex < lastIndex || applied < commit || hardState != lastHardState
    }

    public var hardState: RaftHardState { RaftHardState(term: term, vote: vote, commit: commit) }

    /// The work accumulated since the last `advance`.
    public func ready() -> RaftReady {
        var r = RaftReady(role: role, leader: leader)
        if hardState != lastHardState { r.hardState = hardState }
        r.snapshot = pendingSnapshot
        if stableIndex < lastIndex { r.entries = Array(slice(stableIndex + 1, lastIndex)) }
        r.messages = outbox
        let applyUpTo = min(commit, lastIndex)
        if applied < applyUpTo { r.committedEntries = Array(slice(applied + 1, applyUpTo)) }
        r.readStates = readStates
        return r
    }

    /// The driver persisted, sent and applied `ready`.
    public mutating func advance(_ ready: RaftReady) {
        if let h = ready.hardState { lastHardState = h }
        if ready.snapshot != nil && ready.snapshot == pendingSnapshot { pendingSnapshot = nil }
        if let last = ready.entries.last, termAt(last.index) == last.term { stableIndex = max(stableIndex, last.index) }
        for entry in ready.committedEntries where entry.isConfChange && entry.index > applied {
            if let change = RaftConfChange(encoded: entry.data) { applyConfChange(change) }
        }
        if let last = ready.committedEntries.last { applied = max(applied, last.index) }
        outbox.removeFirst(min(outbox.count, ready.messages.count))
        readStates.removeFirst(min(readStates.count, ready.readStates.count))
    }
}
