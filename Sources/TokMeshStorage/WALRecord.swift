// WALRecord: the session WAL's record types and their versioned binary payloads (spec/02 §4,
// docs/formats.md). Records carry post-images, never deltas, so replay is idempotent: put
// overwrites, remove of a missing session is a no-op.
import TokMeshCore

public enum WALRecord: Sendable, Equatable {
    public enum DeleteReason: UInt8, Sendable {
        case expired = 1
        case revokedExpired = 2
    }

    case create(time: Int64, session: Session)
    case update(time: Int64, session: Session)
    case delete(time: Int64, sessionID: String, reason: DeleteReason)
    case revoke(time: Int64, tombstone: Tombstone)
    /// The state became the named snapshot (a restore, spec/02 §7).
    case reset(time: Int64, snapshotID: String)

    public static let typeCreate: UInt8 = 1
    public static let typeUpdate: UInt8 = 2
    public static let typeDelete: UInt8 = 3
    public static let typeRevoke: UInt8 = 4
    public static let typeReset: UInt8 = 5
    public static let knownTypes: Set<UInt8> = [typeCreate, typeUpdate, typeDelete, typeRevoke, typeReset]
    static let payloadVersion: UInt8 = 1

    /// When the change happened (Unix ms).
    public var time: Int64 {
        switch self {
        case .create(let t, _), .update(let t, _), .delete(let t, _, _), .revoke(let t, _), .reset(let t, _): t
        }
    }

    public var type: UInt8 {
        switch self {
        case .create: WALRecord.typeCreate
        case .update: WALRecord.typeUpdate
        case .delete: WALRecord.typeDelete
        case .revoke: WALRecord.typeRevoke
        case .reset: WALRecord.typeReset
        }
    }

    public func encoded() -> [UInt8] {
        var out: [UInt8] = [WALRecord.payloadVersion]
        switch self {
        case .create(let time, let s), .update(let time, let s):
            out.appendLE(time)
            WALRecord.encode(s, into: &out)
        case .delete(let time, let id, let reason):
            out.appendLE(time)
            WALRecord.encode(id, into: &out)
            out.append(reason.rawValue)
        case .revoke(let time, let t):
            out.appendLE(time)
            WALRecord.encode(t.sessionID, into: &out)
            WALRecord.encode(t.tokenHash, into: &out)
            out.appendLE(t.revokedAt)
            out.appendLE(t.expiresAt)
        case .reset(let time, let id):
            out.appendLE(time)
            WALRecord.encode(id, into: &out)
        }
        return out
    }

    public struct DecodeError: Error, Sendable, Equatable {
        public var reason: String
    }

    public static func decode(type: UInt8, payload: [UInt8]) throws(DecodeError) -> WALRecord {
        var r = ByteReader(payload)
        guard r.read(UInt8.self) == payloadVersion else { throw DecodeError(reason: "unknown payload version") }
        guard let time = r.read(Int64.self) else { throw DecodeError(reason: "truncated") }
        let record: WALRecord
        switch type {
        case typeCreate: record = .create(time: time, session: try session(&r))
        case typeUpdate: record = .update(time: time, session: try session(&r))
        case typeDelete:
            let id = try string(&r)
            guard let raw = r.read(UInt8.self), let reason = DeleteReason(rawValue: raw) else { throw DecodeError(reason: "bad delete reason") }
            record = .delete(time: time, sessionID: id, reason: reason)
        case typeRevoke:
            let id = try string(&r), hash = try string(&r)
            guard let revokedAt = r.read(Int64.self), let expiresAt = r.read(Int64.self) else { throw DecodeError(reason: "truncated") }
            record = .revoke(time: time, tombstone: Tombstone(tokenHash: hash, sessionID: id, revokedAt: revokedAt, expiresAt: expiresAt))
        case typeReset:
            record = .reset(time: time, snapshotID: try string(&r))
        default:
            throw DecodeError(reason: "unknown record type \(type)")
        }
        guard r.remaining == 0 else { throw DecodeError(reason: "trailing bytes") }
        return record
    }

    /// A create or update record decoded straight into its packed post-image (recovery's fast
    /// path: no `Session` value in between). Nil for other types, or when the payload does not
    /// decode (the caller then takes `decode` for the precise error).
    public static func decodePostImage(type: UInt8, payload: [UInt8]) -> (time: Int64, session: StoredSession)? {
        guard type == typeCreate || type == typeUpdate, payload.count > 9, payload[0] == payloadVersion else { return nil }
        return payload.withUnsafeBytes { raw -> (Int64, StoredSession)? in
            let time = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 1, as: Int64.self))
            guard let stored = StoredSession(snapshotItem: UnsafeRawBufferPointer(rebasing: raw[9...])) else { return nil }
            return (time, stored)
        }
    }

    // MARK: field codecs

    static func encode(_ s: String, into out: inout [UInt8]) {
        let bytes = Array(s.utf8)
        out.appendLE(UInt32(bytes.count))
        out.append(contentsOf: bytes)
    }

    static func string(_ r: inout ByteReader) throws(DecodeError) -> String {
        guard let n = r.read(UInt32.self), let bytes = r.readBytes(Int(n)), let s = String(validating: bytes, as: UTF8.self) else {
            throw DecodeError(reason: "bad string")
        }
        return s
    }

    static func encode(_ s: Session, into out: inout [UInt8]) {
        for field in [s.id, s.userID, s.tokenHash, s.ipAddress, s.userAgent, s.lastAccessIP, s.lastAccessUA, s.deviceID, s.createdBy] {
            encode(field, into: &out)
        }
        out.appendLE(s.createdAt)
        out.appendLE(s.expiresAt)
        out.appendLE(s.lastActive)
        out.appendLE(s.version)
        out.appendLE(UInt32(s.data.count))
        for key in s.data.keys.sorted() {
            encode(key, into: &out)
            encode(s.data[key]!, into: &out)
        }
    }

    static func session(_ r: inout ByteReader) throws(DecodeError) -> Session {
        let id = try string(&r), user = try string(&r), hash = try string(&r), ip = try string(&r), ua = try string(&r)
        let lastIP = try string(&r), lastUA = try string(&r), device = try string(&r), createdBy = try string(&r)
        guard let createdAt = r.read(Int64.self), let expiresAt = r.read(Int64.self), let lastActive = r.read(Int64.self),
              let version = r.read(UInt64.self), let count = r.read(UInt32.self), count <= 4096 else {
            throw DecodeError(reason: "truncated session")
        }
        var data: [String: String] = [:]
        for _ in 0..<count { data[try string(&r)] = try string(&r) }
        var s = Session(id: id, userID: user, tokenHash: hash, ipAddress: ip, userAgent: ua, deviceID: device,
                        createdBy: createdBy, createdAt: createdAt, expiresAt: expiresAt, data: data)
        s.lastAccessIP = lastIP
        s.lastAccessUA = lastUA
        s.lastActive = lastActive
        s.version = version
        return s
    }
}
