// ConfigKeys: the key table of spec/08 §4 for the keys the node uses so far. One table drives
// YAML parsing, env and flag names, range checks and `--config-reference`; adding a key here is
// all it takes to make it configurable everywhere.
import TokMeshCore

public enum ConfigKind: Sendable {
    case bool
    case int(ClosedRange<Int64>)
    case float(ClosedRange<Double>)
    /// Range in milliseconds.
    case duration(ClosedRange<Int64>)
    /// Range in bytes.
    case size(ClosedRange<Int64>)
    case addr
    case path
    case string
    case enumeration([String])
    case cidrList
    /// `host:port` entries (cluster seeds).
    case addrList

    var isList: Bool {
        switch self {
        case .cidrList, .addrList: true
        default: false
        }
    }

    var typeName: String {
        switch self {
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .duration: "duration"
        case .size: "size"
        case .addr: "addr"
        case .path: "path"
        case .string: "string"
        case .enumeration: "enum"
        case .cidrList: "list of cidr"
        case .addrList: "list of addr"
        }
    }
}

public struct ConfigKey: Sendable {
    public let name: String
    public let kind: ConfigKind
    public let defaultValue: ConfigValue
    public let hot: Bool
    public let secret: Bool
    public let summary: String

    init(_ name: String, _ kind: ConfigKind, _ defaultValue: ConfigValue, hot: Bool = false, secret: Bool = false, _ summary: String = "") {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.hot = hot
        self.secret = secret
        self.summary = summary
    }

    /// `TOKMESH_` + upper-cased key with `.` → `_`.
    public var envName: String { "TOKMESH_" + name.uppercased().replacingDots() }
}

extension String {
    func replacingDots() -> String { String(map { $0 == "." ? "_" : $0 }) }
}

private let second: Int64 = 1000
private let minute: Int64 = 60_000
private let hour: Int64 = 3_600_000
private let kb: Int64 = 1024
private let mb: Int64 = 1024 * 1024
private let gb: Int64 = 1024 * 1024 * 1024

public enum ConfigKeys {
    public static let all: [ConfigKey] = [
        ConfigKey("server.http.enabled", .bool, .bool(true), "HTTP listener"),
        ConfigKey("server.http.address", .addr, .string("127.0.0.1:5080"), "HTTP listen address"),
        ConfigKey("server.http.max_body_size", .size(64 * kb...64 * mb), .size(mb), "JSON body limit"),
        ConfigKey("server.http.max_upload_size", .size(mb...gb), .size(100 * mb), "restore upload limit"),
        ConfigKey("server.http.header_timeout", .duration(second...5 * minute), .duration(10 * second), "time to receive a request head"),
        ConfigKey("server.http.idle_timeout", .duration(second...hour), .duration(60 * second), "idle connection timeout"),
        ConfigKey("server.https.enabled", .bool, .bool(false), "HTTPS listener (JSON API, Connect and gRPC over TLS)"),
        ConfigKey("server.https.address", .addr, .string("127.0.0.1:5443"), "HTTPS listen address"),
        ConfigKey("server.https.tls.cert_file", .path, .string(""), hot: true, "HTTPS certificate chain (PEM)"),
        ConfigKey("server.https.tls.key_file", .path, .string(""), hot: true, "HTTPS private key (PEM)"),
        ConfigKey("server.https.tls.client_ca_file", .path, .string(""), hot: true, "client CA bundle; set = client certificates required"),
        ConfigKey("server.redis.enabled", .bool, .bool(false), "RESP listener, cleartext (development, trusted networks)"),
        ConfigKey("server.redis.address", .addr, .string("127.0.0.1:6379"), "RESP listen address"),
        ConfigKey("server.redis_tls.enabled", .bool, .bool(false), "RESP listener over TLS"),
        ConfigKey("server.redis_tls.address", .addr, .string("127.0.0.1:6380"), "RESP over TLS listen address"),
        ConfigKey("server.redis_tls.tls.cert_file", .path, .string(""), hot: true, "RESP TLS certificate chain (PEM)"),
        ConfigKey("server.redis_tls.tls.key_file", .path, .string(""), hot: true, "RESP TLS private key (PEM)"),
        ConfigKey("server.redis_tls.tls.client_ca_file", .path, .string(""), hot: true, "client CA bundle; set = client certificates required"),
        ConfigKey("server.http2.max_concurrent_streams", .int(1...10_000), .int(100), "HTTP/2 streams per connection on the API listeners"),
        ConfigKey("server.rpc.max_message_size", .size(kb...64 * mb), .size(4 * mb), "Connect and gRPC message limit (decompressed)"),
        ConfigKey("server.rpc.compression_min_size", .size(0...mb), .size(kb), "smallest RPC reply that is gzip'd"),
        ConfigKey("server.rpc.default_timeout", .duration(second...10 * minute), .duration(30 * second), "unary RPC deadline without a client one"),
        ConfigKey("server.max_connections", .int(1...1_000_000), .int(10_000), "client connections over all listeners"),
        ConfigKey("server.local.enabled", .bool, .bool(true), "local admin socket"),
        ConfigKey("server.local.socket_path", .path, .string(""), "local admin socket path (default <data_dir>/tokmesh-server.sock)"),
        ConfigKey("server.shutdown.timeout", .duration(5 * second...300 * second), .duration(30 * second), "graceful stop budget"),
        ConfigKey("server.shutdown.grace_period", .duration(0...300 * second), .duration(5 * second), "serve-through period at stop"),
        ConfigKey("cluster.node_id", .string, .string(""), "node ID (tmnd-…)"),
        ConfigKey("cluster.enabled", .bool, .bool(false), "cluster listener and membership (explicit only)"),
        ConfigKey("cluster.listen_address", .addr, .string("127.0.0.1:5343"), "cluster listener (mTLS, HTTP/2 only)"),
        ConfigKey("cluster.advertise_address", .string, .string(""), "address other nodes dial; in the certificate's SANs"),
        ConfigKey("cluster.tls.cert_file", .path, .string(""), hot: true, "node certificate (PEM); CN = node ID"),
        ConfigKey("cluster.tls.key_file", .path, .string(""), hot: true, "node private key (PEM)"),
        ConfigKey("cluster.tls.client_ca_file", .path, .string(""), hot: true, "cluster CA: the trust anchor both ways"),
        ConfigKey("cluster.discovery.seeds", .addrList, .list([]), "peers dialled to join (host:port); read and validated, cluster formation is not built yet"),
        ConfigKey("cluster.bootstrap.expect_nodes", .int(1...100), .int(1), "voters that form a new cluster; read and validated, cluster formation is not built yet"),
        ConfigKey("cluster.data.replication_factor", .int(1...7), .int(1), "copies of each session; read and validated, replication is not built yet"),
        ConfigKey("cluster.rpc.max_message_size", .size(mb...256 * mb), .size(64 * mb), "message limit on the cluster port"),
        ConfigKey("session.ttl.default", .duration(minute...8760 * hour), .duration(2 * hour), "default session TTL"),
        ConfigKey("session.ttl.max", .duration(minute...8760 * hour), .duration(720 * hour), "maximum session TTL"),
        ConfigKey("session.ttl.gc_interval", .duration(100...minute), .duration(100), "expiry sampler interval"),
        ConfigKey("session.ttl.sample_size", .int(1...10_000), .int(20), "sessions sampled per round"),
        ConfigKey("session.quota.max_per_user", .int(1...10_000), .int(50), "unexpired sessions per user"),
        ConfigKey("security.allow_insecure_public", .bool, .bool(false), "silence the plaintext exposure warning"),
        ConfigKey("security.auth.allow_list", .cidrList, .list([]), hot: true, "global client IP allow-list"),
        ConfigKey("security.auth.rotation_grace", .duration(0...24 * hour), .duration(hour), "old secret validity after rotate"),
        ConfigKey("security.auth.cache_capacity", .int(1000...100_000), .int(10_000), "validation cache entries"),
        ConfigKey("security.auth.cache_ttl", .duration(10 * second...5 * minute), .duration(60 * second), "validation cache TTL"),
        ConfigKey("security.auth.argon2.memory", .int(8192...1_048_576), .int(16384), "Argon2id memory (KiB)"),
        ConfigKey("security.auth.argon2.iterations", .int(1...10), .int(2), "Argon2id passes"),
        ConfigKey("security.auth.argon2.parallelism", .int(1...16), .int(2), "Argon2id lanes"),
        ConfigKey("security.auth.default_rate_limit", .int(1...1_000_000), .int(1000), hot: true, "rate_limit of keys created without one"),
        ConfigKey("security.auth.failure_limit", .int(1...10_000), .int(10), hot: true, "failed checks per minute per IP before 429"),
        ConfigKey("security.anti_replay.required", .bool, .bool(false), "require X-Timestamp/X-Nonce on POSTs"),
        ConfigKey("security.anti_replay.timestamp_window", .duration(second...5 * minute), .duration(30 * second), "allowed clock skew"),
        ConfigKey("security.anti_replay.nonce_ttl", .duration(second...10 * minute), .duration(60 * second), "nonce memory"),
        ConfigKey("security.anti_replay.nonce_cache_size", .int(1000...1_000_000), .int(100_000), "nonce cache entries"),
        ConfigKey("security.network.trusted_proxies", .cidrList, .list([]), "proxies whose forwarding headers are read"),
        ConfigKey("security.storage.encryption_enabled", .bool, .bool(true), "encrypt the WAL at rest"),
        ConfigKey("security.storage.encryption_key", .string, .string(""), secret: true,
                  "64 hex characters; empty: use or generate <data_dir>/encryption.key"),
        ConfigKey("storage.data_dir", .path, .string("./data"), "data directory"),
        ConfigKey("storage.wal.dir", .path, .string(""), "WAL directory (default <data_dir>/wal)"),
        ConfigKey("storage.wal.sync_mode", .enumeration(["sync", "batch"]), .string("batch"), "sync: fdatasync before every acknowledgement"),
        ConfigKey("storage.wal.sync_interval", .duration(1...10 * second), .duration(second), "batch mode fsync interval"),
        ConfigKey("storage.wal.batch_count", .int(1...100_000), .int(100), "records per write, at most"),
        ConfigKey("storage.wal.batch_size", .size(4 * kb...64 * mb), .size(mb), "bytes per write, at most"),
        ConfigKey("storage.wal.segment_size", .size(mb...gb), .size(64 * mb), "segment rotation size"),
        ConfigKey("storage.snapshot.dir", .path, .string(""), "snapshot directory (default <data_dir>/snapshots)"),
        ConfigKey("storage.snapshot.interval", .duration(minute...168 * hour), .duration(hour), "time between scheduled snapshots"),
        ConfigKey("storage.snapshot.threshold", .size(mb...10 * gb), .size(gb), "WAL bytes since the last snapshot that trigger one"),
        ConfigKey("storage.snapshot.retention_count", .int(1...100), .int(5), "snapshots kept at least"),
        ConfigKey("storage.snapshot.retention_days", .int(1...365), .int(7), "snapshots younger than this are kept"),
        ConfigKey("telemetry.metrics.auth_enabled", .bool, .bool(true), "require a key for /metrics"),
        ConfigKey("telemetry.logging.level", .enumeration(["debug", "info", "warn", "error"]), .string("info"), hot: true, "log level"),
        ConfigKey("telemetry.tracing.enabled", .bool, .bool(false), "OpenTelemetry tracing (OTLP/HTTP export)"),
        ConfigKey("telemetry.tracing.endpoint", .string, .string(""), "OTLP/HTTP collector base URL (http:// or https://)"),
        ConfigKey("telemetry.tracing.sampling_ratio", .float(0...1), .float(0.01), "probability a new trace is sampled"),
        ConfigKey("telemetry.audit.retention_days", .int(1...3650), .int(90), "audit file retention"),
        ConfigKey("telemetry.audit.session_events", .bool, .bool(false), "also audit session create/renew/revoke"),
    ]

    public static let byName: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
    public static let byEnvName: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: all.map { ($0.envName, $0) })

    /// Environment variables with the prefix that are not keys and are ignored by the server.
    public static let ignoredEnv: Set<String> = [
        "TOKMESH_SERVER_CONFIG_FILE", "TOKMESH_TARGET", "TOKMESH_API_KEY", "TOKMESH_OUTPUT", "TOKMESH_CLI_CONFIG",
        "TOKMESH_TIMEOUT", "TOKMESH_TLS_CA", "TOKMESH_TLS_CERT", "TOKMESH_TLS_KEY",
    ]

    /// The key table as Markdown (`--config-reference`).
    public static func reference() -> String {
        var out = "| key | type | default | env | hot |\n|---|---|---|---|---|\n"
        for k in all {
            out += "| `\(k.name)` | \(k.kind.typeName) | `\(k.defaultValue.display)` | `\(k.envName)` | \(k.hot ? "H" : "") |\n"
        }
        return out
    }
}
