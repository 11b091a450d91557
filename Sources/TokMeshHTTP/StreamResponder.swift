// StreamResponder: the streaming side of the request/response model, for RPC (gRPC, Connect
// streaming) on HTTP/2. A responder may take a request as a stream when its head arrives: it
// gets the request's DATA as it comes and answers through a `ResponseStream` (head, messages,
// trailers, reset) instead of one buffered `ServerResponse`. Both objects live on the
// connection's event loop; work elsewhere hops back with `eventLoop.execute` first.
import NIOCore
import NIOHTTP1

/// What the listener gives a stream handler to answer with. Event-loop confined.
public protocol ResponseStream: AnyObject {
    var eventLoop: any EventLoop { get }
    var allocator: ByteBufferAllocator { get }
    /// True once the stream is closed (answered, reset or the connection went away).
    var isClosed: Bool { get }
    /// Sends the response head; `endStream` makes it the whole response (gRPC trailers-only).
    func sendHead(status: Int, headers: [(String, String)], endStream: Bool)
    /// Queues body bytes after the head.
    func sendData(_ data: ByteBuffer)
    /// Ends the response: with trailers (a trailing HEADERS frame) or, when empty, END_STREAM
    /// on the last DATA frame.
    func finish(trailers: [(String, String)])
    /// Resets the stream (RST_STREAM with an HTTP/2 error code, e.g. 0x8 CANCEL).
    func reset(errorCode: UInt32)
    /// Once the response's END_STREAM is on the wire, tells a client that is still sending to
    /// stop with RST_STREAM — NO_ERROR after an early answer (gRPC trailers-only errors), CANCEL
    /// after an expired deadline. Sent after the response so the client reads the status first.
    func stopReceivingAfterResponse(errorCode: UInt32)
}

/// Receives one request's body as it arrives. Event-loop confined.
public protocol StreamHandler: AnyObject {
    func receive(_ data: ByteBuffer)
    /// The client ended its side (END_STREAM).
    func receiveEnd()
    /// The stream went away before the handler finished (RST_STREAM, GOAWAY, connection closed).
    func cancelled()
}

/// A responder that can also take HTTP/2 requests as streams.
public protocol StreamResponder: HTTPResponder {
    /// Called with the request head (`body` empty) when its HEADERS arrive. Returns a handler to
    /// stream it, or nil to have the listener buffer the body and call `respond` as on HTTP/1.1.
    func openStream(_ head: ServerRequest, response: any ResponseStream) -> (any StreamHandler)?
}
