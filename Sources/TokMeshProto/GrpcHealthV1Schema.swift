// GrpcHealthV1Schema: the field, enum and method tables of `proto/grpc/health/v1/health.proto`
// (spec/06 §3). Kept in step with the file by the descriptor drift test.
public enum GrpcHealthV1Schema {
    static let p = "grpc.health.v1."

    public static let file = ProtoFileSchema(path: "grpc/health/v1/health.proto", package: "grpc.health.v1", messages: [
        ProtoMessageSchema(p + "HealthCheckRequest", [
            ProtoField("service", 1, .string),
        ]),
        ProtoMessageSchema(p + "HealthCheckResponse", [
            ProtoField("status", 1, .enumeration(p + "HealthCheckResponse.ServingStatus")),
        ]),
        ProtoMessageSchema(p + "HealthListRequest", []),
        ProtoMessageSchema(p + "HealthListResponse", [
            ProtoField("statuses", 1, .map(key: .string, value: .message(p + "HealthCheckResponse"))),
        ]),
    ], enums: [
        ProtoEnumSchema(p + "HealthCheckResponse.ServingStatus", [("UNKNOWN", 0), ("SERVING", 1), ("NOT_SERVING", 2), ("SERVICE_UNKNOWN", 3)]),
    ], services: [
        ProtoServiceSchema(p + "Health", [
            ProtoMethodSchema("Check", p + "HealthCheckRequest", p + "HealthCheckResponse", idempotency: .noSideEffects),
            ProtoMethodSchema("List", p + "HealthListRequest", p + "HealthListResponse"),
            ProtoMethodSchema("Watch", p + "HealthCheckRequest", p + "HealthCheckResponse", serverStreaming: true),
        ]),
    ])
}
