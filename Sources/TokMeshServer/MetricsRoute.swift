// MetricsRoute: `GET|HEAD /metrics` (spec/04 §9, spec/10 §3) — this node's metrics in
// Prometheus text format 0.0.4, for keys with the metrics or admin role, or for anyone when
// `telemetry.metrics.auth_enabled` is false. Refusals are 401/403 with `X-Error-Code` and no
// body; the body itself is what `MetricsRegistry` renders after the node's scrape hooks ran.
import NIOCore
import NIOHTTP1
import TokMeshCore
import TokMeshHTTP
import TokMeshTelemetry

enum MetricsRoute {
    static let path = "/metrics"
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func routes(_ node: NodeContext) -> [(String, String, RouteSpec)] {
        let access: Access = node.config.metricsAuthEnabled ? .oneOf([.metrics, .admin]) : .open
        let spec = RouteSpec(access: access, servedWhenNotReady: true) { (_: RouteCall) throws(TokMeshError) -> RouteResult in
            let text = MetricsRegistry.shared.render()
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Cache-Control", value: "no-store")
            headers.add(name: "X-Content-Type-Options", value: "nosniff")
            return RouteResult(raw: ServerResponse(status: .ok, headers: headers, body: ByteBuffer(bytes: text)))
        }
        return [("GET", path, spec), ("HEAD", path, spec)]
    }
}
