// SessionMetrics: the session-level metrics of spec/10 §3 — operations by name and result,
// their latency, validation verdicts, creates, revocations, quota refusals, version conflicts
// and purged sessions — recorded here, once, for every protocol (HTTP, RESP, RPC all call
// SessionService). Handles are made once through the swift-metrics facade, so recording is
// an atomic add and one histogram update; without a bootstrapped backend they do nothing.
import CoreMetrics
import TokMeshCore

enum SessionOperation: Int, CaseIterable, Sendable {
    case create, get, validate, touch, renew, revoke, revokeUser, list

    /// The internal span's name (spec/10 §5).
    var spanName: String { self == .validate ? "token.validate" : "session." + label }

    var label: String {
        switch self {
        case .create: "create"
        case .get: "get"
        case .validate: "validate"
        case .touch: "touch"
        case .renew: "renew"
        case .revoke: "revoke"
        case .revokeUser: "revoke_user"
        case .list: "list"
        }
    }
}

final class SessionMetrics: Sendable {
    static let shared = SessionMetrics()

    private let ok: [CoreMetrics.Counter]
    private let failed: [CoreMetrics.Counter]
    private let duration: [CoreMetrics.Timer]
    let validateValid = CoreMetrics.Counter(label: "tokmesh_token_validate_calls_total", dimensions: [("result", "valid")])
    let validateInvalid = CoreMetrics.Counter(label: "tokmesh_token_validate_calls_total", dimensions: [("result", "invalid")])
    let validateError = CoreMetrics.Counter(label: "tokmesh_token_validate_calls_total", dimensions: [("result", "error")])
    let created = CoreMetrics.Counter(label: "tokmesh_session_create_total")
    let quotaExceeded = CoreMetrics.Counter(label: "tokmesh_session_quota_exceeded_total")
    let renewConflicts = CoreMetrics.Counter(label: "tokmesh_session_version_conflicts_total", dimensions: [("operation", "renew")])
    let revokedSingle = CoreMetrics.Counter(label: "tokmesh_session_revoked_total", dimensions: [("mode", "single")])
    let revokedUser = CoreMetrics.Counter(label: "tokmesh_session_revoked_total", dimensions: [("mode", "user")])
    let purged = CoreMetrics.Counter(label: "tokmesh_session_expired_purged_total")

    private init() {
        ok = SessionOperation.allCases.map { CoreMetrics.Counter(label: "tokmesh_session_operations_total", dimensions: [("operation", $0.label), ("result", "ok")]) }
        failed = SessionOperation.allCases.map { CoreMetrics.Counter(label: "tokmesh_session_operations_total", dimensions: [("operation", $0.label), ("result", "error")]) }
        duration = SessionOperation.allCases.map { CoreMetrics.Timer(label: "tokmesh_session_operation_duration_seconds", dimensions: [("operation", $0.label)]) }
    }

    /// Counts an operation that cannot fail (list).
    func succeeded(_ op: SessionOperation, since start: UInt64) {
        ok[op.rawValue].increment()
        duration[op.rawValue].recordNanoseconds(Int64(monotonicNanos() &- start))
    }

    /// Runs one operation, counting its result and recording its time.
    @inline(__always)
    func measure<T>(_ op: SessionOperation, _ body: () throws(TokMeshError) -> T) throws(TokMeshError) -> T {
        let start = monotonicNanos()
        let span = TraceScope.child(op.spanName)
        do {
            let result = try body()
            if let span {
                if op == .validate { span.setAttribute("tokmesh.token.valid", bool: true) }
                span.end(errorCode: nil)
            }
            ok[op.rawValue].increment()
            switch op {
            case .validate: validateValid.increment()
            case .create: created.increment()
            default: break
            }
            duration[op.rawValue].recordNanoseconds(Int64(monotonicNanos() &- start))
            return result
        } catch {
            if let span {
                if op == .validate { span.setAttribute("tokmesh.token.valid", bool: false) }
                span.end(errorCode: error.code.rawValue)
            }
            failed[op.rawValue].increment()
            duration[op.rawValue].recordNanoseconds(Int64(monotonicNanos() &- start))
            switch (op, error.code) {
            case (.validate, .toknMalformed), (.validate, .toknUnknown), (.validate, .toknExpired), (.validate, .toknRevoked):
                validateInvalid.increment()
            case (.validate, _): validateError.increment()
            case (.create, .sessQuota): quotaExceeded.increment()
            case (.renew, .sessVersion): renewConflicts.increment()
            default: break
            }
            throw error
        }
    }
}
