// UsableCores: how many CPUs this process may run on — the scheduler's affinity mask
// (`taskset`, a cgroup cpuset), which NIO's `System.coreCount` does not read. Event loops and
// pools are sized from it, so a server pinned to one core runs one event loop instead of
// switching between several on that core.
import NIOCore

#if os(Linux)
import Glibc

/// glibc's `int sched_getaffinity(pid_t, size_t, cpu_set_t *)` over a plain byte mask.
@_silgen_name("sched_getaffinity")
private func schedGetAffinity(_ pid: Int32, _ size: Int, _ mask: UnsafeMutableRawPointer) -> Int32
#endif

enum UsableCores {
    static var count: Int {
        let all = System.coreCount
        #if os(Linux)
        var mask = [UInt8](repeating: 0, count: 128)  // 1024 CPUs, glibc's cpu_set_t
        let rc = mask.withUnsafeMutableBytes { schedGetAffinity(0, $0.count, $0.baseAddress!) }
        guard rc == 0 else { return all }
        let allowed = mask.reduce(0) { $0 + $1.nonzeroBitCount }
        return max(1, min(all, allowed))
        #else
        return all
        #endif
    }
}
