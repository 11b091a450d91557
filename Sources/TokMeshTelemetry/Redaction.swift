// Redaction: the rules of spec/10 §2 that every log line, audit record, error text and span
// attribute passes through. Rule 1 replaces every secret-class identifier
// (`tm[a-z]{2}_[A-Za-z0-9_-]+`: tokens, API secrets, token hashes) by its prefix and
// `***REDACTED***`; rule 2 blanks the value of a field whose name says it holds a secret. A
// byte scanner, no regex: a line without `tm` followed by two letters and `_` is returned as is.

public enum Redaction {
    public static let marker = "***REDACTED***"

    /// Rule 1 on one string.
    public static func redact(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard let first = firstMatch(bytes, from: 0) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        var next: Int? = first
        while let start = next {
            out.append(contentsOf: bytes[i..<(start + 5)])
            out.append(contentsOf: marker.utf8)
            var end = start + 5
            while end < bytes.count && isSecretByte(bytes[end]) { end += 1 }
            i = end
            next = firstMatch(bytes, from: end)
        }
        out.append(contentsOf: bytes[i...])
        return String(decoding: out, as: UTF8.self)
    }

    /// Rule 2: field names that hold secrets (case-insensitive).
    public static func isSecretField(_ name: String) -> Bool {
        let lower = name.lowercased()
        switch lower {
        case "token", "authorization", "x-api-key", "api_key", "x-nonce", "encryption_key": return true
        default: return lower.contains("secret") || lower.contains("password")
        }
    }

    private static func isSecretByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D
    }

    /// The start of the next `tm[a-z]{2}_` followed by at least one secret byte.
    private static func firstMatch(_ b: [UInt8], from: Int) -> Int? {
        var i = from
        while i + 5 < b.count {
            if b[i] == 0x74, b[i + 1] == 0x6D, (0x61...0x7A).contains(b[i + 2]), (0x61...0x7A).contains(b[i + 3]), b[i + 4] == 0x5F,
               isSecretByte(b[i + 5]) {
                return i
            }
            i += 1
        }
        return nil
    }
}
