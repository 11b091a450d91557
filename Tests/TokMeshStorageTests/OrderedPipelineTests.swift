// Tests of the replay pipeline: items reach the consumer in order and exactly once, a consumer
// error reaches the producer and stops consumption, and `finish` drains everything.
import Synchronization
import Testing
@testable import TokMeshStorage

@Suite struct OrderedPipelineTests {
    struct Stop: Error, Equatable {}

    @Test("every item reaches the consumer once, in order, across batch boundaries")
    func order() throws {
        let seen = Mutex<[Int]>([])
        let pipeline = OrderedPipeline<Int>(batchSize: 7, maxQueued: 2) { batch in seen.withLock { $0.append(contentsOf: batch) } }
        for i in 0..<10_000 { try pipeline.feed(i) }
        try pipeline.finish()
        #expect(seen.withLock { $0 } == Array(0..<10_000))
    }

    @Test("a consumer error stops consumption and reaches the producer")
    func failure() {
        let seen = Mutex(0)
        let pipeline = OrderedPipeline<Int>(batchSize: 10, maxQueued: 1) { batch in
            if batch.contains(500) { throw Stop() }
            seen.withLock { $0 += batch.count }
        }
        var fedAfterFailure = false
        do {
            for i in 0..<100_000 { try pipeline.feed(i) }
            fedAfterFailure = true
        } catch {
            #expect(error as? Stop == Stop())
        }
        #expect(!fedAfterFailure, "back-pressure lets the producer hear of the failure long before it ends")
        #expect(throws: Stop.self) { try pipeline.finish() }
        #expect(seen.withLock { $0 } == 500)
    }
}
