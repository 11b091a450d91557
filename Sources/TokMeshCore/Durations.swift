// Durations: the duration format of spec/08 §3 — numbers with units ns, us/µs, ms, s, m, h,
// concatenated (`1h30m`, `1.5s`), `0` alone — parsed to milliseconds. The server's
// configuration and tokmesh-cli share it; the CLI also accepts `d` (24 h, spec/09 §2).

public enum Durations {
    public static func parseMillis(_ text: String, allowDays: Bool = false) -> Int64? {
        let s = text.trimmingWhitespace()
        if s == "0" { return 0 }
        guard !s.isEmpty else { return nil }
        var totalNanos: Double = 0
        var rest = Substring(s)
        while !rest.isEmpty {
            let numberEnd = rest.firstIndex(where: { !($0.isNumber || $0 == ".") }) ?? rest.endIndex
            guard numberEnd > rest.startIndex, let number = Double(rest[..<numberEnd]) else { return nil }
            rest = rest[numberEnd...]
            let unitEnd = rest.firstIndex(where: { $0.isNumber || $0 == "." }) ?? rest.endIndex
            let unit = rest[..<unitEnd]
            rest = rest[unitEnd...]
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m": scale = 60e9
            case "h": scale = 3600e9
            case "d" where allowDays: scale = 86_400e9
            default: return nil
            }
            totalNanos += number * scale
        }
        guard totalNanos.isFinite, totalNanos < 9e18 else { return nil }
        return Int64(totalNanos / 1e6)
    }
}
