// TokMeshClusterV1Schema: the field, enum and method tables of
// `proto/tokmesh/cluster/v1/cluster.proto` (spec/06 §2-§3, spec/07 §6, §12). Kept in step with
// the file by the descriptor drift test.
public enum TokMeshClusterV1Schema {
    static let p = "tokmesh.cluster.v1."

    // Names are interpolated rather than `p + "…"`: in a literal this size the `+` overloads make
    // type-checking take seconds.
    public static let file: ProtoFileSchema = ProtoFileSchema(
        path: "tokmesh/cluster/v1/cluster.proto", package: "tokmesh.cluster.v1", dependencies: ["tokmesh/v1/session.proto"], messages: [
        ProtoMessageSchema("\(p)JoinRequest", [
            ProtoField("node_id", 1, .string), ProtoField("advertise_address", 2, .string), ProtoField("cluster_id", 3, .string),
            ProtoField("zone", 4, .string), ProtoField("version", 5, .string),
        ]),
        ProtoMessageSchema("\(p)JoinResponse", [
            ProtoField("accepted", 1, .bool), ProtoField("leader_node_id", 2, .string), ProtoField("leader_addr", 3, .string),
            ProtoField("members", 4, .message("\(p)Member"), repeated: true),
            ProtoField("shard_map", 5, .message("\(p)ShardMap")), ProtoField("cluster_id", 6, .string),
        ]),
        ProtoMessageSchema("\(p)LeaveRequest", [
            ProtoField("node_id", 1, .string), ProtoField("force", 2, .bool),
        ]),
        ProtoMessageSchema("\(p)LeaveResponse", [
            ProtoField("accepted", 1, .bool), ProtoField("vnodes_to_move", 2, .uint32),
        ]),
        ProtoMessageSchema("\(p)GetShardMapRequest", [
            ProtoField("node_id", 1, .string), ProtoField("known_version", 2, .uint64),
        ]),
        ProtoMessageSchema("\(p)GetShardMapResponse", [
            ProtoField("shard_map", 1, .message("\(p)ShardMap")), ProtoField("version", 2, .uint64),
            ProtoField("unchanged", 3, .bool),
        ]),
        ProtoMessageSchema("\(p)Member", [
            ProtoField("node_id", 1, .string), ProtoField("addr", 2, .string), ProtoField("state", 3, .string),
            ProtoField("is_leader", 4, .bool), ProtoField("raft_role", 5, .string), ProtoField("zone", 6, .string),
            ProtoField("joined_at", 7, .int64), ProtoField("match_index", 8, .uint64),
        ]),
        ProtoMessageSchema("\(p)ShardMap", [
            ProtoField("shards", 1, .map(key: .uint32, value: .string)),
            ProtoField("replicas", 2, .map(key: .uint32, value: .message("\(p)ReplicaSet"))), ProtoField("version", 3, .uint64),
            ProtoField("homes", 4, .map(key: .uint32, value: .string)),
            ProtoField("transfers", 5, .map(key: .uint32, value: .message("\(p)ShardTransfer"))),
            ProtoField("vnodes_per_node", 6, .uint32), ProtoField("replication_factor", 7, .uint32),
        ]),
        ProtoMessageSchema("\(p)ReplicaSet", [
            ProtoField("node_ids", 1, .string, repeated: true),
        ]),
        ProtoMessageSchema("\(p)ShardTransfer", [
            ProtoField("from_node_id", 1, .string), ProtoField("to_node_id", 2, .string), ProtoField("epoch", 3, .uint64),
            ProtoField("purpose", 4, .enumeration("\(p)TransferPurpose")), ProtoField("started_at", 5, .int64),
        ]),
        ProtoMessageSchema("\(p)TransferShardRequest", [
            ProtoField("shard_id", 1, .uint32), ProtoField("session_id", 2, .string), ProtoField("session_data", 3, .bytes),
            ProtoField("transfer_epoch", 4, .uint64), ProtoField("kind", 5, .enumeration("\(p)TransferRecordKind")),
            ProtoField("sequence", 6, .uint64), ProtoField("range_start", 7, .uint32),
            ProtoField("purpose", 8, .enumeration("\(p)TransferPurpose")), ProtoField("from_node_id", 9, .string),
            ProtoField("index", 10, .message("\(p)IndexRecord")), ProtoField("source_lsn", 11, .uint64),
        ]),
        ProtoMessageSchema("\(p)TransferShardResponse", [
            ProtoField("success", 1, .bool), ProtoField("transferred_items", 2, .uint64), ProtoField("last_sequence", 3, .uint64),
            ProtoField("transfer_epoch", 4, .uint64),
        ]),
        ProtoMessageSchema("\(p)MemberUpdate", [
            ProtoField("node_id", 1, .string), ProtoField("address", 2, .string),
            ProtoField("state", 3, .enumeration("\(p)SwimState")), ProtoField("incarnation", 4, .uint64),
            ProtoField("created_at", 5, .int64),
        ]),
        ProtoMessageSchema("\(p)PingRequest", [
            ProtoField("node_id", 1, .string), ProtoField("timestamp", 2, .int64), ProtoField("cluster_id", 3, .string),
            ProtoField("incarnation", 4, .uint64), ProtoField("target_node_id", 5, .string),
            ProtoField("advertise_address", 6, .string), ProtoField("updates", 7, .message("\(p)MemberUpdate"), repeated: true),
            ProtoField("shard_map_version", 8, .uint64), ProtoField("membership", 9, .enumeration("\(p)MembershipState")),
        ]),
        ProtoMessageSchema("\(p)PingResponse", [
            ProtoField("node_id", 1, .string), ProtoField("timestamp", 2, .int64), ProtoField("is_leader", 3, .bool),
            ProtoField("cluster_id", 4, .string), ProtoField("incarnation", 5, .uint64),
            ProtoField("updates", 6, .message("\(p)MemberUpdate"), repeated: true), ProtoField("shard_map_version", 7, .uint64),
            ProtoField("leader_node_id", 8, .string), ProtoField("leader_addr", 9, .string),
            ProtoField("target_acked", 10, .bool), ProtoField("membership", 11, .enumeration("\(p)MembershipState")),
            ProtoField("bootstrap_voters", 12, .string, repeated: true),
        ]),
        ProtoMessageSchema("\(p)ProposeRequest", [
            ProtoField("command", 1, .message("\(p)ControlCommand")), ProtoField("read_barrier", 2, .bool),
        ]),
        ProtoMessageSchema("\(p)ProposeResponse", [
            ProtoField("index", 1, .uint64), ProtoField("applied", 2, .bool), ProtoField("reject_code", 3, .string),
            ProtoField("reject_message", 4, .string), ProtoField("read_index", 5, .uint64),
            ProtoField("transfer_epoch", 6, .uint64),
        ]),
        ProtoMessageSchema("\(p)ControlCommand", [
            ProtoField("request_id", 1, .string), ProtoField("expected_shard_map_version", 2, .uint64),
            ProtoField("proposed_at", 3, .int64), ProtoField("bootstrap", 10, .message("\(p)Bootstrap"), oneof: "command"),
            ProtoField("add_member", 11, .message("\(p)AddMember"), oneof: "command"),
            ProtoField("mark_leaving", 12, .message("\(p)MarkLeaving"), oneof: "command"),
            ProtoField("remove_member", 13, .message("\(p)RemoveMember"), oneof: "command"),
            ProtoField("add_vnodes", 14, .message("\(p)AddVnodes"), oneof: "command"),
            ProtoField("begin_transfer", 15, .message("\(p)BeginTransfer"), oneof: "command"),
            ProtoField("complete_transfer", 16, .message("\(p)CompleteTransfer"), oneof: "command"),
            ProtoField("abort_transfer", 17, .message("\(p)AbortTransfer"), oneof: "command"),
            ProtoField("promote_replicas", 18, .message("\(p)PromoteReplicas"), oneof: "command"),
            ProtoField("set_replicas", 19, .message("\(p)SetReplicas"), oneof: "command"),
            ProtoField("put_api_key", 20, .message("\(p)PutApiKey"), oneof: "command"),
            ProtoField("set_setting", 21, .message("\(p)SetSetting"), oneof: "command"),
            ProtoField("touch_api_keys", 22, .message("\(p)TouchApiKeys"), oneof: "command"),
        ]),
        ProtoMessageSchema("\(p)Bootstrap", [
            ProtoField("cluster_id", 1, .string), ProtoField("members", 2, .message("\(p)Member"), repeated: true),
            ProtoField("settings", 3, .map(key: .string, value: .string)),
        ]),
        ProtoMessageSchema("\(p)AddMember", [
            ProtoField("member", 1, .message("\(p)Member")),
        ]),
        ProtoMessageSchema("\(p)MarkLeaving", [
            ProtoField("node_id", 1, .string),
        ]),
        ProtoMessageSchema("\(p)RemoveMember", [
            ProtoField("node_id", 1, .string), ProtoField("force", 2, .bool),
        ]),
        ProtoMessageSchema("\(p)AddVnodes", [
            ProtoField("node_id", 1, .string),
        ]),
        ProtoMessageSchema("\(p)BeginTransfer", [
            ProtoField("vnode", 1, .uint32), ProtoField("from_node_id", 2, .string), ProtoField("to_node_id", 3, .string),
            ProtoField("purpose", 4, .enumeration("\(p)TransferPurpose")),
        ]),
        ProtoMessageSchema("\(p)CompleteTransfer", [
            ProtoField("vnode", 1, .uint32), ProtoField("epoch", 2, .uint64), ProtoField("items", 3, .uint64),
        ]),
        ProtoMessageSchema("\(p)AbortTransfer", [
            ProtoField("vnode", 1, .uint32), ProtoField("epoch", 2, .uint64), ProtoField("reason", 3, .string),
        ]),
        ProtoMessageSchema("\(p)PromoteReplicas", [
            ProtoField("dead_node_id", 1, .string),
        ]),
        ProtoMessageSchema("\(p)SetReplicas", [
            ProtoField("vnode", 1, .uint32), ProtoField("node_ids", 2, .string, repeated: true),
        ]),
        ProtoMessageSchema("\(p)ApiKeyRecord", [
            ProtoField("key_id", 1, .string), ProtoField("role", 2, .string), ProtoField("secret_hash", 3, .string),
            ProtoField("old_secret_hash", 4, .string), ProtoField("grace_period_end", 5, .int64),
            ProtoField("allowedlist", 6, .string, repeated: true), ProtoField("rate_limit", 7, .uint32),
            ProtoField("expires_at", 8, .int64), ProtoField("status", 9, .string), ProtoField("description", 10, .string),
            ProtoField("created_at", 11, .int64), ProtoField("created_by", 12, .string), ProtoField("last_used_at", 13, .int64),
            ProtoField("version", 14, .uint64),
        ]),
        ProtoMessageSchema("\(p)PutApiKey", [
            ProtoField("key", 1, .message("\(p)ApiKeyRecord")),
        ]),
        ProtoMessageSchema("\(p)SetSetting", [
            ProtoField("key", 1, .string), ProtoField("value", 2, .string),
        ]),
        ProtoMessageSchema("\(p)TouchApiKeys", [
            ProtoField("last_used_at", 1, .map(key: .string, value: .int64)),
        ]),
        ProtoMessageSchema("\(p)ControlState", [
            ProtoField("cluster_id", 1, .string), ProtoField("members", 2, .message("\(p)Member"), repeated: true),
            ProtoField("shard_map", 3, .message("\(p)ShardMap")),
            ProtoField("api_keys", 4, .message("\(p)ApiKeyRecord"), repeated: true),
            ProtoField("settings", 5, .map(key: .string, value: .string)),
            ProtoField("removed_node_ids", 6, .string, repeated: true), ProtoField("next_transfer_epoch", 7, .uint64),
            ProtoField("recent_requests", 8, .map(key: .string, value: .message("\(p)ProposeResponse"))),
        ]),
        ProtoMessageSchema("\(p)RaftEntry", [
            ProtoField("term", 1, .uint64), ProtoField("index", 2, .uint64),
            ProtoField("type", 3, .enumeration("\(p)RaftEntryType")), ProtoField("data", 4, .bytes),
        ]),
        ProtoMessageSchema("\(p)ConfChange", [
            ProtoField("type", 1, .enumeration("\(p)ConfChangeType")), ProtoField("node_id", 2, .string),
            ProtoField("address", 3, .string),
        ]),
        ProtoMessageSchema("\(p)ConfState", [
            ProtoField("voters", 1, .string, repeated: true), ProtoField("learners", 2, .string, repeated: true),
        ]),
        ProtoMessageSchema("\(p)RequestVoteRequest", [
            ProtoField("term", 1, .uint64), ProtoField("candidate_id", 2, .string), ProtoField("last_log_index", 3, .uint64),
            ProtoField("last_log_term", 4, .uint64), ProtoField("pre_vote", 5, .bool), ProtoField("transfer", 6, .bool),
        ]),
        ProtoMessageSchema("\(p)RequestVoteResponse", [
            ProtoField("term", 1, .uint64), ProtoField("granted", 2, .bool), ProtoField("pre_vote", 3, .bool),
        ]),
        ProtoMessageSchema("\(p)AppendEntriesRequest", [
            ProtoField("term", 1, .uint64), ProtoField("leader_id", 2, .string), ProtoField("prev_log_index", 3, .uint64),
            ProtoField("prev_log_term", 4, .uint64), ProtoField("entries", 5, .message("\(p)RaftEntry"), repeated: true),
            ProtoField("leader_commit", 6, .uint64), ProtoField("read_context", 7, .uint64), ProtoField("lease_ack", 8, .uint64),
            ProtoField("quorum_age_ms", 9, .uint32),
        ]),
        ProtoMessageSchema("\(p)AppendEntriesResponse", [
            ProtoField("term", 1, .uint64), ProtoField("success", 2, .bool), ProtoField("match_index", 3, .uint64),
            ProtoField("reject_hint", 4, .uint64), ProtoField("read_context", 5, .uint64), ProtoField("lease_seq", 6, .uint64),
        ]),
        ProtoMessageSchema("\(p)InstallSnapshotRequest", [
            ProtoField("term", 1, .uint64), ProtoField("leader_id", 2, .string), ProtoField("last_index", 3, .uint64),
            ProtoField("last_term", 4, .uint64), ProtoField("conf_state", 5, .message("\(p)ConfState")),
            ProtoField("offset", 6, .uint64), ProtoField("data", 7, .bytes), ProtoField("done", 8, .bool),
            ProtoField("total_size", 9, .uint64), ProtoField("sha256", 10, .bytes),
        ]),
        ProtoMessageSchema("\(p)InstallSnapshotResponse", [
            ProtoField("term", 1, .uint64), ProtoField("success", 2, .bool), ProtoField("received_bytes", 3, .uint64),
        ]),
        ProtoMessageSchema("\(p)TimeoutNowRequest", [
            ProtoField("term", 1, .uint64), ProtoField("leader_id", 2, .string),
        ]),
        ProtoMessageSchema("\(p)TimeoutNowResponse", [
            ProtoField("term", 1, .uint64), ProtoField("accepted", 2, .bool),
        ]),
        ProtoMessageSchema("\(p)SessionRecord", [
            ProtoField("session", 1, .message("tokmesh.v1.Session")), ProtoField("token_hash", 2, .string),
            ProtoField("revoked_at", 3, .int64),
        ]),
        ProtoMessageSchema("\(p)IndexRecord", [
            ProtoField("kind", 1, .enumeration("\(p)IndexKind")), ProtoField("key", 2, .string),
            ProtoField("session_id", 3, .string), ProtoField("expires_at", 4, .int64),
            ProtoField("state", 5, .enumeration("\(p)IndexState")), ProtoField("pending_until", 6, .int64),
            ProtoField("revoked_at", 7, .int64),
        ]),
        ProtoMessageSchema("\(p)CallerContext", [
            ProtoField("request_id", 1, .string), ProtoField("api_key_id", 2, .string), ProtoField("role", 3, .string),
            ProtoField("client_ip", 4, .string), ProtoField("user_agent", 5, .string), ProtoField("traceparent", 6, .string),
        ]),
        ProtoMessageSchema("\(p)ForwardRequest", [
            ProtoField("shard_map_version", 1, .uint64), ProtoField("hops", 2, .uint32),
            ProtoField("caller", 3, .message("\(p)CallerContext")),
            ProtoField("create", 10, .message("\(p)CreateOp"), oneof: "op"),
            ProtoField("get", 11, .message("\(p)SessionKeyOp"), oneof: "op"),
            ProtoField("validate", 12, .message("\(p)ValidateOp"), oneof: "op"),
            ProtoField("touch", 13, .message("\(p)SessionKeyOp"), oneof: "op"),
            ProtoField("renew", 14, .message("\(p)RenewOp"), oneof: "op"),
            ProtoField("revoke", 15, .message("\(p)RevokeOp"), oneof: "op"),
            ProtoField("revoke_user", 16, .message("\(p)RevokeUserOp"), oneof: "op"),
            ProtoField("list", 17, .message("\(p)ListOp"), oneof: "op"),
            ProtoField("index", 18, .message("\(p)IndexOp"), oneof: "op"),
            ProtoField("get_many", 19, .message("\(p)GetManyOp"), oneof: "op"),
            ProtoField("revoke_many", 20, .message("\(p)RevokeManyOp"), oneof: "op"),
            ProtoField("pull", 21, .message("\(p)SessionKeyOp"), oneof: "op"),
            ProtoField("put", 22, .message("\(p)SessionRecord"), oneof: "op"),
        ]),
        ProtoMessageSchema("\(p)CreateOp", [
            ProtoField("session_id", 1, .string), ProtoField("token_hash", 2, .string), ProtoField("user_id", 3, .string),
            ProtoField("device_id", 4, .string), ProtoField("ttl_seconds", 5, .int64),
            ProtoField("data", 6, .map(key: .string, value: .string)), ProtoField("ip_address", 7, .string),
            ProtoField("user_agent", 8, .string), ProtoField("created_by", 9, .string),
        ]),
        ProtoMessageSchema("\(p)SessionKeyOp", [
            ProtoField("session_id", 1, .string),
        ]),
        ProtoMessageSchema("\(p)ValidateOp", [
            ProtoField("token_hash", 1, .string), ProtoField("session_id", 2, .string), ProtoField("touch", 3, .bool),
            ProtoField("client_ip", 4, .string), ProtoField("user_agent", 5, .string),
        ]),
        ProtoMessageSchema("\(p)RenewOp", [
            ProtoField("session_id", 1, .string), ProtoField("ttl_seconds", 2, .int64),
            ProtoField("expected_version", 3, .uint64),
        ]),
        ProtoMessageSchema("\(p)RevokeOp", [
            ProtoField("session_id", 1, .string), ProtoField("sync", 2, .bool),
        ]),
        ProtoMessageSchema("\(p)RevokeUserOp", [
            ProtoField("user_id", 1, .string), ProtoField("sync", 2, .bool),
        ]),
        ProtoMessageSchema("\(p)RevokeManyOp", [
            ProtoField("session_ids", 1, .string, repeated: true), ProtoField("sync", 2, .bool),
        ]),
        ProtoMessageSchema("\(p)GetManyOp", [
            ProtoField("session_ids", 1, .string, repeated: true),
        ]),
        ProtoMessageSchema("\(p)ListOp", [
            ProtoField("filter", 1, .message("tokmesh.v1.ListSessionsRequest")), ProtoField("limit", 2, .uint32),
            ProtoField("scan_cursor", 3, .uint64),
        ]),
        ProtoMessageSchema("\(p)IndexOp", [
            ProtoField("action", 1, .enumeration("\(p)IndexAction")), ProtoField("kind", 2, .enumeration("\(p)IndexKind")),
            ProtoField("key", 3, .string), ProtoField("session_id", 4, .string), ProtoField("expires_at", 5, .int64),
            ProtoField("revoked_at", 6, .int64),
        ]),
        ProtoMessageSchema("\(p)ForwardResponse", [
            ProtoField("shard_map_version", 1, .uint64),
            ProtoField("session", 10, .message("\(p)SessionRecord"), oneof: "result"),
            ProtoField("validate", 11, .message("\(p)ValidateResult"), oneof: "result"),
            ProtoField("renew", 12, .message("\(p)RenewResult"), oneof: "result"),
            ProtoField("revoke", 13, .message("\(p)RevokeResult"), oneof: "result"),
            ProtoField("count", 14, .message("\(p)CountResult"), oneof: "result"),
            ProtoField("sessions", 15, .message("\(p)SessionList"), oneof: "result"),
            ProtoField("index", 16, .message("\(p)IndexResult"), oneof: "result"),
        ]),
        ProtoMessageSchema("\(p)ValidateResult", [
            ProtoField("valid", 1, .bool), ProtoField("session", 2, .message("\(p)SessionRecord")),
            ProtoField("error_code", 3, .string), ProtoField("revoked_at", 4, .int64),
        ]),
        ProtoMessageSchema("\(p)RenewResult", [
            ProtoField("new_expires_at", 1, .int64), ProtoField("version", 2, .uint64),
            ProtoField("previous_expires_at", 3, .int64),
        ]),
        ProtoMessageSchema("\(p)RevokeResult", [
            ProtoField("revoked", 1, .bool), ProtoField("revoked_at", 2, .int64),
        ]),
        ProtoMessageSchema("\(p)CountResult", [
            ProtoField("count", 1, .uint32),
        ]),
        ProtoMessageSchema("\(p)SessionList", [
            ProtoField("items", 1, .message("\(p)SessionRecord"), repeated: true), ProtoField("total", 2, .uint64),
        ]),
        ProtoMessageSchema("\(p)IndexResult", [
            ProtoField("state", 1, .enumeration("\(p)IndexState")), ProtoField("session_id", 2, .string),
            ProtoField("session_ids", 3, .string, repeated: true), ProtoField("revoked_at", 4, .int64),
        ]),
        ProtoMessageSchema("\(p)ReplicationRecord", [
            ProtoField("lsn", 1, .uint64), ProtoField("vnode", 2, .uint32), ProtoField("written_at", 3, .int64),
            ProtoField("sync", 4, .bool), ProtoField("session", 10, .message("\(p)SessionRecord"), oneof: "record"),
            ProtoField("deleted_session_id", 11, .string, oneof: "record"),
            ProtoField("index", 12, .message("\(p)IndexRecord"), oneof: "record"),
        ]),
        ProtoMessageSchema("\(p)ReplicateRequest", [
            ProtoField("owner_node_id", 1, .string), ProtoField("from_lsn", 2, .uint64),
            ProtoField("records", 3, .message("\(p)ReplicationRecord"), repeated: true),
        ]),
        ProtoMessageSchema("\(p)ReplicateResponse", [
            ProtoField("applied_lsn", 1, .uint64), ProtoField("resync_required", 2, .bool),
        ]),
    ], enums: [
        ProtoEnumSchema("\(p)MembershipState", [
            ("MEMBERSHIP_STATE_UNSPECIFIED", 0), ("MEMBERSHIP_STATE_UNINITIALIZED", 1), ("MEMBERSHIP_STATE_JOINING", 2),
            ("MEMBERSHIP_STATE_MEMBER", 3), ("MEMBERSHIP_STATE_LEAVING", 4),
        ]),
        ProtoEnumSchema("\(p)SwimState", [
            ("SWIM_STATE_UNSPECIFIED", 0), ("SWIM_STATE_ALIVE", 1), ("SWIM_STATE_SUSPECT", 2), ("SWIM_STATE_DEAD", 3),
            ("SWIM_STATE_LEFT", 4),
        ]),
        ProtoEnumSchema("\(p)TransferPurpose", [
            ("TRANSFER_PURPOSE_UNSPECIFIED", 0), ("TRANSFER_PURPOSE_HANDOVER", 1), ("TRANSFER_PURPOSE_RETIRE", 2),
            ("TRANSFER_PURPOSE_REPLICA_SEED", 3),
        ]),
        ProtoEnumSchema("\(p)TransferRecordKind", [
            ("TRANSFER_RECORD_KIND_UNSPECIFIED", 0), ("TRANSFER_RECORD_KIND_HEADER", 1), ("TRANSFER_RECORD_KIND_SESSION", 2),
            ("TRANSFER_RECORD_KIND_INDEX", 3), ("TRANSFER_RECORD_KIND_FENCE", 4),
        ]),
        ProtoEnumSchema("\(p)RaftEntryType", [
            ("RAFT_ENTRY_TYPE_UNSPECIFIED", 0), ("RAFT_ENTRY_TYPE_NORMAL", 1), ("RAFT_ENTRY_TYPE_CONF_CHANGE", 2),
        ]),
        ProtoEnumSchema("\(p)ConfChangeType", [
            ("CONF_CHANGE_TYPE_UNSPECIFIED", 0), ("CONF_CHANGE_TYPE_ADD_LEARNER", 1), ("CONF_CHANGE_TYPE_PROMOTE", 2),
            ("CONF_CHANGE_TYPE_DEMOTE", 3), ("CONF_CHANGE_TYPE_REMOVE", 4),
        ]),
        ProtoEnumSchema("\(p)IndexKind", [("INDEX_KIND_UNSPECIFIED", 0), ("INDEX_KIND_TOKEN", 1), ("INDEX_KIND_USER", 2)]),
        ProtoEnumSchema("\(p)IndexState", [
            ("INDEX_STATE_UNSPECIFIED", 0), ("INDEX_STATE_PENDING", 1), ("INDEX_STATE_COMMITTED", 2), ("INDEX_STATE_REVOKED", 3),
            ("INDEX_STATE_DELETED", 4),
        ]),
        ProtoEnumSchema("\(p)IndexAction", [
            ("INDEX_ACTION_UNSPECIFIED", 0), ("INDEX_ACTION_CLAIM", 1), ("INDEX_ACTION_COMMIT", 2), ("INDEX_ACTION_RELEASE", 3),
            ("INDEX_ACTION_LOOKUP", 4), ("INDEX_ACTION_MARK_REVOKED", 5), ("INDEX_ACTION_REMOVE", 6), ("INDEX_ACTION_LIST", 7),
            ("INDEX_ACTION_UPDATE_EXPIRY", 8),
        ]),
    ], services: [
        ProtoServiceSchema("\(p)ClusterService", [
            ProtoMethodSchema("Join", "\(p)JoinRequest", "\(p)JoinResponse"),
            ProtoMethodSchema("Leave", "\(p)LeaveRequest", "\(p)LeaveResponse"),
            ProtoMethodSchema("GetShardMap", "\(p)GetShardMapRequest", "\(p)GetShardMapResponse", idempotency: .noSideEffects),
            ProtoMethodSchema("TransferShard", "\(p)TransferShardRequest", "\(p)TransferShardResponse", clientStreaming: true),
            ProtoMethodSchema("Ping", "\(p)PingRequest", "\(p)PingResponse"),
            ProtoMethodSchema("Propose", "\(p)ProposeRequest", "\(p)ProposeResponse"),
        ]),
        ProtoServiceSchema("\(p)RaftService", [
            ProtoMethodSchema("RequestVote", "\(p)RequestVoteRequest", "\(p)RequestVoteResponse"),
            ProtoMethodSchema("AppendEntries", "\(p)AppendEntriesRequest", "\(p)AppendEntriesResponse"),
            ProtoMethodSchema("InstallSnapshot", "\(p)InstallSnapshotRequest", "\(p)InstallSnapshotResponse", clientStreaming: true),
            ProtoMethodSchema("TimeoutNow", "\(p)TimeoutNowRequest", "\(p)TimeoutNowResponse"),
        ]),
        ProtoServiceSchema("\(p)DataService", [
            ProtoMethodSchema("Forward", "\(p)ForwardRequest", "\(p)ForwardResponse"),
            ProtoMethodSchema("Replicate", "\(p)ReplicateRequest", "\(p)ReplicateResponse", clientStreaming: true),
        ]),
    ])
}
