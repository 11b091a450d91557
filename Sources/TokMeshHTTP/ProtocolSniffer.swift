// ProtocolSniffer: the first handler on a cleartext connection (spec/06 §5). It holds the first
// bytes until they either match the 24-byte HTTP/2 connection preface (h2c with prior knowledge)
// or cannot, then replaces itself with the HTTP/2 connection handler or the HTTP/1.1 decoder and
// handler, and replays what it read. `Upgrade: h2c` requests therefore stay HTTP/1.1.
import NIOCore

final class ProtocolSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    enum Choice { case http1, http2 }

    private var buffered: ByteBuffer?
    private let install: (ChannelHandlerContext, Choice) throws -> Void
    private var decided = false

    init(install: @escaping (ChannelHandlerContext, Choice) throws -> Void) {
        self.install = install
    }

    /// The connection's "active" event is replayed to the chosen handlers once they exist.
    func channelActive(context: ChannelHandlerContext) {}

    func channelInactive(context: ChannelHandlerContext) {
        if decided { context.fireChannelInactive() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if buffered == nil {
            buffered = incoming
        } else {
            buffered!.writeBuffer(&incoming)
        }
        let bytes = buffered!.readableBytesView
        let compared = min(bytes.count, ProtocolSniffer.preface.count)
        let matches = bytes.prefix(compared).elementsEqual(ProtocolSniffer.preface.prefix(compared))
        if matches && compared < ProtocolSniffer.preface.count { return }
        decide(context, matches ? .http2 : .http1)
    }

    private func decide(_ context: ChannelHandlerContext, _ choice: Choice) {
        decided = true
        do {
            try install(context, choice)
        } catch {
            context.close(promise: nil)
            return
        }
        context.fireChannelActive()
        if let buffered {
            self.buffered = nil
            context.fireChannelRead(wrapInboundOut(buffered))
        }
        context.fireChannelReadComplete()
        context.pipeline.syncOperations.removeHandler(self, promise: nil)
    }
}
