// TokMeshTracer: the node's tracer (spec/10 §5), a swift-distributed-tracing `Tracer` whose
// spans are exported over OTLP/HTTP by the SpanExporter. It exists only when
// `telemetry.tracing.enabled` is true. Server spans start from an incoming `traceparent`
// (parent-based: the caller's sampled flag decides) or as sampled roots (ratio, capped at 100
// a second); a span that is not sampled is a cheap non-recording value. Attribute values pass
// the redaction of spec/10 §2 before they are stored.
import Foundation
import Synchronization
import TokMeshCore
import Tracing

/// The service-context key carrying the trace position across the swift-distributed-tracing API.
public enum TraceParentKey: ServiceContextKey {
    public typealias Value = TraceParent
}

public final class TokMeshTracer: Tracer, Sendable {
    public typealias Span = TokMeshSpan

    let sampler: TraceSampler
    public let exporter: SpanExporter

    public init(sampler: TraceSampler, exporter: SpanExporter) {
        self.sampler = sampler
        self.exporter = exporter
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        var out = [UInt8](repeating: 0, count: count)
        repeat {
            for i in out.indices { out[i] = UInt8.random(in: 0...255, using: &g) }
        } while out.allSatisfy { $0 == 0 }
        return out
    }

    static func nowNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// A server span for a request carrying `traceparent`/`tracestate` headers (or none);
    /// nil when the request is not sampled, so callers do nothing more.
    public func startServerSpan(_ name: String, traceparent: String?, tracestate: String?, nowMillis: Int64) -> TokMeshSpan? {
        if let header = traceparent, let parent = TraceParent(header: header, traceState: tracestate) {
            guard parent.sampled else { return nil }
            return TokMeshSpan(tracer: self, name: name, kind: .server, traceID: parent.traceID, parentSpanID: parent.spanID,
                               traceState: parent.traceState)
        }
        guard sampler.sampleRoot(nowMillis: nowMillis, draw: Double.random(in: 0..<1)) else { return nil }
        return TokMeshSpan(tracer: self, name: name, kind: .server, traceID: Self.randomBytes(16), parentSpanID: nil, traceState: nil)
    }

    // MARK: swift-distributed-tracing

    public func startSpan<Instant: TracerInstant>(_ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
                                                  at instant: @autoclosure () -> Instant, function: String, file fileID: String,
                                                  line: UInt) -> TokMeshSpan {
        let ctx = context()
        let ourKind: FinishedSpan.Kind = kind == .server ? .server : kind == .client ? .client : .internal
        if let parent = ctx[TraceParentKey.self] {
            return TokMeshSpan(tracer: self, name: operationName, kind: ourKind, traceID: parent.traceID, parentSpanID: parent.spanID,
                               traceState: parent.traceState, recording: parent.sampled, start: instant().nanosecondsSinceEpoch)
        }
        let sampled = sampler.sampleRoot(nowMillis: Int64(Self.nowNanos() / 1_000_000), draw: Double.random(in: 0..<1))
        return TokMeshSpan(tracer: self, name: operationName, kind: ourKind, traceID: Self.randomBytes(16), parentSpanID: nil,
                           traceState: nil, recording: sampled, start: instant().nanosecondsSinceEpoch)
    }

    public func forceFlush() {}

    public func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        if let header = extractor.extract(key: "traceparent", from: carrier),
           let parent = TraceParent(header: header, traceState: extractor.extract(key: "tracestate", from: carrier)) {
            context[TraceParentKey.self] = parent
        }
    }

    public func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        guard let parent = context[TraceParentKey.self] else { return }
        injector.inject(parent.header, forKey: "traceparent", into: &carrier)
        if let state = parent.traceState { injector.inject(state, forKey: "tracestate", into: &carrier) }
    }
}

public final class TokMeshSpan: Tracing.Span, TraceParentSpan, TraceChildSpan, Sendable {
    private struct State {
        var name: String
        var attributes: [(String, SpanAttributeValue)] = []
        var status: FinishedSpan.Status = .unset
        var ended = false
    }

    private let tracer: TokMeshTracer
    public let traceID: [UInt8]
    public let spanID: [UInt8]
    let parentSpanID: [UInt8]?
    let traceState: String?
    let kind: FinishedSpan.Kind
    let startNanos: UInt64
    public let isRecording: Bool
    private let state: Mutex<State>

    init(tracer: TokMeshTracer, name: String, kind: FinishedSpan.Kind, traceID: [UInt8], parentSpanID: [UInt8]?, traceState: String?,
         recording: Bool = true, start: UInt64? = nil) {
        self.tracer = tracer
        self.traceID = traceID
        self.spanID = TokMeshTracer.randomBytes(8)
        self.parentSpanID = parentSpanID
        self.traceState = traceState
        self.kind = kind
        self.startNanos = start ?? TokMeshTracer.nowNanos()
        self.isRecording = recording
        self.state = Mutex(State(name: name))
    }

    /// The `traceparent` naming this span (for outbound calls).
    public var traceParent: TraceParent { TraceParent(traceID: traceID, spanID: spanID, sampled: isRecording, traceState: traceState) }

    public func set(_ key: String, _ value: SpanAttributeValue) {
        guard isRecording else { return }
        let clean: SpanAttributeValue
        if case .string(let s) = value { clean = .string(Redaction.isSecretField(key) ? Redaction.marker : Redaction.redact(s)) } else { clean = value }
        state.withLock { s in
            if let i = s.attributes.firstIndex(where: { $0.0 == key }) { s.attributes[i].1 = clean } else { s.attributes.append((key, clean)) }
        }
    }

    public func attribute(_ key: String) -> SpanAttributeValue? { state.withLock { s in s.attributes.first { $0.0 == key }?.1 } }

    public func setError(_ message: String) { state.withLock { $0.status = .error(Redaction.redact(message)) } }

    /// Ends the span and hands it to the exporter (once).
    public func finish() {
        guard isRecording else { return }
        let end = TokMeshTracer.nowNanos()
        guard let s = state.withLock({ s -> State? in
            guard !s.ended else { return nil }
            s.ended = true
            return s
        }) else { return }
        tracer.exporter.submit(FinishedSpan(traceID: traceID, spanID: spanID, parentSpanID: parentSpanID, traceState: traceState, name: s.name,
                                            kind: kind, startNanos: startNanos, endNanos: max(end, startNanos), attributes: s.attributes,
                                            status: s.status))
    }

    // MARK: TraceParentSpan / TraceChildSpan (internal spans below the transports)

    public func startChild(_ name: String) -> any TraceChildSpan {
        TokMeshSpan(tracer: tracer, name: name, kind: .internal, traceID: traceID, parentSpanID: spanID, traceState: traceState, recording: isRecording)
    }

    public func setAttribute(_ key: String, string value: String) { set(key, .string(value)) }
    public func setAttribute(_ key: String, bool value: Bool) { set(key, .bool(value)) }

    public func end(errorCode: String?) {
        if let errorCode { set("tokmesh.error_code", .string(errorCode)) }
        finish()
    }

    // MARK: swift-distributed-tracing

    public var context: ServiceContext {
        var c = ServiceContext.topLevel
        c[TraceParentKey.self] = traceParent
        return c
    }

    public var operationName: String {
        get { state.withLock { $0.name } }
        set { state.withLock { $0.name = newValue } }
    }

    public func setStatus(_ status: SpanStatus) {
        state.withLock { s in
            switch status.code {
            case .ok: s.status = .ok
            case .error: s.status = .error(Redaction.redact(status.message ?? ""))
            }
        }
    }

    public func addEvent(_ event: SpanEvent) {}

    public func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {
        setError("error")
    }

    public var attributes: SpanAttributes {
        get {
            var out = SpanAttributes()
            for (k, v) in state.withLock({ $0.attributes }) {
                switch v {
                case .string(let s): out.set(k, value: .string(s))
                case .int(let i): out.set(k, value: .int64(i))
                case .bool(let b): out.set(k, value: .bool(b))
                case .double(let d): out.set(k, value: .double(d))
                }
            }
            return out
        }
        set {
            newValue.forEach { k, v in
                switch v {
                case .int32(let i): set(k, .int(Int64(i)))
                case .int64(let i): set(k, .int(i))
                case .bool(let b): set(k, .bool(b))
                case .double(let d): set(k, .double(d))
                case .string(let s): set(k, .string(s))
                default: set(k, .string("\(v)"))
                }
            }
        }
    }

    public func addLink(_ link: SpanLink) {}

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) { finish() }
}
