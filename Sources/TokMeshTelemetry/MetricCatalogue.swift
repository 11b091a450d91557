// MetricCatalogue: every metric of spec/10 §3 — name, type, label names and buckets — in one
// table. The registry configures histogram buckets from it, exports the unlabelled metrics at
// zero from start, and a test checks that every name the alert rules use is declared here.
// Code records through the swift-metrics facade under these names; a name or label set that is
// not in this table is a programming error caught by `MetricCatalogueTests`.

public enum MetricBuckets: Sendable {
    case latency, fsync, slow, lag, gossip, argon2, count

    /// Upper bounds (seconds, or items for `count`), spec/10 §3.
    public var bounds: [Double] {
        switch self {
        case .latency: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
        case .fsync: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]
        case .slow: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]
        case .lag: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10]
        case .gossip: [0.01, 0.05, 0.1, 0.5, 1, 2, 5]
        case .argon2: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]
        case .count: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
        }
    }
}

public enum MetricType: Sendable, Equatable {
    case counter, gauge
    /// A duration histogram (recorded with a swift-metrics `Timer`).
    case histogram(MetricBuckets)
    /// A histogram of item counts (recorded with an aggregating `Recorder`).
    case countHistogram

    public static func == (a: MetricType, b: MetricType) -> Bool {
        switch (a, b) {
        case (.counter, .counter), (.gauge, .gauge), (.countHistogram, .countHistogram): true
        case (.histogram(let x), .histogram(let y)): x.bounds == y.bounds
        default: false
        }
    }
}

public struct MetricDeclaration: Sendable {
    public let name: String
    public let type: MetricType
    public let labels: [String]
    init(_ name: String, _ type: MetricType, _ labels: [String] = []) {
        self.name = name
        self.type = type
        self.labels = labels
    }
}

public enum MetricCatalogue {
    public static let all: [MetricDeclaration] = [
        // HTTP
        .init("tokmesh_api_request_duration_seconds", .histogram(.latency), ["method", "path", "status"]),
        .init("tokmesh_http_connections", .gauge),
        .init("tokmesh_http_connections_accepted_total", .counter, ["listener"]),
        .init("tokmesh_http_requests_in_flight", .gauge),
        .init("tokmesh_http2_streams_open", .gauge),
        .init("tokmesh_connections_rejected_total", .counter, ["listener", "reason"]),
        .init("tokmesh_errors_total", .counter, ["code", "protocol"]),
        // RESP
        .init("tokmesh_resp_commands_total", .counter, ["command", "result"]),
        // exported from the RESP listener's own per-connection bucket tallies (RESPStats)
        .init("tokmesh_resp_command_duration_seconds", .histogram(.latency), ["command"]),
        .init("tokmesh_resp_connections", .gauge),
        .init("tokmesh_resp_connections_accepted_total", .counter),
        .init("tokmesh_resp_protocol_errors_total", .counter),
        // session
        .init("tokmesh_sessions_active_total", .gauge),
        .init("tokmesh_session_tombstones", .gauge),
        .init("tokmesh_session_create_total", .counter),
        .init("tokmesh_session_operations_total", .counter, ["operation", "result"]),
        .init("tokmesh_session_operation_duration_seconds", .histogram(.latency), ["operation"]),
        .init("tokmesh_token_validate_calls_total", .counter, ["result"]),
        .init("tokmesh_session_version_conflicts_total", .counter, ["operation"]),
        .init("tokmesh_session_quota_exceeded_total", .counter),
        .init("tokmesh_session_expired_purged_total", .counter),
        .init("tokmesh_session_revoked_total", .counter, ["mode"]),
        // auth
        .init("tokmesh_auth_requests_total", .counter, ["result"]),
        .init("tokmesh_auth_failures_total", .counter, ["reason"]),
        .init("tokmesh_auth_cache_hits_total", .counter),
        .init("tokmesh_auth_cache_misses_total", .counter),
        .init("tokmesh_auth_argon2_duration_seconds", .histogram(.argon2)),
        .init("tokmesh_rate_limited_total", .counter, ["scope"]),
        .init("tokmesh_api_keys", .gauge, ["role", "status"]),
        .init("tokmesh_tls_reload_failures_total", .counter, ["listener"]),
        .init("tokmesh_tls_certificate_expiry_timestamp_seconds", .gauge, ["listener"]),
        .init("tokmesh_audit_records_total", .counter),
        .init("tokmesh_audit_write_failures_total", .counter),
        .init("tokmesh_audit_queue_depth", .gauge),
        // storage
        .init("tokmesh_wal_write_bytes_total", .counter),
        .init("tokmesh_wal_appends_total", .counter),
        .init("tokmesh_wal_fsync_duration_seconds", .histogram(.fsync)),
        .init("tokmesh_wal_fsync_failed_total", .counter),
        .init("tokmesh_wal_group_commit_records", .countHistogram),
        .init("tokmesh_wal_segments", .gauge),
        .init("tokmesh_wal_size_bytes", .gauge),
        .init("tokmesh_wal_corruptions_total", .counter, ["kind"]),
        .init("tokmesh_snapshot_duration_seconds", .histogram(.slow)),
        .init("tokmesh_snapshot_failures_total", .counter),
        .init("tokmesh_snapshot_last_success_timestamp_seconds", .gauge),
        .init("tokmesh_snapshot_size_bytes", .gauge),
        .init("tokmesh_recovery_duration_seconds", .gauge),
        .init("tokmesh_data_dir_free_bytes", .gauge),
        .init("tokmesh_data_dir_total_bytes", .gauge),
        // cluster: a standalone node reports these as one healthy member (spec/07 arrives later)
        .init("tokmesh_cluster_nodes_total", .gauge, ["status"]),
        .init("tokmesh_cluster_nodes_parity", .gauge),
        .init("tokmesh_cluster_quorum_lost", .gauge),
        .init("tokmesh_cluster_id_mismatch_total", .counter),
        .init("tokmesh_shard_keys_count", .gauge, ["node_id"]),
        .init("tokmesh_session_revoke_propagation_lag_seconds", .histogram(.lag)),
        .init("tokmesh_replication_lag_seconds", .gauge, ["from_node", "to_node"]),
        .init("tokmesh_replication_under_replicated_vnodes", .gauge),
        .init("tokmesh_rebalance_transfers_in_progress", .gauge),
        .init("tokmesh_rebalance_bytes_total", .counter),
        // process
        .init("tokmesh_build_info", .gauge, ["version", "commit"]),
        .init("tokmesh_ready", .gauge),
        .init("tokmesh_cpu_usage_ratio", .gauge),
        .init("tokmesh_mem_usage_bytes", .gauge),
        .init("tokmesh_mem_limit_bytes", .gauge),
        .init("tokmesh_config_reloads_total", .counter, ["result"]),
        .init("tokmesh_log_dropped_total", .counter),
        .init("tokmesh_tracing_spans_dropped_total", .counter),
        .init("process_cpu_seconds_total", .counter),
        .init("process_resident_memory_bytes", .gauge),
        .init("process_open_fds", .gauge),
        .init("process_max_fds", .gauge),
        .init("process_start_time_seconds", .gauge),
    ]

    public static let byName: [String: MetricDeclaration] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
}
