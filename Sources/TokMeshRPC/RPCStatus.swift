// RPCStatus: the status codes gRPC and Connect share (spec/06 §5) — the number gRPC puts in
// `grpc-status`, the name Connect puts in its JSON error, and the HTTP status Connect answers
// unary errors with — and the error value every RPC path produces: a status, a message, and
// the TokMesh error detail (`tokmesh.v1.ErrorDetail`) when a TM code applies.
import TokMeshCore
import TokMeshProto

public enum RPCStatus: Int, Sendable {
    case ok = 0, cancelled, unknown, invalidArgument, deadlineExceeded, notFound, alreadyExists, permissionDenied
    case resourceExhausted, failedPrecondition, aborted, outOfRange, unimplemented, internalError, unavailable, dataLoss
    case unauthenticated

    public var connectName: String {
        switch self {
        case .ok: "ok"
        case .cancelled: "canceled"
        case .unknown: "unknown"
        case .invalidArgument: "invalid_argument"
        case .deadlineExceeded: "deadline_exceeded"
        case .notFound: "not_found"
        case .alreadyExists: "already_exists"
        case .permissionDenied: "permission_denied"
        case .resourceExhausted: "resource_exhausted"
        case .failedPrecondition: "failed_precondition"
        case .aborted: "aborted"
        case .outOfRange: "out_of_range"
        case .unimplemented: "unimplemented"
        case .internalError: "internal"
        case .unavailable: "unavailable"
        case .dataLoss: "data_loss"
        case .unauthenticated: "unauthenticated"
        }
    }

    /// The HTTP status of a Connect unary error (connectrpc.com/docs/protocol#error-codes).
    public var connectHTTPStatus: Int {
        switch self {
        case .ok: 200
        case .cancelled: 499
        case .unknown, .internalError, .dataLoss: 500
        case .invalidArgument, .failedPrecondition, .outOfRange: 400
        case .deadlineExceeded: 504
        case .notFound: 404
        case .alreadyExists, .aborted: 409
        case .permissionDenied: 403
        case .resourceExhausted: 429
        case .unimplemented: 501
        case .unavailable: 503
        case .unauthenticated: 401
        }
    }

    init(_ code: ErrorCode.ConnectCode) {
        self = RPCStatus(rawValue: code.grpcStatus) ?? .internalError
    }
}

public struct RPCError: Error, Sendable {
    public var status: RPCStatus
    public var message: String
    /// The TokMesh error this status stands for, carried as `ErrorDetail` and `x-error-code`.
    public var detail: TokMeshV1.ErrorDetail?
    /// Extra response metadata (e.g. `retry-after`).
    public var headers: [(String, String)]

    public init(_ status: RPCStatus, _ message: String, detail: TokMeshV1.ErrorDetail? = nil, headers: [(String, String)] = []) {
        self.status = status
        self.message = message
        self.detail = detail
        self.headers = headers
    }

    /// The RPC form of a TokMesh error: status from the catalogue's Connect code, the message
    /// as `"<TM code> <message>"`, details JSON-encoded into the `ErrorDetail` map.
    public init(_ error: TokMeshError, requestID: String) {
        var detail = TokMeshV1.ErrorDetail()
        detail.code = error.code.rawValue
        detail.message = error.message
        detail.requestId = requestID
        for (key, value) in error.details.pairs { detail.details[key] = JSONWriter.string(value) }
        var headers: [(String, String)] = []
        for (name, value) in error.headers where name.lowercased() == "retry-after" {
            headers.append(("retry-after", value))
            if let seconds = Int64(value) { detail.retryAfterMs = seconds * 1000 }
        }
        self.init(RPCStatus(error.code.connectCode), "\(error.code.rawValue) \(error.message)", detail: detail, headers: headers)
    }

    public static func malformed(_ reason: String, requestID: String) -> RPCError {
        RPCError(TokMeshError(.sysMalformed, "Malformed request: \(reason)"), requestID: requestID)
    }
}
