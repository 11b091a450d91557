// OrderedPipeline: hands items from one thread to a consumer thread in batches, in order, with
// a bounded queue (back-pressure on the producer). WAL recovery uses it so that reading,
// checking and decrypting the log (the producer) and decoding and applying its records (the
// consumer) run on two cores at once while records still apply one after another in log order.
// A consumer error stops consumption; the producer hears of it at its next hand-off or at
// `finish`, which waits for the consumer to drain and returns its error.
import Foundation
import Synchronization

public final class OrderedPipeline<Item: Sendable>: Sendable {
    private struct Shared {
        var queue: [[Item]] = []
        var closed = false
        var consumerDone = false
        var failure: (any Error)?
    }

    private let shared = Mutex(Shared())
    private let changed = NSCondition()
    private let batchSize: Int
    private let maxQueued: Int
    /// Items gathered by the producer for its next hand-off (producer thread only).
    private let pending = Mutex<[Item]>([])

    public init(batchSize: Int = 1024, maxQueued: Int = 8, consume: @escaping @Sendable ([Item]) throws -> Void) {
        self.batchSize = batchSize
        self.maxQueued = maxQueued
        let thread = Thread { [self] in run(consume) }
        thread.name = "tokmesh-replay"
        thread.start()
    }

    /// Adds one item; hands a full batch over (waiting while `maxQueued` batches are queued).
    /// Throws the consumer's error once it has failed.
    public func feed(_ item: Item) throws {
        let full: [Item]? = pending.withLock { p in
            p.append(item)
            guard p.count >= batchSize else { return nil }
            defer { p = [] }
            return p
        }
        if let full { try handOff(full) }
    }

    private func handOff(_ batch: [Item]) throws {
        changed.lock()
        defer { changed.unlock() }
        while shared.withLock({ $0.queue.count >= maxQueued && $0.failure == nil }) { changed.wait() }
        if let failure = shared.withLock({ $0.failure }) { throw failure }
        shared.withLock { $0.queue.append(batch) }
        changed.broadcast()
    }

    /// Hands over what is left, waits until the consumer has applied everything, and throws
    /// its error if it failed. Call it also when the producer itself failed; calling it again
    /// only rethrows.
    public func finish() throws {
        let rest = pending.withLock { p -> [Item] in
            defer { p = [] }
            return p
        }
        if !rest.isEmpty && shared.withLock({ $0.failure == nil }) { try? handOff(rest) }
        changed.lock()
        shared.withLock { $0.closed = true }
        changed.broadcast()
        while !shared.withLock({ $0.consumerDone }) { changed.wait() }
        changed.unlock()
        if let failure = shared.withLock({ $0.failure }) { throw failure }
    }

    private func run(_ consume: @Sendable ([Item]) throws -> Void) {
        while true {
            changed.lock()
            while shared.withLock({ $0.queue.isEmpty && !$0.closed }) { changed.wait() }
            let batch: [Item]? = shared.withLock { s in s.queue.isEmpty ? nil : s.queue.removeFirst() }
            if batch == nil {
                shared.withLock { $0.consumerDone = true }
                changed.broadcast()
                changed.unlock()
                return
            }
            changed.broadcast()
            changed.unlock()
            guard let batch, shared.withLock({ $0.failure == nil }) else { continue }
            do {
                try consume(batch)
            } catch {
                changed.lock()
                shared.withLock { $0.failure = error }
                changed.broadcast()
                changed.unlock()
            }
        }
    }
}
