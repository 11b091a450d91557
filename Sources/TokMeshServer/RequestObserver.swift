// RequestObserver: what every JSON API request leaves behind once answered (spec/10 §1, §3) —
// the latency histogram by method, route template and status, the error counter by TM code,
// the in-flight gauge the graceful stop drains, and the access line (`event: request`: DEBUG,
// WARN for 401/403/429, ERROR for 5xx), capped at 1,000 lines a second with a once-a-second
// `log_suppressed` summary. Labels are route templates (`unmatched` otherwise), never paths.
// RESP commands' access lines share the cap.
import CoreMetrics
import NIOHTTP1
import Synchronization
import TokMeshCore
import TokMeshHTTP

final class RequestObserver: Sendable {
    private struct Key: Hashable {
        var method: String
        var template: String
        var status: UInt
    }

    private let histograms = Mutex<[Key: CoreMetrics.Timer]>([:])
    private let errors = Mutex<[String: CoreMetrics.Counter]>([:])
    /// Requests accepted and not yet answered (every listener).
    let inFlight = Atomic<Int>(0)
    private let logger: Logger
    private let lineBudget = Mutex<(second: Int64, written: Int, dropped: Int)>((0, 0, 0))
    static let linesPerSecond = 1000

    init(logger: Logger) { self.logger = logger }

    /// Counts an error answer of any protocol (`tokmesh_errors_total{code, protocol}`).
    func countError(_ code: String, protocol name: String) {
        let key = code + "|" + name
        let counter = errors.withLock { table in
            if let c = table[key] { return c }
            let c = CoreMetrics.Counter(label: "tokmesh_errors_total", dimensions: [("code", code), ("protocol", name)])
            table[key] = c
            return c
        }
        counter.increment()
    }

    func finished(_ request: ServerRequest, template: String, response: ServerResponse, startNanos: UInt64, nowMillis: Int64) {
        inFlight.subtract(1, ordering: .relaxed)
        let elapsed = monotonicNanos() &- startNanos
        let key = Key(method: request.method.rawValue, template: template, status: response.status.code)
        let timer = histograms.withLock { table in
            if let t = table[key] { return t }
            let t = CoreMetrics.Timer(label: "tokmesh_api_request_duration_seconds",
                                      dimensions: [("method", request.method.rawValue), ("path", template), ("status", String(response.status.code))])
            table[key] = t
            return t
        }
        timer.recordNanoseconds(Int64(elapsed))
        let errorCode = response.headers.first(name: "X-Error-Code")
        if let errorCode { countError(errorCode, protocol: "http") }

        let status = response.status.code
        // Probe answers stay at DEBUG: a 503 from /ready while starting or stopping is the answer
        // a load balancer needs, not a failure (decision, docs/decisions.md).
        let probe = template == "/ready" || template == "/health"
        let level: Logger.Level = probe ? .debug : status >= 500 ? .error : (status == 401 || status == 403 || status == 429) ? .warn : .debug
        guard logger.enabled(level), admitLine(nowMillis: nowMillis) else { return }
        var fields: JSONObject = ["event": "request", "request_id": .string(response.headers.first(name: "X-Request-ID") ?? "")]
        fields.append("protocol", .string(request.version.major == 2 ? "h2" : "http1"))
        fields.append("method", .string(request.method.rawValue))
        fields.append("route", .string(template))
        fields.append("status", .int(Int64(status)))
        fields.append("code", .string(errorCode ?? "OK"))
        fields.append("duration_ms", .double((Double(elapsed) / 10_000).rounded() / 100))
        switch request.peer {
        case .local: fields.append("client_ip", "local")
        case .tcp(let ip): fields.append("client_ip", .string(ip.description))
        }
        fields.append("bytes_in", .int(Int64(request.body.count)))
        fields.append("bytes_out", .int(Int64(response.body?.readableBytes ?? response.file?.length ?? 0)))
        logger.log(level, "tokmesh.http", "request served", fields)
    }

    /// A RESP command's access line (spec/05 §9), under the same cap as HTTP's.
    func respLine(_ level: Logger.Level, _ fields: JSONObject, nowMillis: Int64) {
        guard logger.enabled(level), admitLine(nowMillis: nowMillis) else { return }
        logger.log(level, "tokmesh.resp", "command served", fields)
    }

    /// The 1,000-lines-a-second cap; the first line of a new second reports what was dropped.
    private func admitLine(nowMillis: Int64) -> Bool {
        let second = nowMillis / 1000
        let (admit, dropped) = lineBudget.withLock { b -> (Bool, Int) in
            var dropped = 0
            if b.second != second {
                dropped = b.dropped
                b = (second, 0, 0)
            }
            guard b.written < Self.linesPerSecond else { b.dropped += 1; return (false, 0) }
            b.written += 1
            return (true, dropped)
        }
        if dropped > 0 { logger.log(.warn, "tokmesh.http", "request lines suppressed", ["event": "log_suppressed", "dropped": .int(Int64(dropped))]) }
        return admit
    }
}
