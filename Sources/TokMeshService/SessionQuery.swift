// SessionQuery: the list/search parameters of spec/01 §5.9 and the predicate they define.
// Parsing from a transport (HTTP query string, RPC message) happens in the front end.
import TokMeshCore

public struct SessionQuery: Sendable {
    public enum StatusFilter: String, Sendable { case active, expired, all }
    public enum SortKey: String, Sendable { case createdAt = "created_at", lastActive = "last_active" }

    public var userID: String?
    public var deviceID: String?
    public var keyID: String?
    public var ipRange: CIDR?
    public var status: StatusFilter = .active
    public var createdAfter: Int64?
    public var createdBefore: Int64?
    public var activeAfter: Int64?
    public var sortBy: SortKey = .createdAt
    public var ascending = false
    public var page = 1
    public var size = SessionLimits.listSizeDefault

    public init() {}

    public func matches(_ s: Session, now: Int64) -> Bool {
        switch status {
        case .active: if s.isExpired(now: now) { return false }
        case .expired: if !s.isExpired(now: now) { return false }
        case .all: break
        }
        if let v = userID, s.userID != v { return false }
        if let v = deviceID, s.deviceID != v { return false }
        if let v = keyID, s.createdBy != v { return false }
        if let v = createdAfter, s.createdAt < v { return false }
        if let v = createdBefore, s.createdAt >= v { return false }
        if let v = activeAfter, s.lastActive < v { return false }
        if let range = ipRange {
            let inRange = { (text: String) -> Bool in IPAddress(text).map(range.contains) ?? false }
            if !inRange(s.ipAddress) && !inRange(s.lastAccessIP) { return false }
        }
        return true
    }
}
