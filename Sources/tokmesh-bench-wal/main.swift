// tokmesh-bench-wal: raw WAL append throughput for `Scripts/bench storage` (issue 3 item 5).
// N writer threads append encrypted records of a session's post-image size through the
// group-commit LogWriter for a fixed time, each waiting for its record to be acknowledged the
// way a request does (written in `batch` mode, fsynced in `sync` mode), and it prints appends/s
// and the p99 acknowledgement latency. Not part of the server; a benchmark driver only.
import Foundation
import Synchronization
import TokMeshCore
import TokMeshStorage

let args = CommandLine.arguments
guard args.count >= 5, let writers = Int(args[3]), let seconds = Double(args[4]), args[2] == "sync" || args[2] == "batch" else {
    FileHandle.standardError.write(Data("usage: tokmesh-bench-wal <empty-dir> sync|batch <writers> <seconds> [payload-bytes]\n".utf8))
    exit(64)
}
let payloadBytes = args.count > 5 ? Int(args[5]) ?? 320 : 320
let mode: LogSyncMode = args[2] == "sync" ? .sync : .batch(intervalMillis: 1000)
let key = try SecureRandom.bytes(32)
let options = LogOptions(directory: args[1], kind: .wal, prefix: "wal", masterKey: key, knownTypes: [1])
let (log, _) = try SegmentedLog.open(options) { _ in }
let writer = LogWriter(log: log, mode: mode)
let payload = try SecureRandom.bytes(payloadBytes)
let deadline = monotonicNanos() + UInt64(seconds * 1e9)
let latencies = Mutex<[UInt64]>([])
let threads = (0..<writers).map { _ in
    Thread {
        var mine: [UInt64] = []
        mine.reserveCapacity(1 << 16)
        while monotonicNanos() < deadline {
            let started = monotonicNanos()
            guard let index = try? writer.append(type: 1, payload: payload),
                  (try? writer.waitAcknowledged(index, durable: mode == .sync)) != nil else { return }
            mine.append(monotonicNanos() - started)
        }
        latencies.withLock { $0 += mine }
    }
}
let started = monotonicNanos()
threads.forEach { $0.start() }
while latencies.withLock({ _ in threads.contains { !$0.isFinished } }) { usleep(10_000) }
let elapsed = Double(monotonicNanos() - started) / 1e9
writer.close()
let all = latencies.withLock { $0.sorted() }
let p99 = all.isEmpty ? 0 : Double(all[min(all.count - 1, all.count * 99 / 100)]) / 1000
print(String(format: "appends_per_sec=%.0f p99_us=%.0f appends=%d writers=%d mode=%@", Double(all.count) / elapsed, p99, all.count, writers, args[2]))
