// Output: how results reach the operator (spec/09 §4) — json/yaml documents
// (`{"success":…,"data":…}`, Unix-ms times as RFC 3339, 0 as null), tables with upper-case
// headers, two-space columns and a `Total:` footer, detail blocks of `Label:  value` rows,
// human times, counts and sizes, colour only on a TTY when allowed, truncation of long cells
// only on a TTY, and `-q` for the one essential value.
import Foundation
import TokMeshCore
import Yams

public struct Output: Sendable {
    public enum Format: String, Sendable { case table, wide, json, yaml }

    public var format: Format
    public var quiet: Bool
    public var noHeaders: Bool
    public var color: Bool
    public var stdoutTTY: Bool
    public var stderrTTY: Bool
    public var verbose: Bool

    var structured: Bool { format == .json || format == .yaml }

    public func out(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }
    public func err(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

    // MARK: colours

    func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    func status(_ text: String) -> String {
        switch text.lowercased() {
        case "active", "healthy", "ready", "alive", "completed", "ok", "valid", "✓": paint(text, "32")
        case "expired", "degraded", "suspect", "running", "pending": paint(text, "33")
        case "disabled", "revoked", "dead", "unavailable", "failed", "invalid", "✗": paint(text, "31")
        default: text
        }
    }
    func id(_ text: String) -> String { paint(text, "36") }
    public func remote(_ label: String) -> String { paint("[REMOTE: \(label)]", "36") }

    // MARK: structured documents

    /// `{"success": true, "data": …}` as JSON or YAML.
    func document(_ data: JSONValue) -> String {
        let doc: JSONValue = .object(["success": true, "data": Self.humanTimes(data, key: nil)])
        return render(doc)
    }

    func render(_ doc: JSONValue) -> String {
        switch format {
        case .yaml: return (try? Yams.dump(object: Self.foundation(doc), sortKeys: false)) ?? "{}"
        default: return Self.prettyJSON(doc, indent: 0)
        }
    }

    static let timeKeys: Set<String> = ["timestamp", "last_active", "oldest_entry_time", "newest_entry_time", "server_time"]

    /// Unix-ms time fields as RFC 3339 UTC (0 → null), recursively.
    static func humanTimes(_ v: JSONValue, key: String?) -> JSONValue {
        switch v {
        case .object(let o):
            return .object(o.pairs.reduce(into: JSONObject()) { $0.append($1.key, humanTimes($1.value, key: $1.key)) })
        case .array(let a):
            return .array(a.map { humanTimes($0, key: nil) })
        case .int(let ms) where key.map({ $0.hasSuffix("_at") || timeKeys.contains($0) }) ?? false:
            return ms == 0 ? .null : .string(CivilTime(unixMillis: ms).rfc3339)
        default:
            return v
        }
    }

    static func prettyJSON(_ v: JSONValue, indent: Int) -> String {
        let pad = String(repeating: " ", count: indent + 2), end = String(repeating: " ", count: indent)
        switch v {
        case .object(let o):
            guard !o.isEmpty else { return "{}" }
            return "{\n" + o.pairs.map { pad + String(decoding: JSONWriter.write(.string($0.key)), as: UTF8.self) + ": " + prettyJSON($0.value, indent: indent + 2) }
                .joined(separator: ",\n") + "\n" + end + "}"
        case .array(let a):
            guard !a.isEmpty else { return "[]" }
            return "[\n" + a.map { pad + prettyJSON($0, indent: indent + 2) }.joined(separator: ",\n") + "\n" + end + "]"
        default:
            return String(decoding: JSONWriter.write(v), as: UTF8.self)
        }
    }

    /// A JSON value as Foundation objects for Yams (object key order kept through ordered pairs).
    static func foundation(_ v: JSONValue) -> Any {
        switch v {
        case .null: return NSNull()
        case .bool(let b): return b
        case .int(let i): return Int(i)
        case .double(let d): return d
        case .string(let s): return s
        case .array(let a): return a.map(foundation)
        case .object(let o): return Dictionary(o.pairs.map { ($0.key, foundation($0.value)) }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// A value as one line of plain text (details rows, error details).
    public static func plain(_ v: JSONValue) -> String {
        switch v {
        case .null: return "-"
        case .string(let s): return s.isEmpty ? "-" : s
        case .array(let a): return a.isEmpty ? "-" : a.map(plain).joined(separator: ", ")
        default: return String(decoding: JSONWriter.write(v), as: UTF8.self)
        }
    }

    // MARK: tables

    /// Columns aligned with two spaces; long cells truncated on a TTY (not in wide).
    func table(_ headers: [String], _ rows: [[String]], footer: String?) {
        let truncate = stdoutTTY && format == .table && !verbose
        let cells = rows.map { $0.map { truncate && $0.count > 16 ? String($0.prefix(13)) + "..." : $0 } }
        var widths = headers.map(\.count)
        for row in cells { for (i, c) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], Self.visible(c)) } }
        func line(_ row: [String]) -> String {
            row.enumerated().map { i, c in i == row.count - 1 ? c : c + String(repeating: " ", count: max(0, widths[i] - Self.visible(c))) }
                .joined(separator: "  ")
        }
        if !noHeaders { out(paint(line(headers.map { $0.uppercased() }), "1;37")) }
        for row in cells { out(line(row)) }
        if !noHeaders, let footer { out(footer) }
    }

    /// Characters that take room on screen (colour escapes do not).
    static func visible(_ s: String) -> Int {
        var n = 0, inEscape = false
        for c in s {
            if c == "\u{1B}" { inEscape = true; continue }
            if inEscape { if c == "m" { inEscape = false }; continue }
            n += 1
        }
        return n
    }

    /// A title line and `  Label:  value` rows.
    func details(_ title: String?, _ rows: [(String, String)]) {
        if let title { out(title) }
        let width = (rows.map(\.0.count).max() ?? 0) + 1
        for (label, value) in rows { out("  " + (label + ":").padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value) }
    }

    // MARK: human values

    static func localTime(_ ms: Int64, seconds: Bool) -> String {
        guard ms != 0 else { return "never" }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone.current
        f.dateFormat = seconds ? "yyyy-MM-dd HH:mm:ss" : "yyyy-MM-dd HH:mm"
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// `2025-12-12 10:30:00 (2h ago)` / `(in 1h 59m)`.
    static func detailTime(_ ms: Int64, now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) -> String {
        guard ms != 0 else { return "never" }
        let delta = ms - now
        return localTime(ms, seconds: true) + (delta >= 0 ? " (in \(duration(delta)))" : " (\(duration(-delta)) ago)")
    }

    static func duration(_ ms: Int64) -> String {
        let s = ms / 1000
        if s >= 86_400 { return "\(s / 86_400)d \((s % 86_400) / 3600)h" }
        if s >= 3600 { return "\(s / 3600)h \((s % 3600) / 60)m" }
        if s >= 60 { return "\(s / 60)m \(s % 60)s" }
        return "\(s)s"
    }

    static func count(_ n: Int64) -> String {
        if n >= 1_000_000 { return String(format: "%.1fM", Double(n) / 1e6) }
        if n >= 1_000 { return String(format: "%.1fk", Double(n) / 1e3) }
        return String(n)
    }

    static func size(_ bytes: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var v = Double(bytes), i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(bytes) B" : String(format: "%.1f %@", v, units[i])
    }
}
