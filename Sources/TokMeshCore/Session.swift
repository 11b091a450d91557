// Session: the session record of spec/01 §2 and its JSON rendering. `token_hash` is stored but
// never rendered; responses add the computed `status`; a `fields` projection keeps `id` always.

public struct Session: Sendable, Equatable {
    public var id: String
    public var userID: String
    public var tokenHash: String
    public var ipAddress: String
    public var userAgent: String
    public var lastAccessIP: String
    public var lastAccessUA: String
    public var deviceID: String
    public var createdBy: String
    public var createdAt: Int64
    public var expiresAt: Int64
    public var lastActive: Int64
    public var data: [String: String]
    public var version: UInt64

    public init(id: String, userID: String, tokenHash: String, ipAddress: String, userAgent: String,
                deviceID: String, createdBy: String, createdAt: Int64, expiresAt: Int64, data: [String: String]) {
        self.id = id
        self.userID = userID
        self.tokenHash = tokenHash
        self.ipAddress = ipAddress
        self.userAgent = userAgent
        self.lastAccessIP = ipAddress
        self.lastAccessUA = userAgent
        self.deviceID = deviceID
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastActive = createdAt
        self.data = data
        self.version = 1
    }

    /// Expired ⇔ now ≥ expires_at (spec/01 §5.10).
    @inline(__always)
    public func isExpired(now: Int64) -> Bool { now >= expiresAt }

    /// Every JSON field name a projection may name, in output order.
    public static let fieldNames: [String] = [
        "id", "user_id", "device_id", "ip_address", "user_agent", "last_access_ip", "last_access_ua",
        "created_by", "created_at", "expires_at", "last_active", "version", "data", "status",
    ]

    /// Writes the full session object (no projection) straight into `out`: the validate hot
    /// path, with no intermediate JSONValue tree. Same bytes as `JSONWriter.write(json(now:))`.
    public func writeJSON(now: Int64, into out: inout [UInt8]) {
        func key(_ k: StaticString, first: Bool = false) {
            if !first { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount))
            out.append(contentsOf: "\":".utf8)
        }
        func string(_ k: StaticString, _ v: String) { key(k); JSONWriter.writeString(v, into: &out) }
        func int(_ k: StaticString, _ v: Int64) { key(k); out.append(contentsOf: String(v).utf8) }
        out.append(UInt8(ascii: "{"))
        key("id", first: true)
        JSONWriter.writeString(id, into: &out)
        string("user_id", userID)
        string("device_id", deviceID)
        string("ip_address", ipAddress)
        string("user_agent", userAgent)
        string("last_access_ip", lastAccessIP)
        string("last_access_ua", lastAccessUA)
        string("created_by", createdBy)
        int("created_at", createdAt)
        int("expires_at", expiresAt)
        int("last_active", lastActive)
        int("version", Int64(clamping: version))
        key("data")
        out.append(UInt8(ascii: "{"))
        for (i, k) in data.keys.sorted().enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.writeString(k, into: &out)
            out.append(UInt8(ascii: ":"))
            JSONWriter.writeString(data[k]!, into: &out)
        }
        out.append(UInt8(ascii: "}"))
        string("status", isExpired(now: now) ? "expired" : "active")
        out.append(UInt8(ascii: "}"))
    }

    public func json(now: Int64, fields: Set<String>? = nil) -> JSONValue {
        var o = JSONObject()
        func include(_ name: String) -> Bool { fields == nil || name == "id" || fields!.contains(name) }
        if include("id") { o.append("id", .string(id)) }
        if include("user_id") { o.append("user_id", .string(userID)) }
        if include("device_id") { o.append("device_id", .string(deviceID)) }
        if include("ip_address") { o.append("ip_address", .string(ipAddress)) }
        if include("user_agent") { o.append("user_agent", .string(userAgent)) }
        if include("last_access_ip") { o.append("last_access_ip", .string(lastAccessIP)) }
        if include("last_access_ua") { o.append("last_access_ua", .string(lastAccessUA)) }
        if include("created_by") { o.append("created_by", .string(createdBy)) }
        if include("created_at") { o.append("created_at", .int(createdAt)) }
        if include("expires_at") { o.append("expires_at", .int(expiresAt)) }
        if include("last_active") { o.append("last_active", .int(lastActive)) }
        if include("version") { o.append("version", .uint(version)) }
        if include("data") {
            var d = JSONObject()
            for key in data.keys.sorted() { d.append(key, .string(data[key]!)) }
            o.append("data", .object(d))
        }
        if include("status") { o.append("status", .string(isExpired(now: now) ? "expired" : "active")) }
        return .object(o)
    }
}

/// A revoked session's marker in the token index (spec/01 §7).
public struct Tombstone: Sendable, Equatable {
    public var tokenHash: String
    public var sessionID: String
    public var revokedAt: Int64
    public var expiresAt: Int64

    public init(tokenHash: String, sessionID: String, revokedAt: Int64, expiresAt: Int64) {
        self.tokenHash = tokenHash
        self.sessionID = sessionID
        self.revokedAt = revokedAt
        self.expiresAt = expiresAt
    }
}
