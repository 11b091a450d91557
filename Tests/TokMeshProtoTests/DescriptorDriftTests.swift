// DescriptorDriftTests (spec/06 §4): runs `protoc` on every file of `proto/`, reads the
// FileDescriptorSet it writes with our own wire reader, and compares each file with its
// hand-maintained Swift table in `ProtoFiles.all`: package, imports, every message (nested ones
// included) with its fields (name, number, type, label, map types, oneof, message and enum type
// names), every enum with its values, every service with its methods (input, output, streaming
// flags, idempotency), and json_name. Either side changing alone fails the test, which the
// mutation tests here prove for both sides and for an edited copy of proto/. A missing protoc
// fails it with an install hint; it never skips.
import Foundation
import Testing
@testable import TokMeshProto

/// Runs protoc the way Scripts/gen-descriptors does.
enum Protoc {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var protoRoot: URL { repository.appendingPathComponent("proto") }

    struct Failure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Every `.proto` under `root`, as relative paths, sorted (Scripts/gen-descriptors' list).
    static func protoFiles(under root: URL = protoRoot) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { throw Failure(message: "cannot list \(root.path)") }
        return walker.allObjects.compactMap { $0 as? String }.filter { $0.hasSuffix(".proto") }.sorted()
    }

    /// protoc's descriptor set (`--include_imports`, no source info) for `files` under `root`.
    static func descriptorSet(_ files: [String], root: URL = protoRoot) throws -> [UInt8] {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tokmesh-descriptors-\(UUID().uuidString).binpb")
        defer { try? FileManager.default.removeItem(at: out) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["protoc", "-I", root.path, "--include_imports", "--descriptor_set_out=\(out.path)"] + files
        process.currentDirectoryURL = root
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus == 127 {
            throw Failure(message: "protoc not found; install it with `apt-get install protobuf-compiler` or run Scripts/bootstrap test")
        }
        guard process.terminationStatus == 0 else { throw Failure(message: "protoc failed (exit \(process.terminationStatus)): \(message)") }
        return [UInt8](try Data(contentsOf: out))
    }

    /// Each described file as a Swift table, by path.
    static func described(_ files: [String] = ProtoFiles.all.map(\.path), root: URL = protoRoot) throws -> [String: ProtoFileSchema] {
        let set = try DescriptorSet.files(try descriptorSet(files, root: root))
        return Dictionary(set.map { ($0.name, DescriptorSet.schema($0)) }, uniquingKeysWith: { a, _ in a })
    }
}

@Suite struct DescriptorDriftTests {
    @Test("ProtoFiles.all lists exactly the .proto files of proto/, each once, imports first")
    func registryCoversProto() throws {
        let paths = ProtoFiles.all.map(\.path)
        #expect(Set(paths).count == paths.count, "a file is listed twice")
        let onDisk = try Protoc.protoFiles()
        #expect(Set(paths) == Set(onDisk), "proto/ has \(onDisk), ProtoFiles.all has \(paths)")
        for (i, file) in ProtoFiles.all.enumerated() {
            for dependency in file.dependencies {
                #expect(paths.prefix(i).contains(dependency), "\(file.path) imports \(dependency), which is not listed before it")
            }
        }
    }

    @Test("every file of proto/ and its Swift table agree on messages, fields, enums, services and imports", arguments: ProtoFiles.all.map(\.path))
    func fileAgrees(path: String) throws {
        let described = try Protoc.described()
        let theirs = try #require(described[path], "protoc did not describe \(path)")
        let ours = try #require(ProtoFiles.file(path))
        let differences = schemaDifferences(described: theirs, swift: ours)
        #expect(differences.isEmpty, "\(path) and its Swift table differ:\n\(differences.joined(separator: "\n"))")
    }

    @Test("proto/descriptors.binpb and EmbeddedDescriptors are what protoc makes of proto/ now")
    func committedDescriptors() throws {
        let hint = "run Scripts/gen-descriptors and commit proto/descriptors.binpb and Sources/TokMeshProto/Generated/EmbeddedDescriptors.swift"
        let files = try Protoc.protoFiles()
        let fresh = try Protoc.descriptorSet(files)
        let committed = [UInt8](try Data(contentsOf: Protoc.protoRoot.appendingPathComponent("descriptors.binpb")))
        #expect(EmbeddedDescriptors.bytes == committed, "the embedded bytes differ from proto/descriptors.binpb; \(hint)")
        #expect(EmbeddedDescriptors.files == files, "the embedded set was made from other files; \(hint)")
        // Compared as parsed descriptors, so a protoc release that orders fields differently does not fail it.
        let theirs = try DescriptorSet.files(fresh), ours = try DescriptorSet.files(committed)
        #expect(theirs.map(\.name) == ours.map(\.name), "files differ: protoc \(theirs.map(\.name)), committed \(ours.map(\.name)); \(hint)")
        for (a, b) in zip(theirs, ours) where a != b {
            Issue.record("\(a.name) changed since proto/descriptors.binpb was generated; \(hint)")
        }
    }

    @Test("json_name as protoc computes it is the name the JSON mapping uses, for every field of every file")
    func jsonNames() throws {
        for file in try DescriptorSet.files(try Protoc.descriptorSet(ProtoFiles.all.map(\.path))) {
            for (message, field) in DescriptorSet.allFields(file) {
                #expect(field.jsonName == ProtoField(field.name, field.number, .string).jsonName, "json_name of \(message).\(field.name)")
            }
        }
    }

    @Test("method paths are /<package>.<Service>/<Method>")
    func paths() throws {
        let session = TokMeshV1Schema.file.services[0]
        #expect(session.path(session.methods[2]) == "/tokmesh.v1.SessionService/ValidateToken")
        let health = GrpcHealthV1Schema.file.services[0]
        #expect(health.path(health.methods[0]) == "/grpc.health.v1.Health/Check")
        let reflection = GrpcReflectionV1AlphaSchema.file.services[0]
        #expect(reflection.path(reflection.methods[0]) == "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")
        let data = try #require(TokMeshClusterV1Schema.file.services.first { $0.name == "tokmesh.cluster.v1.DataService" })
        #expect(data.methods.map(data.path) == ["/tokmesh.cluster.v1.DataService/Forward", "/tokmesh.cluster.v1.DataService/Replicate"])
    }

    @Test("the comparison notices a changed field number")
    func detectsDrift() throws {
        var described = try #require(try Protoc.described()[TokMeshV1Schema.file.path])
        let index = try #require(described.messages.firstIndex { $0.name == "tokmesh.v1.Session" })
        described.messages[index].fields[0].number = 99
        #expect(!schemaDifferences(described: described, swift: TokMeshV1Schema.file).isEmpty)
    }

    @Test("a field, enum value, oneof, method or import added or removed on either side is a difference", arguments: ProtoFiles.all.map(\.path))
    func detectsEitherSide(path: String) throws {
        let described = try #require(try Protoc.described()[path])
        let swift = try #require(ProtoFiles.file(path))
        #expect(schemaDifferences(described: described, swift: swift).isEmpty)
        typealias Mutation = (String, (inout ProtoFileSchema) -> Void)
        var mutations: [Mutation] = [
            ("remove a field", { $0.messages[0].fields.removeLast() }),
            ("add a field", { $0.messages[0].fields.append(ProtoField("added", 999, .string)) }),
            ("change a field type", { $0.messages[0].fields[0].type = $0.messages[0].fields[0].type == .bytes ? .string : .bytes }),
            ("repeat a field", { $0.messages[0].fields[0].repeated.toggle() }),
            ("remove a message", { $0.messages.removeLast() }),
            ("add a message", { $0.messages.append(ProtoMessageSchema($0.package + ".Added", [])) }),
            ("remove a method", { $0.services[0].methods.removeLast() }),
            ("stream a method", { $0.services[0].methods[0].serverStreaming.toggle() }),
            ("add an import", { $0.dependencies.append("other.proto") }),
            ("change the package", { $0.package += "x" }),
        ]
        if swift.messages[0].fields.isEmpty {
            mutations.removeAll { ["remove a field", "change a field type", "repeat a field"].contains($0.0) }
        }
        if let e = swift.enums.indices.first {
            mutations.append(("remove an enum value", { $0.enums[e].values.removeLast() }))
            mutations.append(("renumber an enum value", { $0.enums[e].values[0].number += 10 }))
            mutations.append(("remove an enum", { $0.enums.remove(at: e) }))
        }
        if let m = swift.messages.firstIndex(where: { $0.fields.contains { $0.oneof != nil } }) {
            mutations.append(("move a field out of its oneof", {
                let f = $0.messages[m].fields.firstIndex { $0.oneof != nil }!
                $0.messages[m].fields[f].oneof = nil
            }))
        }
        for (what, mutate) in mutations {
            var theirs = described, ours = swift
            mutate(&theirs)
            mutate(&ours)
            #expect(!schemaDifferences(described: theirs, swift: swift).isEmpty, "\(path): \(what) in proto/ went unnoticed")
            #expect(!schemaDifferences(described: described, swift: ours).isEmpty, "\(path): \(what) in Swift went unnoticed")
        }
    }

    @Test("an edited copy of proto/ (fields added, removed, renumbered) fails the comparison")
    func detectsEditedProto() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("tokmesh-proto-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.copyItem(at: Protoc.protoRoot, to: copy)
        func edit(_ path: String, _ from: String, _ to: String) throws {
            let url = copy.appendingPathComponent(path)
            let text = try String(contentsOf: url, encoding: .utf8)
            #expect(text.contains(from), "\(path) no longer contains \(from)")
            try text.replacingOccurrences(of: from, with: to).write(to: url, atomically: true, encoding: .utf8)
        }
        try edit("grpc/health/v1/health.proto", "string service = 1;", "string service = 1;\n  string added = 2;")
        try edit("tokmesh/v1/session.proto", "string status = 14;", "")
        try edit("grpc/reflection/v1/reflection.proto", "string valid_host = 1;", "string valid_host = 9;")
        try edit("tokmesh/cluster/v1/cluster.proto", "  uint64 source_lsn = 11;\n", "")
        let described = try Protoc.described(root: copy)
        let health = schemaDifferences(described: try #require(described["grpc/health/v1/health.proto"]), swift: GrpcHealthV1Schema.file)
        #expect(health.contains { $0.contains("HealthCheckRequest.added only in proto/") }, "\(health)")
        let session = schemaDifferences(described: try #require(described["tokmesh/v1/session.proto"]), swift: TokMeshV1Schema.file)
        #expect(session.contains { $0.contains("Session.status only in Swift") }, "\(session)")
        let reflection = schemaDifferences(described: try #require(described["grpc/reflection/v1/reflection.proto"]), swift: GrpcReflectionV1Schema.file)
        #expect(reflection.contains { $0.contains("ServerReflectionResponse.valid_host") }, "\(reflection)")
        let cluster = schemaDifferences(described: try #require(described["tokmesh/cluster/v1/cluster.proto"]), swift: TokMeshClusterV1Schema.file)
        #expect(cluster.contains { $0.contains("TransferShardRequest.source_lsn only in Swift") }, "\(cluster)")
        #expect(schemaDifferences(described: try #require(described["grpc/reflection/v1alpha/reflection.proto"]),
                                  swift: GrpcReflectionV1AlphaSchema.file).isEmpty, "untouched files still agree")
    }
}
