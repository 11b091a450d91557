// SecureRandom: bytes from the OS CSPRNG (getentropy(3), which is getrandom(2) on Linux). There is no fallback
// generator: a failure surfaces as TM-SYS-5000 (spec/01 §1).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import Synchronization

public enum SecureRandom {
    private static let pool = Mutex<(bytes: [UInt8], next: Int)>(([], 0))
    private static let poolBytes = 4096

    /// Bytes from a 4 KiB pool refilled from the CSPRNG: for non-secret identifiers (request
    /// IDs) on hot paths. Tokens, secrets and salts use `bytes`, never the pool.
    public static func pooledBytes(_ count: Int) throws(TokMeshError) -> [UInt8] {
        precondition(count <= poolBytes, "pooled request too large")
        while true {
            let taken: [UInt8]? = pool.withLock { p in
                guard p.next + count <= p.bytes.count else { return nil }
                defer { p.next += count }
                return Array(p.bytes[p.next..<p.next + count])
            }
            if let taken { return taken }
            let refill = try bytes(poolBytes)
            pool.withLock { p in if p.next + count > p.bytes.count { p = (refill, 0) } }
        }
    }

    public static func bytes(_ count: Int) throws(TokMeshError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let chunk = min(256, count - filled)
            let rc = out.withUnsafeMutableBytes { buf in getentropy(buf.baseAddress! + filled, chunk) }
            if rc != 0 { throw TokMeshError(.sysInternal, "CSPRNG failure") }
            filled += chunk
        }
        return out
    }
}
