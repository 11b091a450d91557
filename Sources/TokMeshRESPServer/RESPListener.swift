// RESPListener: binds a RESP port (spec/05 §1) — 6379 cleartext or 6380 TLS (swift-nio-ssl, no
// ALPN or SNI needed; a client CA in the context makes client certificates mandatory) — with
// TCP_NODELAY, SO_KEEPALIVE and the write watermarks of §6. Connections count against
// `server.max_connections`: an extra one gets `-ERR TM-SYS-4290 max number of clients reached`
// (over TLS once the handshake is done) and is closed. Connection IDs are per node, from 1.
import NIOCore
import NIOPosix
import NIOSSL
import TokMeshHTTP
import Synchronization

public final class RESPListener: Sendable {
    public let channel: any Channel
    private static let nextID = Atomic<Int64>(1)

    private init(channel: any Channel) { self.channel = channel }

    public var localPort: Int? { channel.localAddress?.port }

    /// Listens on `host:port` (port 0 = ephemeral); `tls` nil = cleartext.
    public static func bind(host: String, port: Int, group: any EventLoopGroup, tls: TLSContextBox?,
                            context server: RESPServerContext) async throws -> RESPListener {
        let listener = tls == nil ? "redis" : "redis_tls"
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 512 << 10, high: 1 << 20))
            .childChannelInitializer { channel in
                if server.connections.openConnections.load(ordering: .relaxed) >= server.connections.maxConnections {
                    server.stats.rejectedConnections.wrappingAdd(1, ordering: .relaxed)
                    return channel.eventLoop.makeCompletedFuture {
                        // Over TLS the refusal goes out once the handshake is done (NIOSSL holds
                        // writes until then); the handler's deadline closes a silent client.
                        if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.current)) }
                        try channel.pipeline.syncOperations.addHandler(RejectHandler())
                    }
                }
                let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls { try sync.addHandler(NIOSSLServerHandler(context: tls.current)) }
                    try sync.addHandler(RESPConnectionHandler(server: server, listener: listener, tls: tls != nil, id: id))
                }
            }
            .bind(host: host, port: port).get()
        return RESPListener(channel: channel)
    }

    public func close() async {
        try? await channel.close()
    }
}

/// Answers a connection over `server.max_connections` once it is active, then closes it.
private final class RejectHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 64)
        buffer.writeString("-ERR TM-SYS-4290 max number of clients reached\r\n")
        let channel = context.channel
        let deadline = context.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in
            deadline.cancel()
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
