// SessionServiceStubs: `tokmesh.v1.SessionService` (proto/tokmesh/v1/session.proto, spec/06 §2)
// in the shape generated code would have, written by hand next to the hand-maintained codecs:
// `TokMeshV1SessionService` names the service table and one method descriptor per RPC (codecs,
// path, idempotency); a server implements `TokMeshV1SessionServiceHandler` — every RPC is
// required, one typed method each answering now or later — and hands
// `TokMeshV1SessionService.registration(handler)` to the RPCRouter; a caller uses
// `TokMeshV1SessionServiceClient` over an RPCChannel, which retries `unavailable` for the methods
// the table marks no-side-effects or idempotent (GetSession, RevokeSession, RevokeUserSessions,
// ListSessions). All eight RPCs are unary.
import NIOCore
import TokMeshProto

public enum TokMeshV1SessionService {
    public static let schema = TokMeshV1Schema.file.services.first { $0.name == "tokmesh.v1.SessionService" }!

    public enum Method {
        public static let createSession =
            RPCMethodDescriptor<TokMeshV1.CreateSessionRequest, TokMeshV1.CreateSessionResponse>(schema, "CreateSession")
        public static let getSession = RPCMethodDescriptor<TokMeshV1.GetSessionRequest, TokMeshV1.GetSessionResponse>(schema, "GetSession")
        public static let validateToken =
            RPCMethodDescriptor<TokMeshV1.ValidateTokenRequest, TokMeshV1.ValidateTokenResponse>(schema, "ValidateToken")
        public static let touchSession = RPCMethodDescriptor<TokMeshV1.TouchSessionRequest, TokMeshV1.TouchSessionResponse>(schema, "TouchSession")
        public static let renewSession = RPCMethodDescriptor<TokMeshV1.RenewSessionRequest, TokMeshV1.RenewSessionResponse>(schema, "RenewSession")
        public static let revokeSession =
            RPCMethodDescriptor<TokMeshV1.RevokeSessionRequest, TokMeshV1.RevokeSessionResponse>(schema, "RevokeSession")
        public static let revokeUserSessions =
            RPCMethodDescriptor<TokMeshV1.RevokeUserSessionsRequest, TokMeshV1.RevokeUserSessionsResponse>(schema, "RevokeUserSessions")
        public static let listSessions = RPCMethodDescriptor<TokMeshV1.ListSessionsRequest, TokMeshV1.ListSessionsResponse>(schema, "ListSessions")
    }

    /// Every method of the service, served by `handler`.
    public static func registration(_ handler: some TokMeshV1SessionServiceHandler) -> RPCServiceRegistration {
        (schema, [
            Method.createSession.name: .typedUnary(Method.createSession) { handler.createSession($0, $1) },
            Method.getSession.name: .typedUnary(Method.getSession) { handler.getSession($0, $1) },
            Method.validateToken.name: .typedUnary(Method.validateToken) { handler.validateToken($0, $1) },
            Method.touchSession.name: .typedUnary(Method.touchSession) { handler.touchSession($0, $1) },
            Method.renewSession.name: .typedUnary(Method.renewSession) { handler.renewSession($0, $1) },
            Method.revokeSession.name: .typedUnary(Method.revokeSession) { handler.revokeSession($0, $1) },
            Method.revokeUserSessions.name: .typedUnary(Method.revokeUserSessions) { handler.revokeUserSessions($0, $1) },
            Method.listSessions.name: .typedUnary(Method.listSessions) { handler.listSessions($0, $1) },
        ])
    }
}

/// The server side of `tokmesh.v1.SessionService`.
public protocol TokMeshV1SessionServiceHandler: Sendable {
    func createSession(_ request: TokMeshV1.CreateSessionRequest, _ call: RPCCall) -> RPCTypedReply<TokMeshV1.CreateSessionResponse>
    func getSession(_ request: TokMeshV1.GetSessionRequest, _ call: RPCCall) -> RPCTypedReply<TokMeshV1.GetSessionResponse>
    func validateToken(_ request: TokMeshV1.ValidateTokenRequest, _ call: RPCCall) -> RPCTypedReply<TokMeshV1.ValidateTokenResponse>
    func touchSession(_ request: TokMeshV1.TouchSessionRequest, _ call: RPCCall) -> RPCTypedReply<TokMeshV1.TouchSessionResponse>
    func renewSession(_ request: TokMeshV1.RenewSessionRequest, _ call: RPCCall) -> RPCTypedReply<TokMeshV1.RenewSessionResponse>
    func revokeSession(_ request: TokMeshV1.RevokeSessionRequest, _ call: RPCCall) -> RPCTypedReply<TokMeshV1.RevokeSessionResponse>
    func revokeUserSessions(_ request: TokMeshV1.RevokeUserSessionsRequest, _ call: RPCCall) -> RPCTypedReply<TokMeshV1.RevokeUserSessionsResponse>
    func listSessions(_ request: TokMeshV1.ListSessionsRequest, _ call: RPCCall) -> RPCTypedReply<TokMeshV1.ListSessionsResponse>
}

/// The client side of `tokmesh.v1.SessionService`.
public struct TokMeshV1SessionServiceClient: Sendable {
    typealias Method = TokMeshV1SessionService.Method

    public let channel: RPCChannel

    public init(channel: RPCChannel) { self.channel = channel }

    public func createSession(_ request: TokMeshV1.CreateSessionRequest, metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> TokMeshV1.CreateSessionResponse {
        try await channel.unary(Method.createSession, request, metadata: metadata, timeout: timeout)
    }

    public func getSession(_ request: TokMeshV1.GetSessionRequest, metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> TokMeshV1.GetSessionResponse {
        try await channel.unary(Method.getSession, request, metadata: metadata, timeout: timeout)
    }

    public func validateToken(_ request: TokMeshV1.ValidateTokenRequest, metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> TokMeshV1.ValidateTokenResponse {
        try await channel.unary(Method.validateToken, request, metadata: metadata, timeout: timeout)
    }

    public func touchSession(_ request: TokMeshV1.TouchSessionRequest, metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> TokMeshV1.TouchSessionResponse {
        try await channel.unary(Method.touchSession, request, metadata: metadata, timeout: timeout)
    }

    public func renewSession(_ request: TokMeshV1.RenewSessionRequest, metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> TokMeshV1.RenewSessionResponse {
        try await channel.unary(Method.renewSession, request, metadata: metadata, timeout: timeout)
    }

    public func revokeSession(_ request: TokMeshV1.RevokeSessionRequest, metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> TokMeshV1.RevokeSessionResponse {
        try await channel.unary(Method.revokeSession, request, metadata: metadata, timeout: timeout)
    }

    public func revokeUserSessions(_ request: TokMeshV1.RevokeUserSessionsRequest, metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> TokMeshV1.RevokeUserSessionsResponse {
        try await channel.unary(Method.revokeUserSessions, request, metadata: metadata, timeout: timeout)
    }

    public func listSessions(_ request: TokMeshV1.ListSessionsRequest, metadata: [(String, String)] = [], timeout: TimeAmount? = nil)
        async throws(RPCError) -> TokMeshV1.ListSessionsResponse {
        try await channel.unary(Method.listSessions, request, metadata: metadata, timeout: timeout)
    }
}
