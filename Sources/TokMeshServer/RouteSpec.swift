// RouteSpec: one row of the JSON API's route table — who may call it, which query parameters
// and body fields it accepts, whether it runs off the event loop, how it is audited, and the
// handler that decodes, calls one service method and encodes. The responder checks the
// declared parts once, at the door, before any handler runs (STYLE §6).
import NIOHTTP1
import TokMeshAuth
import TokMeshCore
import TokMeshHTTP
import TokMeshService

enum Access: Sendable {
    /// No credentials (`/health`, `/ready`).
    case open
    /// A minimum role (spec/03 §3).
    case minimum(Role)
    /// Exactly these roles (`/metrics`: metrics and admin, spec/03 §3).
    case oneOf([Role])
    /// The local admin socket only (`/local/v1/*`); 404 on TCP.
    case localOnly
}

struct RouteCall: Sendable {
    var request: ServerRequest
    var parameters: [String: String]
    var query: QueryParameters
    var body: JSONBody
    var principal: Principal
    var caller: CallerContext
    var requestID: String
    var clientIP: String

    func parameter(_ name: String) -> String { parameters[name] ?? "" }
}

struct RouteResult: Sendable {
    var status: HTTPResponseStatus
    var data: JSONObject
    /// `data` already encoded as a JSON object (hot paths); replaces `data` when set.
    var encodedData: [UInt8]?
    /// The WAL index the answer waits for (spec/01 §6: acknowledged only once logged).
    var logIndex: UInt64?
    /// Wait until the record is fsynced, not only written (`sync: true` revocations).
    var durable = false
    /// Overrides the route's audit action (e.g. KEY_ENABLED vs KEY_DISABLED).
    var auditAction: String?
    var auditDetails: JSONObject
    /// Skips the audit record (a download that does not start at byte 0).
    var skipAudit = false
    /// A response that is not a JSON envelope (file downloads); the request ID header is added.
    var raw: ServerResponse?
    /// A successful token validation: the data is `{"valid":true,"session":…}`, written only
    /// when a JSON envelope is rendered (RPC answers from the session without any JSON).
    var validatedSession: Session?

    init(_ status: HTTPResponseStatus = .ok, _ data: JSONObject, auditAction: String? = nil, auditDetails: JSONObject = JSONObject()) {
        self.status = status
        self.data = data
        self.encodedData = nil
        self.auditAction = auditAction
        self.auditDetails = auditDetails
    }

    init(raw: ServerResponse, auditDetails: JSONObject = JSONObject()) {
        self.status = raw.status
        self.data = JSONObject()
        self.raw = raw
        self.auditDetails = auditDetails
    }

    init(validated session: Session) {
        self.status = .ok
        self.data = JSONObject()
        self.validatedSession = session
        self.auditDetails = JSONObject()
    }

    init(_ status: HTTPResponseStatus = .ok, encodedData: [UInt8]) {
        self.status = status
        self.data = JSONObject()
        self.encodedData = encodedData
        self.auditAction = nil
        self.auditDetails = JSONObject()
    }
}

typealias RouteHandler = @Sendable (RouteCall) throws(TokMeshError) -> RouteResult

struct AuditSpec: Sendable {
    /// The action recorded (success or failure) unless the result overrides it.
    var action: @Sendable (RouteCall) -> String
    /// The resource named in the record.
    var resource: @Sendable (RouteCall) -> String
}

/// A class so the responder passes one reference per request instead of copying every field.
final class RouteSpec: Sendable {
    let access: Access
    let queryParameters: Set<String>
    /// Accepted body fields; nil for routes without a body (GET).
    let bodyFields: Set<String>?
    /// Runs on the blocking pool (Argon2 hashing).
    let offload: Bool
    /// Runs on the maintenance pool: seconds of work (snapshots, reading a backup) that must not
    /// hold the Argon2 threads.
    let longRunning: Bool
    let audit: AuditSpec?
    /// With `security.anti_replay.required`, this POST needs X-Timestamp/X-Nonce (not validate).
    let replayMandatory: Bool
    /// Served while the node is not ready (spec/04 §2).
    let servedWhenNotReady: Bool
    /// The handler reads `request.body` itself (the restore route: JSON or multipart).
    let rawBody: Bool
    let handler: RouteHandler

    init(access: Access, queryParameters: Set<String> = [], bodyFields: Set<String>? = nil, offload: Bool = false,
         longRunning: Bool = false, audit: AuditSpec? = nil, replayMandatory: Bool = true, servedWhenNotReady: Bool = false, rawBody: Bool = false,
         handler: @escaping RouteHandler) {
        self.rawBody = rawBody
        self.access = access
        self.queryParameters = queryParameters
        self.bodyFields = bodyFields
        self.offload = offload
        self.longRunning = longRunning
        self.audit = audit
        self.replayMandatory = replayMandatory
        self.servedWhenNotReady = servedWhenNotReady
        self.handler = handler
    }
}
