// OTLPTraceEncoder: finished spans as an OTLP `ExportTraceServiceRequest` protobuf body
// (opentelemetry/proto/collector/trace/v1), hand-encoded with the project's wire writer: one
// ResourceSpans with the node's resource attributes, one ScopeSpans (`tokmesh-server`), and per
// span its IDs, name, kind, times, attributes and status. Field numbers are those of
// opentelemetry-proto v1 (trace.proto, common.proto, resource.proto).
import TokMeshProto

public enum SpanAttributeValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case double(Double)
}

public struct FinishedSpan: Sendable {
    public enum Kind: Int32, Sendable { case `internal` = 1, server = 2, client = 3 }
    public enum Status: Sendable, Equatable { case unset, ok, error(String) }

    public var traceID: [UInt8]
    public var spanID: [UInt8]
    public var parentSpanID: [UInt8]?
    public var traceState: String?
    public var name: String
    public var kind: Kind
    public var startNanos: UInt64
    public var endNanos: UInt64
    public var attributes: [(String, SpanAttributeValue)]
    public var status: Status
}

public enum OTLPTraceEncoder {
    public static func encode(_ spans: [FinishedSpan], resource: [(String, SpanAttributeValue)], scopeVersion: String) -> [UInt8] {
        var scope = ProtoWriter()
        var scopeInfo = ProtoWriter()
        scopeInfo.write(1, string: "tokmesh-server")
        scopeInfo.write(2, string: scopeVersion)
        scope.write(1, message: scopeInfo.bytes)
        for span in spans { scope.write(2, message: encode(span)) }

        var res = ProtoWriter()
        for (k, v) in resource { res.write(1, message: keyValue(k, v)) }
        var resourceSpans = ProtoWriter()
        resourceSpans.write(1, message: res.bytes)
        resourceSpans.write(2, message: scope.bytes)
        var request = ProtoWriter()
        request.write(1, message: resourceSpans.bytes)
        return request.bytes
    }

    static func encode(_ s: FinishedSpan) -> [UInt8] {
        var w = ProtoWriter(capacity: 256)
        w.write(1, bytes: s.traceID)
        w.write(2, bytes: s.spanID)
        if let state = s.traceState { w.write(3, string: state) }
        if let parent = s.parentSpanID { w.write(4, bytes: parent) }
        w.write(5, string: s.name)
        w.write(6, int32: s.kind.rawValue)
        w.write(7, fixed64: s.startNanos)
        w.write(8, fixed64: s.endNanos)
        for (k, v) in s.attributes { w.write(9, message: keyValue(k, v)) }
        var status = ProtoWriter()
        switch s.status {
        case .unset: break
        case .ok: status.write(3, int32: 1)
        case .error(let message):
            status.write(2, string: message)
            status.write(3, int32: 2)
        }
        if !status.bytes.isEmpty { w.write(15, message: status.bytes) }
        return w.bytes
    }

    static func keyValue(_ key: String, _ value: SpanAttributeValue) -> [UInt8] {
        var any = ProtoWriter()
        switch value {
        case .string(let s): any.write(1, stringElement: s)
        case .bool(let b): any.writeTag(2, .varint); any.writeVarint(b ? 1 : 0)
        case .int(let i): any.writeTag(3, .varint); any.writeVarint(UInt64(bitPattern: i))
        case .double(let d): any.writeTag(4, .fixed64); any.writeFixed64(d.bitPattern)
        }
        var kv = ProtoWriter()
        kv.write(1, string: key)
        kv.write(2, message: any.bytes)
        return kv.bytes
    }
}
