// RuntimeConfig: the configuration a running node can change (spec/08 §7). SIGHUP and
// `POST /admin/v1/config/reload` re-read the file loaded at start with the env and flags of the
// start, validate everything, and apply the hot keys atomically — the log level, the global
// allow-list, the default rate limit and the failure limit — reporting other changed keys as
// ignored (restart needed); an invalid file changes nothing. `config/apply` sets hot values on
// this node until the next reload. `config/validate` runs the same load on a candidate text.
// Certificate pairs are re-read on every reload by the TLS reloader. The default action of
// SIGHUP, ending the process, never happens.
import CoreMetrics
import Dispatch
import Foundation
import Synchronization
import TokMeshAuth
import TokMeshCore

final class RuntimeConfig: Sendable {
    /// Keys this node applies without a restart (the TLS file keys are the TLS reloader's).
    static let appliedLive: Set<String> = ["telemetry.logging.level", "security.auth.allow_list",
                                           "security.auth.default_rate_limit", "security.auth.failure_limit"]
    static let successes = CoreMetrics.Counter(label: "tokmesh_config_reloads_total", dimensions: [("result", "success")])
    static let failures = CoreMetrics.Counter(label: "tokmesh_config_reloads_total", dimensions: [("result", "failure")])

    private let loader: ConfigLoader
    private let file: String?
    private let flags: [(String, String)]
    private let logger: Logger
    private let authenticator: Authenticator
    /// What the last successful load produced, and the `config/apply` values laid over it.
    private let state: Mutex<(loaded: LoadedConfig, overrides: [String: ConfigValue])>
    /// Re-reads every certificate pair with the new paths; returns the TLS groups that changed
    /// (`server.https.tls`…).
    let tlsReload = Mutex<(@Sendable (ServerConfig) -> [String])?>(nil)

    init(current: ServerConfig, loader: ConfigLoader, file: String?, flags: [(String, String)], logger: Logger, authenticator: Authenticator) {
        self.loader = loader
        self.file = file
        self.flags = flags
        self.logger = logger
        self.authenticator = authenticator
        state = Mutex((current.loaded, [:]))
    }

    /// The values in effect: the last load with the applied overrides on top.
    var effective: LoadedConfig {
        state.withLock { s in
            var merged = s.loaded
            for (k, v) in s.overrides { merged.values[k] = v }
            return merged
        }
    }

    /// Handles SIGHUP from now on; keep the returned source alive.
    func installSignalHandler(onReload: @escaping @Sendable (Result<(updated: [String], ignored: [String]), ConfigFailure>) -> Void) -> any DispatchSourceSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler { [self] in
            do throws(ConfigFailure) {
                onReload(.success(try reload(trigger: "SIGHUP")))
            } catch {
                onReload(.failure(error))
            }
        }
        source.resume()
        return source
    }

    /// Loads the file again; applies the changed hot keys or throws with every issue.
    @discardableResult
    func reload(trigger: String) throws(ConfigFailure) -> (updated: [String], ignored: [String]) {
        let next: LoadedConfig
        do {
            next = try loader.load(explicitFile: file, flags: flags)
        } catch {
            logger.log(.error, "tokmesh.config", "configuration reload failed; the running configuration is kept", [
                "event": "config_reload_failed", "trigger": .string(trigger), "errors": .array(error.issues.map(Self.issueJSON)),
            ])
            Self.failures.increment()
            throw error
        }
        let before = effective
        state.withLock { $0 = (next, [:]) }
        let changed = Set(before.values.keys).union(next.values.keys).filter { before.values[$0] != next.values[$0] }.sorted()
        let tlsKeys = changed.filter { ConfigKeys.byName[$0]?.hot == true && !Self.appliedLive.contains($0) }
        var updated = changed.filter { Self.appliedLive.contains($0) }
        let ignored = changed.filter { !Self.appliedLive.contains($0) && !tlsKeys.contains($0) }
        let nextConfig = ServerConfig(next)
        applyHot(nextConfig)
        updated += tlsReload.withLock { $0 }?(nextConfig) ?? []
        Self.successes.increment()
        if !ignored.isEmpty {
            logger.log(.warn, "tokmesh.config", "restart required for changed keys", ["event": "config_warning", "keys": .strings(ignored)])
        }
        logger.log(.info, "tokmesh.config", "configuration reloaded", [
            "event": "config_reloaded", "trigger": .string(trigger), "file": next.filePath.map { .string($0) } ?? .null,
            "updated": .strings(updated), "ignored": .strings(ignored),
        ])
        logger.log(.debug, "tokmesh.config", "log level in effect", ["level": .string(nextConfig.logLevel)])
        return (updated, ignored)
    }

    /// `config/apply`: sets hot values on this node until the next reload. Unknown keys and
    /// invalid values throw TM-CFG-* with every error; restart-only and TLS file keys are
    /// rejected without failing the call. Returns the updated keys and the rejected ones.
    func apply(_ object: JSONObject) throws(TokMeshError) -> (updated: [String], rejected: [(key: String, reason: String)], old: JSONObject, new: JSONObject) {
        var flat: [(String, JSONValue)] = []
        Self.flatten(object, prefix: "", into: &flat)
        var errors: [JSONValue] = []
        var parsed: [String: ConfigValue] = [:]
        var rejected: [(key: String, reason: String)] = []
        for (key, value) in flat {
            guard let def = ConfigKeys.byName[key] else {
                errors.append(.object(["code": .string(ErrorCode.cfgFormat.rawValue), "field": .string(key), "message": "unknown configuration key"]))
                continue
            }
            guard Self.appliedLive.contains(key) else {
                rejected.append((key, def.hot ? "certificate files change through the file and config/reload" : "restart required"))
                continue
            }
            guard let text = Self.text(value) else {
                errors.append(.object(["code": .string(ErrorCode.cfgFormat.rawValue), "field": .string(key), "message": "expected a scalar or a list of strings"]))
                continue
            }
            switch ConfigLoader.parse(def, text: text) {
            case .success(let v): parsed[key] = v
            case .failure(let issue):
                errors.append(.object(["code": .string(issue.code.rawValue), "field": .string(key), "message": .string(def.secret ? "invalid value" : issue.message)]))
            }
        }
        if !errors.isEmpty {
            let first = ErrorCode(rawValue: errors.first?.objectValue?["code"]?.stringValue ?? "") ?? .cfgFormat
            throw TokMeshError(first, "configuration rejected; nothing applied", details: ["errors": .array(errors)])
        }
        let (old, new, updated) = state.withLock { s -> (JSONObject, JSONObject, [String]) in
            var old = JSONObject(), new = JSONObject(), updated: [String] = []
            for key in parsed.keys.sorted() {
                let current = s.overrides[key] ?? s.loaded.values[key]
                s.overrides[key] = parsed[key]
                updated.append(key)
                old.append(key, current?.json ?? .null)
                new.append(key, parsed[key]!.json)
            }
            return (old, new, updated)
        }
        applyHot(ServerConfig(effective))
        logger.log(.info, "tokmesh.config", "configuration applied", ["event": "config_reloaded", "trigger": "config/apply", "updated": .strings(updated)])
        return (updated, rejected, old, new)
    }

    /// `config/validate`: the full start-up validation of `yaml` as this node's file (with its
    /// env and flags), binding nothing; changes against the running values, secrets redacted.
    func validate(yaml: String) -> JSONObject {
        do {
            let candidate = try loader.load(explicitFile: file ?? "config.yaml", flags: flags, yamlText: yaml)
            let running = effective
            var changes: [JSONValue] = []
            for def in ConfigKeys.all where candidate.values[def.name] != running.values[def.name] {
                func shown(_ v: ConfigValue?) -> JSONValue { def.secret ? "***REDACTED***" : v?.json ?? .null }
                changes.append(.object(["key": .string(def.name), "from": shown(running.values[def.name]), "to": shown(candidate.values[def.name]),
                                        "hot": .bool(def.hot)]))
            }
            let warnings = (candidate.warnings + ServerConfig(candidate).startupWarnings).map { w -> JSONValue in
                .object(["field": .string(w.key), "message": .string(w.message)])
            }
            return ["valid": true, "errors": .array([]), "warnings": .array(warnings), "changes": .array(changes)]
        } catch {
            return ["valid": false, "errors": .array(error.issues.map(Self.issueJSON)), "warnings": .array([]), "changes": .array([])]
        }
    }

    private func applyHot(_ c: ServerConfig) {
        if let level = Logger.Level(name: c.logLevel) { logger.setLevel(level) }
        let auth = c.auth
        if authenticator.settings.allowList != auth.allowList || authenticator.settings.defaultRateLimit != auth.defaultRateLimit
            || authenticator.settings.failureLimit != auth.failureLimit {
            authenticator.updateSettings { s in
                s.allowList = auth.allowList
                s.defaultRateLimit = auth.defaultRateLimit
                s.failureLimit = auth.failureLimit
            }
        }
    }

    static func issueJSON(_ issue: ConfigIssue) -> JSONValue {
        let secret = ConfigKeys.byName[issue.key]?.secret == true
        return .object(["code": .string(issue.code.rawValue), "field": .string(issue.key), "key": .string(issue.key),
                        "message": .string(secret ? "invalid value" : issue.message)])
    }

    private static func flatten(_ object: JSONObject, prefix: String, into out: inout [(String, JSONValue)]) {
        for (k, v) in object.pairs {
            let key = prefix.isEmpty ? k : prefix + "." + k
            if case .object(let inner) = v, ConfigKeys.byName[key] == nil { flatten(inner, prefix: key, into: &out) } else { out.append((key, v)) }
        }
    }

    private static func text(_ value: JSONValue) -> String? {
        switch value {
        case .string(let s): s
        case .bool(let b): String(b)
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .array(let items):
            items.allSatisfy { $0.stringValue != nil } ? items.compactMap(\.stringValue).joined(separator: ",") : nil
        default: nil
        }
    }
}
