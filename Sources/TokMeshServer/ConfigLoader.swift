// ConfigLoader: merges the built-in defaults, the YAML file, `TOKMESH_*` env and `--key=value`
// flags (precedence flag > env > file > default, spec/08 §1-§2), checks every value against
// the key table, collects every failure, and renders them as spec/08 §5 prints them.
import Foundation
import TokMeshCore
import Yams

public enum ConfigSource: Sendable, Equatable {
    case file(String)
    case env(String)
    case flag(String)
    case builtIn

    /// Precedence: built-in 0 < file 1 < env 2 < flag 3.
    var layer: Int {
        switch self {
        case .builtIn: 0
        case .file: 1
        case .env: 2
        case .flag: 3
        }
    }

    var suffix: String {
        switch self {
        case .file(let path): "(from file \(path))"
        case .env(let name): "(from env \(name))"
        case .flag(let name): "(from flag --\(name))"
        case .builtIn: "(default)"
        }
    }
}

public struct ConfigIssue: Sendable, Equatable, Error {
    public var code: ErrorCode
    public var key: String
    public var message: String
    public var source: ConfigSource?

    public var line: String {
        "[\(code.rawValue)] \(key): \(message)" + (source.map { " " + $0.suffix } ?? "")
    }
}

/// What the command line asked for besides configuration values.
public enum LaunchMode: Sendable, Equatable {
    case serve
    case checkConfig
    case reference
    case version
    case help
}

public struct UsageError: Error, Sendable { public var message: String }

public struct LoadedConfig: Sendable {
    public var values: [String: ConfigValue]
    public var sources: [String: ConfigSource]
    public var filePath: String?
    public var envOverrides: [String]
    public var cliOverrides: [String]
    public var warnings: [ConfigIssue]

    public func value(_ name: String) -> ConfigValue {
        guard let v = values[name] else { preconditionFailure("unknown config key \(name)") }
        return v
    }
}

public struct ConfigLoader: Sendable {
    public var arguments: [String]
    public var environment: [String: String]
    public var workingDirectory: String

    public init(arguments: [String], environment: [String: String], workingDirectory: String) {
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
    }

    /// Splits the command line into a mode, an explicit config file and flag values.
    public func parseArguments() throws(UsageError) -> (mode: LaunchMode, configFile: String?, flags: [(String, String)]) {
        var mode = LaunchMode.serve
        var file: String?
        var flags: [(String, String)] = []
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            i += 1
            guard arg.hasPrefix("--") else { throw UsageError(message: "unexpected argument: \(arg)") }
            var name = String(arg.dropFirst(2))
            var value: String?
            if let eq = name.firstIndex(of: "=") {
                value = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            switch name {
            case "help": mode = .help; continue
            case "version": mode = .version; continue
            case "config-reference": mode = .reference; continue
            case "config", "check-config":
                if value == nil {
                    guard i < arguments.count else { throw UsageError(message: "--\(name) needs a file") }
                    value = arguments[i]
                    i += 1
                }
                file = value
                if name == "check-config" { mode = .checkConfig }
                continue
            default: break
            }
            let key = name.split(separator: ".").map { $0.replacingOccurrences(of: "-", with: "_") }.joined(separator: ".")
            guard let def = ConfigKeys.byName[key] else { throw UsageError(message: "unknown flag: --\(name)") }
            if value == nil {
                if case .bool = def.kind, i >= arguments.count || arguments[i].hasPrefix("--") {
                    value = "true"
                } else {
                    guard i < arguments.count else { throw UsageError(message: "--\(name) needs a value") }
                    value = arguments[i]
                    i += 1
                }
            }
            flags.append((key, value!))
        }
        return (mode, file, flags)
    }

    /// Finds the config file: explicit (must exist), then the search path of spec/08 §1.
    func locateFile(explicit: String?) -> (path: String?, issue: ConfigIssue?) {
        let fm = FileManager.default
        if let explicit {
            let path = absolute(explicit, base: workingDirectory)
            return fm.fileExists(atPath: path) ? (path, nil)
                : (nil, ConfigIssue(code: .cfgMissing, key: "--config", message: "config file \(path) does not exist", source: nil))
        }
        if let env = environment["TOKMESH_SERVER_CONFIG_FILE"], !env.isEmpty {
            let path = absolute(env, base: workingDirectory)
            return fm.fileExists(atPath: path) ? (path, nil)
                : (nil, ConfigIssue(code: .cfgMissing, key: "TOKMESH_SERVER_CONFIG_FILE", message: "config file \(path) does not exist", source: .env("TOKMESH_SERVER_CONFIG_FILE")))
        }
        let xdg = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((environment["HOME"] ?? "/root") + "/.config")
        for candidate in ["/etc/tokmesh-server/config.yaml", workingDirectory + "/config.yaml", xdg + "/tokmesh-server/config.yaml"]
        where fm.fileExists(atPath: candidate) {
            return (candidate, nil)
        }
        return (nil, nil)
    }

    func absolute(_ path: String, base: String) -> String {
        if path.isEmpty || path.hasPrefix("/") { return path }
        var p = Substring(path)
        while p.hasPrefix("./") { p = p.dropFirst(2) }
        return (base.hasSuffix("/") ? base : base + "/") + p
    }

    /// Loads and validates everything. Throws the full list of issues on failure.
    /// `yamlText` stands in for the file's contents (`config/validate`): `explicitFile` then only
    /// names it and anchors its relative paths, and need not exist.
    public func load(explicitFile: String?, flags: [(String, String)], yamlText: String? = nil) throws(ConfigFailure) -> LoadedConfig {
        var issues: [ConfigIssue] = []
        var warnings: [ConfigIssue] = []
        var values: [String: ConfigValue] = [:]
        var sources: [String: ConfigSource] = [:]
        for key in ConfigKeys.all { values[key.name] = key.defaultValue; sources[key.name] = .builtIn }

        let (filePath, fileIssue) = yamlText != nil ? (explicitFile.map { absolute($0, base: workingDirectory) } ?? workingDirectory + "/config.yaml", nil)
            : locateFile(explicit: explicitFile)
        if let fileIssue { throw ConfigFailure(issues: [fileIssue]) }
        let fileDirectory = filePath.map { ($0 as NSString).deletingLastPathComponent } ?? workingDirectory
        if let filePath {
            readFile(filePath, text: yamlText, into: &values, sources: &sources, issues: &issues)
        } else {
            warnings.append(ConfigIssue(code: .cfgMissing, key: "config", message: "No configuration file found, using built-in defaults", source: nil))
        }

        var envOverrides: [String] = []
        for (name, raw) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("TOKMESH_") {
            guard let def = ConfigKeys.byEnvName[name] else {
                if !ConfigKeys.ignoredEnv.contains(name) {
                    warnings.append(ConfigIssue(code: .cfgFormat, key: name, message: "unknown environment variable ignored", source: .env(name)))
                }
                continue
            }
            envOverrides.append(name)
            Self.assign(def, text: raw, source: .env(name), into: &values, sources: &sources, issues: &issues)
        }
        var cliOverrides: [String] = []
        for (key, raw) in flags {
            let def = ConfigKeys.byName[key]!
            cliOverrides.append("--" + key)
            Self.assign(def, text: raw, source: .flag(key), into: &values, sources: &sources, issues: &issues)
        }

        // Merge first, validate after (spec/08 §5): a bad value that a later layer replaced
        // with a good one is no error.
        issues.removeAll { issue in
            guard let layer = issue.source?.layer, let final = sources[issue.key]?.layer else { return false }
            return final > layer
        }

        // Resolve relative paths: file values and defaults against the file's directory, env/flags against cwd.
        for key in ConfigKeys.all {
            guard case .path = key.kind, case .string(let p)? = values[key.name], !p.isEmpty else { continue }
            switch sources[key.name]! {
            case .file, .builtIn: values[key.name] = .string(absolute(p, base: fileDirectory))
            case .env, .flag: values[key.name] = .string(absolute(p, base: workingDirectory))
            }
        }
        let loaded = LoadedConfig(values: values, sources: sources, filePath: filePath, envOverrides: envOverrides,
                                  cliOverrides: cliOverrides, warnings: warnings)
        issues += ConfigValidator.crossChecks(loaded)
        guard issues.isEmpty else {
            let order = Dictionary(uniqueKeysWithValues: ConfigKeys.all.enumerated().map { ($1.name, $0) })
            throw ConfigFailure(issues: issues.sorted { (order[$0.key] ?? -1) < (order[$1.key] ?? -1) })
        }
        return loaded
    }

    private func readFile(_ path: String, text given: String?, into values: inout [String: ConfigValue], sources: inout [String: ConfigSource],
                          issues: inout [ConfigIssue]) {
        let text: String
        if let given {
            text = given
        } else {
            guard let data = FileManager.default.contents(atPath: path) else {
                issues.append(ConfigIssue(code: .cfgPermission, key: path, message: "config file is not readable", source: nil))
                return
            }
            text = String(decoding: data, as: UTF8.self)
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            var where_ = path
            if case .scanner(_, _, let mark, _) = error { where_ = "\(path):\(mark.line):\(mark.column)" }
            if case .parser(_, _, let mark, _) = error { where_ = "\(path):\(mark.line):\(mark.column)" }
            issues.append(ConfigIssue(code: .cfgFormat, key: where_, message: "YAML syntax error", source: nil))
            return
        } catch {
            issues.append(ConfigIssue(code: .cfgFormat, key: path, message: "YAML syntax error", source: nil))
            return
        }
        guard let node else { return }
        guard case .mapping(let mapping) = node else {
            issues.append(ConfigIssue(code: .cfgFormat, key: path, message: "the configuration must be a YAML mapping", source: nil))
            return
        }
        walk(mapping, prefix: "", file: path, into: &values, sources: &sources, issues: &issues)
    }

    private func walk(_ mapping: Node.Mapping, prefix: String, file: String, into values: inout [String: ConfigValue],
                      sources: inout [String: ConfigSource], issues: inout [ConfigIssue]) {
        var seen = Set<String>()
        for (keyNode, valueNode) in mapping {
            guard let name = keyNode.scalar?.string else { continue }
            let full = prefix.isEmpty ? name : prefix + "." + name
            let position = "\(file):\(keyNode.mark?.line ?? 0):\(keyNode.mark?.column ?? 0)"
            // A repeated key would silently replace (or merge into) the first one.
            guard seen.insert(name).inserted else {
                issues.append(ConfigIssue(code: .cfgFormat, key: full, message: "duplicate key at \(position)", source: .file(file)))
                continue
            }
            if let def = ConfigKeys.byName[full] {
                let source = ConfigSource.file(file)
                switch valueNode {
                case .scalar(let scalar):
                    if def.kind.isList, scalar.string.isEmpty || scalar.string == "null" || scalar.string == "~" {
                        values[full] = .list([]); sources[full] = source
                    } else {
                        Self.assign(def, text: scalar.string, source: source, fromYAML: scalar, into: &values, sources: &sources, issues: &issues)
                    }
                case .sequence(let seq):
                    guard def.kind.isList else {
                        issues.append(ConfigIssue(code: .cfgFormat, key: full, message: "expected a \(def.kind.typeName), got a list", source: source)); continue
                    }
                    let items = seq.map { $0.scalar?.string ?? "" }
                    Self.assignList(def, items: items, source: source, into: &values, sources: &sources, issues: &issues)
                default:
                    issues.append(ConfigIssue(code: .cfgFormat, key: full, message: "expected a \(def.kind.typeName), got a mapping", source: source))
                }
            } else if case .mapping(let inner) = valueNode, ConfigKeys.all.contains(where: { $0.name.hasPrefix(full + ".") }) {
                walk(inner, prefix: full, file: file, into: &values, sources: &sources, issues: &issues)
            } else {
                issues.append(ConfigIssue(code: .cfgFormat, key: full, message: "unknown configuration key at \(position)", source: .file(file)))
            }
        }
    }

    private static func assignList(_ def: ConfigKey, items: [String], source: ConfigSource, into values: inout [String: ConfigValue],
                            sources: inout [String: ConfigSource], issues: inout [ConfigIssue]) {
        var canonical: [String] = []
        for item in items {
            if case .addrList = def.kind {
                guard let (_, port) = ConfigValue.parseAddress(item) else {
                    issues.append(ConfigIssue(code: .cfgFormat, key: def.name, message: "\"\(item)\" is not host:port", source: source))
                    return
                }
                guard (1...65535).contains(port) else {
                    issues.append(ConfigIssue(code: .cfgRange, key: def.name, message: "port \(port) of \"\(item)\" is out of range 1-65535", source: source))
                    return
                }
                canonical.append(item)
                continue
            }
            guard let cidr = CIDR(item) else {
                issues.append(ConfigIssue(code: .cfgFormat, key: def.name, message: "\"\(item)\" is not an IP address or CIDR", source: source))
                return
            }
            canonical.append(cidr.description)
        }
        values[def.name] = .list(canonical)
        sources[def.name] = source
    }

    /// Parses one value for `def` as an env var or flag would give it (`config/apply`).
    static func parse(_ def: ConfigKey, text: String) -> Result<ConfigValue, ConfigIssue> {
        var values: [String: ConfigValue] = [:], sources: [String: ConfigSource] = [:], issues: [ConfigIssue] = []
        assign(def, text: text, source: .flag(def.name), into: &values, sources: &sources, issues: &issues)
        if let issue = issues.first { return .failure(issue) }
        return .success(values[def.name]!)
    }

    /// Parses one textual value for `def`; YAML scalars also check their YAML type.
    private static func assign(_ def: ConfigKey, text: String, source: ConfigSource, fromYAML scalar: Node.Scalar? = nil,
                        into values: inout [String: ConfigValue], sources: inout [String: ConfigSource], issues: inout [ConfigIssue]) {
        func fail(_ code: ErrorCode, _ message: String) {
            issues.append(ConfigIssue(code: code, key: def.name, message: message, source: source))
        }
        let quoted = scalar.map { $0.style == .singleQuoted || $0.style == .doubleQuoted } ?? false
        let t = text.trimmingWhitespace()
        switch def.kind {
        case .bool:
            let lower = scalar == nil ? t.lowercased() : t
            switch lower {
            // "1" and "0" only from env and flags; YAML wants true/false.
            case "true",
                 "1" where scalar == nil: values[def.name] = .bool(true)
            case "false",
                 "0" where scalar == nil: values[def.name] = .bool(false)
            default: return fail(.cfgFormat, "\"\(t)\" is not a boolean; use true or false")
            }
            if quoted { return fail(.cfgFormat, "\"\(t)\" is a string, not a boolean") }
        case .int(let range):
            guard !quoted, let i = Int64(t) else { return fail(.cfgFormat, "\"\(t)\" is not an integer") }
            guard range.contains(i) else { return fail(.cfgRange, "\(i) is out of range \(range.lowerBound)-\(range.upperBound)") }
            values[def.name] = .int(i)
        case .float(let range):
            guard !quoted, let d = Double(t) else { return fail(.cfgFormat, "\"\(t)\" is not a number") }
            guard range.contains(d) else { return fail(.cfgRange, "\(d) is out of range \(range.lowerBound)-\(range.upperBound)") }
            values[def.name] = .float(d)
        case .duration(let range):
            guard let ms = ConfigValue.parseDuration(t) else { return fail(.cfgFormat, "\"\(t)\" is not a duration; use e.g. 90s, 5m, 2h") }
            guard range.contains(ms) else {
                return fail(.cfgRange, "\(t) is out of range \(ConfigValue.formatDuration(range.lowerBound))-\(ConfigValue.formatDuration(range.upperBound))")
            }
            values[def.name] = .duration(ms)
        case .size(let range):
            guard let bytes = ConfigValue.parseSize(t) else { return fail(.cfgFormat, "\"\(t)\" is not a size; use e.g. 64KB, 1MB") }
            guard range.contains(bytes) else {
                return fail(.cfgRange, "\(t) is out of range \(ConfigValue.formatSize(range.lowerBound))-\(ConfigValue.formatSize(range.upperBound))")
            }
            values[def.name] = .size(bytes)
        case .addr:
            guard let (_, port) = ConfigValue.parseAddress(t) else { return fail(.cfgFormat, "\"\(t)\" is not host:port") }
            guard (1...65535).contains(port) else { return fail(.cfgRange, "port \(port) is out of range 1-65535") }
            values[def.name] = .string(t)
        case .path, .string:
            values[def.name] = .string(t)
        case .enumeration(let options):
            guard options.contains(t) else { return fail(.cfgFormat, "\"\(t)\" is not one of \(options.joined(separator: ", "))") }
            values[def.name] = .string(t)
        case .cidrList, .addrList:
            let items = t.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
            Self.assignList(def, items: items, source: source, into: &values, sources: &sources, issues: &issues)
            return
        }
        sources[def.name] = source
    }
}

public struct ConfigFailure: Error, Sendable {
    public var issues: [ConfigIssue]

    /// The stderr text of spec/08 §5.
    public var report: String {
        var out = "[FATAL] Configuration validation failed (\(issues.count) error\(issues.count == 1 ? "" : "s"))\n"
        for (i, issue) in issues.enumerated() { out += "Error \(i + 1)/\(issues.count): \(issue.line)\n" }
        return out
    }
}
