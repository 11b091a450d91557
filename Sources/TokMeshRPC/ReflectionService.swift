// ReflectionService: `grpc.reflection.v1` and `v1alpha` ServerReflectionInfo (spec/06 §5), one
// handler for both (their messages are the same on the wire). Each request on the bidi stream
// gets one response: a file by name or by a symbol it defines (message, enum, service,
// `Service.Method`) comes back first, followed by the dependencies not yet sent on this stream;
// `list_services` names the services registered on the port; unknown names get
// `error_response{5}`; extension queries get empty answers (proto3 without extensions).
import NIOCore
import TokMeshProto

public struct ReflectionService: Sendable {
    let serviceNames: [String]
    let index: DescriptorIndex

    public init(serviceNames: [String], index: DescriptorIndex = .embedded) {
        self.serviceNames = serviceNames
        self.index = index
    }

    public func implementations() -> [String: RPCImplementation] {
        ["ServerReflectionInfo": .bidi { call, writer in Exchange(service: self, writer: writer, requestID: call.requestID) }]
    }

    /// One reflection stream: answers each request as it arrives and remembers the files sent.
    final class Exchange: RPCInbound {
        let service: ReflectionService
        let writer: any RPCStreamWriter
        let requestID: String
        var sent: Set<String> = []

        init(service: ReflectionService, writer: any RPCStreamWriter, requestID: String) {
            self.service = service
            self.writer = writer
            self.requestID = requestID
        }

        func receive(_ message: [UInt8]) {
            let request: GrpcReflectionV1.ServerReflectionRequest
            do throws(ProtoDecodingError) { request = try .init(serializedBytes: message) } catch {
                return writer.finish(RPCError.malformed("ServerReflectionRequest: \(error)", requestID: requestID))
            }
            writer.send(answer(request).serializedBytes())
        }

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
