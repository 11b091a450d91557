// DescriptorIndex: what gRPC reflection needs from a serialized FileDescriptorSet (spec/06 §5),
// built once at start. It splits the set into each file's serialized FileDescriptorProto (the
// exact bytes protoc wrote, served as they are), records each file's name, package and imports,
// and indexes every symbol a client may ask for — package-qualified messages (nested ones and
// map entries included), enums (nested included), services and `Service.Method` — to the file
// declaring it. Parsing uses ProtoReader, so a malformed set is an error, never a trap.
public struct DescriptorIndex: Sendable {
    public struct File: Sendable, Hashable {
        /// The path imports use (`tokmesh/v1/session.proto`).
        public var name: String
        public var package: String
        /// Imported files, in the order of the file's `import` lines.
        public var dependencies: [String]
        /// The file's serialized FileDescriptorProto, as in the set.
        public var serialized: [UInt8]
        /// Fully qualified services declared by the file (`tokmesh.v1.SessionService`).
        public var services: [String]
        /// Every symbol the file declares, fully qualified, in declaration order.
        public var symbols: [String]
    }

    /// The files in the set's order (protoc writes imports before the files importing them).
    public let files: [File]
    private let fileIndex: [String: Int]
    private let symbolIndex: [String: Int]

    /// The index of the descriptor set embedded in the binary (`EmbeddedDescriptors`).
    public static let embedded: DescriptorIndex = {
        do {
            return try DescriptorIndex(descriptorSet: EmbeddedDescriptors.bytes)
        } catch {
            preconditionFailure("the embedded descriptor set does not parse: \(error); run Scripts/gen-descriptors")
        }
    }()

    /// Parses a serialized FileDescriptorSet. A file name or symbol declared twice is an error.
    public init(descriptorSet bytes: [UInt8]) throws(ProtoDecodingError) {
        var reader = try ProtoReader(bytes)
        var files: [File] = []
        var fileIndex: [String: Int] = [:]
        var symbolIndex: [String: Int] = [:]
        var ignored = UnknownFields()
        while let (n, t) = try reader.nextField() {
            guard n == 1 else {
                try reader.skip(t, into: &ignored)
                continue
            }
            let file = try Self.file(try reader.bytes(n, t))
            guard fileIndex[file.name] == nil else {
                throw ProtoDecodingError(.invalidValue(field: 1, file.name), "file \(file.name) appears twice in the descriptor set")
            }
            fileIndex[file.name] = files.count
            for symbol in file.symbols {
                if let other = symbolIndex[symbol] {
                    throw ProtoDecodingError(.invalidValue(field: 1, symbol), "symbol \(symbol) declared in both \(files[other].name) and \(file.name)")
                }
                symbolIndex[symbol] = files.count
            }
            files.append(file)
        }
        self.files = files
        self.fileIndex = fileIndex
        self.symbolIndex = symbolIndex
    }

    /// A file by the name imports use.
    public func file(named name: String) -> File? { fileIndex[name].map { files[$0] } }

    /// The file declaring a fully qualified symbol (a leading dot is accepted): a message or
    /// enum (`tokmesh.v1.Session`, `grpc.health.v1.HealthCheckResponse.ServingStatus`), a service
    /// (`tokmesh.v1.SessionService`) or a method (`tokmesh.v1.SessionService.CreateSession`).
    public func file(containingSymbol symbol: String) -> File? {
        let name = symbol.hasPrefix(".") ? String(symbol.dropFirst()) : symbol
        return symbolIndex[name].map { files[$0] }
    }

    /// Every service of the set, fully qualified, in file order.
    public var services: [String] { files.flatMap(\.services) }

    /// A reflection answer for `name`: the file first, then its transitive imports depth-first
    /// in import order, each once, leaving out files in `alreadySent` (files the stream has
    /// already delivered; the requested file itself is always included). Nil for an unknown file;
    /// an import missing from the set is skipped.
    public func fileWithDependencies(_ name: String, alreadySent: Set<String> = []) -> [File]? {
        guard let first = file(named: name) else { return nil }
        var out = [first]
        var seen: Set<String> = alreadySent.union([name])
        func visit(_ file: File) {
            for dependency in file.dependencies where !seen.contains(dependency) {
                seen.insert(dependency)
                guard let imported = self.file(named: dependency) else { continue }
                out.append(imported)
                visit(imported)
            }
        }
        visit(first)
        return out
    }

    // MARK: parsing (descriptor.proto field numbers)

    private static func file(_ bytes: [UInt8]) throws(ProtoDecodingError) -> File {
        var r = try ProtoReader(bytes)
        var file = File(name: "", package: "", dependencies: [], serialized: bytes, services: [], symbols: [])
        var messages: [ProtoReader] = [], enums: [String] = [], services: [ProtoReader] = []
        var ignored = UnknownFields()
        while let (n, t) = try r.nextField() {
            switch n {
            case 1: file.name = try r.string(n, t)
            case 2: file.package = try r.string(n, t)
            case 3: file.dependencies.append(try r.string(n, t))
            case 4: messages.append(try r.message(n, t))
            case 5: enums.append(try name(of: try r.message(n, t)))
            case 6: services.append(try r.message(n, t))
            default: try r.skip(t, into: &ignored)
            }
        }
        guard !file.name.isEmpty else { throw ProtoDecodingError(.invalidValue(field: 1, ""), "a file in the descriptor set has no name") }
        let prefix = file.package.isEmpty ? "" : file.package + "."
        for message in messages { try collect(message: message, prefix: prefix, into: &file.symbols) }
        file.symbols.append(contentsOf: enums.map { prefix + $0 })
        for service in services {
            var s = service, serviceName = "", methods: [String] = []
            while let (n, t) = try s.nextField() {
                switch n {
                case 1: serviceName = try s.string(n, t)
                case 2: methods.append(try name(of: try s.message(n, t)))
                default: try s.skip(t, into: &ignored)
                }
            }
            let full = prefix + serviceName
            file.services.append(full)
            file.symbols.append(full)
            file.symbols.append(contentsOf: methods.map { full + "." + $0 })
        }
        return file
    }

    /// A DescriptorProto's name, nested messages and enums, recursively.
    private static func collect(message reader: ProtoReader, prefix: String, into symbols: inout [String]) throws(ProtoDecodingError) {
        var r = reader, name = "", nested: [ProtoReader] = [], enums: [String] = []
        var ignored = UnknownFields()
        while let (n, t) = try r.nextField() {
            switch n {
            case 1: name = try r.string(n, t)
            case 3: nested.append(try r.message(n, t))
            case 4: enums.append(try Self.name(of: try r.message(n, t)))
            default: try r.skip(t, into: &ignored)
            }
        }
        let full = prefix + name
        symbols.append(full)
        symbols.append(contentsOf: enums.map { full + "." + $0 })
        for message in nested { try collect(message: message, prefix: full + ".", into: &symbols) }
    }

    /// Field 1 (`name`) of a descriptor message.
    private static func name(of reader: ProtoReader) throws(ProtoDecodingError) -> String {
        var r = reader, name = ""
        var ignored = UnknownFields()
        while let (n, t) = try r.nextField() {
            if n == 1 { name = try r.string(n, t) } else { try r.skip(t, into: &ignored) }
        }
        return name
    }
}
