// ConnectionStats: counters every listener shares — open client connections, open HTTP/2
// streams and requests served — read by the status summary and, later, the metrics endpoint.
import Synchronization

public final class ConnectionStats: Sendable {
    public let openConnections = Atomic<Int>(0)
    public let requestsServed = Atomic<UInt64>(0)
    /// Open HTTP/2 streams over every connection (a stream leak shows here).
    public let openStreams = Atomic<Int>(0)
    /// `server.max_connections` over every TCP listener.
    public let maxConnections: Int
    public init(maxConnections: Int = 10_000) { self.maxConnections = maxConnections }
}
