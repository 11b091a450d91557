// REPL: the interactive mode of spec/09 §7 on libedit — banner, `tokmesh> ` or
// `tokmesh:<label>> ` prompt, shell-like words, the built-ins (help, connect, disconnect,
// status, use, version, history, clear, exit, quit), every other line run as a command against
// the connected target, history in ~/.tokmesh/history with secrets written as `***`, Tab
// completion of commands, aliases, flags, enum values, targets and IDs from this REPL's latest
// list, Ctrl+C clearing the line and Ctrl+D leaving with `Goodbye!`.
import ArgumentParser
import CLibedit
import Foundation
import Synchronization
import TokMeshCore

/// What Tab can offer; filled by the REPL as it runs (libedit calls back without context).
final class CompletionState: Sendable {
    static let shared = CompletionState()
    let ids = Mutex<[String]>([])
    let targets = Mutex<[String]>([])
}

/// Set by the SIGINT handler; the REPL turns an interrupted read into a fresh prompt.
nonisolated(unsafe) var replInterrupted: sig_atomic_t = 0
/// The thread blocked in readline(): a SIGINT that lands on another thread of the process is
/// sent on to it, so the read is interrupted and the prompt starts over.
nonisolated(unsafe) var replThread: pthread_t?

public enum REPL {
    static let builtins = ["help", "connect", "disconnect", "status", "use", "version", "history", "clear", "exit", "quit"]
    static let groups: [String: [String]] = [
        "session": ["list", "get", "touch", "create", "renew", "extend", "revoke", "revoke-all", "validate"],
        "apikey": ["create", "list", "get", "disable", "enable", "rotate", "create-emergency"],
        "backup": ["snapshot", "list", "download", "restore", "status"],
        "system": ["status", "health", "ready", "gc", "wal", "audit", "shutdown"],
        "config": ["cli", "server"],
    ]
    static let aliases = ["sess", "key", "sys", "cfg"]
    static let flags = ["--user-id", "--device-id", "--output", "--quiet", "--verbose", "--no-headers", "--force", "--role", "--status", "--type",
                        "--sort-by", "--page", "--page-size", "--all", "--token", "--brief", "--ttl", "--data", "--description", "--id", "--out",
                        "--help", "--show-data", "--sync", "--dry-run"]
    static let enums: [String: [String]] = ["-o": ["table", "wide", "json", "yaml"], "--output": ["table", "wide", "json", "yaml"],
                                            "--role": ["admin", "issuer", "validator", "metrics"], "-r": ["admin", "issuer", "validator", "metrics"],
                                            "--status": ["active", "expired", "all", "disabled"], "--type": ["expired", "memory", "all"],
                                            "--sort-by": ["created_at", "last_active"]]

    struct Connected {
        var target: String
        var label: String
        var apiKey: String?
    }

    /// `-i` with piped stdin (spec/09 §1): every line runs as a command, without a prompt, and
    /// the first failure ends the run with its exit code (as `sh -e`).
    public static func runScript() async -> Int32 {
        while let line = readLine(strippingNewline: true) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let words = try? split(trimmed) else {
                FileHandle.standardError.write(Data("Error: unbalanced quotes\n".utf8))
                return 64
            }
            if words == ["exit"] || words == ["quit"] { return 0 }
            let code = await runCommand(TokMeshCLICommand.expandAliases(words), connected: nil)
            if code != 0 { return code }
        }
        return 0
    }

    public static func run(environment: [String: String]) async -> Int32 {
        let config = CLIConfig.load(explicit: nil, environment: environment)
        CompletionState.shared.targets.withLock { $0 = ["local"] + config.targets.keys.sorted() }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let historyDir = home + "/.tokmesh", historyFile = historyDir + "/history"
        try? FileManager.default.createDirectory(atPath: historyDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        tm_no_signal_handlers()
        using_history()
        stifle_history(1000)
        read_history(historyFile)
        tm_set_completion { text, start, _ in
            tm_completion_over()
            let line = String(cString: tm_line_buffer())
            let before = String(line.utf8.prefix(Int(start))) ?? ""
            let candidates = REPL.candidates(before: before, word: text.map { String(cString: $0) } ?? "")
            guard !candidates.isEmpty else { return nil }
            return REPL.matches(candidates)
        }
        installInterruptHandler()
        // Where the terminal hands Ctrl+C to libedit as a key rather than a signal.
        _ = rl_bind_key(3) { _, _ in
            replInterrupted = 1
            _ = "^C\n".withCString { write(STDOUT_FILENO, $0, 3) }
            tm_set_done()
            return 0
        }
        print("TokMesh CLI v\(CLIVersion.version)")
        print("Type 'help' for available commands, 'exit' to quit.")
        var connected: Connected?
        var lastLine: String?
        while true {
            replInterrupted = 0
            let prompt = connected.map { "tokmesh:\($0.label)> " } ?? "tokmesh> "
            let read = interruptible { readline(prompt) }
            guard let raw = read else {
                if replInterrupted != 0 { continue }
                print("Goodbye!")
                return 0
            }
            let line = String(cString: raw)
            free(raw)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            if !line.hasPrefix(" ") && line != lastLine {
                add_history(scrub(line))
                write_history(historyFile)
                chmod(historyFile, 0o600)
                lastLine = line
            }
            guard let words = try? split(trimmed), let first = words.first else {
                FileHandle.standardError.write(Data("Error: unbalanced quotes\n".utf8))
                continue
            }
            switch first {
            case "exit", "quit":
                print("Goodbye!")
                return 0
            case "clear":
                print("\u{1B}[H\u{1B}[2J", terminator: "")
            case "history":
                if words.dropFirst().first == "clear" {
                    clear_history()
                    write_history(historyFile)
                } else {
                    var i = tm_history_base()
                    while let entry = history_get(i) {
                        print(String(format: "%5d  ", i) + String(cString: entry.pointee.line))
                        i += 1
                    }
                }
            case "disconnect":
                if let c = connected { print("Disconnected from \(c.label).") } else { print("Not connected.") }
                connected = nil
            case "connect", "use":
                connected = await connect(words, config: config, previous: connected)
            case "status" where words.count == 1:
                guard let c = connected else {
                    print("Not connected.\nUse 'connect <target>' to connect to a node.")
                    continue
                }
                await runCommand(["status"], connected: c)
            case "help":
                let rest = Array(words.dropFirst())
                await runCommand(TokMeshCLICommand.expandAliases(rest) + ["--help"], connected: connected)
            case "version":
                await runCommand(["version"] + (connected.map { ["-t", $0.target] } ?? []), connected: nil)
            default:
                let args = TokMeshCLICommand.expandAliases(words)
                if args.contains(where: { ["-t", "--target", "-k", "--api-key"].contains($0.split(separator: "=").first.map(String.init) ?? $0) }) {
                    FileHandle.standardError.write(Data("Error: -t and -k are not accepted here; use 'connect <target> [-k key]'\n".utf8))
                    continue
                }
                let local = ["completion", "config"].contains(args.first ?? "") && (args.dropFirst().first == "cli" || args.first == "completion")
                guard connected != nil || local else {
                    notConnected(config)
                    continue
                }
                await runCommand(args, connected: connected)
            }
        }
    }

    /// Runs one command line as direct mode would, with the connection's target and key;
    /// returns its exit code.
    @discardableResult
    static func runCommand(_ args: [String], connected: Connected?) async -> Int32 {
        var full = GlobalOptions.hoist(args)
        if let c = connected {
            full += ["-t", c.target]
            if let key = c.apiKey { full += ["-k", key] }
        }
        do {
            let command = try TokMeshCLICommand.parseAsRoot(full)
            if let runnable = command as? any CLIRunnable { try await runnable.execute() } else {
                var plain = command
                try plain.run()
            }
            return 0
        } catch let exit as ExitCode {
            return exit.rawValue
        } catch {
            let message = TokMeshCLICommand.fullMessage(for: error)
            if !message.isEmpty { print(message) }
            return TokMeshCLICommand.exitCode(for: error).rawValue
        }
    }

    static func connect(_ words: [String], config: CLIConfig, previous: Connected?) async -> Connected? {
        let isUse = words[0] == "use"
        guard words.count >= 2 else {
            FileHandle.standardError.write(Data("Error: \(words[0]) needs a target\n".utf8))
            return previous
        }
        let name = words[1]
        if isUse && config.targets[name] == nil && name != "local" {
            print("unknown alias: \"\(name)\"\nAvailable targets: \((["local"] + config.targets.keys.sorted()).joined(separator: ", "))\nUse 'connect <url>' for direct connection")
            return previous
        }
        var key: String?
        if let i = words.firstIndex(where: { $0 == "-k" || $0 == "--api-key" }), i + 1 < words.count { key = words[i + 1] }
        do {
            let globals = try GlobalOptions.parse(["-t", name] + (key.map { ["-k", $0] } ?? []))
            let context = try Context.make(globals)
            let connection = try context.connection()
            print("Connecting to \(connection.label)...")
            try await Probe.run(context, connection, uptime: false)
            if isUse { print("Switched to \(connection.label) (\(connection.address))") }
            return Connected(target: name, label: connection.label, apiKey: connection.isSocket ? nil : connection.apiKey)
        } catch let error as CLIError {
            FileHandle.standardError.write(Data((error.block().trimmingCharacters(in: .newlines) + "\n").utf8))
            return previous
        } catch {
            return previous
        }
    }

    static func notConnected(_ config: CLIConfig) {
        var text = "Error: Not connected.\nUse 'connect <target>' to connect to a node first.\n\nAvailable targets from config:\n"
        text += "  - local      (unix:\(config.targets["local"]?.socket ?? CLIConfig.builtInSocket()))\n"
        for (alias, t) in config.targets.sorted(by: { $0.key < $1.key }) where alias != "local" {
            text += "  - \(alias.padding(toLength: 10, withPad: " ", startingAt: 0)) (\(t.url ?? "unix:" + (t.socket ?? "")))\n"
        }
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// History lines with the values of -k, --api-key, --token and connect's key as `***`.
    static func scrub(_ line: String) -> String {
        guard let words = try? split(line) else { return line.contains("tmas_") || line.contains("tmtk_") ? "***" : line }
        var out: [String] = []
        var hide = false
        for w in words {
            if hide { out.append("***"); hide = false; continue }
            let name = w.split(separator: "=", maxSplits: 1).first.map(String.init) ?? w
            if ["-k", "--api-key", "--token"].contains(name) {
                if w.contains("=") { out.append(name + "=***") } else { out.append(w); hide = true }
                continue
            }
            out.append(w.hasPrefix("tmas_") || w.hasPrefix("tmtk_") || w.hasPrefix("tmth_") || w.contains(":tmas_") ? "***" : w)
        }
        return out.joined(separator: " ")
    }

    /// Shell-like words: '…', "…" and backslash; no expansion.
    static func split(_ line: String) throws -> [String] {
        var words: [String] = [], current = "", inWord = false
        var quote: Character?
        var escape = false
        for c in line {
            if escape { current.append(c); escape = false; inWord = true; continue }
            if c == "\\" && quote != "'" { escape = true; continue }
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
                continue
            }
            if c == "'" || c == "\"" { quote = c; inWord = true; continue }
            if c == " " || c == "\t" {
                if inWord { words.append(current); current = ""; inWord = false }
                continue
            }
            current.append(c)
            inWord = true
        }
        if quote != nil || escape { throw CLIError.usage("unbalanced quotes") }
        if inWord { words.append(current) }
        return words
    }

    /// What Tab offers for the word being typed after `before`.
    static func candidates(before: String, word: String) -> [String] {
        let previous = (try? split(before)) ?? []
        let pool: [String]
        if previous.isEmpty {
            pool = builtins + groups.keys.sorted() + ["completion"]
        } else if let last = previous.last, let values = enums[last] {
            pool = values
        } else if ["connect", "use"].contains(previous[0]) && previous.count == 1 {
            pool = CompletionState.shared.targets.withLock { $0 }
        } else if word.hasPrefix("-") {
            pool = flags
        } else if previous.count == 1, let subs = groups[TokMeshCLICommand.expandAliases(previous)[0]] {
            pool = subs
        } else {
            pool = CompletionState.shared.ids.withLock { $0 }
        }
        return pool.filter { $0.hasPrefix(word) }
    }

    /// A malloc'd NULL-terminated array for libedit: the common prefix first, then the matches.
    static func matches(_ candidates: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        var prefix = candidates[0]
        for c in candidates.dropFirst() { while !c.hasPrefix(prefix) { prefix.removeLast() } }
        // a unique match is completed with the space that ends the word
        let list = candidates.count == 1 ? [candidates[0] + " "] : [prefix] + candidates
        let array = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: list.count + 1)
        for (i, s) in list.enumerated() { array[i] = strdup(s) }
        array[list.count] = nil
        return array
    }

    /// Runs a blocking terminal read that Ctrl+C interrupts: this thread (a worker thread starts
    /// with signals blocked) takes SIGINT, and a SIGINT landing elsewhere is sent on to it.
    static func interruptible<T>(_ read: () -> T) -> T {
        replInterrupted = 0
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        replThread = pthread_self()
        defer { replThread = nil }
        return read()
    }

    static func installInterruptHandler() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            if let reader = replThread, pthread_equal(reader, pthread_self()) == 0 {
                pthread_kill(reader, signal)
                return
            }
            guard replInterrupted == 0 else { return }
            replInterrupted = 1
            // A terminal in cooked mode has echoed `^C` itself; libedit's raw mode has not.
            var mode = termios()
            let echoed = tcgetattr(STDIN_FILENO, &mode) == 0 && mode.c_lflag & tcflag_t(ECHO) != 0 && mode.c_lflag & tcflag_t(ECHOCTL) != 0
            _ = (echoed ? "\n" : "^C\n").withCString { write(STDOUT_FILENO, $0, strlen($0)) }
            // libedit retries a read interrupted once; a second, pending signal ends it.
            if let reader = replThread { pthread_kill(reader, signal) }
        }
        action.sa_flags = 0  // no SA_RESTART: the read in progress returns and the prompt starts over
        sigemptyset(&action.sa_mask)
        sigaction(SIGINT, &action, nil)
    }
}
