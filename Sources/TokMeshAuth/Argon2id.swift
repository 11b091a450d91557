// Argon2id: API secret hashing through libargon2 (spec/03 §2.1). New hashes use the configured
// parameters; verification reads m, t, p, salt and length back from the stored PHC string, so
// changed settings never break old keys. Strings with another algorithm or out-of-range
// parameters are unusable. Calls block for tens of milliseconds: run them off event loops.
import CArgon2
import TokMeshCore

public struct Argon2Parameters: Sendable, Equatable {
    public static let memoryRange: ClosedRange<UInt32> = 8192...1_048_576
    public static let iterationsRange: ClosedRange<UInt32> = 1...10
    public static let parallelismRange: ClosedRange<UInt32> = 1...16
    public static let saltBytes = 16
    public static let hashBytes = 32

    /// Memory in KiB.
    public var memory: UInt32
    public var iterations: UInt32
    public var parallelism: UInt32

    public init(memory: UInt32 = 16384, iterations: UInt32 = 2, parallelism: UInt32 = 2) {
        self.memory = memory
        self.iterations = iterations
        self.parallelism = parallelism
    }
}

public enum Argon2Error: Error, Sendable, Equatable {
    /// The stored string is not a usable argon2id PHC string (algorithm, version or range).
    case unusableHash(String)
    case failure(Int32)
}

public enum Argon2id {
    /// Hashes `secret` with a fresh 16-byte salt into a PHC string.
    public static func hash(_ secret: String, parameters p: Argon2Parameters) throws -> String {
        let salt = try SecureRandom.bytes(Argon2Parameters.saltBytes)
        let length = argon2_encodedlen(p.iterations, p.memory, p.parallelism, UInt32(salt.count), UInt32(Argon2Parameters.hashBytes), Argon2_id)
        var encoded = [CChar](repeating: 0, count: length)
        let pwd = Array(secret.utf8)
        let rc = argon2id_hash_encoded(p.iterations, p.memory, p.parallelism, pwd, pwd.count, salt, salt.count,
                                       Argon2Parameters.hashBytes, &encoded, length)
        guard rc == ARGON2_OK.rawValue else { throw Argon2Error.failure(rc) }
        return String(decoding: encoded.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Parses the parameters of a stored PHC string, refusing anything but in-range argon2id v=19.
    public static func parameters(of phc: String) throws(Argon2Error) -> Argon2Parameters {
        let parts = phc.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0].isEmpty, parts[1] == "argon2id" else { throw .unusableHash("not an argon2id PHC string") }
        guard parts[2] == "v=19" else { throw .unusableHash("unsupported argon2 version") }
        var values: [Substring: UInt32] = [:]
        for item in parts[3].split(separator: ",") {
            let kv = item.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, let v = UInt32(kv[1]) else { throw .unusableHash("bad parameter") }
            values[kv[0]] = v
        }
        guard let m = values["m"], let t = values["t"], let p = values["p"], values.count == 3 else { throw .unusableHash("missing parameter") }
        guard Argon2Parameters.memoryRange.contains(m), Argon2Parameters.iterationsRange.contains(t),
              Argon2Parameters.parallelismRange.contains(p) else { throw .unusableHash("parameters out of range") }
        guard parts[4].count >= 11, parts[5].count >= 22 else { throw .unusableHash("salt or hash too short") }
        return Argon2Parameters(memory: m, iterations: t, parallelism: p)
    }

    /// Constant-time verification (inside libargon2) of `secret` against a stored PHC string.
    public static func verify(_ secret: String, phc: String) throws(Argon2Error) -> Bool {
        _ = try parameters(of: phc)
        let pwd = Array(secret.utf8)
        let rc = argon2id_verify(phc, pwd, pwd.count)
        if rc == ARGON2_OK.rawValue { return true }
        if rc == ARGON2_VERIFY_MISMATCH.rawValue { return false }
        throw .failure(rc)
    }
}
