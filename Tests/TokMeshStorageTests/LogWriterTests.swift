// Tests of group commit (spec/02 §3.4): indexes assigned at enqueue in order, every record
// acknowledged, sync mode acknowledging only durable records, batch mode syncing on its
// interval, and a reopen finding everything that was acknowledged.
import Dispatch
import Foundation
import Synchronization
import Testing
@testable import TokMeshStorage

@Suite struct LogWriterTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tmwriter-\(UUID().uuidString)").path

    func options() -> LogOptions {
        LogOptions(directory: directory, kind: .wal, prefix: "wal", masterKey: (0..<32).map { UInt8($0) }, cipher: .chaCha20Poly1305,
                   segmentBytesMax: 64 * 1024, knownTypes: [1])
    }

    @Test("concurrent appenders get consecutive indexes; every acknowledged record is there after reopen",
          arguments: [LogSyncMode.sync, .batch(intervalMillis: 5)])
    func concurrentAppends(mode: LogSyncMode) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (log, _) = try SegmentedLog.open(options()) { _ in }
        let writer = LogWriter(log: log, mode: mode, batchCount: 64)
        let enqueued = Mutex<[UInt64: [UInt8]]>([:])
        let indexes = Mutex<[UInt64]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for i in 0..<250 {
                let payload = Array("w\(worker)-\(i)".utf8)
                let index = try! writer.append(type: 1, payload: payload)
                indexes.withLock { $0.append(index) }
                enqueued.withLock { $0[index] = payload }
            }
        }
        let all = indexes.withLock { $0 }.sorted()
        #expect(all == Array(1...2000))
        try writer.waitAcknowledged(2000)
        if mode == .sync { #expect(writer.progress.durable == 2000) }
        try writer.waitAcknowledged(2000, durable: true)
        writer.close()
        var replayed: [UInt64: [UInt8]] = [:]
        let (again, report) = try SegmentedLog.open(options()) { replayed[$0.index] = $0.payload }
        #expect(report.corruption == nil && report.tornTails.isEmpty && report.lastIndex == 2000)
        #expect(replayed == enqueued.withLock { $0 })
        try again.close()
    }

    @Test("acknowledgements run once per record, in index order")
    func acknowledgementOrder() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (log, _) = try SegmentedLog.open(options()) { _ in }
        let writer = LogWriter(log: log, mode: .batch(intervalMillis: 1000), batchCount: 7)
        let seen = Mutex<[UInt64]>([])
        for i in 0..<100 {
            let index = UInt64(i + 1)
            try writer.append(type: 1, payload: [UInt8(i)], urgent: i == 50) { result in
                if case .success = result { seen.withLock { $0.append(index) } }
            }
        }
        try writer.waitAcknowledged(100)
        writer.close()
        #expect(seen.withLock { $0 } == Array(1...100))
        #expect(writer.progress.durable == 100, "close syncs everything written")
    }

    @Test("batch mode: the sync thread makes written records durable on its interval while writes go on")
    func backgroundSync() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (log, _) = try SegmentedLog.open(options()) { _ in }
        let writer = LogWriter(log: log, mode: .batch(intervalMillis: 5), batchCount: 16)
        // Enough records to rotate segments several times (64 KiB each) while syncs run.
        for round in 0..<20 {
            for i in 0..<100 { try writer.append(type: 1, payload: [UInt8](repeating: UInt8(i), count: 200 + round)) }
        }
        try writer.waitAcknowledged(2000)
        // Nobody asks for durability: only the periodic sync can get there. Wait on the
        // condition with a deadline rather than for a fixed time.
        let deadline = Date().addingTimeInterval(20)
        while writer.progress.durable < 2000 && Date() < deadline { usleep(2000) }
        #expect(writer.progress.durable == 2000)
        #expect(writer.failure == nil)
        writer.close()
        var count = 0
        let (again, report) = try SegmentedLog.open(options()) { _ in count += 1 }
        #expect(report.corruption == nil && report.lastIndex == 2000 && count == 2000)
        try again.close()
    }
}
