// TokMeshV1Schema: the field and method tables of `proto/tokmesh/v1/session.proto` (spec/06
// §2-§3). Kept in step with the file by the descriptor drift test.
public enum TokMeshV1Schema {
    static let p = "tokmesh.v1."
    static let stringMap = ProtoFieldType.map(key: .string, value: .string)

    public static let file = ProtoFileSchema(path: "tokmesh/v1/session.proto", package: "tokmesh.v1", messages: [
        ProtoMessageSchema(p + "Session", [
            ProtoField("id", 1, .string), ProtoField("user_id", 2, .string), ProtoField("device_id", 3, .string),
            ProtoField("ip_address", 4, .string), ProtoField("user_agent", 5, .string), ProtoField("last_access_ip", 6, .string),
            ProtoField("last_access_ua", 7, .string), ProtoField("created_by", 8, .string), ProtoField("created_at", 9, .int64),
            ProtoField("expires_at", 10, .int64), ProtoField("last_active", 11, .int64), ProtoField("data", 12, stringMap),
            ProtoField("version", 13, .uint64), ProtoField("status", 14, .string),
        ]),
        ProtoMessageSchema(p + "CreateSessionRequest", [
            ProtoField("user_id", 1, .string), ProtoField("device_id", 2, .string), ProtoField("ttl_seconds", 3, .int64),
            ProtoField("data", 4, stringMap), ProtoField("token", 5, .string), ProtoField("session_id", 6, .string),
            ProtoField("ip_address", 7, .string), ProtoField("user_agent", 8, .string),
        ]),
        ProtoMessageSchema(p + "CreateSessionResponse", [
            ProtoField("session_id", 1, .string), ProtoField("token", 2, .string), ProtoField("expires_at", 3, .int64),
            ProtoField("user_id", 4, .string), ProtoField("created_at", 5, .int64), ProtoField("version", 6, .uint64),
        ]),
        ProtoMessageSchema(p + "GetSessionRequest", [ProtoField("session_id", 1, .string)]),
        ProtoMessageSchema(p + "GetSessionResponse", [ProtoField("session", 1, .message(p + "Session"))]),
        ProtoMessageSchema(p + "ValidateTokenRequest", [
            ProtoField("token", 1, .string), ProtoField("touch", 2, .bool), ProtoField("ip_address", 3, .string),
            ProtoField("user_agent", 4, .string),
        ]),
        ProtoMessageSchema(p + "ValidateTokenResponse", [
            ProtoField("valid", 1, .bool), ProtoField("session", 2, .message(p + "Session")), ProtoField("error_code", 3, .string),
            ProtoField("error_message", 4, .string), ProtoField("revoked_at", 5, .int64),
        ]),
        ProtoMessageSchema(p + "TouchSessionRequest", [ProtoField("session_id", 1, .string)]),
        ProtoMessageSchema(p + "TouchSessionResponse", [ProtoField("session", 1, .message(p + "Session"))]),
        ProtoMessageSchema(p + "RenewSessionRequest", [
            ProtoField("session_id", 1, .string), ProtoField("ttl_seconds", 2, .int64), ProtoField("expected_version", 3, .uint64),
        ]),
        ProtoMessageSchema(p + "RenewSessionResponse", [
            ProtoField("new_expires_at", 1, .int64), ProtoField("version", 2, .uint64), ProtoField("session_id", 3, .string),
            ProtoField("previous_expires_at", 4, .int64),
        ]),
        ProtoMessageSchema(p + "RevokeSessionRequest", [ProtoField("session_id", 1, .string), ProtoField("sync", 2, .bool)]),
        ProtoMessageSchema(p + "RevokeSessionResponse", [
            ProtoField("revoked", 1, .bool), ProtoField("session_id", 2, .string), ProtoField("revoked_at", 3, .int64),
        ]),
        ProtoMessageSchema(p + "RevokeUserSessionsRequest", [ProtoField("user_id", 1, .string), ProtoField("sync", 2, .bool)]),
        ProtoMessageSchema(p + "RevokeUserSessionsResponse", [ProtoField("revoked_count", 1, .uint32), ProtoField("user_id", 2, .string)]),
        ProtoMessageSchema(p + "ListSessionsRequest", [
            ProtoField("user_id", 1, .string), ProtoField("device_id", 2, .string), ProtoField("key_id", 3, .string),
            ProtoField("ip_address", 4, .string), ProtoField("status", 5, .string), ProtoField("created_after", 6, .int64),
            ProtoField("created_before", 7, .int64), ProtoField("active_after", 8, .int64), ProtoField("sort_by", 9, .string),
            ProtoField("sort_order", 10, .string), ProtoField("page", 11, .uint32), ProtoField("size", 12, .uint32),
        ]),
        ProtoMessageSchema(p + "ListSessionsResponse", [
            ProtoField("items", 1, .message(p + "Session"), repeated: true), ProtoField("pagination", 2, .message(p + "Pagination")),
        ]),
        ProtoMessageSchema(p + "Pagination", [ProtoField("page", 1, .uint32), ProtoField("size", 2, .uint32), ProtoField("total", 3, .uint64)]),
        ProtoMessageSchema(p + "ErrorDetail", [
            ProtoField("code", 1, .string), ProtoField("message", 2, .string), ProtoField("request_id", 3, .string),
            ProtoField("details", 4, stringMap), ProtoField("retry_after_ms", 5, .int64),
        ]),
    ], services: [
        ProtoServiceSchema(p + "SessionService", [
            ProtoMethodSchema("CreateSession", p + "CreateSessionRequest", p + "CreateSessionResponse"),
            ProtoMethodSchema("GetSession", p + "GetSessionRequest", p + "GetSessionResponse", idempotency: .noSideEffects),
            ProtoMethodSchema("ValidateToken", p + "ValidateTokenRequest", p + "ValidateTokenResponse"),
            ProtoMethodSchema("TouchSession", p + "TouchSessionRequest", p + "TouchSessionResponse"),
            ProtoMethodSchema("RenewSession", p + "RenewSessionRequest", p + "RenewSessionResponse"),
            ProtoMethodSchema("RevokeSession", p + "RevokeSessionRequest", p + "RevokeSessionResponse", idempotency: .idempotent),
            ProtoMethodSchema("RevokeUserSessions", p + "RevokeUserSessionsRequest", p + "RevokeUserSessionsResponse", idempotency: .idempotent),
            ProtoMethodSchema("ListSessions", p + "ListSessionsRequest", p + "ListSessionsResponse", idempotency: .noSideEffects),
        ]),
    ])
}
