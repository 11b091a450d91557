// ProtoFiles: the registry of every `.proto` file's Swift schema table, in dependency order
// (a file comes after the files it imports). The descriptor drift test walks this list to tie
// each table to protoc's view of `proto/`, and anything that needs all tables at once (the JSON
// mapping's registry, reflection's symbol list) starts here.
public enum ProtoFiles {
    public static let all: [ProtoFileSchema] = [
        TokMeshV1Schema.file,
        GrpcHealthV1Schema.file,
        GrpcReflectionV1Schema.file,
        GrpcReflectionV1AlphaSchema.file,
        TokMeshClusterV1Schema.file,
    ]

    /// A file's table by its path under proto/ (`tokmesh/v1/session.proto`).
    public static func file(_ path: String) -> ProtoFileSchema? { all.first { $0.path == path } }
}
