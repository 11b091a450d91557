// Identifiers: generators and validators for every identifier kind of spec/01 §1 — session and
// API key IDs (prefix + ULID), server and client tokens, API secrets (Base62), token hashes and
// request IDs. IDs are lowercased before validation; tokens and secrets are never rewritten.
import Crypto

public enum IDKind: String, Sendable {
    case session = "tmss-"
    case apiKey = "tmak-"
}

public enum Identifiers {
    public static let sessionPrefix = "tmss-"
    public static let keyPrefix = "tmak-"
    public static let tokenPrefix = "tmtk_"
    public static let secretPrefix = "tmas_"
    public static let tokenHashPrefix = "tmth_"
    public static let clientTokenLengthMin = 16
    public static let clientTokenLengthMax = 1024

    public static func newSessionID(nowMillis: Int64) throws(TokMeshError) -> String {
        sessionPrefix + (try ULIDGenerator.shared.next(nowMillis: nowMillis))
    }

    public static func newKeyID(nowMillis: Int64) throws(TokMeshError) -> String {
        keyPrefix + (try ULIDGenerator.shared.next(nowMillis: nowMillis))
    }

    /// Lowercases and validates a `tmss-`/`tmak-` ID; nil when malformed.
    public static func normalizeID(_ raw: String, kind: IDKind) -> String? {
        guard raw.utf8.count == 31 else { return nil }
        let lower = raw.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) ? raw.lowercased() : raw
        guard lower.hasPrefix(kind.rawValue) else { return nil }
        guard ULIDGenerator.isValidBody(lower.utf8.dropFirst(5)) else { return nil }
        return lower
    }

    /// `tmtk_` + unpadded base64url of 32 CSPRNG bytes (48 chars).
    public static func newToken() throws(TokMeshError) -> String {
        tokenPrefix + base64URL(try SecureRandom.bytes(32))
    }

    /// A client token (or a server one): 16-1024 bytes of printable ASCII 0x21-0x7E.
    public static func isValidToken(_ token: String) -> Bool {
        let utf8 = token.utf8
        guard utf8.count >= clientTokenLengthMin, utf8.count <= clientTokenLengthMax else { return false }
        return utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E }
    }

    /// `tmas_` + 43 Base62 characters of 32 CSPRNG bytes as a big-endian integer.
    public static func newSecret() throws(TokMeshError) -> String {
        secretPrefix + base62(try SecureRandom.bytes(32), width: 43)
    }

    public static func isValidSecretShape(_ secret: String) -> Bool {
        let utf8 = secret.utf8
        guard utf8.count == 48, secret.hasPrefix(secretPrefix) else { return false }
        return utf8.dropFirst(5).allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) }
    }

    /// `tmth_` + lowercase hex SHA-256 of the whole token string.
    public static func tokenHash(_ token: String) -> String {
        tokenHashPrefix + hex(SHA256.hash(data: Array(token.utf8)))
    }

    /// Lowercase hex SHA-256 of a string's UTF-8 bytes.
    public static func sha256Hex(_ s: String) -> String { hex(SHA256.hash(data: Array(s.utf8))) }

    /// A request ID: the client's if 1-128 of `[A-Za-z0-9._:-]`, else `req-` + 16 Crockford chars.
    public static func requestID(incoming: String?) -> String {
        if let incoming, isValidRequestID(incoming) { return incoming }
        return "req-" + ((try? Crockford.random(16)) ?? "0000000000000000")
    }

    public static func isValidRequestID(_ s: String) -> Bool {
        let u = s.utf8
        guard !u.isEmpty, u.count <= 128 else { return false }
        return u.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A)
                || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "-")
        }
    }

    // MARK: encodings

    private static let base62Alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    private static let hexAlphabet: [UInt8] = Array("0123456789abcdef".utf8)

    public static func base64URL(_ bytes: [UInt8]) -> String { Base64.encode(bytes, urlSafe: true, padding: false) }

    /// Base62 of a big-endian integer, left-padded with `0` to `width` characters.
    public static func base62(_ bytes: [UInt8], width: Int) -> String {
        var number = bytes
        var digits: [UInt8] = []
        while number.contains(where: { $0 != 0 }) {
            var remainder = 0
            for i in number.indices {
                let acc = remainder << 8 | Int(number[i])
                number[i] = UInt8(acc / 62)
                remainder = acc % 62
            }
            digits.append(base62Alphabet[remainder])
        }
        while digits.count < width { digits.append(UInt8(ascii: "0")) }
        return String(decoding: digits.reversed(), as: UTF8.self)
    }

    public static func hex<D: Sequence<UInt8>>(_ bytes: D) -> String {
        var out: [UInt8] = []
        for b in bytes { out.append(hexAlphabet[Int(b >> 4)]); out.append(hexAlphabet[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
