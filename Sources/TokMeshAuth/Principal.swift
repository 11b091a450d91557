// Principal: who a request acts as once authenticated — an API key with its role, or the local
// admin socket's LOCAL_ADMIN (spec/03 §1).
import TokMeshCore

public struct Principal: Sendable, Equatable {
    public static let localAdminID = "LOCAL_ADMIN"
    public var keyID: String
    public var role: Role
    public var isLocal: Bool

    public init(keyID: String, role: Role, isLocal: Bool = false) {
        self.keyID = keyID
        self.role = role
        self.isLocal = isLocal
    }

    public static let localAdmin = Principal(keyID: localAdminID, role: .admin, isLocal: true)
}

/// A request that passed steps 1-7 of spec/03 §4.2 and now needs Argon2 (step 8).
public struct PendingVerification: Sendable {
    public let keyID: String
    let secret: String
    let clientIP: IPAddress
    let cacheKeyDigest: [UInt8]
}

public enum AuthStep: Sendable {
    case authenticated(Principal)
    case needsVerification(PendingVerification)
}
