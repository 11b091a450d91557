// LogWriter: group commit over a SegmentedLog (spec/02 §3.4). Appenders only enqueue — the
// record index is assigned at enqueue, so the caller can do it while it holds its shard locks
// and apply order equals log order — and one dedicated writer thread drains the queue: at most
// `batchCount` records or `batchBytes` per write, never waiting for a batch to fill. In `sync`
// mode every write is followed by fdatasync before its records are acknowledged; in `batch`
// mode records are acknowledged once written and fsynced every `syncInterval` by a second
// thread, so writes (and the acknowledgements waiting on them) never queue behind that fsync.
// An urgent record is fsynced with its write in either mode. A failed write or fsync fails the
// log for good: waiting and later appenders get the error (spec/02 §3.5).
import Foundation
import Synchronization

public enum LogSyncMode: Sendable, Equatable {
    case sync
    /// Acknowledge on write; fsync at least every `intervalMillis`.
    case batch(intervalMillis: Int)
}

public final class LogWriter: Sendable {
    public typealias Acknowledgement = @Sendable (Result<Void, LogError>) -> Void

    private struct Pending {
        var index: UInt64
        var type: UInt8
        var payload: [UInt8]
        var urgent: Bool
        var acknowledge: Acknowledgement?
    }

    private struct State {
        var queue: [Pending] = []
        var nextIndex: UInt64
        var failure: LogError?
        var closing = false
        var closed = false
        var lastSyncNanos: UInt64 = 0
        /// A periodic fdatasync is running on the sync thread (batch mode).
        var backgroundSync = false
        var writtenIndex: UInt64
        var durableIndex: UInt64
        /// Callbacks waiting for an index to be acknowledged (written, or durable when asked).
        var waiters: [(index: UInt64, durable: Bool, callback: Acknowledgement)] = []
    }

    private let state: Mutex<State>
    private let wake = NSCondition()
    // Touched only by the writer thread after init, and by `close` once that thread has ended.
    private let log: UnsafeTransfer<SegmentedLog>
    private let mode: LogSyncMode
    private let batchCount: Int
    private let batchBytes: Int
    private let finished = NSCondition()
    private let threadDone = Mutex(false)
    /// The sync thread's next job (a duplicated segment descriptor and the index it covers) and
    /// whether it should end; `syncWake` wakes it.
    private let syncJob = Mutex<(job: (fd: Int32, target: UInt64)?, stop: Bool)>((nil, false))
    private let syncWake = NSCondition()
    private let metrics: LogMetrics?

    public init(log: SegmentedLog, mode: LogSyncMode, batchCount: Int = 100, batchBytes: Int = 1 << 20, metrics: LogMetrics? = nil) {
        self.metrics = metrics
        self.log = UnsafeTransfer(log)
        self.mode = mode
        self.batchCount = batchCount
        self.batchBytes = batchBytes
        let last = log.nextIndex - 1
        state = Mutex(State(nextIndex: log.nextIndex, writtenIndex: last, durableIndex: last))
        let thread = Thread { [self] in self.run() }
        thread.name = "tokmesh-log-writer"
        thread.start()
        if case .batch = mode {
            let syncer = Thread { [self] in self.runSyncer() }
            syncer.name = "tokmesh-log-sync"
            syncer.start()
        }
    }

    /// The index given to the most recent append (0: none yet).
    public var lastAssignedIndex: UInt64 { state.withLock { $0.nextIndex - 1 } }

    /// The index of the last record written to the OS and of the last one made durable.
    public var progress: (written: UInt64, durable: UInt64) { state.withLock { ($0.writtenIndex, $0.durableIndex) } }

    /// Enqueues one record and returns its index; `acknowledge` runs on a log thread once
    /// the record is acknowledged per the mode (or the log failed). Never does I/O.
    @discardableResult
    public func append(type: UInt8, payload: [UInt8], urgent: Bool = false, acknowledge: Acknowledgement? = nil) throws(LogError) -> UInt64 {
        let index: UInt64 = try state.withLock { (s: inout State) throws(LogError) -> UInt64 in
            if let failure = s.failure { throw failure }
            guard !s.closing else { throw LogError.io("log is closing") }
            let index = s.nextIndex
            s.nextIndex += 1
            s.queue.append(Pending(index: index, type: type, payload: payload, urgent: urgent, acknowledge: acknowledge))
            return index
        }
        wake.lock()
        wake.signal()
        wake.unlock()
        return index
    }

    /// Calls `callback` (on a log thread, or at once) when `index` is acknowledged: written
    /// in batch mode, durable in sync mode or when `durable` is asked (urgent records).
    public func whenAcknowledged(_ index: UInt64, durable: Bool = false, _ callback: @escaping Acknowledgement) {
        let now: Result<Void, LogError>? = state.withLock { s in
            if let failure = s.failure { return .failure(failure) }
            let reached = durable || mode == .sync ? s.durableIndex >= index : s.writtenIndex >= index
            if reached { return .success(()) }
            s.waiters.append((index, durable || mode == .sync, callback))
            return nil
        }
        if let now {
            callback(now)
        } else if durable {
            wake.lock()
            wake.signal()
            wake.unlock()
        }
    }

    /// The failure that stopped the log, if any (spec/02 §3.5: only a restart clears it).
    public var failure: LogError? { state.withLock { $0.failure } }

    /// Runs the callbacks whose index has been reached (or all of them, failed, on failure).
    private func fireWaiters() {
        let ready: [(Acknowledgement, Result<Void, LogError>)] = state.withLock { s in
            guard !s.waiters.isEmpty else { return [] }
            if let failure = s.failure {
                let all = s.waiters.map { ($0.callback, Result<Void, LogError>.failure(failure)) }
                s.waiters.removeAll()
                return all
            }
            var out: [(Acknowledgement, Result<Void, LogError>)] = []
            s.waiters.removeAll { w in
                let reached = w.durable ? s.durableIndex >= w.index : s.writtenIndex >= w.index
                if reached { out.append((w.callback, .success(()))) }
                return reached
            }
            return out
        }
        for (callback, result) in ready { callback(result) }
    }

    /// Blocks until `index` is acknowledged (snapshots, tests and shutdown paths; request paths
    /// use `whenAcknowledged` instead). A durable wait makes the writer fsync now.
    public func waitAcknowledged(_ index: UInt64, durable: Bool = false) throws(LogError) {
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<Void, LogError>>(.success(()))
        whenAcknowledged(index, durable: durable) { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        try outcome.withLock { $0 }.get()
    }

    private func run() {
        let intervalNanos: UInt64
        if case .batch(let ms) = mode { intervalNanos = UInt64(ms) * 1_000_000 } else { intervalNanos = 0 }
        while true {
            let (batch, closing, syncDue, backgroundDue) = state.withLock { s -> ([Pending], Bool, Bool, Bool) in
                var bytes = 0
                var count = 0
                while count < s.queue.count && count < batchCount && (count == 0 || bytes + s.queue[count].payload.count <= batchBytes) {
                    bytes += s.queue[count].payload.count
                    count += 1
                }
                let batch = Array(s.queue.prefix(count))
                s.queue.removeFirst(count)
                let durableWanted = s.waiters.contains { $0.durable && $0.index <= s.writtenIndex }
                let periodic = intervalNanos > 0 && !s.backgroundSync && s.writtenIndex > s.durableIndex
                    && monotonicNow() - s.lastSyncNanos >= intervalNanos
                return (batch, s.closing && s.queue.isEmpty, s.writtenIndex > s.durableIndex && durableWanted, periodic && !durableWanted)
            }
            if backgroundDue && !closing { startBackgroundSync() }
            if !batch.isEmpty {
                write(batch)
            } else if syncDue {
                syncNow()
            } else if closing {
                syncNow()
                try? log.value.close()
                state.withLock { $0.closed = true }
                finished.lock()
                threadDone.withLock { $0 = true }
                finished.broadcast()
                finished.unlock()
                return
            } else {
                wake.lock()
                let idle = state.withLock { s in
                    s.queue.isEmpty && !s.closing && !s.waiters.contains { $0.durable && $0.index <= s.writtenIndex }
                }
                if idle { _ = wake.wait(until: Date(timeIntervalSinceNow: intervalNanos > 0 ? Double(intervalNanos) / 1e9 : 0.05)) }
                wake.unlock()
            }
        }
    }

    private func monotonicNow() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    private func write(_ batch: [Pending]) {
        if let failure = state.withLock({ $0.failure }) {
            batch.forEach { $0.acknowledge?(.failure(failure)) }
            return
        }
        do {
            let range = try log.value.append(batch.map { (type: $0.type, payload: $0.payload) })
            precondition(range?.lowerBound == batch.first?.index && range?.upperBound == batch.last?.index,
                         "log indexes diverged from enqueue order")
            if let metrics {
                metrics.appends.increment(by: Int64(batch.count))
                metrics.bytes.increment(by: Int64(batch.reduce(0) { $0 + $1.payload.count }))
            }
            let mustSync = mode == .sync || batch.contains { $0.urgent }
            if mustSync {
                let start = monotonicNow()
                do {
                    try log.value.sync()
                    metrics?.synced(records: UInt64(batch.count), nanos: monotonicNow() - start, ok: true)
                } catch {
                    metrics?.synced(records: 0, nanos: monotonicNow() - start, ok: false)
                    throw error
                }
            }
            let last = batch.last!.index
            state.withLock { s in
                s.writtenIndex = last
                if mustSync {
                    s.durableIndex = last
                    s.lastSyncNanos = monotonicNow()
                }
            }
            batch.forEach { $0.acknowledge?(.success(())) }
        } catch {
            let failure = (error as? LogError) ?? LogError.io("\(error)")
            state.withLock { $0.failure = failure }
            batch.forEach { $0.acknowledge?(.failure(failure)) }
        }
        fireWaiters()
        wake.lock()
        wake.broadcast()
        wake.unlock()
    }

    /// Hands the periodic fdatasync to the sync thread (falls back to syncing here).
    private func startBackgroundSync() {
        let target = state.withLock { $0.writtenIndex }
        let fd = log.value.duplicateHandle()
        guard fd >= 0 else { syncNow(); return }
        state.withLock { s in
            s.backgroundSync = true
            s.lastSyncNanos = monotonicNow()
        }
        syncWake.lock()
        syncJob.withLock { $0.job = (fd, target) }
        syncWake.signal()
        syncWake.unlock()
    }

    /// The sync thread (batch mode): fdatasync each handed descriptor, then advance the durable
    /// index and run the waiters it satisfies.
    private func runSyncer() {
        while true {
            syncWake.lock()
            while syncJob.withLock({ $0.job == nil && !$0.stop }) { syncWake.wait() }
            let (job, stop) = syncJob.withLock { state -> ((fd: Int32, target: UInt64)?, Bool) in
                defer { state.job = nil }
                return (state.job, state.stop)
            }
            syncWake.unlock()
            guard let job else {
                if stop { return }
                continue
            }
            let start = monotonicNow()
            let synced = fdatasync(job.fd) == 0
            let error = errno
            let elapsed = monotonicNow() - start
            _ = Foundation.close(job.fd)
            let madeDurable = state.withLock { s -> UInt64 in
                s.backgroundSync = false
                let before = s.durableIndex
                if synced {
                    s.durableIndex = max(s.durableIndex, job.target)
                } else if s.failure == nil {
                    s.failure = .io("fdatasync failed: errno \(error)")
                }
                return s.durableIndex - before
            }
            metrics?.synced(records: madeDurable, nanos: elapsed, ok: synced)
            fireWaiters()
            wake.lock()
            wake.broadcast()
            wake.unlock()
        }
    }

    private func syncNow() {
        let (target, before) = state.withLock { ($0.writtenIndex, $0.durableIndex) }
        let start = monotonicNow()
        do {
            try log.value.sync()
            metrics?.synced(records: target - min(before, target), nanos: monotonicNow() - start, ok: true)
            state.withLock { s in
                s.durableIndex = max(s.durableIndex, target)
                s.lastSyncNanos = monotonicNow()
            }
        } catch {
            metrics?.synced(records: 0, nanos: monotonicNow() - start, ok: false)
            state.withLock { $0.failure = error }
        }
        fireWaiters()
    }

    /// Writes everything queued, fsyncs, closes the log and ends the writer thread.
    public func close() {
        state.withLock { $0.closing = true }
        wake.lock()
        wake.broadcast()
        wake.unlock()
        finished.lock()
        while !threadDone.withLock({ $0 }) { _ = finished.wait(until: Date(timeIntervalSinceNow: 0.1)) }
        finished.unlock()
        syncWake.lock()
        syncJob.withLock { $0.stop = true }
        syncWake.signal()
        syncWake.unlock()
    }
}

/// Hands a non-Sendable value to exactly one other thread. The writer thread is the only user of
/// the wrapped log once `LogWriter.init` returns.
struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
