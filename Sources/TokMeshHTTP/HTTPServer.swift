// HTTPServer: binds a listener (TCP or the local Unix socket) and installs NIO's HTTP/1.1
// request decoder and our connection handler in front of the responder. Cleartext HTTP/2
// (preface sniffing) joins in issue 4.
import NIOCore
import NIOHTTP1
import NIOPosix
import TokMeshCore

#if canImport(Glibc)
import Glibc
#endif

public final class HTTPServer: Sendable {
    public let channel: any Channel

    private init(channel: any Channel) { self.channel = channel }

    public var localPort: Int? { channel.localAddress?.port }

    static func childInitializer(responder: any HTTPResponder, stats: ConnectionStats, idleTimeout: TimeAmount, local: Bool) -> @Sendable (any Channel) -> EventLoopFuture<Void> {
        { channel in
            // `server.max_connections`: excess client connections are closed at accept.
            if !local && stats.openConnections.load(ordering: .relaxed) >= stats.maxConnections {
                return channel.close()
            }
            let peer: PeerKind
            if local {
                peer = .local
            } else if let address = channel.remoteAddress?.ipAddress, let ip = IPAddress(address) {
                peer = .tcp(ip)
            } else {
                peer = .tcp(IPAddress(bytes: [0, 0, 0, 0]))
            }
            return channel.eventLoop.makeCompletedFuture {
                let sync = channel.pipeline.syncOperations
                try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                try sync.addHandler(HTTP1ServerHandler(responder: responder, peer: peer, stats: stats, idleTimeout: idleTimeout))
            }
        }
    }

    /// Listens on TCP `host:port` (port 0 = ephemeral).
    public static func bindTCP(host: String, port: Int, group: any EventLoopGroup, responder: any HTTPResponder,
                               stats: ConnectionStats, idleTimeout: TimeAmount) async throws -> HTTPServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer(childInitializer(responder: responder, stats: stats, idleTimeout: idleTimeout, local: false))
            .bind(host: host, port: port).get()
        return HTTPServer(channel: channel)
    }

    /// Listens on a Unix socket at `path` with mode 0660 (the local admin channel).
    public static func bindUnix(path: String, group: any EventLoopGroup, responder: any HTTPResponder,
                                stats: ConnectionStats, idleTimeout: TimeAmount) async throws -> HTTPServer {
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer(childInitializer(responder: responder, stats: stats, idleTimeout: idleTimeout, local: true))
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        chmod(path, 0o660)
        return HTTPServer(channel: channel)
    }

    public func close() async {
        try? await channel.close()
    }
}
