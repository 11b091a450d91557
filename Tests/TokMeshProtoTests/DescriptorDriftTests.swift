// DescriptorDriftTests (spec/06 §4): runs `protoc` on `proto/`, reads the FileDescriptorSet it
// writes with our own wire reader, and compares every message's fields (name, number, type,
// label, map types, json_name, message type names) and every service's methods (input, output,
// streaming flags, idempotency) with the hand-maintained Swift tables. Either side changing
// alone fails the test. A missing protoc fails it with an install hint; it never skips.
import Foundation
import Testing
@testable import TokMeshProto

/// The subset of descriptor.proto the comparison needs, decoded with ProtoReader.
enum DescriptorSet {
    struct Field { var name = "", number = 0, label = 0, type = 0, typeName = "", jsonName = "" }
    struct Message { var name = "", fields: [Field] = [], nested: [Message] = [], mapEntry = false }
    struct Method { var name = "", input = "", output = "", clientStreaming = false, serverStreaming = false, idempotency = 0 }
    struct Service { var name = "", methods: [Method] = [] }
    struct File { var name = "", package = "", messages: [Message] = [], services: [Service] = [] }

    static func files(_ bytes: [UInt8]) throws -> [File] {
        var r = try ProtoReader(bytes)
        var out: [File] = []
        var skipped = UnknownFields()
        while let (n, t) = try r.nextField() {
            if n == 1 { out.append(try file(try r.message(n, t))) } else { try r.skip(t, into: &skipped) }
        }
        return out
    }

    static func file(_ reader: ProtoReader) throws -> File {
        var r = reader, f = File(), skipped = UnknownFields()
        while let (n, t) = try r.nextField() {
            switch n {
            case 1: f.name = try r.string(n, t)
            case 2: f.package = try r.string(n, t)
            case 4: f.messages.append(try message(try r.message(n, t)))
            case 6: f.services.append(try service(try r.message(n, t)))
            default: try r.skip(t, into: &skipped)
            }
        }
        return f
    }

    static func message(_ reader: ProtoReader) throws -> Message {
        var r = reader, m = Message(), skipped = UnknownFields()
        while let (n, t) = try r.nextField() {
            switch n {
            case 1: m.name = try r.string(n, t)
            case 2: m.fields.append(try field(try r.message(n, t)))
            case 3: m.nested.append(try message(try r.message(n, t)))
            case 7:
                var o = try r.message(n, t)
                while let (on, ot) = try o.nextField() {
                    if on == 7 { m.mapEntry = try o.bool(on, ot) } else { try o.skip(ot, into: &skipped) }
                }
            default: try r.skip(t, into: &skipped)
            }
        }
        return m
    }

    static func field(_ reader: ProtoReader) throws -> Field {
        var r = reader, f = Field(), skipped = UnknownFields()
        while let (n, t) = try r.nextField() {
            switch n {
            case 1: f.name = try r.string(n, t)
            case 3: f.number = Int(try r.int32(n, t))
            case 4: f.label = Int(try r.int32(n, t))
            case 5: f.type = Int(try r.int32(n, t))
            case 6: f.typeName = try r.string(n, t)
            case 10: f.jsonName = try r.string(n, t)
            default: try r.skip(t, into: &skipped)
            }
        }
        return f
    }

    static func service(_ reader: ProtoReader) throws -> Service {
        var r = reader, s = Service(), skipped = UnknownFields()
        while let (n, t) = try r.nextField() {
            switch n {
            case 1: s.name = try r.string(n, t)
            case 2:
                var mr = try r.message(n, t), m = Method()
                while let (mn, mt) = try mr.nextField() {
                    switch mn {
                    case 1: m.name = try mr.string(mn, mt)
                    case 2: m.input = try mr.string(mn, mt)
                    case 3: m.output = try mr.string(mn, mt)
                    case 4:
                        var o = try mr.message(mn, mt)
                        while let (on, ot) = try o.nextField() {
                            if on == 34 { m.idempotency = Int(try o.int32(on, ot)) } else { try o.skip(ot, into: &skipped) }
                        }
                    case 5: m.clientStreaming = try mr.bool(mn, mt)
                    case 6: m.serverStreaming = try mr.bool(mn, mt)
                    default: try mr.skip(mt, into: &skipped)
                    }
                }
                s.methods.append(m)
            default: try r.skip(t, into: &skipped)
            }
        }
        return s
    }

    /// The descriptor's view of a file as a Swift schema (map entry types folded into `.map`).
    static func schema(_ f: File) -> ProtoFileSchema {
        func strip(_ name: String) -> String { name.hasPrefix(".") ? String(name.dropFirst()) : name }
        func scalar(_ type: Int, _ typeName: String) -> ProtoFieldType? {
            switch type {
            case 1: .double
            case 2: .float
            case 3: .int64
            case 4: .uint64
            case 5: .int32
            case 6: .fixed64
            case 7: .fixed32
            case 8: .bool
            case 9: .string
            case 11: .message(strip(typeName))
            case 12: .bytes
            case 13: .uint32
            case 14: .enumeration(strip(typeName))
            case 15: .sfixed32
            case 16: .sfixed64
            case 17: .sint32
            case 18: .sint64
            default: nil
            }
        }
        var messages: [ProtoMessageSchema] = []
        func visit(_ m: Message, prefix: String) {
            let full = prefix + m.name
            var entries: [String: ProtoFieldType] = [:]
            for nested in m.nested where nested.mapEntry {
                let key = nested.fields.first { $0.number == 1 }, value = nested.fields.first { $0.number == 2 }
                if let key, let value, let k = scalar(key.type, key.typeName), let v = scalar(value.type, value.typeName) {
                    entries[full + "." + nested.name] = .map(key: k, value: v)
                }
            }
            let fields = m.fields.map { f -> ProtoField in
                if f.type == 11, let map = entries[strip(f.typeName)] { return ProtoField(f.name, f.number, map) }
                return ProtoField(f.name, f.number, scalar(f.type, f.typeName) ?? .bytes, repeated: f.label == 3)
            }
            messages.append(ProtoMessageSchema(full, fields))
            for nested in m.nested where !nested.mapEntry { visit(nested, prefix: full + ".") }
        }
        for m in f.messages { visit(m, prefix: f.package + ".") }
        let services = f.services.map { s in
            ProtoServiceSchema(f.package + "." + s.name, s.methods.map { m in
                ProtoMethodSchema(m.name, strip(m.input), strip(m.output), clientStreaming: m.clientStreaming, serverStreaming: m.serverStreaming,
                                  idempotency: m.idempotency == 1 ? .noSideEffects : m.idempotency == 2 ? .idempotent : .unknown)
            })
        }
        return ProtoFileSchema(path: f.name, package: f.package, messages: messages, services: services)
    }
}

@Suite struct DescriptorDriftTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// protoc's descriptor set for `files` (paths under proto/).
    static func protoc(_ files: [String]) throws -> [UInt8] {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tokmesh-descriptors-\(UUID().uuidString).binpb")
        defer { try? FileManager.default.removeItem(at: out) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["protoc", "-I", repository.appendingPathComponent("proto").path, "--include_imports",
                             "--descriptor_set_out=\(out.path)"] + files.map { repository.appendingPathComponent("proto/" + $0).path }
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw DriftFailure(message: "protoc failed (exit \(process.terminationStatus)); install it with `apt-get install protobuf-compiler` "
                               + "or run Scripts/bootstrap test")
        }
        return [UInt8](try Data(contentsOf: out))
    }

    struct DriftFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    @Test("tokmesh/v1/session.proto and TokMeshV1Schema agree on every message, field and method")
    func sessionProto() throws {
        let files = try DescriptorSet.files(try Self.protoc([TokMeshV1Schema.file.path]))
        let described = try #require(files.first { $0.name == TokMeshV1Schema.file.path }.map(DescriptorSet.schema))
        let swift = TokMeshV1Schema.file
        #expect(described.package == swift.package)
        let theirs = Dictionary(uniqueKeysWithValues: described.messages.map { ($0.name, $0) })
        let ours = Dictionary(uniqueKeysWithValues: swift.messages.map { ($0.name, $0) })
        #expect(Set(theirs.keys) == Set(ours.keys), "messages only in proto/: \(Set(theirs.keys).subtracting(ours.keys)), only in Swift: \(Set(ours.keys).subtracting(theirs.keys))")
        for (name, message) in ours {
            guard let other = theirs[name] else { continue }
            #expect(message.fields.sorted { $0.number < $1.number } == other.fields.sorted { $0.number < $1.number }, "fields of \(name) differ")
        }
        // json_name as protoc computes it matches the name the JSON mapping will use.
        for file in files where file.name == swift.path {
            for m in file.messages {
                for f in m.fields { #expect(f.jsonName == ProtoField(f.name, f.number, .string).jsonName, "json_name of \(m.name).\(f.name)") }
            }
        }
        #expect(described.services == swift.services)
        #expect(swift.services[0].path(swift.services[0].methods[2]) == "/tokmesh.v1.SessionService/ValidateToken")
    }

    @Test("the comparison notices a changed field number")
    func detectsDrift() throws {
        let files = try DescriptorSet.files(try Self.protoc([TokMeshV1Schema.file.path]))
        var described = DescriptorSet.schema(try #require(files.first { $0.name == TokMeshV1Schema.file.path }))
        let index = try #require(described.messages.firstIndex { $0.name == "tokmesh.v1.Session" })
        described.messages[index].fields[0].number = 99
        let ours = try #require(TokMeshV1Schema.file.messages.first { $0.name == "tokmesh.v1.Session" })
        #expect(described.messages[index].fields.sorted { $0.number < $1.number } != ours.fields.sorted { $0.number < $1.number })
    }
}
