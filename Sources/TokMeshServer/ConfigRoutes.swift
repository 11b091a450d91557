// ConfigRoutes: the configuration routes of spec/04 §8.2 — `GET config` (hot keys and cluster
// settings, or every effective value with `merged=true`, secrets redacted), `config/apply`
// (hot values on this node until the next reload), `config/validate` (a candidate file's
// verdict as data) and `config/reload` (= SIGHUP). All are admin-only and audited.
import NIOHTTP1
import TokMeshCore

enum ConfigRoutes {
    /// Cluster settings (C in spec/08 §4) this build knows; they change only through the
    /// control plane, which arrives with the cluster work.
    static let clusterSettings: Set<String> = ["session.ttl.default", "session.ttl.max", "session.quota.max_per_user"]

    static func routes(_ node: NodeContext) -> [(String, String, RouteSpec)] {
        let audit = AuditSpec(action: { _ in "CONFIG_UPDATED" }, resource: { _ in "config" })
        return [
            ("GET", "/admin/v1/config", RouteSpec(access: .minimum(.admin), queryParameters: ["merged"], servedWhenNotReady: true) {
                (call: RouteCall) throws(TokMeshError) -> RouteResult in
                let merged = try call.query.bool("merged") ?? false
                return RouteResult(.ok, tree(node.runtime.effective, all: merged))
            }),
            ("POST", "/admin/v1/config/apply", RouteSpec(access: .minimum(.admin), audit: audit, servedWhenNotReady: true, rawBody: true) {
                (call: RouteCall) throws(TokMeshError) -> RouteResult in
                let object = try jsonObject(call.request.body)
                for key in flattenedKeys(object) where clusterSettings.contains(key) {
                    throw TokMeshError(.cfgDependency, "cluster settings change through the control plane, which this node does not run yet",
                                       details: ["errors": .array([.object(["code": .string(ErrorCode.cfgDependency.rawValue), "field": .string(key),
                                                                            "message": "cluster setting: not changeable at runtime in this build"])])])
                }
                let outcome = try node.runtime.apply(object)
                let rejected: [JSONValue] = outcome.rejected.map { .object(["key": .string($0.key), "reason": .string($0.reason)]) }
                let message = outcome.updated.isEmpty ? "nothing applied" : "applied on this node until the next reload"
                return RouteResult(.ok, ["updated": .strings(outcome.updated), "rejected": .array(rejected), "message": .string(message)],
                                   auditDetails: ["old": .object(outcome.old), "new": .object(outcome.new)])
            }),
            ("POST", "/admin/v1/config/validate", RouteSpec(access: .minimum(.admin), replayMandatory: false, servedWhenNotReady: true, rawBody: true) {
                (call: RouteCall) throws(TokMeshError) -> RouteResult in
                let type = (call.request.headers.first(name: "content-type") ?? "").lowercased()
                let yaml: String
                if type.hasPrefix("application/yaml") || type.hasPrefix("text/yaml") || type.hasPrefix("application/x-yaml") {
                    yaml = String(decoding: call.request.body, as: UTF8.self)
                } else {
                    let body = try JSONBody(bytes: call.request.body, allowed: ["config_yaml"])
                    guard let text = try body.string("config_yaml") else { throw TokMeshError.missing("config_yaml") }
                    yaml = text
                }
                return RouteResult(.ok, node.runtime.validate(yaml: yaml))
            }),
            ("POST", "/admin/v1/config/reload", RouteSpec(access: .minimum(.admin), bodyFields: [], audit: audit, servedWhenNotReady: true) {
                (_: RouteCall) throws(TokMeshError) -> RouteResult in
                do throws(ConfigFailure) {
                    let outcome = try node.runtime.reload(trigger: "config/reload")
                    return RouteResult(.ok, ["updated": .strings(outcome.updated), "ignored": .strings(outcome.ignored)],
                                       auditDetails: ["updated": .strings(outcome.updated), "ignored": .strings(outcome.ignored)])
                } catch {
                    let code = error.issues.first?.code ?? .cfgFormat
                    throw TokMeshError(code, "the configuration file is invalid; nothing applied",
                                       details: ["errors": .array(error.issues.map(RuntimeConfig.issueJSON))])
                }
            }),
        ]
    }

    private static func jsonObject(_ bytes: [UInt8]) throws(TokMeshError) -> JSONObject {
        guard !bytes.isEmpty else { return JSONObject() }
        guard case .object(let o)? = try? JSONParser.parse(bytes) else {
            throw TokMeshError(.sysMalformed, "the body must be a JSON object of configuration keys")
        }
        return o
    }

    private static func flattenedKeys(_ object: JSONObject, prefix: String = "") -> [String] {
        object.pairs.flatMap { k, v -> [String] in
            let key = prefix.isEmpty ? k : prefix + "." + k
            if case .object(let inner) = v, ConfigKeys.byName[key] == nil { return flattenedKeys(inner, prefix: key) }
            return [key]
        }
    }

    /// The values as a nested object (`{"telemetry":{"logging":{"level":"info"}}}`), secrets
    /// redacted; all keys, or only the hot keys and cluster settings.
    static func tree(_ config: LoadedConfig, all: Bool) -> JSONObject {
        var root = JSONObject()
        for def in ConfigKeys.all where all || def.hot || clusterSettings.contains(def.name) {
            let value: JSONValue = def.secret ? (config.values[def.name] == .string("") ? "" : "***REDACTED***") : (config.values[def.name]?.json ?? .null)
            insert(&root, path: def.name.split(separator: ".").map(String.init)[...], value: value)
        }
        return root
    }

    private static func insert(_ object: inout JSONObject, path: ArraySlice<String>, value: JSONValue) {
        guard let head = path.first else { return }
        if path.count == 1 { object[head] = value; return }
        var inner = object[head]?.objectValue ?? JSONObject()
        insert(&inner, path: path.dropFirst(), value: value)
        object[head] = .object(inner)
    }
}
