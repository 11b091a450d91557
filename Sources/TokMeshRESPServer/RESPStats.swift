// RESPStats: the RESP listener's counters — connections, commands, errors, protocol errors and
// per-command calls, failures and time — for INFO (stats, clients, commandstats) and the
// `tokmesh_resp_*` metrics of spec/10. Totals are atomics; the per-command table is merged from
// each connection's local tally once per read batch, so the hot path takes no shared lock.
import Synchronization
import TokMeshRESP

public final class RESPStats: Sendable {
    public let connectedClients = Atomic<Int>(0)
    public let totalConnections = Atomic<UInt64>(0)
    public let rejectedConnections = Atomic<UInt64>(0)
    public let commandsProcessed = Atomic<UInt64>(0)
    public let errorReplies = Atomic<UInt64>(0)
    public let protocolErrors = Atomic<UInt64>(0)
    private let perCommand = Mutex<[CommandTally]>(Array(repeating: CommandTally(), count: RESPCommandTable.all.count + 1))
    /// Per command, how many calls fell in each latency bucket (`latencyBoundsNanos`, then +Inf).
    private let perCommandLatency = Mutex<[UInt64]>(Array(repeating: 0, count: (RESPCommandTable.all.count + 1) * RESPStats.latencySlots))

    /// The LAT buckets of spec/10 §3 in nanoseconds (100 µs … 2.5 s).
    public static let latencyBoundsNanos: [UInt64] = [100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000,
                                                      50_000_000, 100_000_000, 250_000_000, 500_000_000, 1_000_000_000, 2_500_000_000]
    public static let latencySlots = latencyBoundsNanos.count + 1

    /// The bucket of one command's time (the last slot is +Inf).
    @inline(__always)
    static func latencySlot(_ nanos: UInt64) -> Int {
        var i = 0
        while i < latencyBoundsNanos.count && nanos > latencyBoundsNanos[i] { i += 1 }
        return i
    }
    private let opsSample = Mutex<(at: UInt64, count: UInt64, rate: Double)>((0, 0, 0))

    public init() {}

    /// Calls, failed calls and time of one command (index in RESPCommandTable.all; the last
    /// slot is `unknown`).
    public struct CommandTally: Sendable {
        public var calls: UInt64 = 0
        public var failed: UInt64 = 0
        public var nanos: UInt64 = 0
    }

    static let unknownIndex = RESPCommandTable.all.count

    func merge(_ local: inout [CommandTally], latency localLatency: inout [UInt64]) {
        var calls: UInt64 = 0, failed: UInt64 = 0
        let slots = Self.latencySlots
        perCommand.withLock { table in
            perCommandLatency.withLock { latency in
                for i in local.indices where local[i].calls > 0 {
                    table[i].calls += local[i].calls
                    table[i].failed += local[i].failed
                    table[i].nanos += local[i].nanos
                    calls += local[i].calls
                    failed += local[i].failed
                    local[i] = CommandTally()
                    for j in (i * slots)..<((i + 1) * slots) where localLatency[j] > 0 {
                        latency[j] += localLatency[j]
                        localLatency[j] = 0
                    }
                }
            }
        }
        commandsProcessed.add(calls, ordering: .relaxed)
        errorReplies.add(failed, ordering: .relaxed)
    }

    /// Per command name (lowercase, `unknown` for unknown commands): calls, failures, time.
    public func commandTable() -> [(name: String, tally: CommandTally)] {
        let table = perCommand.withLock { $0 }
        return table.enumerated().compactMap { i, t in
            t.calls == 0 ? nil : (i == RESPStats.unknownIndex ? "unknown" : RESPCommandTable.all[i].name.lowercased(), t)
        }
    }

    /// `tokmesh_resp_command_duration_seconds` (spec/10 §3) in Prometheus text: per command seen,
    /// cumulative buckets, sum and count.
    public func latencyExposition(into out: inout [UInt8]) {
        let (table, latency) = perCommand.withLock { t in (t, perCommandLatency.withLock { $0 }) }
        let slots = Self.latencySlots
        var text = "# TYPE tokmesh_resp_command_duration_seconds histogram\n"
        for (i, tally) in table.enumerated() where tally.calls > 0 {
            let name = i == RESPStats.unknownIndex ? "unknown" : RESPCommandTable.all[i].name.lowercased()
            var cumulative: UInt64 = 0
            for j in 0..<slots {
                cumulative += latency[i * slots + j]
                let le = j < Self.latencyBoundsNanos.count ? String(Double(Self.latencyBoundsNanos[j]) / 1e9) : "+Inf"
                text += "tokmesh_resp_command_duration_seconds_bucket{command=\"\(name)\",le=\"\(le)\"} \(cumulative)\n"
            }
            text += "tokmesh_resp_command_duration_seconds_sum{command=\"\(name)\"} \(Double(tally.nanos) / 1e9)\n"
            text += "tokmesh_resp_command_duration_seconds_count{command=\"\(name)\"} \(tally.calls)\n"
        }
        out.append(contentsOf: text.utf8)
    }

    /// Commands per second since the previous call at least a second ago (INFO is what asks).
    func instantaneousOps(nowNanos: UInt64) -> Double {
        let count = commandsProcessed.load(ordering: .relaxed)
        return opsSample.withLock { s in
            if s.at == 0 { s = (nowNanos, count, 0); return 0 }
            let elapsed = nowNanos - s.at
            if elapsed >= 1_000_000_000 {
                s.rate = Double(count - s.count) / (Double(elapsed) / 1e9)
                s = (nowNanos, count, s.rate)
            }
            return s.rate
        }
    }
}
