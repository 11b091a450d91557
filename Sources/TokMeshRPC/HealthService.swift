// HealthService: `grpc.health.v1.Health` (spec/06 §5). The empty name and every service
// registered on the port are SERVING exactly when the node's readiness check passes (the same
// test as `/ready`), NOT_SERVING otherwise. Check answers `not_found` for other names; Watch
// sends the current status and then each change (SERVICE_UNKNOWN, kept open, for other names),
// polling readiness on the call's event loop; List gives every name's status. It is the
// service's `GrpcHealthV1HealthHandler` (Stubs/HealthStubs.swift).
import NIOCore
import TokMeshProto

public struct HealthService: Sendable {
    public typealias Status = GrpcHealthV1.HealthCheckResponse.ServingStatus

    /// How often a Watch looks at readiness again.
    public static let watchInterval = TimeAmount.milliseconds(100)

    let isServing: @Sendable () -> Bool
    /// The names known to health besides "": the port's services (filled in by the router owner).
    let serviceNames: [String]

    public init(serviceNames: [String], isServing: @escaping @Sendable () -> Bool) {
        self.serviceNames = serviceNames
        self.isServing = isServing
    }

    func status(_ name: String) -> Status? {
        guard name.isEmpty || serviceNames.contains(name) else { return nil }
        return isServing() ? .serving : .notServing
    }

    static func response(_ status: Status) -> GrpcHealthV1.HealthCheckResponse {
        var out = GrpcHealthV1.HealthCheckResponse()
        out.status = status
        return out
    }
}

extension HealthService: GrpcHealthV1HealthHandler {
    public func check(_ request: GrpcHealthV1.HealthCheckRequest, _ call: RPCCall) -> RPCTypedReply<GrpcHealthV1.HealthCheckResponse> {
        guard let status = status(request.service) else { return .failure(RPCError(.notFound, "unknown service \(request.service.prefix(128))")) }
        return .success(HealthService.response(status))
    }

    public func watch(_ request: GrpcHealthV1.HealthCheckRequest, _ call: RPCCall,
                      _ writer: RPCTypedStreamWriter<GrpcHealthV1.HealthCheckResponse>) {
        let first = status(request.service) ?? .serviceUnknown
        writer.send(HealthService.response(first))
        guard status(request.service) != nil else { return }
        let bound = NIOLoopBound(writer, eventLoop: call.eventLoop)
        let last = NIOLoopBoundBox(first, eventLoop: call.eventLoop)
        let task = call.eventLoop.scheduleRepeatedTask(initialDelay: Self.watchInterval, delay: Self.watchInterval) { task in
            let writer = bound.value
            guard !writer.isClosed else { return task.cancel() }
            let now = status(request.service) ?? .serviceUnknown
            if now != last.value {
                last.value = now
                writer.send(HealthService.response(now))
            }
        }
        writer.onCancel { task.cancel() }
    }

    public func list(_ request: GrpcHealthV1.HealthListRequest, _ call: RPCCall) -> RPCTypedReply<GrpcHealthV1.HealthListResponse> {
        var out = GrpcHealthV1.HealthListResponse()
        for name in [""] + serviceNames {
            var response = GrpcHealthV1.HealthCheckResponse()
            response.status = status(name) ?? .serviceUnknown
            out.statuses[name] = response
        }
        return .success(out)
    }
}
