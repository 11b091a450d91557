// ConfigCommands: `tokmesh-cli config …` (spec/09 §8.4) — `cli show|validate` (local: this
// CLI's own settings with their sources, the key redacted) and `server show|test|reload|diff|set`
// (the node's configuration routes; `test` without --remote runs the server's own validator,
// `tokmesh-server --check-config`).
import ArgumentParser
import Foundation
import TokMeshCore

struct ConfigCommand: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "This CLI's configuration (cli) and the node's (server).",
                                                    subcommands: [ConfigCLI.self, ConfigServer.self])
}

struct ConfigCLI: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "cli", abstract: "cli.yaml: show, validate.", subcommands: [Show.self, Validate.self])

    struct Show: CLIRunnable {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "The CLI's effective settings and their sources.")
        @OptionGroup var globals: GlobalOptions

        func execute() async throws {
            try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
                let c = ctx.config
                var targets = JSONObject()
                for (alias, t) in c.targets.sorted(by: { $0.key < $1.key }) {
                    var o = JSONObject()
                    if let url = t.url { o.append("url", .string(url)) }
                    if let socket = t.socket { o.append("socket", .string(socket)) }
                    if t.apiKey != nil { o.append("api_key", "***REDACTED***") }
                    targets.append(alias, .object(o))
                }
                let doc: JSONObject = ["config_file": c.path.map { .string($0) } ?? .null, "default": .string(c.defaultTarget), "targets": .object(targets),
                                       "defaults": .object(["output": .string(c.output), "timeout": .string(Output.duration(c.timeoutMillis)),
                                                            "no_color": .bool(c.noColor)])]
                if ctx.output.structured { return ctx.output.out(ctx.output.document(.object(doc))) }
                ctx.output.out("Config file: \(c.path ?? "none (built-in defaults)")")
                ctx.output.out(ctx.output.render(.object(doc)).split(separator: "\n").dropFirst(0).joined(separator: "\n"))
            }
        }
    }

    struct Validate: CLIRunnable {
        static let configuration = CommandConfiguration(commandName: "validate", abstract: "Check cli.yaml (exit 78 when invalid).")
        @Option(name: [.customShort("c"), .customLong("config")]) var file: String?

        func execute() async throws {
            let c = CLIConfig.load(explicit: file, environment: ProcessInfo.processInfo.environment)
            for w in c.warnings { FileHandle.standardError.write(Data((w + "\n").utf8)) }
            guard !c.issues.isEmpty else { print("Configuration is valid."); return }
            for (i, issue) in c.issues.enumerated() {
                FileHandle.standardError.write(Data("Error \(i + 1)/\(c.issues.count): [TM-CLI-1001] \(issue.key): \(issue.message)\n".utf8))
            }
            throw ExitCode(78)
        }
    }
}

struct ConfigServer: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "server", abstract: "The node's configuration: show, test, reload, diff, set.",
                                                    subcommands: [Show.self, Test.self, Reload.self, Diff.self, Set.self])

    struct Show: CLIRunnable {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "The node's hot keys and cluster settings, or every value with --merged.")
        @Flag(name: .customLong("merged")) var merged = false
        @OptionGroup var globals: GlobalOptions

        func execute() async throws {
            try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
                let data = try await ctx.connection().call(.GET, "/admin/v1/config", query: merged ? [("merged", "true")] : [])
                if ctx.output.format == .json { return ctx.output.out(ctx.output.document(data)) }
                var yaml = ctx.output
                yaml.format = .yaml
                ctx.output.out(yaml.render(data))
            }
        }
    }

    struct Test: CLIRunnable {
        static let configuration = CommandConfiguration(commandName: "test", abstract: "Validate a server config file (locally, or on the node with --remote).")
        @Argument var file: String
        @Flag(name: .customLong("remote")) var remote = false
        @OptionGroup var globals: GlobalOptions

        func execute() async throws {
            try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
                let yaml = try Input.text(file)
                if remote {
                    let connection = try ctx.connection()
                    ctx.output.out("\(ctx.output.remote(connection.label)) Testing \(file) on \(connection.label)...")
                    let r = try await connection.call(.POST, "/admin/v1/config/validate", body: ["config_yaml": .string(yaml)]).objectValue ?? JSONObject()
                    try Self.report(ctx, valid: r["valid"]?.boolValue == true,
                                    errors: (r["errors"]?.arrayValue ?? []).compactMap(\.objectValue).map { "[\($0["code"]?.stringValue ?? "")] \($0["field"]?.stringValue ?? ""): \($0["message"]?.stringValue ?? "")" },
                                    warnings: (r["warnings"]?.arrayValue ?? []).compactMap { $0.objectValue?["message"]?.stringValue })
                    return
                }
                ctx.output.out(ctx.output.paint("[LOCAL]", "90") + " Testing \(file)...")
                guard let server = Self.serverBinary() else {
                    ctx.output.err("Warning: tokmesh-server not found; only YAML syntax was checked.")
                    return
                }
                let process = Process()
                process.executableURL = URL(fileURLWithPath: server)
                process.arguments = ["--check-config", file]
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = pipe
                do { try process.run() } catch { throw CLIError.unavailable("cannot run \(server)") }
                let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                let lines = text.split(separator: "\n").map(String.init)
                try Self.report(ctx, valid: process.terminationStatus == 0,
                                errors: lines.compactMap { l in l.range(of: "] ").map { _ in l.hasPrefix("Error ") ? String(l.drop(while: { $0 != "[" })) : nil } ?? nil },
                                warnings: lines.filter { $0.hasPrefix("Warning: ") }.map { String($0.dropFirst(9)) })
            }
        }

        static func report(_ ctx: Context, valid: Bool, errors: [String], warnings: [String]) throws(CLIError) {
            if valid {
                ctx.output.out(ctx.output.status("✓") + " Configuration is valid.")
                for w in warnings { ctx.output.out(ctx.output.paint("⚠", "33") + " \(w)") }
                return
            }
            for e in errors { ctx.output.out("  \(e)") }
            throw CLIError(.failed, "invalid configuration")
        }

        /// `tokmesh-server` next to this executable, else on PATH.
        static func serverBinary() -> String? {
            let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            let sibling = (me as NSString).deletingLastPathComponent + "/tokmesh-server"
            if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
            for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
                let p = "\(dir)/tokmesh-server"
                if FileManager.default.isExecutableFile(atPath: p) { return p }
            }
            return nil
        }
    }

    struct Reload: CLIRunnable {
        static let configuration = CommandConfiguration(commandName: "reload", abstract: "Re-read the node's configuration file (= SIGHUP).")
        @OptionGroup var globals: GlobalOptions

        func execute() async throws {
            try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
                let connection = try ctx.connection()
                let r = try await connection.call(.POST, "/admin/v1/config/reload", body: JSONObject()).objectValue ?? JSONObject()
                if ctx.output.structured { return ctx.output.out(ctx.output.document(.object(r))) }
                if ctx.output.quiet { return }
                ctx.output.out("\(ctx.output.remote(connection.label)) Configuration reloaded.")
                ctx.output.out("Updated:")
                for k in r["updated"]?.arrayValue ?? [] { ctx.output.out("  - \(Output.plain(k))") }
                ctx.output.out("Ignored (restart required):")
                for k in r["ignored"]?.arrayValue ?? [] { ctx.output.out("  - \(Output.plain(k))") }
            }
        }
    }

    struct Diff: CLIRunnable {
        static let configuration = CommandConfiguration(commandName: "diff", abstract: "What a new file would change on the node.")
        @Option(name: .customLong("new")) var new: String
        @OptionGroup var globals: GlobalOptions

        func execute() async throws {
            try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
                let yaml = try Input.text(new)
                let r = try await ctx.connection().call(.POST, "/admin/v1/config/validate", body: ["config_yaml": .string(yaml)]).objectValue ?? JSONObject()
                if ctx.output.structured { return ctx.output.out(ctx.output.document(.object(r))) }
                guard r["valid"]?.boolValue == true else {
                    for e in (r["errors"]?.arrayValue ?? []).compactMap(\.objectValue) {
                        ctx.output.out("  [\(e["code"]?.stringValue ?? "")] \(e["field"]?.stringValue ?? ""): \(e["message"]?.stringValue ?? "")")
                    }
                    throw CLIError(.failed, "invalid configuration")
                }
                var restart = false
                for c in (r["changes"]?.arrayValue ?? []).compactMap(\.objectValue) {
                    ctx.output.out("  ~ \(c["key"]?.stringValue ?? ""): \(Output.plain(c["from"] ?? .null)) -> \(Output.plain(c["to"] ?? .null))")
                    if c["hot"]?.boolValue != true { restart = true }
                }
                ctx.output.out("Restart required: \(restart ? "yes" : "no")")
            }
        }
    }

    struct Set: CLIRunnable {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Apply hot values on the node until its next reload.")
        @Argument(help: "key=value pairs") var pairs: [String]
        @OptionGroup var globals: GlobalOptions

        func execute() async throws {
            try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
                var body = JSONObject()
                for pair in pairs {
                    guard let eq = pair.firstIndex(of: "=") else { throw CLIError.usage("expected key=value: \(pair)") }
                    body.append(String(pair[..<eq]), .string(String(pair[pair.index(after: eq)...])))
                }
                let connection = try ctx.connection()
                let r = try await connection.call(.POST, "/admin/v1/config/apply", body: body).objectValue ?? JSONObject()
                if ctx.output.structured { return ctx.output.out(ctx.output.document(.object(r))) }
                ctx.output.out("\(ctx.output.remote(connection.label)) Updated:")
                for k in r["updated"]?.arrayValue ?? [] { ctx.output.out("  - \(Output.plain(k))") }
                let rejected = (r["rejected"]?.arrayValue ?? []).compactMap(\.objectValue)
                if !rejected.isEmpty {
                    ctx.output.out("Rejected:")
                    for k in rejected { ctx.output.out("  - \(k["key"]?.stringValue ?? ""): \(k["reason"]?.stringValue ?? "")") }
                }
            }
        }
    }
}
