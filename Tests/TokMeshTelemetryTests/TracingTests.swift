// Tests of the tracing pieces that need no collector: W3C traceparent parsing and writing, the
// sampler's ratio and per-second cap, propagation through the swift-distributed-tracing
// extract/inject API, and the OTLP encoding's field layout read back with the wire reader.
import Foundation
import Testing
import TokMeshProto
@testable import TokMeshTelemetry
import Tracing

@Suite struct TracingTests {
    @Test("traceparent: valid headers parse and print back; malformed ones are ignored")
    func traceparent() throws {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let p = try #require(TraceParent(header: header, traceState: "vendor=x"))
        #expect(p.sampled && p.traceState == "vendor=x" && p.header == header)
        #expect(TraceParent(header: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")?.sampled == false)
        for bad in ["", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01"] {
            #expect(TraceParent(header: bad) == nil, "\(bad)")
        }
    }

    @Test("sampler: ratio 0 never, ratio 1 always up to 100 new roots a second")
    func sampler() {
        #expect(!TraceSampler(ratio: 0).sampleRoot(nowMillis: 1000, draw: 0))
        let all = TraceSampler(ratio: 1)
        let first = (0..<150).filter { _ in all.sampleRoot(nowMillis: 5_000, draw: 0.5) }.count
        #expect(first == TraceSampler.rootsPerSecondMax)
        #expect(all.sampleRoot(nowMillis: 6_000, draw: 0.5))
        #expect(!TraceSampler(ratio: 0.25).sampleRoot(nowMillis: 7_000, draw: 0.3))
    }

    struct Headers: Extractor, Injector {
        func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
        func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
    }

    @Test("extract then inject carries traceparent and tracestate unchanged")
    func propagation() throws {
        let made = SpanExporter(endpoint: "http://127.0.0.1:9/", resource: [], version: "t", onFailure: { @Sendable _ in })
        let exporter = try #require(made)
        #expect(exporter.url.absoluteString == "http://127.0.0.1:9/v1/traces")
        let tracer = TokMeshTracer(sampler: TraceSampler(ratio: 0), exporter: exporter)
        var context = ServiceContext.topLevel
        let incoming = ["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tracestate": "a=b"]
        tracer.extract(incoming, into: &context, using: Headers())
        var outgoing: [String: String] = [:]
        tracer.inject(context, into: &outgoing, using: Headers())
        #expect(outgoing == incoming)
        // a child started from that context keeps the trace and names its parent
        let child = tracer.startSpan("x", context: context, ofKind: .client, at: DefaultTracerClock.now, function: "", file: "", line: 0)
        #expect(TraceParent.hexString(child.traceID) == "4bf92f3577b34da6a3ce929d0e0e4736" && child.isRecording)
        exporter.shutdown()
    }

    @Test("OTLP: request → resource spans → scope spans → span with ids, kind, times, attributes")
    func encoding() throws {
        let span = FinishedSpan(traceID: Array(repeating: 1, count: 16), spanID: Array(repeating: 2, count: 8), parentSpanID: Array(repeating: 3, count: 8),
                                traceState: nil, name: "POST /tokens/validate", kind: .server, startNanos: 10, endNanos: 20,
                                attributes: [("http.response.status_code", .int(200))], status: .error("TM-SYS-5000"))
        let bytes = OTLPTraceEncoder.encode([span], resource: [("service.name", .string("tokmesh-server"))], scopeVersion: "0.1.0")
        func fields(_ b: [UInt8]) throws -> [(Int, [UInt8])] {
            var r = try ProtoReader(b)
            var out: [(Int, [UInt8])] = []
            var unknown = UnknownFields()
            while let (n, t) = try r.nextField() {
                if t == .lengthDelimited { out.append((n, Array(try r.readLengthDelimited()))) } else { try r.skip(t, into: &unknown); out.append((n, [])) }
            }
            return out
        }
        let resourceSpans = try fields(bytes)
        #expect(resourceSpans.map(\.0) == [1])
        let inner = try fields(resourceSpans[0].1)
        #expect(inner.map(\.0) == [1, 2])
        let scope = try fields(inner[1].1)
        #expect(scope.map(\.0) == [1, 2])
        let spanFields = try fields(scope[1].1)
        #expect(spanFields.map(\.0) == [1, 2, 4, 5, 6, 7, 8, 9, 15])
        #expect(spanFields[0].1 == span.traceID && String(decoding: spanFields[3].1, as: UTF8.self) == "POST /tokens/validate")
    }
}
