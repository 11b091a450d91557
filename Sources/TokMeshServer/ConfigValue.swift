// ConfigValue and its parsers: the value formats of spec/08 §3 (bool, int, duration, size,
// addr, path, list, cidr, enum, string) from YAML scalars or env/flag strings. Parsers return
// a message on failure; the loader turns it into TM-CFG-1001 with the key and its source.
import TokMeshCore

public enum ConfigValue: Sendable, Equatable {
    case bool(Bool)
    case int(Int64)
    case float(Double)
    /// Milliseconds.
    case duration(Int64)
    /// Bytes.
    case size(Int64)
    case string(String)
    case list([String])

    public var display: String {
        switch self {
        case .bool(let b): String(b)
        case .int(let i): String(i)
        case .float(let d): String(d)
        case .duration(let ms): ConfigValue.formatDuration(ms)
        case .size(let b): ConfigValue.formatSize(b)
        case .string(let s): s
        case .list(let l): l.joined(separator: ",")
        }
    }

    public var json: JSONValue {
        switch self {
        case .bool(let b): .bool(b)
        case .int(let i): .int(i)
        case .float(let d): .double(d)
        case .duration, .size: .string(display)
        case .string(let s): .string(s)
        case .list(let l): .strings(l)
        }
    }

    static func formatDuration(_ ms: Int64) -> String {
        if ms == 0 { return "0s" }
        if ms % 3_600_000 == 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }

    static func formatSize(_ b: Int64) -> String {
        if b != 0 && b % (1 << 30) == 0 { return "\(b >> 30)GB" }
        if b != 0 && b % (1 << 20) == 0 { return "\(b >> 20)MB" }
        if b != 0 && b % 1024 == 0 { return "\(b >> 10)KB" }
        return "\(b)B"
    }

    /// `90s`, `1h30m`, `1.5s`, `250ms`; a bare number only for `0`. Result in ms (sub-ms rounds down).
    public static func parseDuration(_ text: String) -> Int64? { Durations.parseMillis(text) }

    /// `<number><unit>`, units B, KB, MB, GB (= KiB, MiB, GiB), case-insensitive; 1KB = 1024 B.
    public static func parseSize(_ text: String) -> Int64? {
        let s = text.trimmingWhitespace()
        let numberEnd = s.firstIndex(where: { !($0.isNumber || $0 == ".") }) ?? s.endIndex
        guard numberEnd > s.startIndex, let number = Double(s[..<numberEnd]) else { return nil }
        let scale: Double
        switch s[numberEnd...].lowercased() {
        case "b": scale = 1
        case "kb", "kib": scale = 1024
        case "mb", "mib": scale = 1024 * 1024
        case "gb", "gib": scale = 1024 * 1024 * 1024
        default: return nil
        }
        let bytes = number * scale
        guard bytes.isFinite, bytes < 9e18 else { return nil }
        return Int64(bytes)
    }

    /// `host:port` with IPv6 in brackets; returns (host, port) without checking the port range.
    public static func parseAddress(_ text: String) -> (host: String, port: Int)? {
        let s = text.trimmingWhitespace()
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { return nil }
            let host = String(s[s.index(after: s.startIndex)..<close])
            let after = s[s.index(after: close)...]
            guard after.hasPrefix(":"), let port = Int(after.dropFirst()), !host.isEmpty else { return nil }
            return (host, port)
        }
        guard let colon = s.lastIndex(of: ":") else { return nil }
        let host = String(s[..<colon])
        guard !host.isEmpty, !host.contains(":"), let port = Int(s[s.index(after: colon)...]) else { return nil }
        return (host, port)
    }
}
