// GrpcHealthV1: hand-maintained codecs for the standard gRPC health protocol,
// `proto/grpc/health/v1/health.proto` (spec/06 §3, §5), one struct per message in the
// `GrpcHealthV1` namespace; `ServingStatus` is an open Int32-backed enum that keeps numbers it
// does not name. Field numbers and types follow `GrpcHealthV1Schema`, which the descriptor drift
// test ties to the .proto file and the codec tests tie to these codecs.
public enum GrpcHealthV1 {}

extension GrpcHealthV1 {
    public struct HealthCheckRequest: ProtoMessage {
        public static let protoName = "grpc.health.v1.HealthCheckRequest"
        public var service: String = ""
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, string: service)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: service = try r.string(n, t)
            default: return false
            }
            return true
        }
    }
}

extension GrpcHealthV1 {
    public struct HealthCheckResponse: ProtoMessage {
        public static let protoName = "grpc.health.v1.HealthCheckResponse"

        public struct ServingStatus: ProtoEnum {
            public static let protoName = "grpc.health.v1.HealthCheckResponse.ServingStatus"
            public static let unknown = ServingStatus(rawValue: 0)
            public static let serving = ServingStatus(rawValue: 1)
            public static let notServing = ServingStatus(rawValue: 2)
            public static let serviceUnknown = ServingStatus(rawValue: 3)
            public static let valueNames: [Int32: String] = [0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"]
            public var rawValue: Int32
            public init(rawValue: Int32) { self.rawValue = rawValue }
        }

        public var status: HealthCheckResponse.ServingStatus = .unknown
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, enum: status)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1: status = try r.enumValue(n, t)
            default: return false
            }
            return true
        }
    }
}

extension GrpcHealthV1 {
    public struct HealthListRequest: ProtoMessage {
        public static let protoName = "grpc.health.v1.HealthListRequest"
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            false
        }
    }
}

extension GrpcHealthV1 {
    public struct HealthListResponse: ProtoMessage {
        public static let protoName = "grpc.health.v1.HealthListResponse"
        public var statuses: [String: HealthCheckResponse] = [:]
        public var unknownFields = UnknownFields()

        public init() {}

        public func encode(into w: inout ProtoWriter) {
            w.write(1, stringMessageMap: statuses)
            w.append(unknownFields)
        }

        public mutating func decodeField(_ n: Int, _ t: WireType, from r: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
            switch n {
            case 1:
                let (k, v): (String, HealthCheckResponse) = try r.stringMessageMapEntry(n, t)
                statuses[k] = v
            default: return false
            }
            return true
        }
    }
}
