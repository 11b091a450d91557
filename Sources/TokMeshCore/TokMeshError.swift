// TokMeshError: the one error type every layer throws. It carries a catalogue code, a one-line
// message that never contains tokens, secrets or bodies, structured details, and optional
// extra response headers (Retry-After and the rate-limit headers).

public struct TokMeshError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    public var details: JSONObject
    /// Extra headers a transport should add (e.g. `Retry-After`), as (name, value).
    public var headers: [(String, String)]

    public init(_ code: ErrorCode, _ message: String? = nil, details: JSONObject = JSONObject(), headers: [(String, String)] = []) {
        self.code = code
        self.message = message ?? code.defaultMessage
        self.details = details
        self.headers = headers
    }

    public var description: String { "\(code.rawValue) \(message)" }

    public static func == (lhs: TokMeshError, rhs: TokMeshError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.details == rhs.details
    }

    // Convenience constructors for the most common shapes.
    public static func invalid(_ field: String, _ message: String) -> TokMeshError {
        TokMeshError(.argInvalid, message, details: ["field": .string(field)])
    }
    public static func missing(_ field: String) -> TokMeshError {
        TokMeshError(.argMissing, "Missing required argument: \(field)", details: ["field": .string(field)])
    }
    public static func limit(_ field: String, limit: Int, actual: Int) -> TokMeshError {
        TokMeshError(.sessLimit, "Field \(field) exceeds its limit", details: [
            "field": .string(field), "limit": .int(Int64(limit)), "actual": .int(Int64(actual)),
        ])
    }
    public static func malformed(_ field: String?, _ reason: String) -> TokMeshError {
        var details = JSONObject()
        if let field { details["field"] = .string(field) }
        return TokMeshError(.sysMalformed, "Malformed request: \(reason)", details: details)
    }
}
