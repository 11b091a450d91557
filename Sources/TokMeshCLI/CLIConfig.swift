// CLIConfig: `cli.yaml` (spec/08 §9) — the search order (-c, TOKMESH_CLI_CONFIG, XDG, ~/.tokmesh,
// /etc), the keys (default target, targets with url or socket, api_key, tls files; output,
// timeout, no_color defaults), validation with every problem as TM-CLI-1001 (exit 78), the
// permission warning for a file that holds a key, and the built-in `local` target when no
// file defines one.
import Foundation
import TokMeshCore
import Yams

public struct CLITarget: Sendable, Equatable {
    public var url: String?
    public var socket: String?
    public var apiKey: String?
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
}

public struct CLIConfig: Sendable {
    public var path: String?
    public var defaultTarget: String = "local"
    public var targets: [String: CLITarget] = [:]
    public var output: String = "table"
    public var timeoutMillis: Int64 = 30_000
    public var noColor = false
    /// Problems found (each is one `Error i/N` line); empty when valid.
    public var issues: [(key: String, message: String)] = []
    public var warnings: [String] = []

    static let outputs = ["table", "wide", "json", "yaml"]

    /// The socket of the built-in `local` target: the first that exists, else the first.
    public static func builtInSocket(fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }) -> String {
        let candidates = ["/run/tokmesh-server/tokmesh-server.sock", "/var/lib/tokmesh-server/tokmesh-server.sock", "./data/tokmesh-server.sock"]
        return candidates.first(where: fileExists) ?? candidates[0]
    }

    /// Finds and reads the file; an explicit file that does not exist is an issue.
    public static func load(explicit: String?, environment: [String: String]) -> CLIConfig {
        var config = CLIConfig()
        let home = environment["HOME"] ?? NSHomeDirectory()
        var candidates: [(String, Bool)] = []
        if let explicit, !explicit.isEmpty { candidates.append((explicit, true)) } else if let env = environment["TOKMESH_CLI_CONFIG"], !env.isEmpty {
            candidates.append((env, true))
        } else {
            let xdg = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.config"
            candidates += [(xdg + "/tokmesh-cli/cli.yaml", false), (home + "/.tokmesh/cli.yaml", false), ("/etc/tokmesh-cli/cli.yaml", false)]
        }
        for (path, required) in candidates {
            guard FileManager.default.fileExists(atPath: path) else {
                if required {
                    config.issues.append(("config", "configuration file \(path) does not exist"))
                    return config
                }
                continue
            }
            config.path = path
            config.read(path)
            break
        }
        return config
    }

    private mutating func read(_ path: String) {
        guard let data = FileManager.default.contents(atPath: path) else { issues.append(("config", "\(path) is not readable")); return }
        let node: Node?
        do { node = try Yams.compose(yaml: String(decoding: data, as: UTF8.self)) } catch {
            issues.append(("config", "YAML syntax error in \(path)"))
            return
        }
        guard let node else { return }
        guard let root = node.mapping else { issues.append(("config", "the file must be a YAML mapping")); return }
        let directory = (path as NSString).deletingLastPathComponent
        func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : directory + "/" + p }
        var holdsKey = false
        for (k, v) in root {
            guard let key = k.string else { continue }
            switch key {
            case "default":
                defaultTarget = v.string ?? ""
            case "defaults":
                for (dk, dv) in v.mapping ?? [:] {
                    let name = dk.string ?? ""
                    switch name {
                    case "output":
                        if let o = dv.string, Self.outputs.contains(o) { output = o } else { issues.append(("defaults.output", "must be one of table, wide, json, yaml")) }
                    case "timeout":
                        if let t = dv.string.flatMap({ Durations.parseMillis($0, allowDays: true) }), (1000...600_000).contains(t) { timeoutMillis = t } else {
                            issues.append(("defaults.timeout", "must be a duration from 1s to 10m"))
                        }
                    case "no_color":
                        if let b = dv.bool { noColor = b } else { issues.append(("defaults.no_color", "must be true or false")) }
                    default: issues.append(("defaults." + name, "unknown key"))
                    }
                }
            case "targets":
                for (tk, tv) in v.mapping ?? [:] {
                    let alias = tk.string ?? ""
                    guard alias.range(of: "^[a-z0-9_-]{1,32}$", options: .regularExpression) != nil else {
                        issues.append(("targets." + alias, "aliases are 1-32 characters of a-z, 0-9, _ and -"))
                        continue
                    }
                    var target = CLITarget()
                    for (fk, fv) in tv.mapping ?? [:] {
                        let field = fk.string ?? ""
                        switch field {
                        case "url": target.url = fv.string
                        case "socket": target.socket = fv.string.map(resolve)
                        case "api_key": target.apiKey = fv.string; holdsKey = true
                        case "tls":
                            for (sk, sv) in fv.mapping ?? [:] {
                                switch sk.string ?? "" {
                                case "ca_file": target.caFile = sv.string.map(resolve)
                                case "cert_file": target.certFile = sv.string.map(resolve)
                                case "key_file": target.keyFile = sv.string.map(resolve)
                                default: issues.append(("targets.\(alias).tls.\(sk.string ?? "")", "unknown key"))
                                }
                            }
                        default: issues.append(("targets.\(alias).\(field)", "unknown key"))
                        }
                    }
                    if (target.url == nil) == (target.socket == nil) {
                        issues.append(("targets.\(alias)", "exactly one of url and socket"))
                    } else if let url = target.url, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                        issues.append(("targets.\(alias).url", "must start with http:// or https://"))
                    }
                    targets[alias] = target
                }
            default:
                issues.append((key, "unknown key"))
            }
        }
        if !defaultTarget.isEmpty && defaultTarget != "local" && targets[defaultTarget] == nil {
            issues.append(("default", "no target named \"\(defaultTarget)\""))
        }
        if holdsKey, let attributes = try? FileManager.default.attributesOfItem(atPath: path),
           let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 {
            warnings.append("Warning: Config file \(path) has insecure permissions (\(String(format: "%04o", mode))).\n"
                            + "         Recommended: chmod 600 \(path)")
        }
    }

    var failure: CLIError? {
        guard let first = issues.first else { return nil }
        var e = CLIError(.config, "invalid CLI configuration: \(first.key): \(first.message)", code: "TM-CLI-1001")
        e.details = issues.count > 1 ? ["errors": .int(Int64(issues.count))] : [:]
        return e
    }
}
