// APIKeyCommands: `tokmesh-cli apikey …` (spec/09 §8.3, admin) — create, list, get, disable,
// enable, rotate and create-emergency (local socket only). A secret born on the server is
// printed once, followed by the once-only warning; `-q` prints `<key_id>:<secret>`.
import ArgumentParser
import Foundation
import TokMeshCore

struct APIKeyCommand: CLIRunnable {
    static let configuration = CommandConfiguration(
        commandName: "apikey", abstract: "API keys (admin): create, list, get, disable, enable, rotate, create-emergency.",
        subcommands: [APIKeyCreate.self, APIKeyList.self, APIKeyGet.self, APIKeyDisable.self, APIKeyEnable.self, APIKeyRotate.self,
                      APIKeyCreateEmergency.self])

    static func details(_ k: JSONObject, output: Output, secret: String?) {
        var rows: [(String, String)] = [("Key ID", output.id(k["key_id"]?.stringValue ?? "-"))]
        if let secret {
            rows += [("Secret", secret), ("Credential", "\(k["key_id"]?.stringValue ?? ""):\(secret)")]
        }
        rows += [("Role", Output.plain(k["role"] ?? .null)), ("Status", output.status(k["status"]?.stringValue ?? "-")),
                 ("Expires At", Output.detailTime(k["expires_at"]?.intValue ?? 0)), ("Description", Output.plain(k["description"] ?? .null))]
        output.details(nil, rows)
    }
}

struct APIKeyCreate: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an API key.")
    @Option(name: [.customShort("r"), .customLong("role")], help: "admin, issuer, validator or metrics") var role: String
    @Option(name: [.customShort("d"), .customLong("description")]) var description: String?
    @Option(name: .customLong("allowedlist"), help: "IPs/CIDRs, comma-separated (intersected with the server's allow-list).") var allowedlist: String?
    @Option(name: .customLong("rate-limit")) var rateLimit: Int?
    @Option(name: .customLong("expires-in")) var expiresIn: String?
    @Option(name: .customLong("expires-at"), help: "RFC 3339 time, YYYY-MM-DD or Unix ms.") var expiresAt: String?
    @Flag(name: .customLong("dry-run"), help: "Print the request body and send nothing.") var dryRun = false
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            guard ["admin", "issuer", "validator", "metrics"].contains(role) else { throw CLIError.usage("invalid role: \(role) (admin, issuer, validator, metrics)") }
            var body: JSONObject = ["role": .string(role)]
            if let description { body["description"] = .string(description) }
            if let allowedlist { body["allowedlist"] = .strings(allowedlist.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }) }
            if let rateLimit { body["rate_limit"] = .int(Int64(rateLimit)) }
            if expiresIn != nil && expiresAt != nil { throw CLIError.usage("--expires-in and --expires-at exclude each other") }
            if let expiresIn {
                guard let ms = Durations.parseMillis(expiresIn, allowDays: true) else { throw CLIError.usage("bad duration: \(expiresIn)") }
                body["expires_at"] = .int(Int64(Date().timeIntervalSince1970 * 1000) + ms)
            }
            if let expiresAt {
                guard let ms = Times.parse(expiresAt) else { throw CLIError.usage("bad time: \(expiresAt)") }
                body["expires_at"] = .int(ms)
            }
            if dryRun { return ctx.output.out(Output.prettyJSON(.object(body), indent: 0)) }
            let connection = try ctx.connection()
            let created = try await connection.call(.POST, "/admin/v1/keys", body: body).objectValue ?? JSONObject()
            let out = ctx.output
            let secret = created["key_secret"]?.stringValue ?? ""
            if out.structured { out.out(out.document(.object(created))); ctx.onceOnly(); return }
            if out.quiet { out.out("\(created["key_id"]?.stringValue ?? ""):\(secret)"); return }
            out.out("\(out.remote(connection.label)) API key created.")
            APIKeyCommand.details(created, output: out, secret: secret)
            ctx.onceOnly()
            if let warning = created["warning"]?.stringValue, !warning.isEmpty { out.err(out.paint(warning, "33")) }
        }
    }
}

struct APIKeyList: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List API keys (never their secrets).")
    @Option(name: .customLong("role")) var role: String?
    @Option(name: .customLong("status")) var status: String?
    @Option(name: .customLong("page")) var page: Int = 1
    @Option(name: .customLong("page-size")) var pageSize: Int = 50
    @Flag(name: [.customShort("a"), .customLong("all")]) var all = false
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            let connection = try ctx.connection()
            var query: [(String, String)] = []
            if let role { query.append(("role", role)) }
            if let status { query.append(("status", status)) }
            var items: [JSONValue] = []
            var total: Int64 = 0
            var current = all ? 1 : page
            while true {
                let data = try await connection.call(.GET, "/admin/v1/keys", query: query + [("page", String(current)), ("size", String(min(pageSize, 100)))])
                let page = data.objectValue?["items"]?.arrayValue ?? []
                items += page
                total = data.objectValue?["pagination"]?.objectValue?["total"]?.intValue ?? Int64(items.count)
                guard all, !page.isEmpty, items.count < total else { break }
                current += 1
            }
            CompletionState.shared.ids.withLock { $0 = items.compactMap { $0.objectValue?["key_id"]?.stringValue } }
            let out = ctx.output
            if out.structured { return out.out(out.document(.object(["items": .array(items), "pagination": .object(["total": .int(total)])]))) }
            if out.quiet { for k in items { out.out(k.objectValue?["key_id"]?.stringValue ?? "") }; return }
            let wide = out.format == .wide
            var headers = ["KEY ID", "ROLE", "STATUS", "EXPIRES", "LAST USED", "DESCRIPTION"]
            if wide { headers += ["CREATED", "CREATED BY", "RATE LIMIT", "ALLOWEDLIST", "VERSION"] }
            let rows = items.compactMap(\.objectValue).map { k -> [String] in
                var row = [out.id(k["key_id"]?.stringValue ?? "-"), Output.plain(k["role"] ?? .null), out.status(k["status"]?.stringValue ?? "-"),
                           Output.localTime(k["expires_at"]?.intValue ?? 0, seconds: false), Output.localTime(k["last_used_at"]?.intValue ?? 0, seconds: false),
                           Output.plain(k["description"] ?? .null)]
                if wide {
                    row += [Output.localTime(k["created_at"]?.intValue ?? 0, seconds: false), Output.plain(k["created_by"] ?? .null),
                            Output.plain(k["rate_limit"] ?? .null), Output.plain(k["allowedlist"] ?? .null), Output.plain(k["version"] ?? .null)]
                }
                return row
            }
            out.table(headers, rows, footer: "Total: \(total) keys")
        }
    }
}

struct APIKeyGet: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show one API key.")
    @Argument var keyID: String
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            let data = try await ctx.connection().call(.GET, "/admin/v1/keys/\(keyID.lowercased())")
            if ctx.output.structured { return ctx.output.out(ctx.output.document(data)) }
            if ctx.output.quiet { return }
            APIKeyCommand.details(data.objectValue ?? JSONObject(), output: ctx.output, secret: nil)
        }
    }
}

struct APIKeyDisable: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "disable", abstract: "Disable an API key at once.")
    @Argument var keyID: String
    @Flag(name: [.customShort("f"), .customLong("force")]) var force = false
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            let id = keyID.lowercased()
            let connection = try ctx.connection()
            try ctx.confirm("Disable API key \(id)? Requests with it fail at once.", action: "disable a key", force: force)
            let data = try await connection.call(.POST, "/admin/v1/keys/\(id)/status", body: ["status": "disabled"])
            if ctx.output.structured { return ctx.output.out(ctx.output.document(data)) }
            if ctx.output.quiet { return }
            ctx.output.out("\(ctx.output.remote(connection.label)) API key disabled.")
            if let warning = data.objectValue?["warning"]?.stringValue, !warning.isEmpty {
                ctx.output.err(ctx.output.paint(warning, "33") + "\nRecover with: tokmesh-cli -t local apikey create-emergency")
            }
        }
    }
}

struct APIKeyEnable: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "enable", abstract: "Enable an API key.")
    @Argument var keyID: String
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            let connection = try ctx.connection()
            let data = try await connection.call(.POST, "/admin/v1/keys/\(keyID.lowercased())/status", body: ["status": "active"])
            if ctx.output.structured { return ctx.output.out(ctx.output.document(data)) }
            if !ctx.output.quiet { ctx.output.out("\(ctx.output.remote(connection.label)) API key enabled.") }
        }
    }
}

struct APIKeyRotate: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "rotate", abstract: "Give a key a new secret; the old one stays valid for the grace period.")
    @Argument var keyID: String
    @Option(name: .customLong("grace")) var grace: String?
    @Flag(name: [.customShort("f"), .customLong("force")]) var force = false
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            let id = keyID.lowercased()
            var body = JSONObject()
            if let grace {
                guard let ms = Durations.parseMillis(grace, allowDays: true) else { throw CLIError.usage("bad duration: \(grace)") }
                if ms == 0 { try ctx.confirm("Rotate \(id) with no grace period? The old secret stops working at once.", action: "rotate without grace", force: force) }
                body["grace_seconds"] = .int(ms / 1000)
            }
            let connection = try ctx.connection()
            let r = try await connection.call(.POST, "/admin/v1/keys/\(id)/rotate", body: body).objectValue ?? JSONObject()
            let secret = r["new_key_secret"]?.stringValue ?? ""
            let out = ctx.output
            if out.structured { out.out(out.document(.object(r))); ctx.onceOnly(); return }
            if out.quiet { out.out("\(id):\(secret)"); return }
            out.out("\(out.remote(connection.label)) Secret rotated.")
            let until = r["old_secret_valid_until"]?.intValue ?? r["grace_period_end"]?.intValue ?? 0
            out.details(nil, [("Key ID", out.id(id)), ("New Secret", secret), ("Old secret valid until", Output.detailTime(until))])
            ctx.onceOnly()
        }
    }
}

struct APIKeyCreateEmergency: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "create-emergency", abstract: "Create an admin key over the local socket.")
    @Option(name: [.customShort("d"), .customLong("description")]) var description: String = "Emergency Admin Key"
    @Flag(name: .customLong("local"), help: "Same as -t local.") var local = false
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        var g = globals
        if local { g.target = "local" }
        try await runCommand(g) { (ctx: Context) async throws(CLIError) in
            let connection = try ctx.connection(needKey: false)
            guard connection.isSocket else { throw CLIError.usage("create-emergency works only over the local socket (-t local)") }
            let r = try await connection.call(.POST, "/local/v1/emergency-keys", body: ["description": .string(description)]).objectValue ?? JSONObject()
            let out = ctx.output
            let secret = r["key_secret"]?.stringValue ?? ""
            if out.structured { out.out(out.document(.object(r))); ctx.onceOnly(); return }
            if out.quiet { out.out("\(r["key_id"]?.stringValue ?? ""):\(secret)"); return }
            out.out(out.paint("⚠  EMERGENCY ADMIN KEY CREATED", "33"))
            out.details(nil, [("Key ID", out.id(r["key_id"]?.stringValue ?? "-")), ("Secret", secret),
                              ("Created At", Output.detailTime(r["created_at"]?.intValue ?? 0))])
            ctx.onceOnly()
            if let warning = r["warning"]?.stringValue, !warning.isEmpty { out.err(out.paint(warning, "33")) }
        }
    }
}

/// Times as RFC 3339, `YYYY-MM-DD` (local midnight) or Unix ms (spec/09 §2).
enum Times {
    static func parse(_ text: String) -> Int64? {
        if let ms = Int64(text) { return ms }
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = iso.date(from: text) { return Int64(d.timeIntervalSince1970 * 1000) }
        iso.formatOptions = [.withInternetDateTime]
        if let d = iso.date(from: text) { return Int64(d.timeIntervalSince1970 * 1000) }
        let day = DateFormatter()
        day.locale = Locale(identifier: "en_US_POSIX")
        day.timeZone = TimeZone.current
        day.dateFormat = "yyyy-MM-dd"
        return day.date(from: text).map { Int64($0.timeIntervalSince1970 * 1000) }
    }
}
