// SecureRandom: bytes from the OS CSPRNG (getentropy(3), which is getrandom(2) on Linux). There is no fallback
// generator: a failure surfaces as TM-SYS-5000 (spec/01 §1).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum SecureRandom {
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
