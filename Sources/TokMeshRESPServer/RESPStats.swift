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

    func merge(_ local: inout [CommandTally]) {
        var calls: UInt64 = 0, failed: UInt64 = 0
        perCommand.withLock { table in
            for i in local.indices where local[i].calls > 0 {
                table[i].calls += local[i].calls
                table[i].failed += local[i].failed
                table[i].nanos += local[i].nanos
                calls += local[i].calls
                failed += local[i].failed
                local[i] = CommandTally()
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
