// TLSContextBox: the TLS context a listener hands to each new connection, swappable while the
// listener runs (certificate reload, spec/08 §7): new handshakes use the newest context, open
// connections keep the one they started with.
import NIOSSL
import Synchronization

public final class TLSContextBox: Sendable {
    private let context: Mutex<NIOSSLContext>

    public init(_ context: NIOSSLContext) { self.context = Mutex(context) }

    public var current: NIOSSLContext { context.withLock { $0 } }

    public func replace(with next: NIOSSLContext) { context.withLock { $0 = next } }
}
