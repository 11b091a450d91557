// Crockford: the lowercase Crockford base32 alphabet of spec/01 §1 used by ULIDs, request IDs
// and audit IDs. Look-alikes (i l o u) are invalid, not aliased.

public enum Crockford {
    public static let alphabet: [UInt8] = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    /// Value of a lowercase Crockford character, or nil.
    @inline(__always)
    public static func value(of byte: UInt8) -> UInt8? { table[Int(byte)] }

    private static let table: [UInt8?] = {
        var t = [UInt8?](repeating: nil, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// `count` random characters (CSPRNG bytes drawn from a shared pool, so a request ID costs
    /// no system call of its own).
    public static func random(_ count: Int) throws(TokMeshError) -> String {
        let bytes = try SecureRandom.pooledBytes(count)
        return String(decoding: bytes.map { alphabet[Int($0 & 31)] }, as: UTF8.self)
    }
}
