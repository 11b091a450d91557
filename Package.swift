// swift-tools-version: 6.0
// TokMesh: a session and token store for identity systems. Module layering follows
// DESIGN.md §2: lower modules never import higher ones.
import PackageDescription

let package = Package(
    name: "TokMesh",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tokmesh-server", targets: ["tokmesh-server"]),
        .executable(name: "tokmesh-cli", targets: ["tokmesh-cli"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
    ],
    targets: [
        .systemLibrary(
            name: "CArgon2",
            pkgConfig: "libargon2",
            providers: [.apt(["libargon2-dev"])]
        ),
        .target(
            name: "TokMeshCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // The metric catalogue of spec/10 §3 and its Prometheus registry; lower modules record
        // through the swift-metrics facade (CoreMetrics) and never see Prometheus.
        .target(
            name: "TokMeshTelemetry",
            dependencies: [
                "TokMeshCore", "TokMeshProto",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .target(
            name: "TokMeshStorage",
            dependencies: ["TokMeshCore", .product(name: "HeapModule", package: "swift-collections"), .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "CoreMetrics", package: "swift-metrics")]
        ),
        .target(
            name: "TokMeshAuth",
            dependencies: ["TokMeshCore", "CArgon2", .product(name: "Crypto", package: "swift-crypto"), .product(name: "CoreMetrics", package: "swift-metrics")]
        ),
        .target(
            name: "TokMeshService",
            dependencies: ["TokMeshCore", "TokMeshStorage", "TokMeshAuth", .product(name: "CoreMetrics", package: "swift-metrics")]
        ),
        .systemLibrary(
            name: "CNghttp2",
            pkgConfig: "libnghttp2",
            providers: [.apt(["libnghttp2-dev"])]
        ),
        .target(name: "TokMeshProto", dependencies: ["TokMeshCore"]),
        // Raft as a pure state machine (issue 6), and the deterministic simulator that checks it.
        .target(name: "TokMeshRaft"),
        .target(name: "TokMeshSimulation", dependencies: ["TokMeshRaft", "TokMeshCore"]),
        .target(name: "TokMeshRaftStorage", dependencies: ["TokMeshRaft", "TokMeshStorage"]),
        // The RESP wire (spec/05): parser, writer and command table as pure state machines.
        .target(name: "TokMeshRESP", dependencies: ["TokMeshCore"]),
        .target(
            name: "TokMeshHTTP",
            dependencies: [
                "TokMeshCore", "CNghttp2",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // The RESP listeners (spec/05): connections, dispatch and the session commands over NIO.
        .target(
            name: "TokMeshRESPServer",
            dependencies: [
                "TokMeshCore", "TokMeshRESP", "TokMeshService", "TokMeshAuth", "TokMeshStorage", "TokMeshHTTP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "TokMeshRPC",
            dependencies: [
                "TokMeshCore", "TokMeshProto", "TokMeshHTTP",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "TokMeshServer",
            dependencies: [
                "TokMeshCore", "TokMeshStorage", "TokMeshAuth", "TokMeshService", "TokMeshHTTP", "TokMeshProto", "TokMeshRPC", "TokMeshRESPServer", "TokMeshTelemetry",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(name: "tokmesh-server", dependencies: ["TokMeshServer", "TokMeshStorage"]),
        .systemLibrary(name: "CLibedit", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        // The operator's client (spec/09): commands over the JSON API, HTTP(S) or the local socket.
        .target(
            name: "TokMeshCLI",
            dependencies: [
                "TokMeshCore", "TokMeshHTTP", "CLibedit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(name: "tokmesh-cli", dependencies: ["TokMeshCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "tokmesh-bench-raft", dependencies: [
            "TokMeshRaft", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .executableTarget(name: "tokmesh-sim", dependencies: ["TokMeshSimulation", "TokMeshRaft"]),
        .executableTarget(name: "tokmesh-bench-wal", dependencies: ["TokMeshCore", "TokMeshStorage"]),
        .testTarget(name: "TokMeshCoreTests", dependencies: ["TokMeshCore"]),
        .testTarget(name: "TokMeshStorageTests", dependencies: ["TokMeshStorage", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "TokMeshAuthTests", dependencies: ["TokMeshAuth"]),
        .testTarget(name: "TokMeshProtoTests", dependencies: ["TokMeshProto", "TokMeshCore"]),
        .testTarget(name: "TokMeshRaftTests", dependencies: ["TokMeshRaft"]),
        .testTarget(name: "TokMeshRaftStorageTests", dependencies: ["TokMeshRaftStorage", "TokMeshRaft"]),
        .testTarget(name: "TokMeshSimulationTests", dependencies: ["TokMeshSimulation", "TokMeshRaft", "TokMeshCore"]),
        .testTarget(name: "TokMeshRESPTests", dependencies: ["TokMeshRESP", "TokMeshCore"]),
        .testTarget(name: "TokMeshRPCTests", dependencies: [
            "TokMeshRPC", "TokMeshHTTP", "TokMeshProto", "TokMeshCore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "TokMeshServiceTests", dependencies: [
            "TokMeshService", "TokMeshServer", "TokMeshAuth", "TokMeshStorage", "TokMeshHTTP", "TokMeshCore",
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Yams", package: "Yams"),
        ]),
        .testTarget(name: "TokMeshTelemetryTests", dependencies: [
            "TokMeshTelemetry", "TokMeshProto", .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Tracing", package: "swift-distributed-tracing"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
