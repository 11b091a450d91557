// TokMeshV1: hand-maintained codecs for the messages of `proto/tokmesh/v1/session.proto`
// (spec/06 §3), one struct per message in the `TokMeshV1` namespace. Field numbers and types
// follow `TokMeshV1Schema`, which the descriptor drift test checks against the .proto file; the
// codec tests check these codecs against that table.

public enum TokMeshV1 {}
extension TokMeshV1 {
    public struct Session: ProtoMessage {
        public static let protoName = "tokmesh.v1.Session"
        public var id: String = ""
        public var userId: String = ""
        public var deviceId: String = ""
        public var ipAddress: String = ""
        public var userAgent: String = ""
        public var lastAccessIp: String = ""
        public var lastAccessUa: String = ""
        public var createdBy: String = ""
        public var createdAt: Int64 = 0
        public var expiresAt: Int64 = 0
        public var lastActive: Int64 = 0
        public var data: [String: String] = [:]
        public var version: UInt64 = 0
        public var status: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: id)
            w.write(2, string: userId)
            w.write(3, string: deviceId)
            w.write(4, string: ipAddress)
            w.write(5, string: userAgent)
            w.write(6, string: lastAccessIp)
            w.write(7, string: lastAccessUa)
            w.write(8, string: createdBy)
            w.write(9, int64: createdAt)
            w.write(10, int64: expiresAt)
            w.write(11, int64: lastActive)
            w.write(12, stringMap: data)
            w.write(13, uint64: version)
            w.write(14, string: status)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: id = try r.string(n, t)
            case 2: userId = try r.string(n, t)
            case 3: deviceId = try r.string(n, t)
            case 4: ipAddress = try r.string(n, t)
            case 5: userAgent = try r.string(n, t)
            case 6: lastAccessIp = try r.string(n, t)
            case 7: lastAccessUa = try r.string(n, t)
            case 8: createdBy = try r.string(n, t)
            case 9: createdAt = try r.int64(n, t)
            case 10: expiresAt = try r.int64(n, t)
            case 11: lastActive = try r.int64(n, t)
            case 12:
                let (k, v) = try r.stringMapEntry(n, t)
                data[k] = v
            case 13: version = try r.uint64(n, t)
            case 14: status = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshV1 {
    public struct CreateSessionRequest: ProtoMessage {
        public static let protoName = "tokmesh.v1.CreateSessionRequest"
        public var userId: String = ""
        public var deviceId: String = ""
        public var ttlSeconds: Int64 = 0
        public var data: [String: String] = [:]
        public var token: String = ""
        public var sessionId: String = ""
        public var ipAddress: String = ""
        public var userAgent: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: userId)
            w.write(2, string: deviceId)
            w.write(3, int64: ttlSeconds)
            w.write(4, stringMap: data)
            w.write(5, string: token)
            w.write(6, string: sessionId)
            w.write(7, string: ipAddress)
            w.write(8, string: userAgent)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: userId = try r.string(n, t)
            case 2: deviceId = try r.string(n, t)
            case 3: ttlSeconds = try r.int64(n, t)
            case 4:
                let (k, v) = try r.stringMapEntry(n, t)
                data[k] = v
            case 5: token = try r.string(n, t)
            case 6: sessionId = try r.string(n, t)
            case 7: ipAddress = try r.string(n, t)
            case 8: userAgent = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshV1 {
    public struct CreateSessionResponse: ProtoMessage {
        public static let protoName = "tokmesh.v1.CreateSessionResponse"
        public var sessionId: String = ""
        public var token: String = ""
        public var expiresAt: Int64 = 0
        public var userId: String = ""
        public var createdAt: Int64 = 0
        public var version: UInt64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: sessionId)
            w.write(2, string: token)
            w.write(3, int64: expiresAt)
            w.write(4, string: userId)
            w.write(5, int64: createdAt)
            w.write(6, uint64: version)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: sessionId = try r.string(n, t)
            case 2: token = try r.string(n, t)
            case 3: expiresAt = try r.int64(n, t)
            case 4: userId = try r.string(n, t)
            case 5: createdAt = try r.int64(n, t)
            case 6: version = try r.uint64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshV1 {
    public struct GetSessionRequest: ProtoMessage {
        public static let protoName = "tokmesh.v1.GetSessionRequest"
        public var sessionId: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: sessionId)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: sessionId = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshV1 {
    public struct GetSessionResponse: ProtoMessage {
        public static let protoName = "tokmesh.v1.GetSessionResponse"
        public var session: Session?
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, session)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: session = try r.merge(n, t, into: session)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshV1 {
    public struct ValidateTokenRequest: ProtoMessage {
        public static let protoName = "tokmesh.v1.ValidateTokenRequest"
        public var token: String = ""
        public var touch: Bool = false
        public var ipAddress: String = ""
        public var userAgent: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: token)
            w.write(2, bool: touch)
            w.write(3, string: ipAddress)
            w.write(4, string: userAgent)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: token = try r.string(n, t)
            case 2: touch = try r.bool(n, t)
            case 3: ipAddress = try r.string(n, t)
            case 4: userAgent = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshV1 {
    public struct ValidateTokenResponse: ProtoMessage {
        public static let protoName = "tokmesh.v1.ValidateTokenResponse"
        public var valid: Bool = false
        public var session: Session?
        public var errorCode: String = ""
        public var errorMessage: String = ""
        public var revokedAt: Int64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, bool: valid)
            w.write(2, session)
            w.write(3, string: errorCode)
            w.write(4, string: errorMessage)
            w.write(5, int64: revokedAt)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: valid = try r.bool(n, t)
            case 2: session = try r.merge(n, t, into: session)
            case 3: errorCode = try r.string(n, t)
            case 4: errorMessage = try r.string(n, t)
            case 5: revokedAt = try r.int64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshV1 {
    public struct TouchSessionRequest: ProtoMessage {
        public static let protoName = "tokmesh.v1.TouchSessionRequest"
        public var sessionId: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: sessionId)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: sessionId = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshV1 {
    public struct TouchSessionResponse: ProtoMessage {
        public static let protoName = "tokmesh.v1.TouchSessionResponse"
        public var session: Session?
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, session)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: session = try r.merge(n, t, into: session)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshV1 {
    public struct RenewSessionRequest: ProtoMessage {
        public static let protoName = "tokmesh.v1.RenewSessionRequest"
        public var sessionId: String = ""
        public var ttlSeconds: Int64 = 0
        public var expectedVersion: UInt64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: sessionId)
            w.write(2, int64: ttlSeconds)
            w.write(3, uint64: expectedVersion)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: sessionId = try r.string(n, t)
            case 2: ttlSeconds = try r.int64(n, t)
            case 3: expectedVersion = try r.uint64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshV1 {
    public struct RenewSessionResponse: ProtoMessage {
        public static let protoName = "tokmesh.v1.RenewSessionResponse"
        public var newExpiresAt: Int64 = 0
        public var version: UInt64 = 0
        public var sessionId: String = ""
        public var previousExpiresAt: Int64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, int64: newExpiresAt)
            w.write(2, uint64: version)
            w.write(3, string: sessionId)
            w.write(4, int64: previousExpiresAt)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: newExpiresAt = try r.int64(n, t)
            case 2: version = try r.uint64(n, t)
            case 3: sessionId = try r.string(n, t)
            case 4: previousExpiresAt = try r.int64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshV1 {
    public struct RevokeSessionRequest: ProtoMessage {
        public static let protoName = "tokmesh.v1.RevokeSessionRequest"
        public var sessionId: String = ""
        public var sync: Bool = false
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: sessionId)
            w.write(2, bool: sync)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: sessionId = try r.string(n, t)
            case 2: sync = try r.bool(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshV1 {
    public struct RevokeSessionResponse: ProtoMessage {
        public static let protoName = "tokmesh.v1.RevokeSessionResponse"
        public var revoked: Bool = false
        public var sessionId: String = ""
        public var revokedAt: Int64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, bool: revoked)
            w.write(2, string: sessionId)
            w.write(3, int64: revokedAt)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: revoked = try r.bool(n, t)
            case 2: sessionId = try r.string(n, t)
            case 3: revokedAt = try r.int64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshV1 {
    public struct RevokeUserSessionsRequest: ProtoMessage {
        public static let protoName = "tokmesh.v1.RevokeUserSessionsRequest"
        public var userId: String = ""
        public var sync: Bool = false
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: userId)
            w.write(2, bool: sync)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: userId = try r.string(n, t)
            case 2: sync = try r.bool(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshV1 {
    public struct RevokeUserSessionsResponse: ProtoMessage {
        public static let protoName = "tokmesh.v1.RevokeUserSessionsResponse"
        public var revokedCount: UInt32 = 0
        public var userId: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint32: revokedCount)
            w.write(2, string: userId)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: revokedCount = try r.uint32(n, t)
            case 2: userId = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshV1 {
    public struct ListSessionsRequest: ProtoMessage {
        public static let protoName = "tokmesh.v1.ListSessionsRequest"
        public var userId: String = ""
        public var deviceId: String = ""
        public var keyId: String = ""
        public var ipAddress: String = ""
        public var status: String = ""
        public var createdAfter: Int64 = 0
        public var createdBefore: Int64 = 0
        public var activeAfter: Int64 = 0
        public var sortBy: String = ""
        public var sortOrder: String = ""
        public var page: UInt32 = 0
        public var size: UInt32 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: userId)
            w.write(2, string: deviceId)
            w.write(3, string: keyId)
            w.write(4, string: ipAddress)
            w.write(5, string: status)
            w.write(6, int64: createdAfter)
            w.write(7, int64: createdBefore)
            w.write(8, int64: activeAfter)
            w.write(9, string: sortBy)
            w.write(10, string: sortOrder)
            w.write(11, uint32: page)
            w.write(12, uint32: size)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: userId = try r.string(n, t)
            case 2: deviceId = try r.string(n, t)
            case 3: keyId = try r.string(n, t)
            case 4: ipAddress = try r.string(n, t)
            case 5: status = try r.string(n, t)
            case 6: createdAfter = try r.int64(n, t)
            case 7: createdBefore = try r.int64(n, t)
            case 8: activeAfter = try r.int64(n, t)
            case 9: sortBy = try r.string(n, t)
            case 10: sortOrder = try r.string(n, t)
            case 11: page = try r.uint32(n, t)
            case 12: size = try r.uint32(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshV1 {
    public struct ListSessionsResponse: ProtoMessage {
        public static let protoName = "tokmesh.v1.ListSessionsResponse"
        public var items: [Session] = []
        public var pagination: Pagination?
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            for item in items { w.write(1, message: item.serializedBytes()) }
            w.write(2, pagination)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: items.append(try r.merge(n, t, into: nil as Session?))
            case 2: pagination = try r.merge(n, t, into: pagination)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshV1 {
    public struct Pagination: ProtoMessage {
        public static let protoName = "tokmesh.v1.Pagination"
        public var page: UInt32 = 0
        public var size: UInt32 = 0
        public var total: UInt64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, uint32: page)
            w.write(2, uint32: size)
            w.write(3, uint64: total)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: page = try r.uint32(n, t)
            case 2: size = try r.uint32(n, t)
            case 3: total = try r.uint64(n, t)
            default: return false
            }
            return true
        }
    }
}

extension TokMeshV1 {
    public struct ErrorDetail: ProtoMessage {
        public static let protoName = "tokmesh.v1.ErrorDetail"
        public var code: String = ""
        public var message: String = ""
        public var requestId: String = ""
        public var details: [String: String] = [:]
        public var retryAfterMs: Int64 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: code)
            w.write(2, string: message)
            w.write(3, string: requestId)
            w.write(4, stringMap: details)
            w.write(5, int64: retryAfterMs)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: code = try r.string(n, t)
            case 2: message = try r.string(n, t)
            case 3: requestId = try r.string(n, t)
            case 4:
                let (k, v) = try r.stringMapEntry(n, t)
                details[k] = v
            case 5: retryAfterMs = try r.int64(n, t)
            default: return false
            }
            return true
        }
    }
}
