// ConfigValidator: the cross-key rules of spec/08 §5 that single-value parsing cannot see
// (TTL default ≤ max, grace ≤ shutdown timeout, upload ≥ body size, node ID format, socket path
// length, listeners sharing a port). File-system checks (data directory, LOCK) run when the node opens its data directory.
import TokMeshCore

enum ConfigValidator {
    static func crossChecks(_ c: LoadedConfig) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        func issue(_ code: ErrorCode, _ key: String, _ message: String) {
            issues.append(ConfigIssue(code: code, key: key, message: message, source: c.sources[key]))
        }
        if case .duration(let d) = c.value("session.ttl.default"), case .duration(let m) = c.value("session.ttl.max"), d > m {
            issue(.cfgConflict, "session.ttl.default", "must not exceed session.ttl.max")
        }
        if case .duration(let g) = c.value("server.shutdown.grace_period"), case .duration(let t) = c.value("server.shutdown.timeout"), g > t {
            issue(.cfgConflict, "server.shutdown.grace_period", "must not exceed server.shutdown.timeout")
        }
        if case .size(let u) = c.value("server.http.max_upload_size"), case .size(let b) = c.value("server.http.max_body_size"), u < b {
            issue(.cfgConflict, "server.http.max_upload_size", "must be at least server.http.max_body_size")
        }
        if case .string(let id) = c.value("cluster.node_id"), !id.isEmpty, !NodeIdentity.isValid(id) {
            issue(.cfgRange, "cluster.node_id", "must be tmnd- followed by [a-z0-9-], 6-64 characters, ending in [a-z0-9]")
        }
        if let path = ServerConfig.socketPath(c), path.utf8.count > 107 {
            issue(.cfgRange, "server.local.socket_path", "resolved socket path is longer than 107 bytes")
        }
        if case .string(let key) = c.value("security.storage.encryption_key"), !key.isEmpty, StorageKey.parseHex(key) == nil {
            issue(.cfgFormat, "security.storage.encryption_key", "must be 64 hexadecimal characters")
        }
        if case .bool(true) = c.value("telemetry.tracing.enabled"), case .string(let endpoint) = c.value("telemetry.tracing.endpoint") {
            if endpoint.isEmpty {
                issue(.cfgDependency, "telemetry.tracing.endpoint", "required when telemetry.tracing.enabled is true")
            } else if !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) || endpoint.utf8.count < 10 {
                issue(.cfgFormat, "telemetry.tracing.endpoint", "must be an http:// or https:// URL")
            }
        }
        if case .bool(true) = c.value("cluster.enabled") {
            for key in ["cluster.advertise_address", "cluster.tls.cert_file", "cluster.tls.key_file", "cluster.tls.client_ca_file"] {
                if case .string(let value) = c.value(key), value.isEmpty {
                    issue(.cfgDependency, key, "required when cluster.enabled is true")
                }
            }
            if case .string(let advertise) = c.value("cluster.advertise_address"), !advertise.isEmpty {
                if let (host, _) = ConfigValue.parseAddress(advertise) {
                    if host == "0.0.0.0" || host == "::" { issue(.cfgConflict, "cluster.advertise_address", "must name a reachable host, not a wildcard") }
                } else {
                    issue(.cfgFormat, "cluster.advertise_address", "must be host:port")
                }
            }
        }
        if case .list(let seeds) = c.value("cluster.discovery.seeds") {
            if !seeds.isEmpty, c.value("cluster.enabled") != .bool(true) {
                issue(.cfgDependency, "cluster.discovery.seeds", "seeds need cluster.enabled: true")
            }
            if case .int(let expect) = c.value("cluster.bootstrap.expect_nodes"), expect > 1, seeds.isEmpty {
                issue(.cfgDependency, "cluster.bootstrap.expect_nodes", "more than one expected node needs cluster.discovery.seeds")
            }
        }
        for listener in ["server.https", "server.redis_tls"] {
            guard case .bool(true) = c.value(listener + ".enabled") else { continue }
            let missing = [listener + ".tls.cert_file", listener + ".tls.key_file"].filter { c.value($0) == .string("") }
            if missing.count == 2 {
                issue(.cfgDependency, missing[0], "a certificate and key (\(missing[1])) are required when \(listener).enabled is true")
            } else if let key = missing.first {
                issue(.cfgDependency, key, "required when \(listener).enabled is true")
            }
        }
        issues += listenerConflicts(c)
        return issues
    }

    /// Two enabled listeners on one port with overlapping hosts (equal, or a wildcard:
    /// `0.0.0.0` overlaps every IPv4 host, `::` every host).
    static func listenerConflicts(_ c: LoadedConfig) -> [ConfigIssue] {
        let listeners = [("server.http.enabled", "server.http.address"), ("server.https.enabled", "server.https.address"),
                         ("server.redis.enabled", "server.redis.address"), ("server.redis_tls.enabled", "server.redis_tls.address"),
                         ("cluster.enabled", "cluster.listen_address")]
        let bound: [(key: String, host: String, port: Int)] = listeners.compactMap { enabled, key in
            guard c.value(enabled) == .bool(true), case .string(let text) = c.value(key),
                  let (host, port) = ConfigValue.parseAddress(text) else { return nil }
            return (key, host, port)
        }
        func overlap(_ a: String, _ b: String) -> Bool {
            a == b || a == "::" || b == "::" || (a == "0.0.0.0" && !b.contains(":")) || (b == "0.0.0.0" && !a.contains(":"))
        }
        var issues: [ConfigIssue] = []
        for (i, later) in bound.enumerated() {
            guard let earlier = bound[..<i].first(where: { $0.port == later.port && overlap($0.host, later.host) }) else { continue }
            issues.append(ConfigIssue(code: .cfgConflict, key: later.key,
                                      message: "listens on port \(later.port) like \(earlier.key) (\(earlier.host):\(earlier.port))",
                                      source: c.sources[later.key]))
        }
        return issues
    }
}
