// RootCommand: `tokmesh-cli` itself (spec/09 §1, §8.1) — the command tree with its aliases
// (`sess`, `key`, `sys`), `--version`, and the local commands `version` and `completion`, plus
// the direct-mode connectivity checks `connect` and `status`. Without a command: the REPL when
// stdin is a terminal or `-i` is given, else the usage and exit code 64.
import ArgumentParser
import Foundation
import TokMeshCore

public enum CLIVersion {
    public static let version = "0.1.0"
    public static let commit = "unknown"
    /// The executable's modification time (RFC 3339).
    public static let built = BuildInfo.builtAt
    public static var line: String { "tokmesh-cli \(version) (commit \(commit), built \(built))" }
}

public struct TokMeshCLICommand: CLIRunnable {
    public static let configuration = CommandConfiguration(
        commandName: "tokmesh-cli",
        abstract: "The operator's client for TokMesh: sessions, API keys, backups, configuration and node status.",
        discussion: "Aliases: sess = session, key = apikey, sys = system. Global flags may stand anywhere.",
        version: CLIVersion.line,
        subcommands: [SessionCommand.self, APIKeyCommand.self, BackupCommand.self, SystemCommand.self, ConfigCommand.self,
                      VersionCommand.self, CompletionCommand.self, ConnectCommand.self, StatusCommand.self, CertCommand.self])

    @Flag(name: [.customShort("i"), .customLong("interactive")], help: "Start the interactive mode (REPL).")
    var interactive = false

    public init() {}

    public func execute() async throws {
        if isatty(STDIN_FILENO) == 1 { throw ExitCode(await REPL.run(environment: ProcessInfo.processInfo.environment)) }
        if interactive { throw ExitCode(await REPL.runScript()) }
        FileHandle.standardError.write(Data((Self.helpMessage() + "\n").utf8))
        throw ExitCode(64)
    }

    /// The aliases of spec/09 §1, applied to the command words before parsing.
    public static func expandAliases(_ arguments: [String]) -> [String] {
        var args = arguments
        guard let first = args.firstIndex(where: { !$0.hasPrefix("-") }) else { return args }
        switch args[first] {
        case "sess": args[first] = "session"
        case "key": args[first] = "apikey"
        case "sys": args[first] = "system"
        case "cfg": args[first] = "config"; args.insert("server", at: first + 1)
        default: break
        }
        if args[first] == "session", first + 1 < args.count, args[first + 1] == "extend" { args[first + 1] = "renew" }
        return args
    }
}

struct VersionCommand: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the CLI's version (and the server's with -t).")
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            ctx.output.out("tokmesh-cli \(CLIVersion.version)")
            ctx.output.details(nil, [("Commit", CLIVersion.commit), ("Built", CLIVersion.built), ("Swift", "6"), ("OS/Arch", "linux/\(Self.arch)")])
            guard globals.target != nil || ctx.environment["TOKMESH_TARGET"] != nil else { return }
            let connection = try ctx.connection()
            let summary = try await connection.call(.GET, "/admin/v1/status/summary").objectValue ?? JSONObject()
            ctx.output.details("Server (\(connection.label)):", [("Address", connection.address), ("Version", summary["version"]?.stringValue ?? "-"),
                                                              ("Node", summary["node_id"]?.stringValue ?? "-")])
        }
    }

    static var arch: String {
        #if arch(x86_64)
        "amd64"
        #elseif arch(arm64)
        "arm64"
        #else
        "unknown"
        #endif
    }
}

struct CompletionCommand: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "completion", abstract: "Print a shell completion script (bash, zsh, fish).")
    @Argument(help: "bash, zsh or fish") var shell: String

    func execute() async throws {
        guard let kind = CompletionShell(rawValue: shell) else {
            FileHandle.standardError.write(Data("Error: unknown shell: \(shell) (bash, zsh or fish)\n".utf8))
            throw ExitCode(64)
        }
        print(TokMeshCLICommand.completionScript(for: kind))
    }
}

/// `connect <target>` in direct mode: probe the node and print what was found (exit 0/1/69).
struct ConnectCommand: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "connect", abstract: "Check that a target answers and what the key may do.")
    @Argument(help: "Target: alias, local, unix:<path>, http(s)://host:port") var target: String?
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        var g = globals
        if let target { g.target = target }
        guard g.target != nil || ProcessInfo.processInfo.environment["TOKMESH_TARGET"] != nil else {
            FileHandle.standardError.write(Data("Error: connect needs a target\n".utf8))
            throw ExitCode(64)
        }
        try await runCommand(g) { (ctx: Context) async throws(CLIError) in
            let connection = try ctx.connection()
            ctx.output.out("Connecting to \(connection.label)...")
            try await Probe.run(ctx, connection, uptime: false)
        }
    }
}

struct StatusCommand: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Probe the target: node, version, role, cluster, uptime.")
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            try await Probe.run(ctx, try ctx.connection(), uptime: true)
        }
    }
}

/// The connection probe of spec/09 §3: `/health`, then the status summary (admin) or the
/// role a 403 names.
enum Probe {
    static func run(_ ctx: Context, _ connection: Connection, uptime: Bool) async throws(CLIError) {
        _ = try await connection.call(.GET, "/health")
        var rows: [(String, String)] = [("Address", connection.address)]
        do throws(CLIError) {
            let summary = try await connection.call(.GET, "/admin/v1/status/summary").objectValue ?? JSONObject()
            rows += [("Node", summary["node_id"]?.stringValue ?? "-"), ("Version", summary["version"]?.stringValue ?? "-"),
                     ("Role", connection.isSocket ? "admin (local socket)" : "admin"), ("Cluster", summary["cluster_state"]?.stringValue ?? "-")]
            if uptime, let s = summary["uptime_seconds"]?.intValue { rows.append(("Uptime", Output.duration(s * 1000))) }
        } catch where error.code == "TM-ADMIN-4030" || error.code == "TM-AUTH-4030" {
            rows += [("Node", "-"), ("Version", "-"), ("Role", error.details["current_role"]?.stringValue ?? "-")]
        } catch where error.code == "TM-AUTH-4010" || error.code == "TM-AUTH-4011" || error.code == "TM-AUTH-4012" {
            throw CLIError(.server, "the key was refused by \(connection.label)", code: "TM-CLI-1004", requestID: error.requestID)
        }
        ctx.output.out("Connected to \(connection.label)")
        ctx.output.details(nil, rows)
    }
}
