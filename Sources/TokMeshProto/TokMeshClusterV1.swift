// TokMeshClusterV1: hand-maintained codecs for the inter-node messages of
// `proto/tokmesh/cluster/v1/cluster.proto` (spec/06 §3, spec/07), one struct per message in the
// `TokMeshClusterV1` namespace: membership and shard map, SWIM, the control-plane commands and
// state, Raft, data-plane forwarding and replication. Oneofs are Swift enums (the last member on
// the wire wins, a message member seen twice is merged); enums are open Int32-backed values that
// keep numbers they do not name. Field numbers and types follow `TokMeshClusterV1Schema`, which
// the descriptor drift test ties to the .proto file and the codec tests tie to these codecs.
public enum TokMeshClusterV1 {}

extension TokMeshClusterV1 {
    public struct MembershipState: ProtoEnum {
        public static let protoName = "tokmesh.cluster.v1.MembershipState"
        public static let unspecified = MembershipState(rawValue: 0)
        public static let uninitialized = MembershipState(rawValue: 1)
        public static let joining = MembershipState(rawValue: 2)
        public static let member = MembershipState(rawValue: 3)
        public static let leaving = MembershipState(rawValue: 4)
        public static let valueNames: [Int32: String] = [
            0: "MEMBERSHIP_STATE_UNSPECIFIED", 1: "MEMBERSHIP_STATE_UNINITIALIZED", 2: "MEMBERSHIP_STATE_JOINING",
            3: "MEMBERSHIP_STATE_MEMBER", 4: "MEMBERSHIP_STATE_LEAVING",
        ]
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
    }
}

extension TokMeshClusterV1 {
    public struct SwimState: ProtoEnum {
        public static let protoName = "tokmesh.cluster.v1.SwimState"
        public static let unspecified = SwimState(rawValue: 0)
        public static let alive = SwimState(rawValue: 1)
        public static let suspect = SwimState(rawValue: 2)
        public static let dead = SwimState(rawValue: 3)
        public static let left = SwimState(rawValue: 4)
        public static let valueNames: [Int32: String] = [
            0: "SWIM_STATE_UNSPECIFIED", 1: "SWIM_STATE_ALIVE", 2: "SWIM_STATE_SUSPECT", 3: "SWIM_STATE_DEAD",
            4: "SWIM_STATE_LEFT",
        ]
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
    }
}

extension TokMeshClusterV1 {
    public struct TransferPurpose: ProtoEnum {
        public static let protoName = "tokmesh.cluster.v1.TransferPurpose"
        public static let unspecified = TransferPurpose(rawValue: 0)
        public static let handover = TransferPurpose(rawValue: 1)
        public static let retire = TransferPurpose(rawValue: 2)
        public static let replicaSeed = TransferPurpose(rawValue: 3)
        public static let valueNames: [Int32: String] = [
            0: "TRANSFER_PURPOSE_UNSPECIFIED", 1: "TRANSFER_PURPOSE_HANDOVER", 2: "TRANSFER_PURPOSE_RETIRE",
            3: "TRANSFER_PURPOSE_REPLICA_SEED",
        ]
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
    }
}

extension TokMeshClusterV1 {
    public struct TransferRecordKind: ProtoEnum {
        public static let protoName = "tokmesh.cluster.v1.TransferRecordKind"
        public static let unspecified = TransferRecordKind(rawValue: 0)
        public static let header = TransferRecordKind(rawValue: 1)
        public static let session = TransferRecordKind(rawValue: 2)
        public static let index = TransferRecordKind(rawValue: 3)
        public static let fence = TransferRecordKind(rawValue: 4)
        public static let valueNames: [Int32: String] = [
            0: "TRANSFER_RECORD_KIND_UNSPECIFIED", 1: "TRANSFER_RECORD_KIND_HEADER", 2: "TRANSFER_RECORD_KIND_SESSION",
            3: "TRANSFER_RECORD_KIND_INDEX", 4: "TRANSFER_RECORD_KIND_FENCE",
        ]
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
    }
}

extension TokMeshClusterV1 {
    public struct RaftEntryType: ProtoEnum {
        public static let protoName = "tokmesh.cluster.v1.RaftEntryType"
        public static let unspecified = RaftEntryType(rawValue: 0)
        public static let normal = RaftEntryType(rawValue: 1)
        public static let confChange = RaftEntryType(rawValue: 2)
        public static let valueNames: [Int32: String] = [
            0: "RAFT_ENTRY_TYPE_UNSPECIFIED", 1: "RAFT_ENTRY_TYPE_NORMAL", 2: "RAFT_ENTRY_TYPE_CONF_CHANGE",
        ]
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
    }
}

extension TokMeshClusterV1 {
    public struct ConfChangeType: ProtoEnum {
        public static let protoName = "tokmesh.cluster.v1.ConfChangeType"
        public static let unspecified = ConfChangeType(rawValue: 0)
        public static let addLearner = ConfChangeType(rawValue: 1)
        public static let promote = ConfChangeType(rawValue: 2)
        public static let demote = ConfChangeType(rawValue: 3)
        public static let remove = ConfChangeType(rawValue: 4)
        public static let valueNames: [Int32: String] = [
            0: "CONF_CHANGE_TYPE_UNSPECIFIED", 1: "CONF_CHANGE_TYPE_ADD_LEARNER", 2: "CONF_CHANGE_TYPE_PROMOTE",
            3: "CONF_CHANGE_TYPE_DEMOTE", 4: "CONF_CHANGE_TYPE_REMOVE",
        ]
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
    }
}

extension TokMeshClusterV1 {
    public struct IndexKind: ProtoEnum {
        public static let protoName = "tokmesh.cluster.v1.IndexKind"
        public static let unspecified = IndexKind(rawValue: 0)
        public static let token = IndexKind(rawValue: 1)
        public static let user = IndexKind(rawValue: 2)
        public static let valueNames: [Int32: String] = [0: "INDEX_KIND_UNSPECIFIED", 1: "INDEX_KIND_TOKEN", 2: "INDEX_KIND_USER"]
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
    }
}

extension TokMeshClusterV1 {
    public struct IndexState: ProtoEnum {
        public static let protoName = "tokmesh.cluster.v1.IndexState"
        public static let unspecified = IndexState(rawValue: 0)
        public static let pending = IndexState(rawValue: 1)
        public static let committed = IndexState(rawValue: 2)
        public static let revoked = IndexState(rawValue: 3)
        public static let deleted = IndexState(rawValue: 4)
        public static let valueNames: [Int32: String] = [
            0: "INDEX_STATE_UNSPECIFIED", 1: "INDEX_STATE_PENDING", 2: "INDEX_STATE_COMMITTED", 3: "INDEX_STATE_REVOKED",
            4: "INDEX_STATE_DELETED",
        ]
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
    }
}

extension TokMeshClusterV1 {
    public struct IndexAction: ProtoEnum {
        public static let protoName = "tokmesh.cluster.v1.IndexAction"
        public static let unspecified = IndexAction(rawValue: 0)
        public static let claim = IndexAction(rawValue: 1)
        public static let commit = IndexAction(rawValue: 2)
        public static let release = IndexAction(rawValue: 3)
        public static let lookup = IndexAction(rawValue: 4)
        public static let markRevoked = IndexAction(rawValue: 5)
        public static let remove = IndexAction(rawValue: 6)
        public static let list = IndexAction(rawValue: 7)
        public static let updateExpiry = IndexAction(rawValue: 8)
        public static let valueNames: [Int32: String] = [
            0: "INDEX_ACTION_UNSPECIFIED", 1: "INDEX_ACTION_CLAIM", 2: "INDEX_ACTION_COMMIT", 3: "INDEX_ACTION_RELEASE",
            4: "INDEX_ACTION_LOOKUP", 5: "INDEX_ACTION_MARK_REVOKED", 6: "INDEX_ACTION_REMOVE", 7: "INDEX_ACTION_LIST",
            8: "INDEX_ACTION_UPDATE_EXPIRY",
        ]
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
    }
}

extension TokMeshClusterV1 {
    public struct JoinRequest: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.JoinRequest"
        public var nodeId: String = ""
        public var advertiseAddress: String = ""
        public var clusterId: String = ""
        public var zone: String = ""
        public var version: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: nodeId)
            w.write(2, string: advertiseAddress)
            w.write(3, string: clusterId)
            w.write(4, string: zone)
            w.write(5, string: version)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: nodeId = try r.string(n, t)
            case 2: advertiseAddress = try r.string(n, t)
            case 3: clusterId = try r.string(n, t)
            case 4: zone = try r.string(n, t)
            case 5: version = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct JoinResponse: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.JoinResponse"
        public var accepted: Bool = false
        public var leaderNodeId: String = ""
        public var leaderAddr: String = ""
        public var members: [Member] = []
        public var shardMap: ShardMap?
        public var clusterId: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, bool: accepted)
            w.write(2, string: leaderNodeId)
            w.write(3, string: leaderAddr)
            w.write(4, messages: members)
            w.write(5, shardMap)
            w.write(6, string: clusterId)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: accepted = try r.bool(n, t)
            case 2: leaderNodeId = try r.string(n, t)
            case 3: leaderAddr = try r.string(n, t)
            case 4: members.append(try r.merge(n, t, into: nil as Member?))
            case 5: shardMap = try r.merge(n, t, into: shardMap)
            case 6: clusterId = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct LeaveRequest: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.LeaveRequest"
        public var nodeId: String = ""
        public var force: Bool = false
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: nodeId)
            w.write(2, bool: force)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: nodeId = try r.string(n, t)
            case 2: force = try r.bool(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct LeaveResponse: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.LeaveResponse"
        public var accepted: Bool = false
        public var vnodesToMove: UInt32 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, bool: accepted)
            w.write(2, uint32: vnodesToMove)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: accepted = try r.bool(n, t)
            case 2: vnodesToMove = try r.uint32(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct GetShardMapRequest: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.GetShardMapRequest"
        public var nodeId: String = ""
        public var knownVersion: UInt64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: nodeId)
            w.write(2, uint64: knownVersion)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: nodeId = try r.string(n, t)
            case 2: knownVersion = try r.uint64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct GetShardMapResponse: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.GetShardMapResponse"
        public var shardMap: ShardMap?
        public var version: UInt64 = 0
        public var unchanged: Bool = false
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, shardMap)
            w.write(2, uint64: version)
            w.write(3, bool: unchanged)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: shardMap = try r.merge(n, t, into: shardMap)
            case 2: version = try r.uint64(n, t)
            case 3: unchanged = try r.bool(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct Member: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.Member"
        public var nodeId: String = ""
        public var addr: String = ""
        public var state: String = ""
        public var isLeader: Bool = false
        public var raftRole: String = ""
        public var zone: String = ""
        public var joinedAt: Int64 = 0
        public var matchIndex: UInt64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: nodeId)
            w.write(2, string: addr)
            w.write(3, string: state)
            w.write(4, bool: isLeader)
            w.write(5, string: raftRole)
            w.write(6, string: zone)
            w.write(7, int64: joinedAt)
            w.write(8, uint64: matchIndex)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: nodeId = try r.string(n, t)
            case 2: addr = try r.string(n, t)
            case 3: state = try r.string(n, t)
            case 4: isLeader = try r.bool(n, t)
            case 5: raftRole = try r.string(n, t)
            case 6: zone = try r.string(n, t)
            case 7: joinedAt = try r.int64(n, t)
            case 8: matchIndex = try r.uint64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct ShardMap: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.ShardMap"
        public var shards: [UInt32: String] = [:]
        public var replicas: [UInt32: ReplicaSet] = [:]
        public var version: UInt64 = 0
        public var homes: [UInt32: String] = [:]
        public var transfers: [UInt32: ShardTransfer] = [:]
        public var vnodesPerNode: UInt32 = 0
        public var replicationFactor: UInt32 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint32StringMap: shards)
            w.write(2, uint32MessageMap: replicas)
            w.write(3, uint64: version)
            w.write(4, uint32StringMap: homes)
            w.write(5, uint32MessageMap: transfers)
            w.write(6, uint32: vnodesPerNode)
            w.write(7, uint32: replicationFactor)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1:
                let (k, v) = try r.uint32StringMapEntry(n, t)
                shards[k] = v
            case 2:
                let (k, v): (UInt32, ReplicaSet) = try r.uint32MessageMapEntry(n, t)
                replicas[k] = v
            case 3: version = try r.uint64(n, t)
            case 4:
                let (k, v) = try r.uint32StringMapEntry(n, t)
                homes[k] = v
            case 5:
                let (k, v): (UInt32, ShardTransfer) = try r.uint32MessageMapEntry(n, t)
                transfers[k] = v
            case 6: vnodesPerNode = try r.uint32(n, t)
            case 7: replicationFactor = try r.uint32(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct ReplicaSet: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.ReplicaSet"
        public var nodeIds: [String] = []
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, strings: nodeIds)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: nodeIds.append(try r.string(n, t))
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct ShardTransfer: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.ShardTransfer"
        public var fromNodeId: String = ""
        public var toNodeId: String = ""
        public var epoch: UInt64 = 0
        public var purpose: TransferPurpose = .unspecified
        public var startedAt: Int64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: fromNodeId)
            w.write(2, string: toNodeId)
            w.write(3, uint64: epoch)
            w.write(4, enum: purpose)
            w.write(5, int64: startedAt)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: fromNodeId = try r.string(n, t)
            case 2: toNodeId = try r.string(n, t)
            case 3: epoch = try r.uint64(n, t)
            case 4: purpose = try r.enumValue(n, t)
            case 5: startedAt = try r.int64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct TransferShardRequest: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.TransferShardRequest"
        public var shardId: UInt32 = 0
        public var sessionId: String = ""
        public var sessionData: [UInt8] = []
        public var transferEpoch: UInt64 = 0
        public var kind: TransferRecordKind = .unspecified
        public var sequence: UInt64 = 0
        public var rangeStart: UInt32 = 0
        public var purpose: TransferPurpose = .unspecified
        public var fromNodeId: String = ""
        public var index: IndexRecord?
        public var sourceLsn: UInt64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint32: shardId)
            w.write(2, string: sessionId)
            w.write(3, bytes: sessionData)
            w.write(4, uint64: transferEpoch)
            w.write(5, enum: kind)
            w.write(6, uint64: sequence)
            w.write(7, uint32: rangeStart)
            w.write(8, enum: purpose)
            w.write(9, string: fromNodeId)
            w.write(10, index)
            w.write(11, uint64: sourceLsn)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: shardId = try r.uint32(n, t)
            case 2: sessionId = try r.string(n, t)
            case 3: sessionData = try r.bytes(n, t)
            case 4: transferEpoch = try r.uint64(n, t)
            case 5: kind = try r.enumValue(n, t)
            case 6: sequence = try r.uint64(n, t)
            case 7: rangeStart = try r.uint32(n, t)
            case 8: purpose = try r.enumValue(n, t)
            case 9: fromNodeId = try r.string(n, t)
            case 10: index = try r.merge(n, t, into: index)
            case 11: sourceLsn = try r.uint64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct TransferShardResponse: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.TransferShardResponse"
        public var success: Bool = false
        public var transferredItems: UInt64 = 0
        public var lastSequence: UInt64 = 0
        public var transferEpoch: UInt64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, bool: success)
            w.write(2, uint64: transferredItems)
            w.write(3, uint64: lastSequence)
            w.write(4, uint64: transferEpoch)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: success = try r.bool(n, t)
            case 2: transferredItems = try r.uint64(n, t)
            case 3: lastSequence = try r.uint64(n, t)
            case 4: transferEpoch = try r.uint64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct MemberUpdate: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.MemberUpdate"
        public var nodeId: String = ""
        public var address: String = ""
        public var state: SwimState = .unspecified
        public var incarnation: UInt64 = 0
        public var createdAt: Int64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: nodeId)
            w.write(2, string: address)
            w.write(3, enum: state)
            w.write(4, uint64: incarnation)
            w.write(5, int64: createdAt)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: nodeId = try r.string(n, t)
            case 2: address = try r.string(n, t)
            case 3: state = try r.enumValue(n, t)
            case 4: incarnation = try r.uint64(n, t)
            case 5: createdAt = try r.int64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct PingRequest: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.PingRequest"
        public var nodeId: String = ""
        public var timestamp: Int64 = 0
        public var clusterId: String = ""
        public var incarnation: UInt64 = 0
        public var targetNodeId: String = ""
        public var advertiseAddress: String = ""
        public var updates: [MemberUpdate] = []
        public var shardMapVersion: UInt64 = 0
        public var membership: MembershipState = .unspecified
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: nodeId)
            w.write(2, int64: timestamp)
            w.write(3, string: clusterId)
            w.write(4, uint64: incarnation)
            w.write(5, string: targetNodeId)
            w.write(6, string: advertiseAddress)
            w.write(7, messages: updates)
            w.write(8, uint64: shardMapVersion)
            w.write(9, enum: membership)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: nodeId = try r.string(n, t)
            case 2: timestamp = try r.int64(n, t)
            case 3: clusterId = try r.string(n, t)
            case 4: incarnation = try r.uint64(n, t)
            case 5: targetNodeId = try r.string(n, t)
            case 6: advertiseAddress = try r.string(n, t)
            case 7: updates.append(try r.merge(n, t, into: nil as MemberUpdate?))
            case 8: shardMapVersion = try r.uint64(n, t)
            case 9: membership = try r.enumValue(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct PingResponse: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.PingResponse"
        public var nodeId: String = ""
        public var timestamp: Int64 = 0
        public var isLeader: Bool = false
        public var clusterId: String = ""
        public var incarnation: UInt64 = 0
        public var updates: [MemberUpdate] = []
        public var shardMapVersion: UInt64 = 0
        public var leaderNodeId: String = ""
        public var leaderAddr: String = ""
        public var targetAcked: Bool = false
        public var membership: MembershipState = .unspecified
        public var bootstrapVoters: [String] = []
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: nodeId)
            w.write(2, int64: timestamp)
            w.write(3, bool: isLeader)
            w.write(4, string: clusterId)
            w.write(5, uint64: incarnation)
            w.write(6, messages: updates)
            w.write(7, uint64: shardMapVersion)
            w.write(8, string: leaderNodeId)
            w.write(9, string: leaderAddr)
            w.write(10, bool: targetAcked)
            w.write(11, enum: membership)
            w.write(12, strings: bootstrapVoters)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: nodeId = try r.string(n, t)
            case 2: timestamp = try r.int64(n, t)
            case 3: isLeader = try r.bool(n, t)
            case 4: clusterId = try r.string(n, t)
            case 5: incarnation = try r.uint64(n, t)
            case 6: updates.append(try r.merge(n, t, into: nil as MemberUpdate?))
            case 7: shardMapVersion = try r.uint64(n, t)
            case 8: leaderNodeId = try r.string(n, t)
            case 9: leaderAddr = try r.string(n, t)
            case 10: targetAcked = try r.bool(n, t)
            case 11: membership = try r.enumValue(n, t)
            case 12: bootstrapVoters.append(try r.string(n, t))
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct ProposeRequest: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.ProposeRequest"
        public var command: ControlCommand?
        public var readBarrier: Bool = false
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, command)
            w.write(2, bool: readBarrier)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: command = try r.merge(n, t, into: command)
            case 2: readBarrier = try r.bool(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct ProposeResponse: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.ProposeResponse"
        public var index: UInt64 = 0
        public var applied: Bool = false
        public var rejectCode: String = ""
        public var rejectMessage: String = ""
        public var readIndex: UInt64 = 0
        public var transferEpoch: UInt64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint64: index)
            w.write(2, bool: applied)
            w.write(3, string: rejectCode)
            w.write(4, string: rejectMessage)
            w.write(5, uint64: readIndex)
            w.write(6, uint64: transferEpoch)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: index = try r.uint64(n, t)
            case 2: applied = try r.bool(n, t)
            case 3: rejectCode = try r.string(n, t)
            case 4: rejectMessage = try r.string(n, t)
            case 5: readIndex = try r.uint64(n, t)
            case 6: transferEpoch = try r.uint64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct ControlCommand: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.ControlCommand"
        public enum Command: Sendable, Hashable {
            case bootstrap(Bootstrap)
            case addMember(AddMember)
            case markLeaving(MarkLeaving)
            case removeMember(RemoveMember)
            case addVnodes(AddVnodes)
            case beginTransfer(BeginTransfer)
            case completeTransfer(CompleteTransfer)
            case abortTransfer(AbortTransfer)
            case promoteReplicas(PromoteReplicas)
            case setReplicas(SetReplicas)
            case putApiKey(PutApiKey)
            case setSetting(SetSetting)
            case touchApiKeys(TouchApiKeys)
        }

        public var requestId: String = ""
        public var expectedShardMapVersion: UInt64 = 0
        public var proposedAt: Int64 = 0
        public var command: Command?
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: requestId)
            w.write(2, uint64: expectedShardMapVersion)
            w.write(3, int64: proposedAt)
            switch command {
            case .bootstrap(let v)?: w.write(10, message: v.serializedBytes())
            case .addMember(let v)?: w.write(11, message: v.serializedBytes())
            case .markLeaving(let v)?: w.write(12, message: v.serializedBytes())
            case .removeMember(let v)?: w.write(13, message: v.serializedBytes())
            case .addVnodes(let v)?: w.write(14, message: v.serializedBytes())
            case .beginTransfer(let v)?: w.write(15, message: v.serializedBytes())
            case .completeTransfer(let v)?: w.write(16, message: v.serializedBytes())
            case .abortTransfer(let v)?: w.write(17, message: v.serializedBytes())
            case .promoteReplicas(let v)?: w.write(18, message: v.serializedBytes())
            case .setReplicas(let v)?: w.write(19, message: v.serializedBytes())
            case .putApiKey(let v)?: w.write(20, message: v.serializedBytes())
            case .setSetting(let v)?: w.write(21, message: v.serializedBytes())
            case .touchApiKeys(let v)?: w.write(22, message: v.serializedBytes())
            case nil: break
            }
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: requestId = try r.string(n, t)
            case 2: expectedShardMapVersion = try r.uint64(n, t)
            case 3: proposedAt = try r.int64(n, t)
            case 10:
                var current: Bootstrap?
                if case .bootstrap(let v)? = command { current = v }
                command = .bootstrap(try r.merge(n, t, into: current))
            case 11:
                var current: AddMember?
                if case .addMember(let v)? = command { current = v }
                command = .addMember(try r.merge(n, t, into: current))
            case 12:
                var current: MarkLeaving?
                if case .markLeaving(let v)? = command { current = v }
                command = .markLeaving(try r.merge(n, t, into: current))
            case 13:
                var current: RemoveMember?
                if case .removeMember(let v)? = command { current = v }
                command = .removeMember(try r.merge(n, t, into: current))
            case 14:
                var current: AddVnodes?
                if case .addVnodes(let v)? = command { current = v }
                command = .addVnodes(try r.merge(n, t, into: current))
            case 15:
                var current: BeginTransfer?
                if case .beginTransfer(let v)? = command { current = v }
                command = .beginTransfer(try r.merge(n, t, into: current))
            case 16:
                var current: CompleteTransfer?
                if case .completeTransfer(let v)? = command { current = v }
                command = .completeTransfer(try r.merge(n, t, into: current))
            case 17:
                var current: AbortTransfer?
                if case .abortTransfer(let v)? = command { current = v }
                command = .abortTransfer(try r.merge(n, t, into: current))
            case 18:
                var current: PromoteReplicas?
                if case .promoteReplicas(let v)? = command { current = v }
                command = .promoteReplicas(try r.merge(n, t, into: current))
            case 19:
                var current: SetReplicas?
                if case .setReplicas(let v)? = command { current = v }
                command = .setReplicas(try r.merge(n, t, into: current))
            case 20:
                var current: PutApiKey?
                if case .putApiKey(let v)? = command { current = v }
                command = .putApiKey(try r.merge(n, t, into: current))
            case 21:
                var current: SetSetting?
                if case .setSetting(let v)? = command { current = v }
                command = .setSetting(try r.merge(n, t, into: current))
            case 22:
                var current: TouchApiKeys?
                if case .touchApiKeys(let v)? = command { current = v }
                command = .touchApiKeys(try r.merge(n, t, into: current))
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct Bootstrap: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.Bootstrap"
        public var clusterId: String = ""
        public var members: [Member] = []
        public var settings: [String: String] = [:]
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: clusterId)
            w.write(2, messages: members)
            w.write(3, stringMap: settings)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: clusterId = try r.string(n, t)
            case 2: members.append(try r.merge(n, t, into: nil as Member?))
            case 3:
                let (k, v) = try r.stringMapEntry(n, t)
                settings[k] = v
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct AddMember: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.AddMember"
        public var member: Member?
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, member)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: member = try r.merge(n, t, into: member)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct MarkLeaving: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.MarkLeaving"
        public var nodeId: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: nodeId)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: nodeId = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct RemoveMember: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.RemoveMember"
        public var nodeId: String = ""
        public var force: Bool = false
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: nodeId)
            w.write(2, bool: force)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: nodeId = try r.string(n, t)
            case 2: force = try r.bool(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct AddVnodes: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.AddVnodes"
        public var nodeId: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: nodeId)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: nodeId = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct BeginTransfer: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.BeginTransfer"
        public var vnode: UInt32 = 0
        public var fromNodeId: String = ""
        public var toNodeId: String = ""
        public var purpose: TransferPurpose = .unspecified
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint32: vnode)
            w.write(2, string: fromNodeId)
            w.write(3, string: toNodeId)
            w.write(4, enum: purpose)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: vnode = try r.uint32(n, t)
            case 2: fromNodeId = try r.string(n, t)
            case 3: toNodeId = try r.string(n, t)
            case 4: purpose = try r.enumValue(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct CompleteTransfer: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.CompleteTransfer"
        public var vnode: UInt32 = 0
        public var epoch: UInt64 = 0
        public var items: UInt64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint32: vnode)
            w.write(2, uint64: epoch)
            w.write(3, uint64: items)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: vnode = try r.uint32(n, t)
            case 2: epoch = try r.uint64(n, t)
            case 3: items = try r.uint64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct AbortTransfer: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.AbortTransfer"
        public var vnode: UInt32 = 0
        public var epoch: UInt64 = 0
        public var reason: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint32: vnode)
            w.write(2, uint64: epoch)
            w.write(3, string: reason)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: vnode = try r.uint32(n, t)
            case 2: epoch = try r.uint64(n, t)
            case 3: reason = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct PromoteReplicas: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.PromoteReplicas"
        public var deadNodeId: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: deadNodeId)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: deadNodeId = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct SetReplicas: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.SetReplicas"
        public var vnode: UInt32 = 0
        public var nodeIds: [String] = []
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint32: vnode)
            w.write(2, strings: nodeIds)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: vnode = try r.uint32(n, t)
            case 2: nodeIds.append(try r.string(n, t))
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct ApiKeyRecord: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.ApiKeyRecord"
        public var keyId: String = ""
        public var role: String = ""
        public var secretHash: String = ""
        public var oldSecretHash: String = ""
        public var gracePeriodEnd: Int64 = 0
        public var allowedlist: [String] = []
        public var rateLimit: UInt32 = 0
        public var expiresAt: Int64 = 0
        public var status: String = ""
        public var description: String = ""
        public var createdAt: Int64 = 0
        public var createdBy: String = ""
        public var lastUsedAt: Int64 = 0
        public var version: UInt64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: keyId)
            w.write(2, string: role)
            w.write(3, string: secretHash)
            w.write(4, string: oldSecretHash)
            w.write(5, int64: gracePeriodEnd)
            w.write(6, strings: allowedlist)
            w.write(7, uint32: rateLimit)
            w.write(8, int64: expiresAt)
            w.write(9, string: status)
            w.write(10, string: description)
            w.write(11, int64: createdAt)
            w.write(12, string: createdBy)
            w.write(13, int64: lastUsedAt)
            w.write(14, uint64: version)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: keyId = try r.string(n, t)
            case 2: role = try r.string(n, t)
            case 3: secretHash = try r.string(n, t)
            case 4: oldSecretHash = try r.string(n, t)
            case 5: gracePeriodEnd = try r.int64(n, t)
            case 6: allowedlist.append(try r.string(n, t))
            case 7: rateLimit = try r.uint32(n, t)
            case 8: expiresAt = try r.int64(n, t)
            case 9: status = try r.string(n, t)
            case 10: description = try r.string(n, t)
            case 11: createdAt = try r.int64(n, t)
            case 12: createdBy = try r.string(n, t)
            case 13: lastUsedAt = try r.int64(n, t)
            case 14: version = try r.uint64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct PutApiKey: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.PutApiKey"
        public var key: ApiKeyRecord?
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, key)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: key = try r.merge(n, t, into: key)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct SetSetting: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.SetSetting"
        public var key: String = ""
        public var value: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: key)
            w.write(2, string: value)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: key = try r.string(n, t)
            case 2: value = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct TouchApiKeys: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.TouchApiKeys"
        public var lastUsedAt: [String: Int64] = [:]
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, stringInt64Map: lastUsedAt)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1:
                let (k, v) = try r.stringInt64MapEntry(n, t)
                lastUsedAt[k] = v
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct ControlState: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.ControlState"
        public var clusterId: String = ""
        public var members: [Member] = []
        public var shardMap: ShardMap?
        public var apiKeys: [ApiKeyRecord] = []
        public var settings: [String: String] = [:]
        public var removedNodeIds: [String] = []
        public var nextTransferEpoch: UInt64 = 0
        public var recentRequests: [String: ProposeResponse] = [:]
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: clusterId)
            w.write(2, messages: members)
            w.write(3, shardMap)
            w.write(4, messages: apiKeys)
            w.write(5, stringMap: settings)
            w.write(6, strings: removedNodeIds)
            w.write(7, uint64: nextTransferEpoch)
            w.write(8, stringMessageMap: recentRequests)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: clusterId = try r.string(n, t)
            case 2: members.append(try r.merge(n, t, into: nil as Member?))
            case 3: shardMap = try r.merge(n, t, into: shardMap)
            case 4: apiKeys.append(try r.merge(n, t, into: nil as ApiKeyRecord?))
            case 5:
                let (k, v) = try r.stringMapEntry(n, t)
                settings[k] = v
            case 6: removedNodeIds.append(try r.string(n, t))
            case 7: nextTransferEpoch = try r.uint64(n, t)
            case 8:
                let (k, v): (String, ProposeResponse) = try r.stringMessageMapEntry(n, t)
                recentRequests[k] = v
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct RaftEntry: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.RaftEntry"
        public var term: UInt64 = 0
        public var index: UInt64 = 0
        public var type: RaftEntryType = .unspecified
        public var data: [UInt8] = []
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint64: term)
            w.write(2, uint64: index)
            w.write(3, enum: type)
            w.write(4, bytes: data)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: term = try r.uint64(n, t)
            case 2: index = try r.uint64(n, t)
            case 3: type = try r.enumValue(n, t)
            case 4: data = try r.bytes(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct ConfChange: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.ConfChange"
        public var type: ConfChangeType = .unspecified
        public var nodeId: String = ""
        public var address: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, enum: type)
            w.write(2, string: nodeId)
            w.write(3, string: address)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: type = try r.enumValue(n, t)
            case 2: nodeId = try r.string(n, t)
            case 3: address = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct ConfState: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.ConfState"
        public var voters: [String] = []
        public var learners: [String] = []
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, strings: voters)
            w.write(2, strings: learners)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: voters.append(try r.string(n, t))
            case 2: learners.append(try r.string(n, t))
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct RequestVoteRequest: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.RequestVoteRequest"
        public var term: UInt64 = 0
        public var candidateId: String = ""
        public var lastLogIndex: UInt64 = 0
        public var lastLogTerm: UInt64 = 0
        public var preVote: Bool = false
        public var transfer: Bool = false
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint64: term)
            w.write(2, string: candidateId)
            w.write(3, uint64: lastLogIndex)
            w.write(4, uint64: lastLogTerm)
            w.write(5, bool: preVote)
            w.write(6, bool: transfer)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: term = try r.uint64(n, t)
            case 2: candidateId = try r.string(n, t)
            case 3: lastLogIndex = try r.uint64(n, t)
            case 4: lastLogTerm = try r.uint64(n, t)
            case 5: preVote = try r.bool(n, t)
            case 6: transfer = try r.bool(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct RequestVoteResponse: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.RequestVoteResponse"
        public var term: UInt64 = 0
        public var granted: Bool = false
        public var preVote: Bool = false
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint64: term)
            w.write(2, bool: granted)
            w.write(3, bool: preVote)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: term = try r.uint64(n, t)
            case 2: granted = try r.bool(n, t)
            case 3: preVote = try r.bool(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct AppendEntriesRequest: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.AppendEntriesRequest"
        public var term: UInt64 = 0
        public var leaderId: String = ""
        public var prevLogIndex: UInt64 = 0
        public var prevLogTerm: UInt64 = 0
        public var entries: [RaftEntry] = []
        public var leaderCommit: UInt64 = 0
        public var readContext: UInt64 = 0
        public var leaseAck: UInt64 = 0
        public var quorumAgeMs: UInt32 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint64: term)
            w.write(2, string: leaderId)
            w.write(3, uint64: prevLogIndex)
            w.write(4, uint64: prevLogTerm)
            w.write(5, messages: entries)
            w.write(6, uint64: leaderCommit)
            w.write(7, uint64: readContext)
            w.write(8, uint64: leaseAck)
            w.write(9, uint32: quorumAgeMs)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: term = try r.uint64(n, t)
            case 2: leaderId = try r.string(n, t)
            case 3: prevLogIndex = try r.uint64(n, t)
            case 4: prevLogTerm = try r.uint64(n, t)
            case 5: entries.append(try r.merge(n, t, into: nil as RaftEntry?))
            case 6: leaderCommit = try r.uint64(n, t)
            case 7: readContext = try r.uint64(n, t)
            case 8: leaseAck = try r.uint64(n, t)
            case 9: quorumAgeMs = try r.uint32(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct AppendEntriesResponse: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.AppendEntriesResponse"
        public var term: UInt64 = 0
        public var success: Bool = false
        public var matchIndex: UInt64 = 0
        public var rejectHint: UInt64 = 0
        public var readContext: UInt64 = 0
        public var leaseSeq: UInt64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint64: term)
            w.write(2, bool: success)
            w.write(3, uint64: matchIndex)
            w.write(4, uint64: rejectHint)
            w.write(5, uint64: readContext)
            w.write(6, uint64: leaseSeq)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: term = try r.uint64(n, t)
            case 2: success = try r.bool(n, t)
            case 3: matchIndex = try r.uint64(n, t)
            case 4: rejectHint = try r.uint64(n, t)
            case 5: readContext = try r.uint64(n, t)
            case 6: leaseSeq = try r.uint64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct InstallSnapshotRequest: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.InstallSnapshotRequest"
        public var term: UInt64 = 0
        public var leaderId: String = ""
        public var lastIndex: UInt64 = 0
        public var lastTerm: UInt64 = 0
        public var confState: ConfState?
        public var offset: UInt64 = 0
        public var data: [UInt8] = []
        public var done: Bool = false
        public var totalSize: UInt64 = 0
        public var sha256: [UInt8] = []
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint64: term)
            w.write(2, string: leaderId)
            w.write(3, uint64: lastIndex)
            w.write(4, uint64: lastTerm)
            w.write(5, confState)
            w.write(6, uint64: offset)
            w.write(7, bytes: data)
            w.write(8, bool: done)
            w.write(9, uint64: totalSize)
            w.write(10, bytes: sha256)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: term = try r.uint64(n, t)
            case 2: leaderId = try r.string(n, t)
            case 3: lastIndex = try r.uint64(n, t)
            case 4: lastTerm = try r.uint64(n, t)
            case 5: confState = try r.merge(n, t, into: confState)
            case 6: offset = try r.uint64(n, t)
            case 7: data = try r.bytes(n, t)
            case 8: done = try r.bool(n, t)
            case 9: totalSize = try r.uint64(n, t)
            case 10: sha256 = try r.bytes(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct InstallSnapshotResponse: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.InstallSnapshotResponse"
        public var term: UInt64 = 0
        public var success: Bool = false
        public var receivedBytes: UInt64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint64: term)
            w.write(2, bool: success)
            w.write(3, uint64: receivedBytes)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: term = try r.uint64(n, t)
            case 2: success = try r.bool(n, t)
            case 3: receivedBytes = try r.uint64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct TimeoutNowRequest: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.TimeoutNowRequest"
        public var term: UInt64 = 0
        public var leaderId: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint64: term)
            w.write(2, string: leaderId)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: term = try r.uint64(n, t)
            case 2: leaderId = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct TimeoutNowResponse: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.TimeoutNowResponse"
        public var term: UInt64 = 0
        public var accepted: Bool = false
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint64: term)
            w.write(2, bool: accepted)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: term = try r.uint64(n, t)
            case 2: accepted = try r.bool(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct SessionRecord: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.SessionRecord"
        public var session: TokMeshV1.Session?
        public var tokenHash: String = ""
        public var revokedAt: Int64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, session)
            w.write(2, string: tokenHash)
            w.write(3, int64: revokedAt)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: session = try r.merge(n, t, into: session)
            case 2: tokenHash = try r.string(n, t)
            case 3: revokedAt = try r.int64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct IndexRecord: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.IndexRecord"
        public var kind: IndexKind = .unspecified
        public var key: String = ""
        public var sessionId: String = ""
        public var expiresAt: Int64 = 0
        public var state: IndexState = .unspecified
        public var pendingUntil: Int64 = 0
        public var revokedAt: Int64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, enum: kind)
            w.write(2, string: key)
            w.write(3, string: sessionId)
            w.write(4, int64: expiresAt)
            w.write(5, enum: state)
            w.write(6, int64: pendingUntil)
            w.write(7, int64: revokedAt)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: kind = try r.enumValue(n, t)
            case 2: key = try r.string(n, t)
            case 3: sessionId = try r.string(n, t)
            case 4: expiresAt = try r.int64(n, t)
            case 5: state = try r.enumValue(n, t)
            case 6: pendingUntil = try r.int64(n, t)
            case 7: revokedAt = try r.int64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct CallerContext: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.CallerContext"
        public var requestId: String = ""
        public var apiKeyId: String = ""
        public var role: String = ""
        public var clientIp: String = ""
        public var userAgent: String = ""
        public var traceparent: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: requestId)
            w.write(2, string: apiKeyId)
            w.write(3, string: role)
            w.write(4, string: clientIp)
            w.write(5, string: userAgent)
            w.write(6, string: traceparent)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: requestId = try r.string(n, t)
            case 2: apiKeyId = try r.string(n, t)
            case 3: role = try r.string(n, t)
            case 4: clientIp = try r.string(n, t)
            case 5: userAgent = try r.string(n, t)
            case 6: traceparent = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct ForwardRequest: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.ForwardRequest"
        public enum Op: Sendable, Hashable {
            case create(CreateOp)
            case get(SessionKeyOp)
            case validate(ValidateOp)
            case touch(SessionKeyOp)
            case renew(RenewOp)
            case revoke(RevokeOp)
            case revokeUser(RevokeUserOp)
            case list(ListOp)
            case index(IndexOp)
            case getMany(GetManyOp)
            case revokeMany(RevokeManyOp)
            case pull(SessionKeyOp)
            case put(SessionRecord)
        }

        public var shardMapVersion: UInt64 = 0
        public var hops: UInt32 = 0
        public var caller: CallerContext?
        public var op: Op?
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint64: shardMapVersion)
            w.write(2, uint32: hops)
            w.write(3, caller)
            switch op {
            case .create(let v)?: w.write(10, message: v.serializedBytes())
            case .get(let v)?: w.write(11, message: v.serializedBytes())
            case .validate(let v)?: w.write(12, message: v.serializedBytes())
            case .touch(let v)?: w.write(13, message: v.serializedBytes())
            case .renew(let v)?: w.write(14, message: v.serializedBytes())
            case .revoke(let v)?: w.write(15, message: v.serializedBytes())
            case .revokeUser(let v)?: w.write(16, message: v.serializedBytes())
            case .list(let v)?: w.write(17, message: v.serializedBytes())
            case .index(let v)?: w.write(18, message: v.serializedBytes())
            case .getMany(let v)?: w.write(19, message: v.serializedBytes())
            case .revokeMany(let v)?: w.write(20, message: v.serializedBytes())
            case .pull(let v)?: w.write(21, message: v.serializedBytes())
            case .put(let v)?: w.write(22, message: v.serializedBytes())
            case nil: break
            }
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: shardMapVersion = try r.uint64(n, t)
            case 2: hops = try r.uint32(n, t)
            case 3: caller = try r.merge(n, t, into: caller)
            case 10:
                var current: CreateOp?
                if case .create(let v)? = op { current = v }
                op = .create(try r.merge(n, t, into: current))
            case 11:
                var current: SessionKeyOp?
                if case .get(let v)? = op { current = v }
                op = .get(try r.merge(n, t, into: current))
            case 12:
                var current: ValidateOp?
                if case .validate(let v)? = op { current = v }
                op = .validate(try r.merge(n, t, into: current))
            case 13:
                var current: SessionKeyOp?
                if case .touch(let v)? = op { current = v }
                op = .touch(try r.merge(n, t, into: current))
            case 14:
                var current: RenewOp?
                if case .renew(let v)? = op { current = v }
                op = .renew(try r.merge(n, t, into: current))
            case 15:
                var current: RevokeOp?
                if case .revoke(let v)? = op { current = v }
                op = .revoke(try r.merge(n, t, into: current))
            case 16:
                var current: RevokeUserOp?
                if case .revokeUser(let v)? = op { current = v }
                op = .revokeUser(try r.merge(n, t, into: current))
            case 17:
                var current: ListOp?
                if case .list(let v)? = op { current = v }
                op = .list(try r.merge(n, t, into: current))
            case 18:
                var current: IndexOp?
                if case .index(let v)? = op { current = v }
                op = .index(try r.merge(n, t, into: current))
            case 19:
                var current: GetManyOp?
                if case .getMany(let v)? = op { current = v }
                op = .getMany(try r.merge(n, t, into: current))
            case 20:
                var current: RevokeManyOp?
                if case .revokeMany(let v)? = op { current = v }
                op = .revokeMany(try r.merge(n, t, into: current))
            case 21:
                var current: SessionKeyOp?
                if case .pull(let v)? = op { current = v }
                op = .pull(try r.merge(n, t, into: current))
            case 22:
                var current: SessionRecord?
                if case .put(let v)? = op { current = v }
                op = .put(try r.merge(n, t, into: current))
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct CreateOp: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.CreateOp"
        public var sessionId: String = ""
        public var tokenHash: String = ""
        public var userId: String = ""
        public var deviceId: String = ""
        public var ttlSeconds: Int64 = 0
        public var data: [String: String] = [:]
        public var ipAddress: String = ""
        public var userAgent: String = ""
        public var createdBy: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: sessionId)
            w.write(2, string: tokenHash)
            w.write(3, string: userId)
            w.write(4, string: deviceId)
            w.write(5, int64: ttlSeconds)
            w.write(6, stringMap: data)
            w.write(7, string: ipAddress)
            w.write(8, string: userAgent)
            w.write(9, string: createdBy)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: sessionId = try r.string(n, t)
            case 2: tokenHash = try r.string(n, t)
            case 3: userId = try r.string(n, t)
            case 4: deviceId = try r.string(n, t)
            case 5: ttlSeconds = try r.int64(n, t)
            case 6:
                let (k, v) = try r.stringMapEntry(n, t)
                data[k] = v
            case 7: ipAddress = try r.string(n, t)
            case 8: userAgent = try r.string(n, t)
            case 9: createdBy = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct SessionKeyOp: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.SessionKeyOp"
        public var sessionId: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: sessionId)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: sessionId = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct ValidateOp: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.ValidateOp"
        public var tokenHash: String = ""
        public var sessionId: String = ""
        public var touch: Bool = false
        public var clientIp: String = ""
        public var userAgent: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: tokenHash)
            w.write(2, string: sessionId)
            w.write(3, bool: touch)
            w.write(4, string: clientIp)
            w.write(5, string: userAgent)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: tokenHash = try r.string(n, t)
            case 2: sessionId = try r.string(n, t)
            case 3: touch = try r.bool(n, t)
            case 4: clientIp = try r.string(n, t)
            case 5: userAgent = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct RenewOp: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.RenewOp"
        public var sessionId: String = ""
        public var ttlSeconds: Int64 = 0
        public var expectedVersion: UInt64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: sessionId)
            w.write(2, int64: ttlSeconds)
            w.write(3, uint64: expectedVersion)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: sessionId = try r.string(n, t)
            case 2: ttlSeconds = try r.int64(n, t)
            case 3: expectedVersion = try r.uint64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct RevokeOp: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.RevokeOp"
        public var sessionId: String = ""
        public var sync: Bool = false
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: sessionId)
            w.write(2, bool: sync)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: sessionId = try r.string(n, t)
            case 2: sync = try r.bool(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct RevokeUserOp: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.RevokeUserOp"
        public var userId: String = ""
        public var sync: Bool = false
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: userId)
            w.write(2, bool: sync)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: userId = try r.string(n, t)
            case 2: sync = try r.bool(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct RevokeManyOp: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.RevokeManyOp"
        public var sessionIds: [String] = []
        public var sync: Bool = false
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, strings: sessionIds)
            w.write(2, bool: sync)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: sessionIds.append(try r.string(n, t))
            case 2: sync = try r.bool(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct GetManyOp: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.GetManyOp"
        public var sessionIds: [String] = []
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, strings: sessionIds)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: sessionIds.append(try r.string(n, t))
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct ListOp: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.ListOp"
        public var filter: TokMeshV1.ListSessionsRequest?
        public var limit: UInt32 = 0
        public var scanCursor: UInt64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, filter)
            w.write(2, uint32: limit)
            w.write(3, uint64: scanCursor)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: filter = try r.merge(n, t, into: filter)
            case 2: limit = try r.uint32(n, t)
            case 3: scanCursor = try r.uint64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct IndexOp: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.IndexOp"
        public var action: IndexAction = .unspecified
        public var kind: IndexKind = .unspecified
        public var key: String = ""
        public var sessionId: String = ""
        public var expiresAt: Int64 = 0
        public var revokedAt: Int64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, enum: action)
            w.write(2, enum: kind)
            w.write(3, string: key)
            w.write(4, string: sessionId)
            w.write(5, int64: expiresAt)
            w.write(6, int64: revokedAt)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: action = try r.enumValue(n, t)
            case 2: kind = try r.enumValue(n, t)
            case 3: key = try r.string(n, t)
            case 4: sessionId = try r.string(n, t)
            case 5: expiresAt = try r.int64(n, t)
            case 6: revokedAt = try r.int64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct ForwardResponse: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.ForwardResponse"
        public enum Result: Sendable, Hashable {
            case session(SessionRecord)
            case validate(ValidateResult)
            case renew(RenewResult)
            case revoke(RevokeResult)
            case count(CountResult)
            case sessions(SessionList)
            case index(IndexResult)
        }

        public var shardMapVersion: UInt64 = 0
        public var result: Result?
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint64: shardMapVersion)
            switch result {
            case .session(let v)?: w.write(10, message: v.serializedBytes())
            case .validate(let v)?: w.write(11, message: v.serializedBytes())
            case .renew(let v)?: w.write(12, message: v.serializedBytes())
            case .revoke(let v)?: w.write(13, message: v.serializedBytes())
            case .count(let v)?: w.write(14, message: v.serializedBytes())
            case .sessions(let v)?: w.write(15, message: v.serializedBytes())
            case .index(let v)?: w.write(16, message: v.serializedBytes())
            case nil: break
            }
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: shardMapVersion = try r.uint64(n, t)
            case 10:
                var current: SessionRecord?
                if case .session(let v)? = result { current = v }
                result = .session(try r.merge(n, t, into: current))
            case 11:
                var current: ValidateResult?
                if case .validate(let v)? = result { current = v }
                result = .validate(try r.merge(n, t, into: current))
            case 12:
                var current: RenewResult?
                if case .renew(let v)? = result { current = v }
                result = .renew(try r.merge(n, t, into: current))
            case 13:
                var current: RevokeResult?
                if case .revoke(let v)? = result { current = v }
                result = .revoke(try r.merge(n, t, into: current))
            case 14:
                var current: CountResult?
                if case .count(let v)? = result { current = v }
                result = .count(try r.merge(n, t, into: current))
            case 15:
                var current: SessionList?
                if case .sessions(let v)? = result { current = v }
                result = .sessions(try r.merge(n, t, into: current))
            case 16:
                var current: IndexResult?
                if case .index(let v)? = result { current = v }
                result = .index(try r.merge(n, t, into: current))
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct ValidateResult: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.ValidateResult"
        public var valid: Bool = false
        public var session: SessionRecord?
        public var errorCode: String = ""
        public var revokedAt: Int64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, bool: valid)
            w.write(2, session)
            w.write(3, string: errorCode)
            w.write(4, int64: revokedAt)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: valid = try r.bool(n, t)
            case 2: session = try r.merge(n, t, into: session)
            case 3: errorCode = try r.string(n, t)
            case 4: revokedAt = try r.int64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct RenewResult: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.RenewResult"
        public var newExpiresAt: Int64 = 0
        public var version: UInt64 = 0
        public var previousExpiresAt: Int64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, int64: newExpiresAt)
            w.write(2, uint64: version)
            w.write(3, int64: previousExpiresAt)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: newExpiresAt = try r.int64(n, t)
            case 2: version = try r.uint64(n, t)
            case 3: previousExpiresAt = try r.int64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct RevokeResult: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.RevokeResult"
        public var revoked: Bool = false
        public var revokedAt: Int64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, bool: revoked)
            w.write(2, int64: revokedAt)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: revoked = try r.bool(n, t)
            case 2: revokedAt = try r.int64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct CountResult: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.CountResult"
        public var count: UInt32 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint32: count)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: count = try r.uint32(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct SessionList: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.SessionList"
        public var items: [SessionRecord] = []
        public var total: UInt64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, messages: items)
            w.write(2, uint64: total)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: items.append(try r.merge(n, t, into: nil as SessionRecord?))
            case 2: total = try r.uint64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct IndexResult: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.IndexResult"
        public var state: IndexState = .unspecified
        public var sessionId: String = ""
        public var sessionIds: [String] = []
        public var revokedAt: Int64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, enum: state)
            w.write(2, string: sessionId)
            w.write(3, strings: sessionIds)
            w.write(4, int64: revokedAt)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: state = try r.enumValue(n, t)
            case 2: sessionId = try r.string(n, t)
            case 3: sessionIds.append(try r.string(n, t))
            case 4: revokedAt = try r.int64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct ReplicationRecord: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.ReplicationRecord"
        public enum Record: Sendable, Hashable {
            case session(SessionRecord)
            case deletedSessionId(String)
            case index(IndexRecord)
        }

        public var lsn: UInt64 = 0
        public var vnode: UInt32 = 0
        public var writtenAt: Int64 = 0
        public var sync: Bool = false
        public var record: Record?
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint64: lsn)
            w.write(2, uint32: vnode)
            w.write(3, int64: writtenAt)
            w.write(4, bool: sync)
            switch record {
            case .session(let v)?: w.write(10, message: v.serializedBytes())
            case .deletedSessionId(let v)?: w.write(11, stringElement: v)
            case .index(let v)?: w.write(12, message: v.serializedBytes())
            case nil: break
            }
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: lsn = try r.uint64(n, t)
            case 2: vnode = try r.uint32(n, t)
            case 3: writtenAt = try r.int64(n, t)
            case 4: sync = try r.bool(n, t)
            case 10:
                var current: SessionRecord?
                if case .session(let v)? = record { current = v }
                record = .session(try r.merge(n, t, into: current))
            case 11: record = .deletedSessionId(try r.string(n, t))
            case 12:
                var current: IndexRecord?
                if case .index(let v)? = record { current = v }
                record = .index(try r.merge(n, t, into: current))
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct ReplicateRequest: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.ReplicateRequest"
        public var ownerNodeId: String = ""
        public var fromLsn: UInt64 = 0
        public var records: [ReplicationRecord] = []
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: ownerNodeId)
            w.write(2, uint64: fromLsn)
            w.write(3, messages: records)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: ownerNodeId = try r.string(n, t)
            case 2: fromLsn = try r.uint64(n, t)
            case 3: records.append(try r.merge(n, t, into: nil as ReplicationRecord?))
            default: return false
            }
            return true
        }
    }
}

extension TokMeshClusterV1 {
    public struct ReplicateResponse: ProtoMessage {
        public static let protoName = "tokmesh.cluster.v1.ReplicateResponse"
        public var appliedLsn: UInt64 = 0
        public var resyncRequired: Bool = false
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint64: appliedLsn)
            w.write(2, bool: resyncRequired)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: appliedLsn = try r.uint64(n, t)
            case 2: resyncRequired = try r.bool(n, t)
            default: return false
            }
            return true
        }
    }
}
