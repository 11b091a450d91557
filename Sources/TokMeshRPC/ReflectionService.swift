// ReflectionService: `grpc.reflection.v1` and `v1alpha` ServerReflectionInfo (spec/06 §5), one
// handler for both (their messages are the same on the wire). Each request on the bidi stream
// gets one response: a file by name or by a symbol it defines (message, enum, service,
// `Service.Method`) comes back first, followed by the dependencies not yet sent on this stream;
// `list_services` names the services registered on the port; unknown names get
// `error_response{5}`; extension queries get empty answers (proto3 without extensions). It is
// the `GrpcReflectionServerReflectionHandler` of both packages (Stubs/ReflectionStubs.swift).
import NIOCore
import TokMeshProto

public struct ReflectionService: Sendable {
    let serviceNames: [String]
    let index: DescriptorIndex

    public init(serviceNames: [String], index: DescriptorIndex = .embedded) {
        self.serviceNames = serviceNames
        self.index = index
    }

    /// One reflection stream: answers each request as it arrives and remembers the files sent.
    final class Exchange: RPCTypedInbound {
        let service: ReflectionService
        let writer: RPCTypedStreamWriter<GrpcReflectionV1.ServerReflectionResponse>
        var sent: Set<String> = []

        init(service: ReflectionService, writer: RPCTypedStreamWriter<GrpcReflectionV1.ServerReflectionResponse>) {
            self.service = service
            self.writer = writer
        }

        func receive(_ request: GrpcReflectionV1.ServerReflectionRequest) { writer.send(answer(request)) }

        func receiveEnd() { writer.finish(nil) }

        func answer(_ request: GrpcReflectionV1.ServerReflectionRequest) -> GrpcReflectionV1.ServerReflectionResponse {
            var response = GrpcReflectionV1.ServerReflectionResponse()
            response.validHost = request.host
            response.originalRequest = request
            switch request.messageRequest {
            case .fileByFilename(let name)?:
                response.messageResponse = files(startingWith: service.index.file(named: name)?.name, asked: name)
            case .fileContainingSymbol(let symbol)?:
                response.messageResponse = files(startingWith: service.index.file(containingSymbol: symbol)?.name, asked: symbol)
            case .fileContainingExtension?:
                response.messageResponse = .fileDescriptorResponse(GrpcReflectionV1.FileDescriptorResponse())
            case .allExtensionNumbersOfType(let type)?:
                var numbers = GrpcReflectionV1.ExtensionNumberResponse()
                numbers.baseTypeName = type
                response.messageResponse = .allExtensionNumbersResponse(numbers)
            case .listServices?:
                var list = GrpcReflectionV1.ListServiceResponse()
                list.service = service.serviceNames.map { name in
                    var s = GrpcReflectionV1.ServiceResponse()
                    s.name = name
                    return s
                }
                response.messageResponse = .listServicesResponse(list)
            case nil:
                response.messageResponse = notFound("empty reflection request")
            }
            return response
        }

        /// The file first, then its transitive dependencies not yet sent on this stream.
        func files(startingWith name: String?, asked: String) -> GrpcReflectionV1.ServerReflectionResponse.MessageResponse {
            guard let name else { return notFound("\(asked) not found") }
            var out = GrpcReflectionV1.FileDescriptorResponse()
            var queue = [name]
            var seen: Set<String> = []
            while !queue.isEmpty {
                let next = queue.removeFirst()
                guard seen.insert(next).inserted, let file = service.index.file(named: next) else { continue }
                if next == name || !sent.contains(next) {
                    out.fileDescriptorProto.append(file.serialized)
                    sent.insert(next)
                }
                queue.append(contentsOf: file.dependencies)
            }
            return .fileDescriptorResponse(out)
        }

        func notFound(_ message: String) -> GrpcReflectionV1.ServerReflectionResponse.MessageResponse {
            var error = GrpcReflectionV1.ErrorResponse()
            error.errorCode = 5
            error.errorMessage = message
            return .errorResponse(error)
        }
    }
}

extension ReflectionService: GrpcReflectionServerReflectionHandler {
    public func serverReflectionInfo(_ call: RPCCall, _ writer: RPCTypedStreamWriter<GrpcReflectionV1.ServerReflectionResponse>)
        -> any RPCTypedInbound<GrpcReflectionV1.ServerReflectionRequest> {
        Exchange(service: self, writer: writer)
    }
}
