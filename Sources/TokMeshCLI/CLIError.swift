// CLIError: every way a tokmesh-cli command fails, with its exit code (spec/09 §5) — the
// server's TM error (1), usage (64), data (65), unavailable (69), configuration (78) — and the
// stderr block that explains it: message, code, target, request ID, details and a suggestion.
// No error ever carries a secret.
import TokMeshCore

public struct CLIError: Error, Sendable {
    public enum Kind: Sendable { case server, usage, data, unavailable, config, cancelled, interrupted, failed }

    public var kind: Kind
    public var message: String
    public var code: String?
    public var details: JSONObject
    public var requestID: String?
    public var target: String?

    public init(_ kind: Kind, _ message: String, code: String? = nil, details: JSONObject = JSONObject(), requestID: String? = nil) {
        self.kind = kind
        self.message = message
        self.code = code
        self.details = details
        self.requestID = requestID
    }

    public var exitCode: Int32 {
        switch kind {
        case .server, .cancelled, .failed: 1
        case .interrupted: 2
        case .usage: 64
        case .data: 65
        case .unavailable: 69
        case .config: 78
        }
    }

    static func usage(_ message: String) -> CLIError { CLIError(.usage, message, code: "TM-CLI-1005") }
    static func unavailable(_ message: String, code: String = "TM-CLI-1002") -> CLIError { CLIError(.unavailable, message, code: code) }

    var suggestion: String? {
        switch code {
        case "TM-AUTH-4010": "pass a key with -k or TOKMESH_API_KEY, or use the local socket with '-t local'."
        case "TM-AUTH-4011", "TM-AUTH-4012": "check the key ID and secret; an admin lists keys with 'tokmesh-cli apikey list'."
        case "TM-AUTH-4030", "TM-ADMIN-4030":
            details["required_roles"]?.arrayValue.map { "this needs a key with the role " + $0.compactMap(\.stringValue).joined(separator: " or ") + "." }
        case "TM-SYS-4290": "retry later" + (details["retry_after"]?.intValue.map { " (retry after \($0)s)" } ?? "") + "."
        case "TM-SESS-4002": "revoke some of the user's sessions first: 'tokmesh-cli session revoke-all <user_id>'."
        case "TM-SESS-4040": "list the user's sessions with 'tokmesh-cli session list -u <user_id>'."
        case "TM-CLI-1001": "check the file with 'tokmesh-cli config cli validate'."
        case "TM-CLI-1002": "check that the node runs: 'tokmesh-cli system health'."
        case "TM-CLI-1003": "pass the CA that signed the server's certificate with --tls-ca."
        default: nil
        }
    }

    /// The §5 block for stderr.
    func block() -> String {
        var out = "Error: \(message)\n"
        if let code { out += "  Code:        \(code)\n" }
        if let target { out += "  Target:      \(target)\n" }
        if let requestID { out += "  Request ID:  \(requestID)\n" }
        if !details.isEmpty {
            out += "  Details:\n"
            for (k, v) in details.pairs { out += "    \(k): \(Output.plain(v))\n" }
        }
        if let suggestion { out += "\nSuggestion: \(suggestion)\n" }
        return out
    }

    /// The json/yaml error document of spec/09 §4.1.
    func document() -> JSONObject {
        var error = JSONObject()
        error.append("code", code.map { .string($0) } ?? .null)
        error.append("message", .string(message))
        error.append("details", .object(details))
        error.append("request_id", requestID.map { .string($0) } ?? .null)
        error.append("suggestion", suggestion.map { .string($0) } ?? .null)
        return ["success": false, "error": .object(error)]
    }
}
