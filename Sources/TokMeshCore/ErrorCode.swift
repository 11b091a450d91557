// ErrorCode: the complete error catalogue of spec/01 §8 as one table. Each code knows its HTTP
// status, its RESP prefix, its Connect code and its gRPC status, so every protocol renders the
// same failure the same way; TokMeshError pairs a code with a message and details.

public enum ErrorCode: String, Sendable, CaseIterable {
    case sysMalformed = "TM-SYS-4000"
    case sysNoRoute = "TM-SYS-4040"
    case sysMethodNotAllowed = "TM-SYS-4050"
    case sysBodyTooLarge = "TM-SYS-4130"
    case sysRateLimited = "TM-SYS-4290"
    case sysInternal = "TM-SYS-5000"
    case sysStorage = "TM-SYS-5001"
    case sysBackup = "TM-SYS-5002"
    case sysUnavailable = "TM-SYS-5030"
    case authMissing = "TM-AUTH-4010"
    case authInvalid = "TM-AUTH-4011"
    case authDisabled = "TM-AUTH-4012"
    case authSignature = "TM-AUTH-4013"
    case authTimestamp = "TM-AUTH-4014"
    case authNonce = "TM-AUTH-4015"
    case authRole = "TM-AUTH-4030"
    case authIP = "TM-AUTH-4031"
    case sessLimit = "TM-SESS-4001"
    case sessQuota = "TM-SESS-4002"
    case sessNotFound = "TM-SESS-4040"
    case sessExpired = "TM-SESS-4041"
    case sessExists = "TM-SESS-4090"
    case sessVersion = "TM-SESS-4091"
    case toknMalformed = "TM-TOKN-4000"
    case toknUnknown = "TM-TOKN-4010"
    case toknExpired = "TM-TOKN-4011"
    case toknRevoked = "TM-TOKN-4012"
    case toknInUse = "TM-TOKN-4090"
    case clstNodeExists = "TM-CLST-4090"
    case clstMisdirected = "TM-CLST-4210"
    case clstNoNode = "TM-CLST-5030"
    case clstOwnerUnreachable = "TM-CLST-5031"
    case clstTimeout = "TM-CLST-5040"
    case clstInconsistent = "TM-CLST-5050"
    case cfgFormat = "TM-CFG-1001"
    case cfgRange = "TM-CFG-1002"
    case cfgMissing = "TM-CFG-1003"
    case cfgPermission = "TM-CFG-1004"
    case cfgConflict = "TM-CFG-1005"
    case cfgDependency = "TM-CFG-1006"
    case cfgCertificate = "TM-CFG-1007"
    case cfgExpired = "TM-CFG-1008"
    case argInvalid = "TM-ARG-1001"
    case argMissing = "TM-ARG-1002"
    case argConflict = "TM-ARG-1003"
    case adminRole = "TM-ADMIN-4030"
    case adminIP = "TM-ADMIN-4031"
    case adminNotFound = "TM-ADMIN-4041"
    case adminConflict = "TM-ADMIN-4091"
    case adminUploadTooLarge = "TM-ADMIN-4130"
    case adminBackupUnusable = "TM-ADMIN-4221"
    case adminTooFrequent = "TM-ADMIN-4291"
    case adminFailed = "TM-ADMIN-5001"
    case adminRestoring = "TM-ADMIN-5031"

    /// Connect protocol codes (connectrpc.com/docs/protocol#error-codes).
    public enum ConnectCode: String, Sendable {
        case invalidArgument = "invalid_argument", unimplemented, resourceExhausted = "resource_exhausted"
        case internalError = "internal", unavailable, unauthenticated, permissionDenied = "permission_denied"
        case notFound = "not_found", alreadyExists = "already_exists", aborted
        case deadlineExceeded = "deadline_exceeded", dataLoss = "data_loss"

        public var grpcStatus: Int {
            switch self {
            case .invalidArgument: 3
            case .deadlineExceeded: 4
            case .notFound: 5
            case .alreadyExists: 6
            case .permissionDenied: 7
            case .resourceExhausted: 8
            case .aborted: 10
            case .unimplemented: 12
            case .internalError: 13
            case .unavailable: 14
            case .dataLoss: 15
            case .unauthenticated: 16
            }
        }
    }

    public var httpStatus: Int {
        switch self {
        case .sysMalformed, .sessLimit, .toknMalformed, .argInvalid, .argMissing, .argConflict,
             .cfgFormat, .cfgRange, .cfgMissing, .cfgPermission, .cfgConflict, .cfgDependency,
             .cfgCertificate, .cfgExpired: 400
        case .authMissing, .authInvalid, .authDisabled, .authSignature, .authTimestamp, .authNonce,
             .toknUnknown, .toknExpired, .toknRevoked: 401
        case .authRole, .authIP, .adminRole, .adminIP: 403
        case .sysNoRoute, .sessNotFound, .sessExpired, .adminNotFound: 404
        case .sysMethodNotAllowed: 405
        case .sessExists, .sessVersion, .toknInUse, .clstNodeExists, .adminConflict: 409
        case .sysBodyTooLarge, .adminUploadTooLarge: 413
        case .clstMisdirected: 421
        case .adminBackupUnusable: 422
        case .sysRateLimited, .sessQuota, .adminTooFrequent: 429
        case .sysInternal, .sysStorage, .sysBackup, .clstInconsistent, .adminFailed: 500
        case .sysUnavailable, .clstNoNode, .clstOwnerUnreachable, .adminRestoring: 503
        case .clstTimeout: 504
        }
    }

    /// The RESP error prefix: `NOAUTH` only for a missing credential.
    public var respPrefix: String { self == .authMissing ? "NOAUTH" : "ERR" }

    public var connectCode: ConnectCode {
        switch self {
        case .sysMalformed, .sessLimit, .toknMalformed, .argInvalid, .argMissing, .argConflict,
             .cfgFormat, .cfgRange, .cfgMissing, .cfgPermission, .cfgConflict, .cfgDependency,
             .cfgCertificate, .cfgExpired, .adminBackupUnusable: .invalidArgument
        case .sysNoRoute, .sysMethodNotAllowed: .unimplemented
        case .sysBodyTooLarge, .sysRateLimited, .sessQuota, .adminUploadTooLarge, .adminTooFrequent: .resourceExhausted
        case .sysInternal, .sysStorage, .sysBackup, .adminFailed: .internalError
        case .sysUnavailable, .clstNoNode, .clstOwnerUnreachable, .adminRestoring: .unavailable
        case .authMissing, .authInvalid, .authDisabled, .authSignature, .authTimestamp, .authNonce,
             .toknUnknown, .toknExpired, .toknRevoked: .unauthenticated
        case .authRole, .authIP, .adminRole, .adminIP: .permissionDenied
        case .sessNotFound, .sessExpired, .adminNotFound: .notFound
        case .sessExists, .toknInUse, .clstNodeExists: .alreadyExists
        case .sessVersion, .clstMisdirected, .adminConflict: .aborted
        case .clstTimeout: .deadlineExceeded
        case .clstInconsistent: .dataLoss
        }
    }

    public var grpcStatus: Int { connectCode.grpcStatus }

    /// The default one-line English message; never contains caller data.
    public var defaultMessage: String {
        switch self {
        case .sysMalformed: "Malformed request"
        case .sysNoRoute: "No such route"
        case .sysMethodNotAllowed: "Method not allowed"
        case .sysBodyTooLarge: "Request body too large"
        case .sysRateLimited: "Rate limit exceeded"
        case .sysInternal: "Internal error"
        case .sysStorage: "Storage error"
        case .sysBackup: "Backup or restore failed"
        case .sysUnavailable: "Service unavailable"
        case .authMissing: "No API key provided"
        case .authInvalid: "Invalid API key"
        case .authDisabled: "API key disabled"
        case .authSignature: "Invalid signature"
        case .authTimestamp: "Request timestamp outside the allowed window"
        case .authNonce: "Nonce already used"
        case .authRole: "Role not permitted"
        case .authIP: "Client IP not allowed"
        case .sessLimit: "Session field exceeds a limit"
        case .sessQuota: "Session quota exceeded"
        case .sessNotFound: "Session not found"
        case .sessExpired: "Session expired"
        case .sessExists: "Session ID already exists"
        case .sessVersion: "Version conflict; re-read and retry"
        case .toknMalformed: "Malformed token"
        case .toknUnknown: "Unknown token"
        case .toknExpired: "Token's session expired"
        case .toknRevoked: "Token revoked"
        case .toknInUse: "Token already in use"
        case .clstNodeExists: "Node ID already in the cluster"
        case .clstMisdirected: "Misdirected: shard moved"
        case .clstNoNode: "No available node"
        case .clstOwnerUnreachable: "Shard owner unreachable"
        case .clstTimeout: "Cluster operation timed out"
        case .clstInconsistent: "Data inconsistency between replicas"
        case .cfgFormat: "Configuration: bad format or type"
        case .cfgRange: "Configuration: value out of range"
        case .cfgMissing: "Configuration: file or directory missing"
        case .cfgPermission: "Configuration: permission denied"
        case .cfgConflict: "Configuration: conflict"
        case .cfgDependency: "Configuration: missing dependency"
        case .cfgCertificate: "Configuration: bad certificate or key"
        case .cfgExpired: "Configuration: certificate expired"
        case .argInvalid: "Invalid argument"
        case .argMissing: "Missing required argument"
        case .argConflict: "Conflicting arguments"
        case .adminRole: "Admin role required"
        case .adminIP: "Client IP not allowed on admin routes"
        case .adminNotFound: "Admin resource not found"
        case .adminConflict: "Admin operation conflict"
        case .adminUploadTooLarge: "Upload too large"
        case .adminBackupUnusable: "Backup unusable"
        case .adminTooFrequent: "Admin operation too frequent"
        case .adminFailed: "Admin operation failed"
        case .adminRestoring: "Writes refused while a restore runs"
        }
    }
}
