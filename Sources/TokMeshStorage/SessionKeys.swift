// SessionKeys: the fixed-size keys the engine indexes by instead of strings. A session ID
// (`tmss-` + 26-character ULID body) is its 128-bit value; a token hash (`tmth_` + 64 hex) is its
// 32-byte SHA-256 digest, of which the first 16 bytes key the token index. Fixed keys live
// inline in the hash tables, so a million sessions cost no per-key heap blocks (docs/decisions.md).
import Crypto
import TokMeshCore

/// A session ID as the 128-bit value of its ULID body.
public struct SessionKey: Hashable, Sendable {
    public let bits: UInt128

    init(bits: UInt128) { self.bits = bits }

    /// Parses a canonical (lowercase) `tmss-` ID; nil when it is not one.
    public init?(_ id: String) {
        var copy = id
        guard let bits = copy.withUTF8({ SessionKey.parse($0) }) else { return nil }
        self.bits = bits
    }

    /// A session ID given in any letter case (RESP keys), without building a String.
    public init?(anyCase bytes: [UInt8]) {
        guard bytes.count == 31 else { return nil }
        let parsed: UInt128?
        if bytes.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) {
            var lower = bytes
            for i in lower.indices where lower[i] >= 0x41 && lower[i] <= 0x5A { lower[i] |= 0x20 }
            parsed = lower.withUnsafeBufferPointer { SessionKey.parse($0) }
        } else {
            parsed = bytes.withUnsafeBufferPointer { SessionKey.parse($0) }
        }
        guard let bits = parsed else { return nil }
        self.bits = bits
    }

    init?(utf8 bytes: UnsafeRawBufferPointer) {
        guard let bits = SessionKey.parse(UnsafeBufferPointer(start: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), count: bytes.count)) else { return nil }
        self.bits = bits
    }


    private static func parse(_ u: UnsafeBufferPointer<UInt8>) -> UInt128? {
        guard u.count == 31, u[0] == UInt8(ascii: "t"), u[1] == UInt8(ascii: "m"), u[2] == UInt8(ascii: "s"), u[3] == UInt8(ascii: "s"),
              u[4] == UInt8(ascii: "-"), u[5] >= UInt8(ascii: "0"), u[5] <= UInt8(ascii: "7") else { return nil }
        var v: UInt128 = 0
        for i in 5..<31 {
            guard let d = crockfordValue(u[i]) else { return nil }
            v = v << 5 | UInt128(d)
        }
        return v
    }

    /// A lowercase Crockford digit's value (the alphabet of Crockford.swift, as ranges).
    @inline(__always)
    private static func crockfordValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "h"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "j"), UInt8(ascii: "k"): c - UInt8(ascii: "j") + 18
        case UInt8(ascii: "m"), UInt8(ascii: "n"): c - UInt8(ascii: "m") + 20
        case UInt8(ascii: "p")...UInt8(ascii: "t"): c - UInt8(ascii: "p") + 22
        case UInt8(ascii: "v")...UInt8(ascii: "z"): c - UInt8(ascii: "v") + 27
        default: nil
        }
    }

    /// The canonical ID string.
    public var string: String {
        String(unsafeUninitializedCapacity: 31) { out in
            writeUTF8(into: UnsafeMutableRawBufferPointer(out))
            return 31
        }
    }

    /// Writes the 31 bytes of the ID at the start of `out`.
    func writeUTF8(into out: UnsafeMutableRawBufferPointer) {
        // Static strings, not arrays: no lazy-initialisation check per call on this hot path.
        let prefix: StaticString = "tmss-", alphabet: StaticString = "0123456789abcdefghjkmnpqrstvwxyz"
        out.baseAddress!.copyMemory(from: prefix.utf8Start, byteCount: 5)
        var v = bits
        for i in stride(from: 30, through: 5, by: -1) {
            out[i] = alphabet.utf8Start[Int(truncatingIfNeeded: v & 31)]
            v >>= 5
        }
    }

    /// Well-mixed bits for shard selection (client-chosen IDs need not have random low bits).
    @inline(__always)
    var mixed: UInt64 { TokenDigest.fmix(UInt64(truncatingIfNeeded: bits) ^ UInt64(truncatingIfNeeded: bits >> 64)) }

    public func hash(into hasher: inout Hasher) { hasher.combine(bits) }

    /// The engine's tables hash this key with `KeyHash`, not SipHash (see there).
    public func _rawHashValue(seed: Int) -> Int { KeyHash.hash(bits, seed: seed) }
}

/// A token hash as its SHA-256 digest: `head` (bytes 0-15, the index key) and `tail` (16-31).
public struct TokenDigest: Hashable, Sendable {
    public let head: UInt128
    public let tail: UInt128

    init(head: UInt128, tail: UInt128) {
        self.head = head
        self.tail = tail
    }

    /// The digest of a token: SHA-256 of its UTF-8 bytes, without the hex text in between.
    public init(token: String) {
        var copy = token
        let digest = copy.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        (head, tail) = digest.withUnsafeBytes { raw in
            (UInt128(bigEndian: raw.loadUnaligned(as: UInt128.self)), UInt128(bigEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt128.self)))
        }
    }

    /// Parses `tmth_` + 64 lowercase hex; nil when it is not one.
    public init?(_ hash: String) {
        var copy = hash
        guard let parts = copy.withUTF8({ TokenDigest.parse($0) }) else { return nil }
        (head, tail) = parts
    }

    init?(utf8 bytes: UnsafeRawBufferPointer) {
        guard let parts = TokenDigest.parse(UnsafeBufferPointer(start: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), count: bytes.count)) else { return nil }
        (head, tail) = parts
    }

    /// Lowercase hex digit values; 0xFF for every other byte.
    private static let nibbles: [UInt8] = (0..<256).map { c in
        switch UInt8(c) {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt8(c) - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt8(c) - UInt8(ascii: "a") + 10
        default: 0xFF
        }
    }

    private static func parse(_ u: UnsafeBufferPointer<UInt8>) -> (UInt128, UInt128)? {
        guard u.count == 69, u[0] == UInt8(ascii: "t"), u[1] == UInt8(ascii: "m"), u[2] == UInt8(ascii: "t"), u[3] == UInt8(ascii: "h"),
              u[4] == UInt8(ascii: "_") else { return nil }
        var head: UInt128 = 0, tail: UInt128 = 0, bad: UInt8 = 0
        let nibbles = TokenDigest.nibbles
        for i in 0..<32 {
            let n = nibbles[Int(u[5 + i])]
            bad |= n
            head = head << 4 | UInt128(n & 15)
        }
        for i in 32..<64 {
            let n = nibbles[Int(u[5 + i])]
            bad |= n
            tail = tail << 4 | UInt128(n & 15)
        }
        guard bad & 0x80 == 0 else { return nil }
        return (head, tail)
    }

    /// The `tmth_…` string.
    public var string: String {
        String(unsafeUninitializedCapacity: 69) { out in
            writeUTF8(into: UnsafeMutableRawBufferPointer(out))
            return 69
        }
    }

    /// Writes the 69 bytes of the hash string at the start of `out`.
    func writeUTF8(into out: UnsafeMutableRawBufferPointer) {
        let prefix: StaticString = "tmth_", digits: StaticString = "0123456789abcdef"
        out.baseAddress!.copyMemory(from: prefix.utf8Start, byteCount: 5)
        var h = head, t = tail
        for i in stride(from: 31, through: 0, by: -1) {
            out[5 + i] = digits.utf8Start[Int(truncatingIfNeeded: h & 15)]
            out[5 + 32 + i] = digits.utf8Start[Int(truncatingIfNeeded: t & 15)]
            h >>= 4
            t >>= 4
        }
    }

    /// The token index key.
    @inline(__always)
    var key: TokenKey { TokenKey(bits: head) }

    /// MurmurHash3's 64-bit finaliser.
    @inline(__always)
    static func fmix(_ x: UInt64) -> UInt64 {
        var k = x
        k ^= k >> 33; k &*= 0xff51_afd7_ed55_8ccd
        k ^= k >> 33; k &*= 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }
}

/// The token index key: the first 16 bytes of a token's SHA-256 digest. Readers compare the
/// full digest held with the session or tombstone, so a prefix collision can only make a create
/// answer "token in use", never validate a wrong token.
struct TokenKey: Hashable, Sendable {
    let bits: UInt128

    @inline(__always)
    var mixed: UInt64 { UInt64(truncatingIfNeeded: bits) }

    func hash(into hasher: inout Hasher) { hasher.combine(bits) }

    /// The engine's tables hash this key with `KeyHash`, not SipHash (see there).
    func _rawHashValue(seed: Int) -> Int { KeyHash.hash(bits, seed: seed) }
}

/// The hash the engine's tables use for the 128-bit keys: wyhash's 16-byte case (two 64×64→128
/// multiplies) keyed with a secret drawn once per process, in place of the standard library's
/// SipHash-1-3, which cost a sixth of a million-session load in `Hasher` set-up and rounds. The
/// secret keeps the bucket order unpredictable from outside, so client-chosen session IDs cannot
/// be aimed at one bucket chain (docs/decisions.md).
enum KeyHash {
    /// Odd 64-bit words from the system's random source.
    private static let secret: (UInt64, UInt64) = (UInt64.random(in: .min ... .max) | 1, UInt64.random(in: .min ... .max) | 1)

    @inline(__always)
    private static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let p = a.multipliedFullWidth(by: b)
        return p.high ^ p.low
    }

    @inline(__always)
    static func hash(_ bits: UInt128, seed: Int) -> Int {
        let (s0, s1) = secret
        let seeded = UInt64(UInt(bitPattern: seed)) ^ s0
        let p = (UInt64(truncatingIfNeeded: bits) ^ s1).multipliedFullWidth(by: UInt64(truncatingIfNeeded: bits >> 64) ^ seeded)
        return Int(truncatingIfNeeded: mix(p.low ^ s0 ^ 16, p.high ^ s1))
    }
}
