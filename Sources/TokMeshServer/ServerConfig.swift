// ServerConfig: the typed view of a validated LoadedConfig that the node runs with. Built once
// at start-up; hot-reloadable values are re-read on reload (issue 7).
import Foundation
import TokMeshAuth
import TokMeshCore
import TokMeshStorage

public struct ServerConfig: Sendable {
    public var loaded: LoadedConfig
    public var httpEnabled: Bool
    public var httpHost: String
    public var httpPort: Int
    public var maxBodyBytes: Int
    public var maxUploadBytes: Int
    public var idleTimeoutMillis: Int64
    public var h2MaxConcurrentStreams: Int
    public var httpsEnabled: Bool
    public var redisEnabled: Bool
    public var redisHost: String
    public var redisPort: Int
    public var redisTLSEnabled: Bool
    public var redisTLSHost: String
    public var redisTLSPort: Int
    public var redisTLSCertFile: String
    public var redisTLSKeyFile: String
    public var redisTLSClientCAFile: String
    public var clusterEnabled: Bool
    public var clusterHost: String
    public var clusterPort: Int
    public var clusterAdvertise: String
    public var clusterCertFile: String
    public var clusterKeyFile: String
    public var clusterCAFile: String
    public var clusterMaxMessageBytes: Int
    public var httpsHost: String
    public var httpsPort: Int
    public var httpsCertFile: String
    public var httpsKeyFile: String
    public var httpsClientCAFile: String
    public var rpcMaxMessageBytes: Int
    public var rpcCompressionMinBytes: Int
    public var rpcDefaultTimeoutMillis: Int64
    public var maxConnections: Int
    public var localEnabled: Bool
    public var socketPath: String
    public var shutdownGraceMillis: Int64
    public var shutdownTimeoutMillis: Int64
    public var nodeID: String
    public var dataDirectory: String
    public var limits: SessionLimits
    public var gcIntervalMillis: Int64
    public var gcSampleSize: Int
    public var auth: AuthSettings
    public var metricsAuthEnabled: Bool
    public var logLevel: String
    public var tracingEnabled: Bool
    public var tracingEndpoint: String
    public var tracingSamplingRatio: Double
    public var auditRetentionDays: Int
    public var auditSessionEvents: Bool
    public var walDirectory: String
    public var walSyncMode: LogSyncMode
    public var walBatchCount: Int
    public var walBatchBytes: Int
    public var walSegmentBytes: Int
    public var snapshotDirectory: String
    public var snapshotIntervalMillis: Int64
    public var snapshotThresholdBytes: Int
    public var snapshotRetentionCount: Int
    public var snapshotRetentionDays: Int
    public var encryptionEnabled: Bool
    /// The configured key's hex, or "" to use the key file. Never logged.
    public var encryptionKeyHex: String

    static func socketPath(_ c: LoadedConfig) -> String? {
        guard case .string(let dataDir) = c.value("storage.data_dir") else { return nil }
        if case .string(let p) = c.value("server.local.socket_path"), !p.isEmpty { return p }
        return (dataDir.hasSuffix("/") ? dataDir : dataDir + "/") + "tokmesh-server.sock"
    }

    public init(_ c: LoadedConfig) {
        func bool(_ k: String) -> Bool { if case .bool(let b) = c.value(k) { return b }; preconditionFailure(k) }
        func int(_ k: String) -> Int64 { if case .int(let i) = c.value(k) { return i }; preconditionFailure(k) }
        func ms(_ k: String) -> Int64 { if case .duration(let d) = c.value(k) { return d }; preconditionFailure(k) }
        func bytes(_ k: String) -> Int64 { if case .size(let s) = c.value(k) { return s }; preconditionFailure(k) }
        func string(_ k: String) -> String { if case .string(let s) = c.value(k) { return s }; preconditionFailure(k) }
        func cidrs(_ k: String) -> [CIDR] { if case .list(let l) = c.value(k) { return l.compactMap(CIDR.init) }; preconditionFailure(k) }

        loaded = c
        httpEnabled = bool("server.http.enabled")
        let (host, port) = ConfigValue.parseAddress(string("server.http.address"))!
        httpHost = host
        httpPort = port
        maxBodyBytes = Int(bytes("server.http.max_body_size"))
        maxUploadBytes = Int(bytes("server.http.max_upload_size"))
        idleTimeoutMillis = ms("server.http.idle_timeout")
        h2MaxConcurrentStreams = Int(int("server.http2.max_concurrent_streams"))
        httpsEnabled = bool("server.https.enabled")
        redisEnabled = bool("server.redis.enabled")
        (redisHost, redisPort) = ConfigValue.parseAddress(string("server.redis.address"))!
        redisTLSEnabled = bool("server.redis_tls.enabled")
        (redisTLSHost, redisTLSPort) = ConfigValue.parseAddress(string("server.redis_tls.address"))!
        redisTLSCertFile = string("server.redis_tls.tls.cert_file")
        redisTLSKeyFile = string("server.redis_tls.tls.key_file")
        redisTLSClientCAFile = string("server.redis_tls.tls.client_ca_file")
        clusterEnabled = bool("cluster.enabled")
        let (clusterHost, clusterPort) = ConfigValue.parseAddress(string("cluster.listen_address"))!
        self.clusterHost = clusterHost
        self.clusterPort = clusterPort
        clusterAdvertise = string("cluster.advertise_address")
        clusterCertFile = string("cluster.tls.cert_file")
        clusterKeyFile = string("cluster.tls.key_file")
        clusterCAFile = string("cluster.tls.client_ca_file")
        clusterMaxMessageBytes = Int(bytes("cluster.rpc.max_message_size"))
        let (tlsHost, tlsPort) = ConfigValue.parseAddress(string("server.https.address"))!
        httpsHost = tlsHost
        httpsPort = tlsPort
        httpsCertFile = string("server.https.tls.cert_file")
        httpsKeyFile = string("server.https.tls.key_file")
        httpsClientCAFile = string("server.https.tls.client_ca_file")
        rpcMaxMessageBytes = Int(bytes("server.rpc.max_message_size"))
        rpcCompressionMinBytes = Int(bytes("server.rpc.compression_min_size"))
        rpcDefaultTimeoutMillis = ms("server.rpc.default_timeout")
        maxConnections = Int(int("server.max_connections"))
        localEnabled = bool("server.local.enabled")
        socketPath = ServerConfig.socketPath(c)!
        shutdownGraceMillis = ms("server.shutdown.grace_period")
        shutdownTimeoutMillis = ms("server.shutdown.timeout")
        nodeID = string("cluster.node_id")
        dataDirectory = string("storage.data_dir")
        limits = SessionLimits(ttlDefaultMillis: ms("session.ttl.default"), ttlMaxMillis: ms("session.ttl.max"),
                               maxPerUser: Int(int("session.quota.max_per_user")))
        gcIntervalMillis = ms("session.ttl.gc_interval")
        gcSampleSize = Int(int("session.ttl.sample_size"))
        var a = AuthSettings()
        a.allowList = cidrs("security.auth.allow_list")
        a.trustedProxies = cidrs("security.network.trusted_proxies")
        a.rotationGraceMillis = ms("security.auth.rotation_grace")
        a.cacheCapacity = Int(int("security.auth.cache_capacity"))
        a.cacheTTLMillis = ms("security.auth.cache_ttl")
        a.argon2 = Argon2Parameters(memory: UInt32(int("security.auth.argon2.memory")),
                                    iterations: UInt32(int("security.auth.argon2.iterations")),
                                    parallelism: UInt32(int("security.auth.argon2.parallelism")))
        a.defaultRateLimit = Int(int("security.auth.default_rate_limit"))
        a.failureLimit = Int(int("security.auth.failure_limit"))
        a.antiReplayRequired = bool("security.anti_replay.required")
        a.timestampWindowMillis = ms("security.anti_replay.timestamp_window")
        a.nonceTTLMillis = ms("security.anti_replay.nonce_ttl")
        a.nonceCacheSize = Int(int("security.anti_replay.nonce_cache_size"))
        auth = a
        metricsAuthEnabled = bool("telemetry.metrics.auth_enabled")
        logLevel = string("telemetry.logging.level")
        tracingEnabled = bool("telemetry.tracing.enabled")
        tracingEndpoint = string("telemetry.tracing.endpoint")
        if case .float(let ratio) = c.value("telemetry.tracing.sampling_ratio") { tracingSamplingRatio = ratio } else { tracingSamplingRatio = 0.01 }
        auditRetentionDays = Int(int("telemetry.audit.retention_days"))
        auditSessionEvents = bool("telemetry.audit.session_events")
        let walDir = string("storage.wal.dir")
        walDirectory = walDir.isEmpty ? dataDirectory + "/wal" : walDir
        walSyncMode = string("storage.wal.sync_mode") == "sync" ? .sync : .batch(intervalMillis: Int(ms("storage.wal.sync_interval")))
        walBatchCount = Int(int("storage.wal.batch_count"))
        walBatchBytes = Int(bytes("storage.wal.batch_size"))
        walSegmentBytes = Int(bytes("storage.wal.segment_size"))
        let snapDir = string("storage.snapshot.dir")
        snapshotDirectory = snapDir.isEmpty ? dataDirectory + "/snapshots" : snapDir
        snapshotIntervalMillis = ms("storage.snapshot.interval")
        snapshotThresholdBytes = Int(bytes("storage.snapshot.threshold"))
        snapshotRetentionCount = Int(int("storage.snapshot.retention_count"))
        snapshotRetentionDays = Int(int("storage.snapshot.retention_days"))
        encryptionEnabled = bool("security.storage.encryption_enabled")
        encryptionKeyHex = string("security.storage.encryption_key")
    }

    /// Start-up warnings of spec/08 §6 that depend on values.
    public var startupWarnings: [ConfigIssue] {
        var out = loaded.warnings
        if auth.nonceTTLMillis < 2 * auth.timestampWindowMillis {
            out.append(ConfigIssue(code: .cfgRange, key: "security.anti_replay.nonce_ttl",
                                   message: "below 2 x timestamp_window leaves a replay gap", source: loaded.sources["security.anti_replay.nonce_ttl"]))
        }
        if !httpsEnabled {
            out.append(ConfigIssue(code: .cfgDependency, key: "server.https.enabled", message: "HTTPS is disabled; enable server.https for production", source: nil))
        }
        for (enabled, group, cert, key) in [(httpsEnabled, "server.https.tls", httpsCertFile, httpsKeyFile),
                                            (redisTLSEnabled, "server.redis_tls.tls", redisTLSCertFile, redisTLSKeyFile),
                                            (clusterEnabled, "cluster.tls", clusterCertFile, clusterKeyFile)] where enabled {
            out += CertificateWarnings.check(certFile: cert, keyFile: key, keyGroup: group, now: Date())
        }
        if let file = loaded.filePath, case .file? = loaded.sources["security.storage.encryption_key"],
           let mode = CertificateWarnings.mode(file), mode & 0o004 != 0 {
            out.append(ConfigIssue(code: .cfgPermission, key: "security.storage.encryption_key",
                                   message: "\(file) holds the storage encryption key and is readable by others; chmod 600 it", source: nil))
        }
        if !encryptionEnabled {
            out.append(ConfigIssue(code: .cfgDependency, key: "security.storage.encryption_enabled", message: "data at rest is written in plaintext", source: nil))
        }
        for (enabled, key, host, port) in [(httpEnabled, "server.http.address", httpHost, httpPort),
                                           (redisEnabled, "server.redis.address", redisHost, redisPort)] {
            if enabled, let ip = IPAddress(host), !(ip.isIPv4 ? ip.bytes[0] == 127 : ip.bytes == [UInt8](repeating: 0, count: 15) + [1]),
               case .bool(false) = loaded.value("security.allow_insecure_public") {
                out.append(ConfigIssue(code: .cfgConflict, key: key,
                                       message: "\(key)=\(host):\(port) accepts API keys and tokens in clear text from other hosts; enable TLS or set security.allow_insecure_public=true", source: nil))
            }
        }
        return out
    }
}
