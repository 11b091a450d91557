// GrpcReflectionV1: hand-maintained codecs for the standard gRPC server reflection protocol
// (spec/06 §3, §5), one struct per message in the `GrpcReflectionV1` namespace, oneofs as Swift
// enums. `grpc.reflection.v1alpha` has the same messages with the same numbers, so these codecs
// serve both packages on the wire (`protoName` names the v1 type); the tables of both files are
// in `GrpcReflectionV1Schema` and `GrpcReflectionV1AlphaSchema`.
public enum GrpcReflectionV1 {}

extension GrpcReflectionV1 {
    public struct ServerReflectionRequest: ProtoMessage {
        public static let protoName = "grpc.reflection.v1.ServerReflectionRequest"
        public enum MessageRequest: Sendable, Hashable {
            case fileByFilename(String)
            case fileContainingSymbol(String)
            case fileContainingExtension(ExtensionRequest)
            case allExtensionNumbersOfType(String)
            case listServices(String)
        }

        public var host: String = ""
        public var messageRequest: MessageRequest?
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: host)
            switch messageRequest {
            case .fileByFilename(let v)?: w.write(3, stringElement: v)
            case .fileContainingSymbol(let v)?: w.write(4, stringElement: v)
            case .fileContainingExtension(let v)?: w.write(5, message: v.serializedBytes())
            case .allExtensionNumbersOfType(let v)?: w.write(6, stringElement: v)
            case .listServices(let v)?: w.write(7, stringElement: v)
            case nil: break
            }
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: host = try r.string(n, t)
            case 3: messageRequest = .fileByFilename(try r.string(n, t))
            case 4: messageRequest = .fileContainingSymbol(try r.string(n, t))
            case 5:
                var current: ExtensionRequest?
                if case .fileContainingExtension(let v)? = messageRequest { current = v }
                messageRequest = .fileContainingExtension(try r.merge(n, t, into: current))
            case 6: messageRequest = .allExtensionNumbersOfType(try r.string(n, t))
            case 7: messageRequest = .listServices(try r.string(n, t))
            default: return false
            }
            return true
        }
    }
}

extension GrpcReflectionV1 {
    public struct ExtensionRequest: ProtoMessage {
        public static let protoName = "grpc.reflection.v1.ExtensionRequest"
        public var containingType: String = ""
        public var extensionNumber: Int32 = 0
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: containingType)
            w.write(2, int32: extensionNumber)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: containingType = try r.string(n, t)
            case 2: extensionNumber = try r.int32(n, t)
            default: return false
            }
            return true
        }
    }
}

extension GrpcReflectionV1 {
    public struct ServerReflectionResponse: ProtoMessage {
        public static let protoName = "grpc.reflection.v1.ServerReflectionResponse"
        public enum MessageResponse: Sendable, Hashable {
            case fileDescriptorResponse(FileDescriptorResponse)
            case allExtensionNumbersResponse(ExtensionNumberResponse)
            case listServicesResponse(ListServiceResponse)
            case errorResponse(ErrorResponse)
        }

        public var validHost: String = ""
        public var originalRequest: ServerReflectionRequest?
        public var messageResponse: MessageResponse?
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: validHost)
            w.write(2, originalRequest)
            switch messageResponse {
            case .fileDescriptorResponse(let v)?: w.write(4, message: v.serializedBytes())
            case .allExtensionNumbersResponse(let v)?: w.write(5, message: v.serializedBytes())
            case .listServicesResponse(let v)?: w.write(6, message: v.serializedBytes())
            case .errorResponse(let v)?: w.write(7, message: v.serializedBytes())
            case nil: break
            }
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: validHost = try r.string(n, t)
            case 2: originalRequest = try r.merge(n, t, into: originalRequest)
            case 4:
                var current: FileDescriptorResponse?
                if case .fileDescriptorResponse(let v)? = messageResponse { current = v }
                messageResponse = .fileDescriptorResponse(try r.merge(n, t, into: current))
            case 5:
                var current: ExtensionNumberResponse?
                if case .allExtensionNumbersResponse(let v)? = messageResponse { current = v }
                messageResponse = .allExtensionNumbersResponse(try r.merge(n, t, into: current))
            case 6:
                var current: ListServiceResponse?
                if case .listServicesResponse(let v)? = messageResponse { current = v }
                messageResponse = .listServicesResponse(try r.merge(n, t, into: current))
            case 7:
                var current: ErrorResponse?
                if case .errorResponse(let v)? = messageResponse { current = v }
                messageResponse = .errorResponse(try r.merge(n, t, into: current))
            default: return false
            }
            return true
        }
    }
}

extension GrpcReflectionV1 {
    public struct FileDescriptorResponse: ProtoMessage {
        public static let protoName = "grpc.reflection.v1.FileDescriptorResponse"
        public var fileDescriptorProto: [[UInt8]] = []
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, bytesList: fileDescriptorProto)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: fileDescriptorProto.append(try r.bytes(n, t))
            default: return false
            }
            return true
        }
    }
}

extension GrpcReflectionV1 {
    public struct ExtensionNumberResponse: ProtoMessage {
        public static let protoName = "grpc.reflection.v1.ExtensionNumberResponse"
        public var baseTypeName: String = ""
        public var extensionNumber: [Int32] = []
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: baseTypeName)
            w.writePacked(2, int32s: extensionNumber)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: baseTypeName = try r.string(n, t)
            case 2: try r.appendInt32s(n, t, to: &extensionNumber)
            default: return false
            }
            return true
        }
    }
}

extension GrpcReflectionV1 {
    public struct ListServiceResponse: ProtoMessage {
        public static let protoName = "grpc.reflection.v1.ListServiceResponse"
        public var service: [ServiceResponse] = []
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, messages: service)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: service.append(try r.merge(n, t, into: nil as ServiceResponse?))
            default: return false
            }
            return true
        }
    }
}

extension GrpcReflectionV1 {
    public struct ServiceResponse: ProtoMessage {
        public static let protoName = "grpc.reflection.v1.ServiceResponse"
        public var name: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: name)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: name = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}

extension GrpcReflectionV1 {
    public struct ErrorResponse: ProtoMessage {
        public static let protoName = "grpc.reflection.v1.ErrorResponse"
        public var errorCode: Int32 = 0
        public var errorMessage: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, int32: errorCode)
            w.write(2, string: errorMessage)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: errorCode = try r.int32(n, t)
            case 2: errorMessage = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}
