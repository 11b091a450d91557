// ProcessUsage: the process facts behind the standard `process_*` metrics and the
// `tokmesh_cpu_usage_ratio`/`tokmesh_mem_limit_bytes` gauges (spec/10 §3) — CPU time from
// getrusage, the descriptor limit, the cgroup (v2, else v1) memory limit or physical memory,
// the cgroup CPU quota — and CPUSampler, which turns CPU seconds into a ratio of the cores this
// process may use over a window of at least 10 s.
import Foundation
import Synchronization

enum ProcessUsage {
    static func cpuSeconds() -> Double {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    static func maxFileDescriptors() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        return Int(clamping: limit.rlim_cur)
    }

    /// The cgroup memory limit, else physical memory.
    static func memoryLimitBytes() -> Int {
        let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), let limit = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)),
               limit > 0, limit < physical {
                return limit
            }
        }
        return physical
    }

    /// Cores granted by a cgroup v2 CPU quota (`cpu.max`), nil when unlimited.
    static func cgroupCores() -> Double? {
        guard let text = try? String(contentsOfFile: "/sys/fs/cgroup/cpu.max", encoding: .utf8) else { return nil }
        let parts = text.split(separator: " ")
        guard parts.count == 2, let quota = Double(parts[0]), let period = Double(parts[1].trimmingCharacters(in: .whitespacesAndNewlines)),
              period > 0 else { return nil }
        return quota / period
    }
}

final class CPUSampler: Sendable {
    static let windowNanos: UInt64 = 10_000_000_000
    private let state = Mutex<(atNanos: UInt64, cpu: Double, ratio: Double)>((0, 0, 0))

    /// Process CPU ÷ available cores over the last window (cgroup quota if lower than `cores`).
    func ratio(cpuSeconds: Double, cores: Double) -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        let available = min(cores, ProcessUsage.cgroupCores() ?? cores)
        return state.withLock { s in
            if s.atNanos == 0 { s = (now, cpuSeconds, 0); return 0 }
            let elapsed = now - s.atNanos
            if elapsed >= Self.windowNanos {
                s.ratio = max(0, cpuSeconds - s.cpu) / (Double(elapsed) / 1e9) / max(available, 0.01)
                s = (now, cpuSeconds, s.ratio)
            }
            return s.ratio
        }
    }
}
