// GrpcReflectionV1Schema and GrpcReflectionV1AlphaSchema: the field and method tables of
// `proto/grpc/reflection/v1/reflection.proto` and `…/v1alpha/reflection.proto` (spec/06 §3). The
// two files differ only in their package, so both tables come from one function; the descriptor
// drift test still compares each with its own file.
public enum GrpcReflectionV1Schema {
    public static let file = table(package: "grpc.reflection.v1", path: "grpc/reflection/v1/reflection.proto")

    /// reflection.proto's messages and service under `package`.
    static func table(package: String, path: String) -> ProtoFileSchema {
        let p = package + "."
        return ProtoFileSchema(path: path, package: package, messages: [
            ProtoMessageSchema(p + "ServerReflectionRequest", [
                ProtoField("host", 1, .string), ProtoField("file_by_filename", 3, .string, oneof: "message_request"),
                ProtoField("file_containing_symbol", 4, .string, oneof: "message_request"),
                ProtoField("file_containing_extension", 5, .message(p + "ExtensionRequest"), oneof: "message_request"),
                ProtoField("all_extension_numbers_of_type", 6, .string, oneof: "message_request"),
                ProtoField("list_services", 7, .string, oneof: "message_request"),
            ]),
            ProtoMessageSchema(p + "ExtensionRequest", [
                ProtoField("containing_type", 1, .string), ProtoField("extension_number", 2, .int32),
            ]),
            ProtoMessageSchema(p + "ServerReflectionResponse", [
                ProtoField("valid_host", 1, .string), ProtoField("original_request", 2, .message(p + "ServerReflectionRequest")),
                ProtoField("file_descriptor_response", 4, .message(p + "FileDescriptorResponse"), oneof: "message_response"),
                ProtoField("all_extension_numbers_response", 5, .message(p + "ExtensionNumberResponse"), oneof: "message_response"),
                ProtoField("list_services_response", 6, .message(p + "ListServiceResponse"), oneof: "message_response"),
                ProtoField("error_response", 7, .message(p + "ErrorResponse"), oneof: "message_response"),
            ]),
            ProtoMessageSchema(p + "FileDescriptorResponse", [
                ProtoField("file_descriptor_proto", 1, .bytes, repeated: true),
            ]),
            ProtoMessageSchema(p + "ExtensionNumberResponse", [
                ProtoField("base_type_name", 1, .string), ProtoField("extension_number", 2, .int32, repeated: true),
            ]),
            ProtoMessageSchema(p + "ListServiceResponse", [
                ProtoField("service", 1, .message(p + "ServiceResponse"), repeated: true),
            ]),
            ProtoMessageSchema(p + "ServiceResponse", [
                ProtoField("name", 1, .string),
            ]),
            ProtoMessageSchema(p + "ErrorResponse", [
                ProtoField("error_code", 1, .int32), ProtoField("error_message", 2, .string),
            ]),
        ], services: [
            ProtoServiceSchema(p + "ServerReflection", [
                ProtoMethodSchema("ServerReflectionInfo", p + "ServerReflectionRequest", p + "ServerReflectionResponse",
                                  clientStreaming: true, serverStreaming: true),
            ]),
        ])
    }
}

public enum GrpcReflectionV1AlphaSchema {
    public static let file = GrpcReflectionV1Schema.table(package: "grpc.reflection.v1alpha", path: "grpc/reflection/v1alpha/reflection.proto")
}
