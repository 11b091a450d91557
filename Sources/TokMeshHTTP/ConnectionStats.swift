// ConnectionStats: counters every listener shares — open client connections and requests
// served — read by the status summary and, later, the metrics endpoint.
import Synchronization

public final class ConnectionStats: Sendable {
    public let openConnections = Atomic<Int>(0)
    public let requestsServed = Atomic<UInt64>(0)
    public init() {}
}
