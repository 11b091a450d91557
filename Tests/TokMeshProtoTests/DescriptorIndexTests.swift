// Tests of DescriptorIndex: the embedded set's files, imports and symbols against the Swift
// schema tables (every message, nested ones included, enum, service and Service.Method resolves
// to its file), serialized FileDescriptorProtos that are the set's own bytes, reflection's
// file-then-imports answer order, and malformed or duplicate input rejected without a trap.
import Testing
import TokMeshCore
@testable import TokMeshProto

@Suite struct DescriptorIndexTests {
    @Test("the embedded set holds every file of ProtoFiles.all with its package and imports")
    func files() throws {
        let index = DescriptorIndex.embedded
        #expect(Set(index.files.map(\.name)) == Set(ProtoFiles.all.map(\.path)))
        #expect(Set(EmbeddedDescriptors.files) == Set(ProtoFiles.all.map(\.path)))
        for schema in ProtoFiles.all {
            let file = try #require(index.file(named: schema.path))
            #expect(file.package == schema.package && file.dependencies == schema.dependencies, "\(schema.path)")
            #expect(file.services == schema.services.map(\.name), "\(schema.path)")
            // The serialized bytes are a FileDescriptorProto of that file.
            let parsed = try DescriptorSet.file(try ProtoReader(file.serialized))
            #expect(parsed.name == schema.path && parsed.package == schema.package)
        }
        #expect(index.file(named: "nope.proto") == nil)
        // Imports come before the files importing them.
        for (i, file) in index.files.enumerated() {
            for dependency in file.dependencies { #expect(index.files.prefix(i).contains { $0.name == dependency }) }
        }
    }

    @Test("every message, enum, service and method of the Swift tables resolves to its file")
    func symbols() throws {
        let index = DescriptorIndex.embedded
        for schema in ProtoFiles.all {
            var symbols = schema.messages.map(\.name) + schema.enums.map(\.name) + schema.services.map(\.name)
            symbols += schema.services.flatMap { s in s.methods.map { s.name + "." + $0.name } }
            for symbol in symbols {
                #expect(index.file(containingSymbol: symbol)?.name == schema.path, "\(symbol)")
            }
        }
        #expect(index.file(containingSymbol: ".tokmesh.v1.Session")?.name == "tokmesh/v1/session.proto")
        #expect(index.file(containingSymbol: "tokmesh.v1.Session.DataEntry")?.name == "tokmesh/v1/session.proto", "map entries are messages too")
        #expect(index.file(containingSymbol: "grpc.health.v1.HealthCheckResponse.ServingStatus")?.name == "grpc/health/v1/health.proto")
        #expect(index.file(containingSymbol: "grpc.health.v1.Health.Check")?.name == "grpc/health/v1/health.proto")
        #expect(index.file(containingSymbol: "grpc.reflection.v1alpha.ServerReflection")?.name == "grpc/reflection/v1alpha/reflection.proto")
        for unknown in ["tokmesh.v1", "tokmesh.v1.Nope", "Session", "tokmesh.v1.SessionService.Nope", ""] {
            #expect(index.file(containingSymbol: unknown) == nil, "\(unknown)")
        }
        #expect(Set(index.services) == Set(ProtoFiles.all.flatMap(\.services).map(\.name)))
    }

    /// A FileDescriptorProto with a name, package, imports, one message with a nested message
    /// and enum, one top-level enum and one service with methods.
    static func fileProto(_ name: String, package: String, imports: [String] = [], message: String, service: String? = nil) -> [UInt8] {
        var w = ProtoWriter()
        w.write(1, string: name)
        w.write(2, string: package)
        for i in imports { w.write(3, string: i) }
        var nestedEnum = ProtoWriter()
        nestedEnum.write(1, string: "Kind")
        var nested = ProtoWriter()
        nested.write(1, string: "Inner")
        var m = ProtoWriter()
        m.write(1, string: message)
        m.write(3, message: nested.bytes)
        m.write(4, message: nestedEnum.bytes)
        w.write(4, message: m.bytes)
        var e = ProtoWriter()
        e.write(1, string: message + "State")
        w.write(5, message: e.bytes)
        if let service {
            var s = ProtoWriter()
            s.write(1, string: service)
            for method in ["Get", "Put"] {
                var mw = ProtoWriter()
                mw.write(1, string: method)
                s.write(2, message: mw.bytes)
            }
            w.write(6, message: s.bytes)
        }
        return w.bytes
    }

    static func set(_ files: [[UInt8]]) -> [UInt8] {
        var w = ProtoWriter()
        for f in files { w.write(1, message: f) }
        return w.bytes
    }

    @Test("a hand-built set: symbols, serialized bytes as given, answers list the file then unsent imports")
    func handBuilt() throws {
        let base = Self.fileProto("a/base.proto", package: "a", message: "Base")
        let mid = Self.fileProto("b/mid.proto", package: "b", imports: ["a/base.proto"], message: "Mid")
        let top = Self.fileProto("c/top.proto", package: "c", imports: ["b/mid.proto", "a/base.proto", "x/missing.proto"], message: "Top",
                                 service: "TopService")
        let index = try DescriptorIndex(descriptorSet: Self.set([base, mid, top]))
        #expect(index.files.map(\.name) == ["a/base.proto", "b/mid.proto", "c/top.proto"])
        #expect(index.file(named: "c/top.proto")?.serialized == top)
        #expect(index.file(named: "c/top.proto")?.symbols == ["c.Top", "c.Top.Kind", "c.Top.Inner", "c.TopState", "c.TopService",
                                                               "c.TopService.Get", "c.TopService.Put"])
        #expect(index.file(containingSymbol: "c.TopService.Put")?.name == "c/top.proto")
        #expect(index.file(containingSymbol: "b.Mid.Inner")?.name == "b/mid.proto")
        #expect(index.services == ["c.TopService"])
        #expect(index.fileWithDependencies("c/top.proto")?.map(\.name) == ["c/top.proto", "b/mid.proto", "a/base.proto"])
        #expect(index.fileWithDependencies("c/top.proto", alreadySent: ["a/base.proto"])?.map(\.name) == ["c/top.proto", "b/mid.proto"])
        #expect(index.fileWithDependencies("a/base.proto", alreadySent: ["a/base.proto"])?.map(\.name) == ["a/base.proto"])
        #expect(index.fileWithDependencies("nope.proto") == nil)
        #expect(DescriptorIndex.embedded.fileWithDependencies("grpc/health/v1/health.proto")?.count == 1)
    }

    @Test("duplicate files or symbols and malformed bytes are errors")
    func rejects() throws {
        let a = Self.fileProto("a.proto", package: "p", message: "M")
        #expect(throws: ProtoDecodingError.self) { try DescriptorIndex(descriptorSet: Self.set([a, a])) }
        let b = Self.fileProto("b.proto", package: "p", message: "M")
        #expect(throws: ProtoDecodingError.self) { try DescriptorIndex(descriptorSet: Self.set([a, b])) }
        #expect(throws: ProtoDecodingError.self) { try DescriptorIndex(descriptorSet: Self.set([Self.fileProto("", package: "p", message: "M")])) }
        let full = Self.set([a])
        for cut in 1..<full.count {
            #expect(throws: ProtoDecodingError.self) { try DescriptorIndex(descriptorSet: Array(full.prefix(cut))) }
        }
        var rng = SplitMix64(seed: 0xD15C)
        for _ in 0..<2000 {
            _ = try? DescriptorIndex(descriptorSet: (0..<Int(rng.next() % 48)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        }
        #expect(try DescriptorIndex(descriptorSet: []).files.isEmpty)
    }

    @Test("the embedded base64 decoder is strict and matches the bytes")
    func base64() {
        #expect(EmbeddedDescriptors.decode("") == [])
        #expect(EmbeddedDescriptors.decode("Zg==") == Array("f".utf8))
        #expect(EmbeddedDescriptors.decode("Zm8=") == Array("fo".utf8))
        #expect(EmbeddedDescriptors.decode("Zm9v") == Array("foo".utf8))
        #expect(EmbeddedDescriptors.decode("+/+/") == [0xFB, 0xFF, 0xBF])
        for bad in ["Zg", "Zg=", "Z===", "Zm9v\n", "Zm-v", "Zg==Zg==", "=Zg="] {
            #expect(EmbeddedDescriptors.decode(bad) == nil, "\(bad)")
        }
        #expect(!EmbeddedDescriptors.bytes.isEmpty)
    }
}
