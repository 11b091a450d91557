// Tests of spec/01 §1: identifier formats (property tests over many generated values),
// ULID monotonicity, validation and case rules.
import Testing
@testable import TokMeshCore

@Suite struct IdentifierTests {
    static func matches(_ s: String, prefix: String, count: Int, alphabet: Set<UInt8>) -> Bool {
        s.hasPrefix(prefix) && s.utf8.count == count && s.utf8.dropFirst(prefix.utf8.count).allSatisfy(alphabet.contains)
    }
    static let crockford = Set("0123456789abcdefghjkmnpqrstvwxyz".utf8)
    static let base64url = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    static let base62 = Set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    @Test("spec/01 §9.1: session IDs match ^tmss-[0-7][crockford]{25}$ and sort in creation order")
    func sessionIDsAreMonotonic() throws {
        var previous = ""
        for i in 0..<5000 {
            let id = try Identifiers.newSessionID(nowMillis: 1_700_000_000_000 + Int64(i / 100))
            #expect(Self.matches(id, prefix: "tmss-", count: 31, alphabet: Self.crockford))
            #expect(("0"..."7").contains(id.dropFirst(5).prefix(1)))
            #expect(id > previous, "ULIDs must increase within and across milliseconds")
            #expect(Identifiers.normalizeID(id, kind: .session) == id)
            previous = id
        }
    }

    @Test("a clock stepping back keeps ULIDs increasing")
    func clockStepBack() throws {
        let g = ULIDGenerator()
        let a = try g.next(nowMillis: 2_000_000)
        let b = try g.next(nowMillis: 1_000_000)
        #expect(b > a)
        #expect(a.prefix(10) == b.prefix(10))
    }

    @Test("spec/01 §9.1: tokens and secrets have their exact shapes")
    func tokenAndSecretShapes() throws {
        var seen = Set<String>()
        for _ in 0..<2000 {
            let token = try Identifiers.newToken()
            #expect(Self.matches(token, prefix: "tmtk_", count: 48, alphabet: Self.base64url))
            #expect(Identifiers.isValidToken(token))
            let secret = try Identifiers.newSecret()
            #expect(Self.matches(secret, prefix: "tmas_", count: 48, alphabet: Self.base62))
            #expect(Identifiers.isValidSecretShape(secret))
            #expect(seen.insert(token).inserted && seen.insert(secret).inserted)
        }
    }

    @Test("Base62 of the maximum 32-byte value still fits 43 characters")
    func base62Width() {
        let max = Identifiers.base62([UInt8](repeating: 0xFF, count: 32), width: 43)
        #expect(max.utf8.count == 43)
        #expect(Identifiers.base62([0, 0, 1], width: 43) == String(repeating: "0", count: 42) + "1")
        #expect(Identifiers.base62([0, 62], width: 3) == "010")
    }

    @Test("spec/01 §9.2: client token length and charset")
    func clientTokens() {
        #expect(Identifiers.isValidToken(String(repeating: "a", count: 16)))
        #expect(!Identifiers.isValidToken(String(repeating: "a", count: 15)))
        #expect(!Identifiers.isValidToken("abcdefgh ijklmnopq"))
        #expect(Identifiers.isValidToken(String(repeating: "x", count: 1024)))
        #expect(!Identifiers.isValidToken(String(repeating: "x", count: 1025)))
        #expect(!Identifiers.isValidToken("abcdefghijklmnop\u{7F}"))
    }

    @Test("IDs are lowercased; look-alikes and bad prefixes are invalid")
    func normalization() throws {
        let id = try Identifiers.newSessionID(nowMillis: 1)
        #expect(Identifiers.normalizeID(id.uppercased(), kind: .session) == id)
        #expect(Identifiers.normalizeID(id, kind: .apiKey) == nil)
        let withI = String(id.dropLast()) + "i"
        #expect(Identifiers.normalizeID(withI, kind: .session) == nil)
        #expect(Identifiers.normalizeID("tmss-8" + String(repeating: "0", count: 25), kind: .session) == nil)
    }

    @Test("token hash is tmth_ + hex SHA-256 of the token")
    func tokenHash() {
        // SHA-256("abc") from FIPS 180-2.
        #expect(Identifiers.tokenHash("abc") == "tmth_ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("request IDs: a valid incoming one is kept, others replaced")
    func requestIDs() {
        #expect(Identifiers.requestID(incoming: "abc.1") == "abc.1")
        let generated = Identifiers.requestID(incoming: "bad id")
        #expect(generated.hasPrefix("req-") && generated.utf8.count == 20)
        #expect(Identifiers.requestID(incoming: String(repeating: "a", count: 129)).hasPrefix("req-"))
    }

    @Test("MurmurHash3 x86-32 matches the reference vectors")
    func murmur() {
        #expect(MurmurHash3.hash32("") == 0)
        #expect(MurmurHash3.hash32("hello") == 0x248b_fa47)
        #expect(MurmurHash3.hash32("The quick brown fox jumps over the lazy dog") == 0x2e4f_f723)
    }
}
