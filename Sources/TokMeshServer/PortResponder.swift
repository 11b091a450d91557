// PortResponder: what a public TCP port answers with (spec/06 §5 dispatch). RPC-shaped
// requests — a registered service's path, or any gRPC content type — go to the RPC dispatcher
// (streams on HTTP/2, Connect unary and protocol errors buffered); everything else goes to the
// JSON API responder. RPC bodies are limited by `server.rpc.max_message_size`, not the JSON
// body limit.
import NIOCore
import NIOHTTP1
import TokMeshCore
import TokMeshHTTP
import TokMeshRPC

final class PortResponder: StreamResponder {
    let api: APIResponder
    let rpc: RPCDispatcher

    init(api: APIResponder, rpc: RPCDispatcher) {
        self.api = api
        self.rpc = rpc
    }

    private func isRPC(_ uri: String) -> Bool {
        let path = uri.firstIndex(of: "?").map { String(uri[..<$0]) } ?? uri
        return rpc.router.isRegisteredService(path)
    }

    func bodyLimit(method: HTTPMethod, uri: String) -> Int {
        isRPC(uri) ? rpc.router.limits.maxMessageSize : api.bodyLimit(method: method, uri: uri)
    }

    func bodyTooLarge(method: HTTPMethod, uri: String, headers: HTTPHeaders, peer: PeerKind) -> ServerResponse {
        guard isRPC(uri) else { return api.bodyTooLarge(method: method, uri: uri, headers: headers, peer: peer) }
        let requestID = Identifiers.requestID(incoming: headers.first(name: "x-request-id"))
        let limit = rpc.router.limits.maxMessageSize
        return rpc.errorResponse(RPCError(.resourceExhausted, "message exceeds the limit of \(limit) bytes"), requestID: requestID)
    }

    func malformed() -> ServerResponse { api.malformed() }

    func respond(to request: ServerRequest, on eventLoop: any EventLoop) -> ResponderResult {
        rpc.handles(request) ? rpc.respond(to: request, on: eventLoop) : api.respond(to: request, on: eventLoop)
    }

    /// The dispatcher takes gRPC and Connect streaming requests (and answers unknown gRPC paths);
    /// everything else is buffered and goes through `respond`.
    func openStream(_ head: ServerRequest, response: any ResponseStream) -> (any StreamHandler)? {
        rpc.openStream(head, response: response)
    }
}
