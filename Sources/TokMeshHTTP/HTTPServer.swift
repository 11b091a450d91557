// HTTPServer: binds a listener (TCP or the local Unix socket). TCP connections start with the
// protocol sniffer, which installs either our HTTP/2 connection handler (prior knowledge) or
// NIO's HTTP/1.1 request decoder and our HTTP/1.1 handler in front of the same responder; the
// local socket speaks HTTP/1.1 only.
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import TokMeshCore

#if canImport(Glibc)
import Glibc
#endif

public final class HTTPServer: Sendable {
    public let channel: any Channel

    private init(channel: any Channel) { self.channel = channel }

    public var localPort: Int? { channel.localAddress?.port }

    static func childInitializer(responder: any HTTPResponder, stats: ConnectionStats, idleTimeout: TimeAmount, local: Bool,
                                 h2Settings: H2Settings = H2Settings()) -> @Sendable (any Channel) -> EventLoopFuture<Void> {
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
                if local {
                    try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                    try sync.addHandler(HTTP1ServerHandler(responder: responder, peer: peer, stats: stats, idleTimeout: idleTimeout))
                    return
                }
                try sync.addHandler(ProtocolSniffer { context, choice in
                    let pipeline = context.pipeline.syncOperations
                    switch choice {
                    case .http2:
                        try pipeline.addHandler(H2ServerConnection(responder: responder, peer: peer, stats: stats, settings: h2Settings,
                                                                   idleTimeout: idleTimeout), position: .after(context.handler))
                    case .http1:
                        try pipeline.addHandlers([ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)),
                                                  HTTP1ServerHandler(responder: responder, peer: peer, stats: stats, idleTimeout: idleTimeout)],
                                                 position: .after(context.handler))
                    }
                })
            }
        }
    }

    /// Listens on TCP `host:port` (port 0 = ephemeral).
    public static func bindTCP(host: String, port: Int, group: any EventLoopGroup, responder: any HTTPResponder,
                               stats: ConnectionStats, idleTimeout: TimeAmount, h2Settings: H2Settings = H2Settings()) async throws -> HTTPServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer(childInitializer(responder: responder, stats: stats, idleTimeout: idleTimeout, local: false,
                                                          h2Settings: h2Settings))
            .bind(host: host, port: port).get()
        return HTTPServer(channel: channel)
    }

    /// Listens with TLS on `host:port`: ALPN `h2` gets the HTTP/2 handler, `http/1.1` or no
    /// ALPN the HTTP/1.1 one (spec/06 §8).
    /// With `h2Only` (the cluster port) anything but ALPN `h2` is closed, and `peerName` reads
    /// the name the verified client certificate carries.
    public static func bindTLS(host: String, port: Int, group: any EventLoopGroup, tls: TLSContextBox, responder: any HTTPResponder,
                               stats: ConnectionStats, idleTimeout: TimeAmount, h2Settings: H2Settings = H2Settings(), h2Only: Bool = false,
                               peerName: (@Sendable (NIOSSLCertificate) -> String?)? = nil) async throws -> HTTPServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                if stats.openConnections.load(ordering: .relaxed) >= stats.maxConnections { return channel.close() }
                let peer: PeerKind = channel.remoteAddress?.ipAddress.flatMap(IPAddress.init).map { .tcp($0) } ?? .tcp(IPAddress(bytes: [0, 0, 0, 0]))
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLServerHandler(context: tls.current))
                    try sync.addHandler(ApplicationProtocolNegotiationHandler { result, channel in
                        channel.eventLoop.makeCompletedFuture {
                            let pipeline = channel.pipeline.syncOperations
                            if case .negotiated("h2") = result {
                                let name = try peerName.flatMap { read in
                                    try pipeline.handler(type: NIOSSLServerHandler.self).peerCertificate.flatMap(read)
                                }
                                try pipeline.addHandler(H2ServerConnection(responder: responder, peer: peer, stats: stats, settings: h2Settings,
                                                                           idleTimeout: idleTimeout, peerCommonName: name))
                            } else if h2Only {
                                channel.close(promise: nil)
                            } else {
                                try pipeline.addHandlers([ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)),
                                                          HTTP1ServerHandler(responder: responder, peer: peer, stats: stats, idleTimeout: idleTimeout)])
                            }
                        }
                    })
                }
            }
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
