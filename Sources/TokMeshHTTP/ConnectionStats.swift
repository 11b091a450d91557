// ConnectionStats: what every client listener shares — open connections, open HTTP/2 streams,
// requests served, the connection limit — and the graceful stop's drain (spec/11 §6 step 3):
// every open connection is registered, and `drain()` tells each one to finish what it is doing
// and close (HTTP/1.1: `Connection: close` on the current answer, idle ones at once; HTTP/2:
// GOAWAY, then close once its streams end; RESP: idle at once, busy after the current command).
import NIOCore
import Synchronization

/// The user event `drain()` sends down every registered connection's pipeline.
public struct ConnectionDrain: Sendable {}

public final class ConnectionStats: Sendable {
    public let openConnections = Atomic<Int>(0)
    public let requestsServed = Atomic<UInt64>(0)
    /// Open HTTP/2 streams over every connection (a stream leak shows here).
    public let openStreams = Atomic<Int>(0)
    /// `server.max_connections` over every TCP listener.
    public let maxConnections: Int
    /// Set by `drain()`: answers close their connection, new connections close when idle.
    public let draining = Atomic<Bool>(false)
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    public init(maxConnections: Int = 10_000) { self.maxConnections = maxConnections }

    /// Called by a connection handler when it becomes active.
    public func register(_ channel: any Channel) {
        channels.withLock { $0[ObjectIdentifier(channel)] = channel }
        if draining.load(ordering: .relaxed) { channel.pipeline.fireUserInboundEventTriggered(ConnectionDrain()) }
    }

    public func unregister(_ channel: any Channel) {
        _ = channels.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Asks every open connection to finish and close; returns how many were asked.
    @discardableResult
    public func drain() -> Int {
        draining.store(true, ordering: .relaxed)
        let open = channels.withLock { Array($0.values) }
        for channel in open { channel.pipeline.fireUserInboundEventTriggered(ConnectionDrain()) }
        return open.count
    }

    /// Connections still registered (the drain waits for this to reach zero).
    public var registeredCount: Int { channels.withLock { $0.count } }
}
