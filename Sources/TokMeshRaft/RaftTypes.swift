// RaftTypes: the values the Raft core exchanges with its driver — entries, hard state, the
// closed message enum (local events included, as etcd's MsgHup/MsgBeat), read states and the
// Ready batch. Plain Swift values that map one to one onto the RaftService messages of
// proto/ once the cluster work wires them to the wire.

public typealias RaftNodeID = UInt64

public struct RaftEntry: Sendable, Equatable, Hashable {
    public var term: UInt64
    public var index: UInt64
    public var data: [UInt8]
    /// A membership change (`data` is its encoding) rather than a state-machine command.
    public var isConfChange: Bool

    public init(term: UInt64, index: UInt64, data: [UInt8] = [], isConfChange: Bool = false) {
        self.term = term
        self.index = index
        self.data = data
        self.isConfChange = isConfChange
    }
}

/// A single-server membership change (§4.1 of the thesis), effective when applied.
public enum RaftConfChange: Sendable, Equatable, Hashable {
    /// A new member that replicates but never campaigns and is not counted in quorums.
    case addLearner(RaftNodeID)
    /// A learner (or a new node) becomes a voter.
    case promote(RaftNodeID)
    /// A voter becomes a learner; it stays a member.
    case demote(RaftNodeID)
    /// The node leaves the group.
    case remove(RaftNodeID)

    public var node: RaftNodeID {
        switch self {
        case .addLearner(let id), .promote(let id), .demote(let id), .remove(let id): id
        }
    }

    public var encoded: [UInt8] {
        let op: UInt8 = switch self {
        case .addLearner: 1
        case .promote: 2
        case .demote: 3
        case .remove: 4
        }
        return [op] + (0..<8).map { UInt8(truncatingIfNeeded: node >> UInt64(8 * $0)) }
    }

    public init?(encoded bytes: [UInt8]) {
        guard bytes.count == 9 else { return nil }
        let id = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[1 + $1]) << UInt64(8 * $1) }
        switch bytes[0] {
        case 1: self = .addLearner(id)
        case 2: self = .promote(id)
        case 3: self = .demote(id)
        case 4: self = .remove(id)
        default: return nil
        }
    }
}

/// Who votes and who only replicates.
public struct RaftMembership: Sendable, Equatable, Hashable {
    public var voters: Set<RaftNodeID>
    public var learners: Set<RaftNodeID> = []

    public init(voters: Set<RaftNodeID>, learners: Set<RaftNodeID> = []) {
        self.voters = voters
        self.learners = learners
    }

    /// Applies a change; applying it again changes nothing.
    public mutating func apply(_ change: RaftConfChange) {
        switch change {
        case .addLearner(let id): if !voters.contains(id) { learners.insert(id) }
        case .promote(let id): learners.remove(id); voters.insert(id)
        case .demote(let id): if voters.count > 1 && voters.remove(id) != nil { learners.insert(id) }
        case .remove(let id): if voters.count > 1 || !voters.contains(id) { voters.remove(id); learners.remove(id) }
        }
    }

    public var members: Set<RaftNodeID> { voters.union(learners) }
}

/// What a snapshot stands for: the state machine after applying every entry up to `index`,
/// and the membership in force there (InstallSnapshotRequest's last_index, last_term and
/// conf_state).
public struct RaftSnapshotMeta: Sendable, Equatable, Hashable {
    public var index: UInt64
    public var term: UInt64
    public var membership: RaftMembership

    public init(index: UInt64, term: UInt64, membership: RaftMembership) {
        self.index = index
        self.term = term
        self.membership = membership
    }
}

/// A snapshot: its meta and the state machine's bytes (opaque to Raft).
public struct RaftSnapshot: Sendable, Equatable, Hashable {
    public var meta: RaftSnapshotMeta
    public var data: [UInt8]

    public init(meta: RaftSnapshotMeta, data: [UInt8]) {
        self.meta = meta
        self.data = data
    }

    public var index: UInt64 { meta.index }
}

/// What must be on disk before the messages of the same Ready are sent.
public struct RaftHardState: Sendable, Equatable {
    public var term: UInt64 = 0
    /// 0 = voted for nobody in `term`.
    public var vote: RaftNodeID = 0
    public var commit: UInt64 = 0

    public init(term: UInt64 = 0, vote: RaftNodeID = 0, commit: UInt64 = 0) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }
}

public enum RaftMessageKind: Sendable, Equatable, Hashable {
    case preVote, preVoteResponse
    case vote, voteResponse
    case append, appendResponse
    case heartbeat, heartbeatResponse
    case timeoutNow
    /// One chunk of a snapshot (InstallSnapshotRequest), and the receiver's count of the
    /// bytes it holds (InstallSnapshotResponse); the installed snapshot is acknowledged with an
    /// appendResponse at its index.
    case snapshot, snapshotResponse
}

/// A message between nodes. Fields not used by a kind stay at their defaults.
public struct RaftMessage: Sendable, Equatable, Hashable {
    public var kind: RaftMessageKind
    public var from: RaftNodeID
    public var to: RaftNodeID
    public var term: UInt64
    /// append: index and term of the entry before `entries`; vote/preVote: the candidate's last
    /// index and term; appendResponse: the follower's last index (match on success).
    public var index: UInt64 = 0
    public var logTerm: UInt64 = 0
    public var entries: [RaftEntry] = []
    public var commit: UInt64 = 0
    public var reject = false
    /// appendResponse rejection: the follower's last index, to back off quickly.
    public var rejectHint: UInt64 = 0
    /// heartbeat(Response): the ReadIndex request it confirms (0: none).
    public var readContext: UInt64 = 0
    /// vote: sent after TimeoutNow, so CheckQuorum's lease does not refuse it.
    public var transfer = false
    /// snapshot: the snapshot this chunk belongs to, the chunk's byte offset and bytes, the
    /// snapshot's total size and whether this is the last chunk; snapshotResponse: the bytes
    /// the receiver holds of `snapshotMeta` (where the next chunk starts).
    public var snapshotMeta: RaftSnapshotMeta?
    public var snapshotOffset: UInt64 = 0
    public var snapshotTotal: UInt64 = 0
    public var snapshotChunk: [UInt8] = []
    public var snapshotDone = false

    public init(kind: RaftMessageKind, from: RaftNodeID, to: RaftNodeID, term: UInt64) {
        self.kind = kind
        self.from = from
        self.to = to
        self.term = term
    }
}

/// A linearizable read point: once the state machine has applied `index`, a read tagged
/// `context` may be served from it.
public struct RaftReadState: Sendable, Equatable {
    public var index: UInt64
    public var context: UInt64
}

public enum RaftRole: Sendable, Equatable {
    case follower, preCandidate, candidate, leader
}

/// One batch of work for the driver, in this order: persist `hardState` and `entries`
/// (fsync), then send `messages`, apply `committedEntries` in order, serve `readStates`
/// once applied, then `advance`. A received `snapshot` comes first of all.
public struct RaftReady: Sendable, Equatable {
    /// A snapshot received from the leader: persist it (it replaces the whole log) and restore
    /// the state machine from it, before anything else in this Ready.
    public var snapshot: RaftSnapshot?
    public var hardState: RaftHardState?
    public var entries: [RaftEntry] = []
    public var messages: [RaftMessage] = []
    public var committedEntries: [RaftEntry] = []
    public var readStates: [RaftReadState] = []
    public var role: RaftRole
    public var leader: RaftNodeID

    public var isEmpty: Bool { snapshot == nil && hardState == nil && entries.isEmpty && messages.isEmpty && committedEntries.isEmpty && readStates.isEmpty }
}

public enum RaftProposalError: Error, Sendable, Equatable {
    /// Not the leader; the hint names the leader this node knows (0: none).
    case notLeader(hint: RaftNodeID)
    /// A leadership transfer is in progress.
    case transferring
    /// A new leader has not committed an entry of its term yet (ReadIndex and membership
    /// changes must wait), or a membership change is still being applied.
    case notReady
    /// The change is not allowed: removing or demoting the leader (transfer first), a change
    /// that names no member, or one that would leave no voter.
    case invalidChange
}

/// Timing and limits, in ticks and entries.
public struct RaftConfig: Sendable {
    public var id: RaftNodeID
    /// The initial membership (later changes come from the log).
    public var voters: [RaftNodeID]
    public var learners: [RaftNodeID] = []
    public var electionTicks = 10
    public var heartbeatTicks = 1
    public var preVote = true
    public var checkQuorum = true
    /// Append messages in flight per follower before the leader waits for answers.
    public var maxInflight = 64
    public var maxEntriesPerAppend = 64
    /// Applied entries since the last snapshot after which `snapshotDue` asks the driver for
    /// one, and the entries kept behind it for followers that lag a little.
    public var snapshotThreshold: UInt64 = 10_000
    public var snapshotTrailing: UInt64 = 1_000
    /// Bytes per InstallSnapshot chunk (the RPC's limit is 1 MiB).
    public var snapshotChunkBytes = 1 << 20
    /// Automatic promotion (spec/07 §5): while there are fewer than `maxVoters` voters, the
    /// leader proposes PROMOTE for a learner whose match is within `promoteLag` entries of its
    /// last index. 0 turns it off (changes come only from `proposeConfChange`).
    public var maxVoters = 5
    public var promoteLag: UInt64 = 100
    /// Seed of the node's randomized election timeout (election ticks + 0..<election ticks).
    public var seed: UInt64
    /// Rules the mutation tests switch off one at a time ("teeth"); all on in production.
    public var rules = RaftRules()

    public init(id: RaftNodeID, voters: [RaftNodeID], seed: UInt64) {
        self.id = id
        self.voters = voters
        self.seed = seed
    }
}

/// The safety rules, each switchable for the mutation test only.
public struct RaftRules: Sendable, Equatable {
    /// Refuse a vote to a candidate whose log is behind (§5.4.1).
    public var voteChecksLog = true
    /// Commit by counting replicas only entries of the leader's own term (§5.4.2).
    public var commitOnlyCurrentTerm = true
    /// Drop AppendEntries from a term older than ours (§5.1).
    public var appendChecksTerm = true

    public init() {}
}
