// SessionCommands: `tokmesh-cli session …` (spec/09 §8.2) — list, get, touch, create, renew,
// revoke, revoke-all and validate over the JSON API, with the tables, detail blocks, `-q`
// values, confirmations and exit codes the spec gives each.
import ArgumentParser
import Foundation
import TokMeshCore

struct SessionCommand: CLIRunnable {
    static let configuration = CommandConfiguration(
        commandName: "session", abstract: "Sessions: list, get, touch, create, renew (alias extend), revoke, revoke-all, validate.",
        subcommands: [SessionList.self, SessionGet.self, SessionTouch.self, SessionCreate.self, SessionRenew.self, SessionRevoke.self,
                      SessionRevokeAll.self, SessionValidate.self])
}

enum SessionView {
    /// Sessions carry `id`; create/renew answers name it `session_id`.
    static func id(_ s: JSONObject) -> String { s["id"]?.stringValue ?? s["session_id"]?.stringValue ?? "-" }

    static func status(_ s: JSONObject, now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) -> String {
        if let status = s["status"]?.stringValue { return status }
        if let revoked = s["revoked_at"]?.intValue, revoked != 0 { return "revoked" }
        if let expires = s["expires_at"]?.intValue, expires <= now { return "expired" }
        return "active"
    }

    static func row(_ s: JSONObject, wide: Bool, output: Output) -> [String] {
        var row = [output.id(id(s)), Output.plain(s["user_id"] ?? .null), Output.plain(s["device_id"] ?? .null),
                   Output.localTime(s["created_at"]?.intValue ?? 0, seconds: false), Output.localTime(s["expires_at"]?.intValue ?? 0, seconds: false),
                   output.status(status(s))]
        if wide {
            row += [Output.plain(s["ip_address"] ?? .null), Output.localTime(s["last_active"]?.intValue ?? 0, seconds: false),
                    Output.plain(s["created_by"] ?? .null), Output.plain(s["version"] ?? .null),
                    String(s["data"]?.objectValue?.keys.count ?? 0)]
        }
        return row
    }

    static func details(_ s: JSONObject, output: Output, showData: Bool) {
        var rows: [(String, String)] = [
            ("User ID", Output.plain(s["user_id"] ?? .null)), ("Device ID", Output.plain(s["device_id"] ?? .null)),
            ("Status", output.status(status(s))), ("IP Address", Output.plain(s["ip_address"] ?? .null)),
            ("User Agent", Output.plain(s["user_agent"] ?? .null)),
            ("Last Access IP", Output.plain(s["last_access_ip"] ?? .null)), ("Last Access UA", Output.plain(s["last_access_ua"] ?? .null)),
            ("Created At", Output.detailTime(s["created_at"]?.intValue ?? 0)), ("Expires At", Output.detailTime(s["expires_at"]?.intValue ?? 0)),
            ("Last Active", Output.detailTime(s["last_active"]?.intValue ?? 0)), ("Created By", Output.plain(s["created_by"] ?? .null)),
            ("Version", Output.plain(s["version"] ?? .null)),
        ]
        let data = s["data"]?.objectValue ?? JSONObject()
        rows.append(("Data", data.isEmpty ? "-" : showData ? "" : "\(data.keys.count) keys (use --show-data)"))
        output.details("Session \(output.id(id(s)))", rows)
        if showData { for (k, v) in data.pairs { output.out("    \(k) = \(Output.plain(v))") } }
    }
}

struct SessionList: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List sessions (issuer with -u; admin otherwise).")
    @Option(name: [.customShort("u"), .customLong("user-id")]) var userID: String?
    @Option(name: [.customShort("d"), .customLong("device-id")]) var deviceID: String?
    @Option(name: .customLong("key-id")) var keyID: String?
    @Option(name: .customLong("ip")) var ip: String?
    @Option(name: .customLong("status")) var status: String = "active"
    @Option(name: .customLong("created-after")) var createdAfter: String?
    @Option(name: .customLong("created-before")) var createdBefore: String?
    @Option(name: .customLong("active-after")) var activeAfter: String?
    @Option(name: .customLong("fields"), help: "Columns/fields to return, comma-separated.") var fields: String?
    @Option(name: .customLong("sort-by")) var sortBy: String?
    @Option(name: .customLong("sort-order")) var sortOrder: String?
    @Option(name: .customLong("page")) var page: Int = 1
    @Option(name: .customLong("page-size")) var pageSize: Int = 20
    @Flag(name: [.customShort("a"), .customLong("all")]) var all = false
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            let connection = try ctx.connection()
            var size = pageSize
            if size > 100 { size = 100; ctx.output.err("Warning: --page-size capped at 100") }
            var query: [(String, String)] = [("status", status)]
            if let userID { query.append(("user_id", userID)) }
            if let deviceID { query.append(("device_id", deviceID)) }
            if let keyID { query.append(("key_id", keyID.lowercased())) }
            if let ip { query.append(("ip_address", ip)) }
            for (name, value) in [("created_after", createdAfter), ("created_before", createdBefore), ("active_after", activeAfter)] {
                guard let value else { continue }
                guard let ms = Times.parse(value) else { throw CLIError.usage("bad time for --\(name.replacingOccurrences(of: "_", with: "-")): \(value)") }
                query.append((name, String(ms)))
            }
            if let fields { query.append(("fields", fields)) }
            if let sortBy { query.append(("sort_by", sortBy)) }
            if let sortOrder { query.append(("sort_order", sortOrder)) }
            var items: [JSONValue] = []
            var total: Int64 = 0
            var current = all ? 1 : page
            while true {
                let data = try await connection.call(.GET, "/sessions", query: query + [("page", String(current)), ("size", String(all ? 100 : size))])
                let object = data.objectValue ?? JSONObject()
                let pageItems = object["items"]?.arrayValue ?? []
                items += pageItems
                total = object["pagination"]?.objectValue?["total"]?.intValue ?? Int64(items.count)
                guard all, !pageItems.isEmpty, items.count < total else { break }
                if items.count >= 10_000 { ctx.output.err("Warning: stopped at 10,000 sessions; narrow the filter"); break }
                current += 1
            }
            CompletionState.shared.ids.withLock { $0 = items.compactMap(\.objectValue).map(SessionView.id) }
            let out = ctx.output
            if out.structured {
                out.out(out.document(.object(["items": .array(items), "pagination": .object(["page": .int(Int64(current)), "total": .int(total)])])))
                return
            }
            if out.quiet { for s in items { out.out(s.objectValue.map(SessionView.id) ?? "") }; return }
            let wide = out.format == .wide
            var headers = ["SESSION ID", "USER ID", "DEVICE ID", "CREATED", "EXPIRES", "STATUS"]
            if wide { headers += ["IP ADDRESS", "LAST ACTIVE", "CREATED BY", "VERSION", "DATA KEYS"] }
            let pages = max(1, (total + Int64(size) - 1) / Int64(size))
            out.table(headers, items.compactMap(\.objectValue).map { SessionView.row($0, wide: wide, output: out) },
                      footer: "Total: \(total) sessions" + (all ? "" : " (page \(page) of \(pages))"))
        }
    }
}

struct SessionGet: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show one session.")
    @Argument var sessionID: String
    @Flag(name: .customLong("show-data")) var showData = false
    @Flag(name: .customLong("touch")) var touch = false
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            let connection = try ctx.connection()
            let id = sessionID.lowercased()
            let data = touch ? try await connection.call(.POST, "/sessions/\(id)/touch", body: JSONObject())
                : try await connection.call(.GET, "/sessions/\(id)")
            if ctx.output.structured { return ctx.output.out(ctx.output.document(data)) }
            if ctx.output.quiet { return }
            SessionView.details(data.objectValue ?? JSONObject(), output: ctx.output, showData: showData)
        }
    }
}

struct SessionTouch: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "touch", abstract: "Mark a session active now.")
    @Argument var sessionID: String
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            let connection = try ctx.connection()
            let data = try await connection.call(.POST, "/sessions/\(sessionID.lowercased())/touch", body: JSONObject())
            if ctx.output.structured { return ctx.output.out(ctx.output.document(data)) }
            if ctx.output.quiet { return }
            ctx.output.out("\(ctx.output.remote(connection.label)) Session touched.")
            SessionView.details(data.objectValue ?? JSONObject(), output: ctx.output, showData: false)
        }
    }
}

struct SessionCreate: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a session (issuer).")
    @Option(name: [.customShort("u"), .customLong("user-id")]) var userID: String
    @Option(name: [.customShort("d"), .customLong("device-id")]) var deviceID: String?
    @Option(name: .customLong("ttl"), help: "Lifetime, e.g. 2h (whole seconds).") var ttl: String?
    @Option(name: .customLong("token"), help: "Your own token, or - to read it from stdin.") var token: String?
    @Option(name: .customLong("data"), help: "A JSON object of strings.") var data: String?
    @Option(name: .customLong("data-file"), help: "A file (or -) holding the data object.") var dataFile: String?
    @Option(name: .customLong("session-id")) var sessionID: String?
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            var body: JSONObject = ["user_id": .string(userID)]
            if let deviceID { body["device_id"] = .string(deviceID) }
            if let ttl {
                guard let ms = Durations.parseMillis(ttl, allowDays: true), ms % 1000 == 0, ms > 0 else { throw CLIError.usage("--ttl must be whole seconds, e.g. 90s or 2h") }
                body["ttl_seconds"] = .int(ms / 1000)
            }
            if data != nil && dataFile != nil { throw CLIError.usage("--data and --data-file exclude each other") }
            if let text = try dataFile.map({ (path: String) throws(CLIError) -> String in try Input.text(path) }) ?? data {
                guard case .object(let object)? = try? JSONParser.parse(Array(text.utf8)), object.pairs.allSatisfy({ $0.value.stringValue != nil }) else {
                    throw CLIError(.data, "--data must be a JSON object of strings", code: "TM-CLI-1007")
                }
                body["data"] = .object(object)
            }
            if let token { body["token"] = .string(token == "-" ? try Input.text("-").trimmingCharacters(in: .whitespacesAndNewlines) : token) }
            if let sessionID { body["session_id"] = .string(sessionID.lowercased()) }
            let connection = try ctx.connection()
            let created = try await connection.call(.POST, "/sessions", body: body).objectValue ?? JSONObject()
            let out = ctx.output
            let generated = token == nil
            if out.structured {
                out.out(out.document(.object(created)))
                if generated { ctx.onceOnly() }
                return
            }
            if out.quiet { return out.out((generated ? created["token"] : created["session_id"])?.stringValue ?? "") }
            out.out("\(out.remote(connection.label)) Session created.")
            var rows: [(String, String)] = [("Session ID", out.id(created["session_id"]?.stringValue ?? "-"))]
            if generated { rows.append(("Token", created["token"]?.stringValue ?? "-")) }
            rows += [("User ID", Output.plain(created["user_id"] ?? .null)), ("Expires At", Output.detailTime(created["expires_at"]?.intValue ?? 0))]
            out.details(nil, rows)
            if generated { ctx.onceOnly() }
        }
    }
}

struct SessionRenew: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "renew", abstract: "Give a session a new lifetime from now (issuer).")
    @Argument var sessionID: String
    @Option(name: .customLong("ttl")) var ttl: String
    @Option(name: .customLong("expected-version")) var expectedVersion: Int?
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            guard let ms = Durations.parseMillis(ttl, allowDays: true), ms % 1000 == 0, ms > 0 else { throw CLIError.usage("--ttl must be whole seconds, e.g. 90s or 2h") }
            var body: JSONObject = ["ttl_seconds": .int(ms / 1000)]
            if let expectedVersion { body["expected_version"] = .int(Int64(expectedVersion)) }
            let connection = try ctx.connection()
            let r = try await connection.call(.POST, "/sessions/\(sessionID.lowercased())/renew", body: body).objectValue ?? JSONObject()
            if ctx.output.structured { return ctx.output.out(ctx.output.document(.object(r))) }
            if ctx.output.quiet { return }
            ctx.output.out("\(ctx.output.remote(connection.label)) Session renewed.")
            ctx.output.details(nil, [("Session ID", ctx.output.id(r["session_id"]?.stringValue ?? "-")),
                                     ("Previous Expiry", Output.detailTime(r["previous_expires_at"]?.intValue ?? 0)),
                                     ("New Expiry", Output.detailTime(r["new_expires_at"]?.intValue ?? 0)), ("Version", Output.plain(r["version"] ?? .null))])
        }
    }
}

struct SessionRevoke: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke one session (issuer).")
    @Argument var sessionID: String
    @Flag(name: .customLong("sync"), help: "Answer only once the revocation is durable everywhere.") var sync = false
    @Flag(name: [.customShort("f"), .customLong("force")]) var force = false
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            let id = sessionID.lowercased()
            let connection = try ctx.connection()
            try ctx.confirm("Revoke session \(id)?", action: "revoke a session", force: force)
            let r = try await connection.call(.POST, "/sessions/\(id)/revoke", body: sync ? ["sync": true] : JSONObject()).objectValue ?? JSONObject()
            if ctx.output.structured { return ctx.output.out(ctx.output.document(.object(r))) }
            if ctx.output.quiet { return }
            if r["revoked"]?.boolValue == false {
                return ctx.output.out("Nothing to revoke: session \(id) is unknown or already revoked.")
            }
            ctx.output.out("\(ctx.output.remote(connection.label)) Session revoked.")
            ctx.output.details(nil, [("Revoked At", Output.detailTime(r["revoked_at"]?.intValue ?? 0))])
        }
    }
}

struct SessionRevokeAll: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "revoke-all", abstract: "Revoke every session of a user (issuer).")
    @Argument var user: String?
    @Option(name: [.customShort("u"), .customLong("user-id")]) var userID: String?
    @Flag(name: .customLong("sync")) var sync = false
    @Flag(name: .customLong("dry-run")) var dryRun = false
    @Flag(name: [.customShort("f"), .customLong("force")]) var force = false
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            guard let who = user ?? userID else { throw CLIError.usage("revoke-all needs a user ID (argument or -u)") }
            let connection = try ctx.connection()
            let found = try await connection.call(.GET, "/sessions", query: [("user_id", who), ("status", "active"), ("size", "100")])
            let items = found.objectValue?["items"]?.arrayValue?.compactMap(\.objectValue) ?? []
            let count = found.objectValue?["pagination"]?.objectValue?["total"]?.intValue ?? Int64(items.count)
            if dryRun {
                ctx.output.out("[DRY RUN] Would revoke \(count) sessions:")
                for s in items {
                    ctx.output.out("  - \(SessionView.id(s)) (created \(Output.localTime(s["created_at"]?.intValue ?? 0, seconds: false)))")
                }
                return
            }
            try ctx.confirm("This will revoke \(count) sessions of user '\(who)'.", action: "revoke a user's sessions", force: force, word: who)
            let started = Date()
            let r = try await connection.call(.POST, "/users/\(Connection.escape(who))/sessions/revoke", body: sync ? ["sync": true] : JSONObject())
            if ctx.output.structured { return ctx.output.out(ctx.output.document(r)) }
            if ctx.output.quiet { return }
            ctx.output.out("\(ctx.output.remote(connection.label)) Revoked \(r.objectValue?["revoked_count"]?.intValue ?? 0) sessions.")
            ctx.output.details(nil, [("User ID", who), ("Duration", "\(Int(Date().timeIntervalSince(started) * 1000)) ms")])
        }
    }
}

struct SessionValidate: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "validate", abstract: "Check a token (validator); exit 0 when valid, 1 when not.")
    @Option(name: .customLong("token"), help: "The token, or - for stdin (default: stdin, else a prompt).") var token: String?
    @Flag(name: .customLong("touch")) var touch = false
    @Flag(name: .customLong("brief"), help: "Print only valid or invalid.") var brief = false
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            let value: String
            if let token, token != "-" { value = token } else if token == "-" || isatty(STDIN_FILENO) == 0 {
                value = try Input.text("-").trimmingCharacters(in: .whitespacesAndNewlines)
            } else if let typed = Context.readSecret(prompt: "Token: ") { value = typed } else {
                throw CLIError.usage("a token is needed: --token, stdin or the prompt")
            }
            let connection = try ctx.connection()
            do throws(CLIError) {
                let r = try await connection.call(.POST, "/tokens/validate", body: ["token": .string(value), "touch": .bool(touch)])
                if ctx.output.structured { return ctx.output.out(ctx.output.document(r)) }
                if brief { return ctx.output.out("valid") }
                if ctx.output.quiet { return }
                let s = r.objectValue?["session"]?.objectValue ?? JSONObject()
                ctx.output.out(ctx.output.status("Token is valid."))
                ctx.output.details(nil, [("Session ID", ctx.output.id(SessionView.id(s))), ("User ID", Output.plain(s["user_id"] ?? .null)),
                                         ("Device ID", Output.plain(s["device_id"] ?? .null)), ("Expires At", Output.detailTime(s["expires_at"]?.intValue ?? 0)),
                                         ("Last Active", Output.detailTime(s["last_active"]?.intValue ?? 0))])
            } catch where error.code?.hasPrefix("TM-TOKN-") == true && error.kind == .server {
                if ctx.output.structured { throw error }
                if brief { ctx.output.out("invalid") }
                let reason = ["TM-TOKN-4000": "malformed", "TM-TOKN-4010": "unknown", "TM-TOKN-4011": "expired", "TM-TOKN-4012": "revoked"][error.code!] ?? "invalid"
                ctx.output.err("Token is not valid: \(reason) (\(error.code!))")
                throw CLIError(.failed, "token not valid")
            }
        }
    }
}

/// Text from a file or stdin (`-`).
enum Input {
    static func text(_ path: String) throws(CLIError) -> String {
        if path == "-" {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            return String(decoding: data, as: UTF8.self)
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError(.data, "cannot read \(path)", code: "TM-CLI-1007") }
        return String(decoding: data, as: UTF8.self)
    }
}
