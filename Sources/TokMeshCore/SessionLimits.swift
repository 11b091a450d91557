// SessionLimits: the limits and quotas of spec/01 §4 and the field checks that enforce them.
// Every check returns the catalogue error the spec names (TM-ARG-1002, TM-SESS-4001, …).

public struct SessionLimits: Sendable, Equatable {
    public static let userIDBytesMax = 128
    public static let deviceIDBytesMax = 128
    public static let ipAddressBytesMax = 45
    public static let userAgentBytesMax = 512
    public static let dataKeyBytesMax = 64
    public static let dataValueBytesMax = 1024
    public static let dataTotalBytesMax = 4096
    public static let revokeByUserMax = 1000
    public static let listSizeMax = 100
    public static let listSizeDefault = 20

    /// `session.ttl.default`, ms.
    public var ttlDefaultMillis: Int64
    /// `session.ttl.max`, ms.
    public var ttlMaxMillis: Int64
    /// `session.quota.max_per_user`.
    public var maxPerUser: Int

    public init(ttlDefaultMillis: Int64 = 2 * 3_600_000, ttlMaxMillis: Int64 = 720 * 3_600_000, maxPerUser: Int = 50) {
        self.ttlDefaultMillis = ttlDefaultMillis
        self.ttlMaxMillis = ttlMaxMillis
        self.maxPerUser = maxPerUser
    }

    private static func hasControl(_ s: String) -> Bool {
        s.utf8.contains { $0 < 0x20 || $0 == 0x7F }
    }

    public static func checkUserID(_ userID: String?) throws(TokMeshError) -> String {
        guard let userID, !userID.isEmpty else { throw TokMeshError.missing("user_id") }
        let n = userID.utf8.count
        if n > userIDBytesMax { throw TokMeshError.limit("user_id", limit: userIDBytesMax, actual: n) }
        if hasControl(userID) { throw TokMeshError(.sessLimit, "Field user_id contains control characters", details: ["field": "user_id"]) }
        return userID
    }

    public static func checkDeviceID(_ deviceID: String?) throws(TokMeshError) -> String {
        guard let deviceID else { return "" }
        let n = deviceID.utf8.count
        if n > deviceIDBytesMax { throw TokMeshError.limit("device_id", limit: deviceIDBytesMax, actual: n) }
        if hasControl(deviceID) { throw TokMeshError(.sessLimit, "Field device_id contains control characters", details: ["field": "device_id"]) }
        return deviceID
    }

    /// A client-supplied IP: canonical form, or TM-SESS-4001.
    public static func checkIPAddress(_ ip: String) throws(TokMeshError) -> String {
        guard ip.utf8.count <= ipAddressBytesMax, let parsed = IPAddress(ip) else {
            throw TokMeshError(.sessLimit, "Field ip_address is not an IP address", details: ["field": "ip_address"])
        }
        return parsed.description
    }

    public static func checkData(_ data: [String: String]) throws(TokMeshError) {
        var total = 0
        for (k, v) in data {
            let kn = k.utf8.count, vn = v.utf8.count
            if kn < 1 || kn > dataKeyBytesMax { throw TokMeshError.limit("data", limit: dataKeyBytesMax, actual: kn) }
            if vn > dataValueBytesMax { throw TokMeshError.limit("data", limit: dataValueBytesMax, actual: vn) }
            total += kn + vn
        }
        if total > dataTotalBytesMax { throw TokMeshError.limit("data", limit: dataTotalBytesMax, actual: total) }
    }

    /// Truncates to at most `maxBytes` UTF-8 bytes at a character boundary.
    public static func truncateUTF8(_ s: String, maxBytes: Int = userAgentBytesMax) -> String {
        let bytes = Array(s.utf8)
        guard bytes.count > maxBytes else { return s }
        var end = maxBytes
        while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    /// A TTL in ms within 1 ms … `ttlMaxMillis`, else TM-ARG-1001.
    public func checkTTL(millis: Int64?, field: String = "ttl_seconds") throws(TokMeshError) -> Int64 {
        guard let millis else { return ttlDefaultMillis }
        guard millis >= 1, millis <= ttlMaxMillis else {
            throw TokMeshError(.argInvalid, "Field \(field) is out of range", details: [
                "field": .string(field), "max_ms": .int(ttlMaxMillis),
            ])
        }
        return millis
    }
}
