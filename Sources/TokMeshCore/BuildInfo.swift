// BuildInfo: when this executable was built (installed) — its modification time as RFC 3339 —
// for `--version` of the server and the CLI and the status summary's `build_time`.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum BuildInfo {
    public static let builtAt: String = {
        var st = stat()
        guard stat("/proc/self/exe", &st) == 0 else { return "unknown" }
        return CivilTime(unixMillis: Int64(st.st_mtim.tv_sec) * 1000).rfc3339
    }()
}
