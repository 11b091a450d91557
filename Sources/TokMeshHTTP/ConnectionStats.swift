// ConnectionStats: counters every listener shares — open client connections and requests
// served — read by the status summary and, later, the metrics endpoint.
import Synchronization

public final class ConnectionStats: Sendable {
    public let openConnections = Atomic<Int>(0)
    public let requestsServed = Atomic<UInt64>(0)
    /// `server.max_connections` over every TCP listener.
    public let maxConnections: Int
    public init(maxConnections: Int = 10_000) { self.maxConnections = maxConnections }
}
