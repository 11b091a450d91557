// SpanExporter: the batch span processor of spec/10 §5 — a queue of 2,048 finished spans (a
// full queue drops the span and counts it in `tokmesh_tracing_spans_dropped_total`), sent in
// batches of at most 512 every 5 s, or as soon as a batch is full, as OTLP/HTTP protobuf to
// `<endpoint>/v1/traces` with a 10 s timeout, from one thread of its own so no request waits.
import CoreMetrics
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

public final class SpanExporter: Sendable {
    public static let queueMax = 2048
    public static let batchMax = 512
    public static let intervalSeconds: Double = 5
    public static let timeoutSeconds: Double = 10

    public let url: URL
    private let resource: [(String, SpanAttributeValue)]
    private let version: String
    private let queue = Mutex<(spans: [FinishedSpan], stopping: Bool)>(([], false))
    private let wake = NSCondition()
    private let finished = NSCondition()
    private let done = Mutex(false)
    private let dropped = CoreMetrics.Counter(label: "tokmesh_tracing_spans_dropped_total")
    private let failure: @Sendable (String) -> Void

    /// `endpoint` is the collector's base URL; `/v1/traces` is added unless present.
    public init?(endpoint: String, resource: [(String, SpanAttributeValue)], version: String, onFailure: @escaping @Sendable (String) -> Void) {
        var text = endpoint
        while text.hasSuffix("/") { text.removeLast() }
        if !text.hasSuffix("/v1/traces") { text += "/v1/traces" }
        guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https" else { return nil }
        self.url = url
        self.resource = resource
        self.version = version
        self.failure = onFailure
        let thread = Thread { [self] in self.run() }
        thread.name = "tokmesh-span-export"
        thread.start()
    }

    /// Queues a finished span; never blocks.
    public func submit(_ span: FinishedSpan) {
        let (accepted, full) = queue.withLock { q -> (Bool, Bool) in
            guard !q.stopping, q.spans.count < Self.queueMax else { return (false, false) }
            q.spans.append(span)
            return (true, q.spans.count >= Self.batchMax)
        }
        if !accepted { dropped.increment(); return }
        if full { wake.lock(); wake.signal(); wake.unlock() }
    }

    private func run() {
        var nextExport = Date(timeIntervalSinceNow: Self.intervalSeconds)
        while true {
            wake.lock()
            while queue.withLock({ $0.spans.count < Self.batchMax && !$0.stopping }) && Date() < nextExport {
                _ = wake.wait(until: nextExport)
            }
            wake.unlock()
            let (batch, stopping, more) = queue.withLock { q -> ([FinishedSpan], Bool, Bool) in
                let n = min(q.spans.count, Self.batchMax)
                let batch = Array(q.spans.prefix(n))
                q.spans.removeFirst(n)
                return (batch, q.stopping, !q.spans.isEmpty)
            }
            if !batch.isEmpty { send(batch) }
            if stopping && !more { break }
            if !more { nextExport = Date(timeIntervalSinceNow: Self.intervalSeconds) }
        }
        done.withLock { $0 = true }
        finished.lock(); finished.broadcast(); finished.unlock()
    }

    private func send(_ batch: [FinishedSpan]) {
        var request = URLRequest(url: url, timeoutInterval: Self.timeoutSeconds)
        request.httpMethod = "POST"
        request.setValue("application/x-protobuf", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(OTLPTraceEncoder.encode(batch, resource: resource, scopeVersion: version))
        let sent = NSCondition()
        let outcome = Mutex<String??>(nil)
        URLSession.shared.dataTask(with: request) { _, response, error in
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            let problem: String? = error.map { _ in "the collector could not be reached" }
                ?? ((200..<300).contains(status) ? nil : "the collector answered \(status)")
            outcome.withLock { $0 = .some(problem) }
            sent.lock(); sent.signal(); sent.unlock()
        }.resume()
        sent.lock()
        let deadline = Date(timeIntervalSinceNow: Self.timeoutSeconds + 1)
        while outcome.withLock({ $0 == nil }) && Date() < deadline { _ = sent.wait(until: deadline) }
        sent.unlock()
        switch outcome.withLock({ $0 }) {
        case .some(.some(let problem)):
            dropped.increment(by: Int64(batch.count))
            failure(problem)
        case .none:
            dropped.increment(by: Int64(batch.count))
            failure("the collector did not answer within 10 s")
        case .some(.none):
            break
        }
    }

    /// Sends what is queued and ends the thread (at most one export timeout).
    public func shutdown() {
        queue.withLock { $0.stopping = true }
        wake.lock(); wake.signal(); wake.unlock()
        finished.lock()
        let deadline = Date(timeIntervalSinceNow: Self.timeoutSeconds + 2)
        while !done.withLock({ $0 }) && Date() < deadline { _ = finished.wait(until: deadline) }
        finished.unlock()
    }
}
