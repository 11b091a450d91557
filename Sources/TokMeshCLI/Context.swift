// Context: what every command starts from — the global flags (spec/09 §2) merged with the
// environment and cli.yaml (flag > env > file > built-in), the output settings, and helpers
// shared by commands: the target connection, confirmations (a TTY or --force), secrets read
// without echo, and the one place that turns a CLIError into its stderr block and exit code.
import ArgumentParser
import Foundation
import TokMeshCore

public struct GlobalOptions: ParsableArguments, Sendable {
    @Option(name: [.customShort("t"), .customLong("target")], help: "Target: alias, local, unix:<path>, http(s)://host:port.")
    var target: String?
    @Option(name: [.customShort("k"), .customLong("api-key")], help: "API key <key_id>:<secret> (prefer TOKMESH_API_KEY).")
    var apiKey: String?
    @Option(name: [.customShort("o"), .customLong("output")], help: "Output: table, wide, json, yaml.")
    var output: String?
    @Option(name: [.customShort("c"), .customLong("config")], help: "cli.yaml to use.")
    var config: String?
    @Option(name: .customLong("timeout"), help: "Per-request timeout (e.g. 30s).")
    var timeout: String?
    @Option(name: .customLong("tls-ca"), help: "CA bundle for HTTPS targets.")
    var tlsCA: String?
    @Option(name: .customLong("tls-cert"), help: "Client certificate (with --tls-key).")
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "Client key (with --tls-cert).")
    var tlsKey: String?
    @Flag(name: .customLong("no-color"), help: "No colours.")
    var noColor = false
    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "Print only the essential value.")
    var quiet = false
    @Flag(name: .customLong("no-headers"), help: "Tables without header and footer.")
    var noHeaders = false
    @Flag(name: .customLong("verbose"), help: "Request lines, status, time and request IDs on stderr.")
    var verbose = false

    public init() {}

    func timeoutMillis(config: CLIConfig, environment: [String: String]) -> Int64 {
        (timeout ?? environment["TOKMESH_TIMEOUT"]).flatMap { Durations.parseMillis($0, allowDays: true) } ?? config.timeoutMillis
    }

    /// The global flags that take a value, and the ones that do not (for `hoist`).
    static let valued: Set<String> = ["-t", "--target", "-k", "--api-key", "-o", "--output", "-c", "--config", "--timeout", "--tls-ca", "--tls-cert", "--tls-key"]
    static let switches: Set<String> = ["--no-color", "-q", "--quiet", "--no-headers", "--verbose"]

    /// Global flags may stand anywhere (spec/09 §1): they are moved behind the command words,
    /// where the leaf command's option group reads them.
    public static func hoist(_ arguments: [String]) -> [String] {
        var rest: [String] = [], globals: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a == "--" { rest += arguments[i...]; break }
            let name = a.split(separator: "=", maxSplits: 1).first.map(String.init) ?? a
            if valued.contains(name) {
                if a.contains("=") { globals.append(a) } else if i + 1 < arguments.count {
                    globals += [a, arguments[i + 1]]
                    i += 1
                } else { rest.append(a) }
            } else if switches.contains(a) {
                globals.append(a)
            } else {
                rest.append(a)
            }
            i += 1
        }
        return rest + globals
    }
}

struct Context: Sendable {
    let globals: GlobalOptions
    let config: CLIConfig
    let output: Output
    let environment: [String: String]

    static func make(_ globals: GlobalOptions) throws(CLIError) -> Context {
        let environment = ProcessInfo.processInfo.environment
        let config = CLIConfig.load(explicit: globals.config, environment: environment)
        let formatName = globals.output ?? environment["TOKMESH_OUTPUT"].flatMap { $0.isEmpty ? nil : $0 } ?? config.output
        guard let format = Output.Format(rawValue: formatName) else { throw CLIError.usage("unknown output format: \(formatName)") }
        let stdoutTTY = isatty(STDOUT_FILENO) == 1, stderrTTY = isatty(STDERR_FILENO) == 1
        let colour = stdoutTTY && !globals.noColor && (environment["NO_COLOR"] ?? "").isEmpty && !config.noColor && environment["TERM"] != "dumb"
            && (format == .table || format == .wide)
        let output = Output(format: format, quiet: globals.quiet, noHeaders: globals.noHeaders, color: colour, stdoutTTY: stdoutTTY,
                            stderrTTY: stderrTTY, verbose: globals.verbose)
        let context = Context(globals: globals, config: config, output: output, environment: environment)
        for warning in config.warnings { output.err(warning) }
        if let failure = config.failure { throw failure }
        return context
    }

    /// The target named by -t, TOKMESH_TARGET, cli.yaml `default`, else `local`.
    var targetName: String? {
        let name = globals.target ?? environment["TOKMESH_TARGET"].flatMap { $0.isEmpty ? nil : $0 } ?? config.defaultTarget
        return name.isEmpty ? nil : name
    }

    func connection(needKey: Bool = true) throws(CLIError) -> Connection {
        guard let name = targetName else { throw CLIError.usage("remote command requires a target (-t)") }
        return try Connection.resolve(name, config: config, globals: globals, environment: environment, needKey: needKey) {
            Context.readSecret(prompt: "API Key: ")
        }
    }

    /// Reads a secret from the terminal without echo (nil without a TTY).
    static func readSecret(prompt: String) -> String? {
        guard isatty(STDIN_FILENO) == 1, isatty(STDERR_FILENO) == 1 else { return nil }
        FileHandle.standardError.write(Data(prompt.utf8))
        var old = termios()
        tcgetattr(STDIN_FILENO, &old)
        var silent = old
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSANOW, &old)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        return REPL.interruptible { Context.readTerminalLine() }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// One line from stdin with plain read(2), so Ctrl+C (EINTR) ends it: nil then, or at EOF.
    static func readTerminalLine() -> String? {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = read(STDIN_FILENO, &byte, 1)
            if n == 1 {
                if byte == 0x0A { return String(decoding: bytes, as: UTF8.self) }
                bytes.append(byte)
            } else if n < 0 && errno == EINTR && replInterrupted == 0 {
                continue
            } else {
                return n == 0 && !bytes.isEmpty ? String(decoding: bytes, as: UTF8.self) : nil
            }
        }
    }

    /// `<question> [y/N]: ` (or typing `word`); --force skips; no TTY without --force → 64.
    func confirm(_ question: String, action: String, force: Bool, word: String? = nil) throws(CLIError) {
        if force { return }
        guard isatty(STDIN_FILENO) == 1, isatty(STDERR_FILENO) == 1 else {
            throw CLIError.usage("refusing to \(action) without confirmation; use --force")
        }
        FileHandle.standardError.write(Data((word.map { "\(question)\nType '\($0)' to confirm: " } ?? "\(question) [y/N]: ").utf8))
        let answer = REPL.interruptible { Context.readTerminalLine() } ?? ""
        if replInterrupted != 0 { throw CLIError(.cancelled, "Cancelled.") }
        let ok = word.map { answer == $0 } ?? (answer == "y" || answer == "Y")
        if !ok { throw CLIError(.cancelled, "Cancelled.") }
    }

    /// Prints a failure the §5 way (json/yaml: the error document on stdout) and returns the exit code.
    func report(_ error: CLIError) -> ExitCode {
        if error.kind == .cancelled {
            output.err("Cancelled.")
        } else if error.kind == .failed {
            // already explained by the command (a token that is not valid, a failed restore)
        } else if output.structured {
            output.out(output.render(.object(error.document())))
        } else {
            output.err(error.block().trimmingCharacters(in: .newlines))
        }
        return ExitCode(error.exitCode)
    }

    /// `⚠  Shown only once. Store it securely now.`
    func onceOnly() { output.err("⚠  Shown only once. Store it securely now.") }
}

/// Runs a command body with the shared context; a CLIError becomes its block and exit code.
func runCommand(_ globals: GlobalOptions, _ body: (Context) async throws(CLIError) -> Void) async throws {
    let context: Context
    do {
        context = try Context.make(globals)
    } catch {
        let fallback = Output(format: .table, quiet: false, noHeaders: false, color: false, stdoutTTY: false, stderrTTY: false, verbose: false)
        fallback.err(error.block().trimmingCharacters(in: .newlines))
        throw ExitCode(error.exitCode)
    }
    do {
        try await body(context)
    } catch {
        throw context.report(error)
    }
}

/// A command of this CLI. The entry point calls `execute()` itself instead of going through
/// swift-argument-parser's async `run()` dispatch; a group without a subcommand prints its help.
public protocol CLIRunnable: ParsableCommand {
    func execute() async throws
}

extension CLIRunnable {
    public func execute() async throws { throw CleanExit.helpRequest(self) }
}
