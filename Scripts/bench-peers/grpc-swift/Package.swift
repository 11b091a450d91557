// swift-tools-version:6.1
// The grpc-swift-2 reference for `Scripts/bench rpc` (spec/06 §10): its own package, never part
// of TokMesh's build. `Scripts/bench rpc` builds it in release with its own scratch path.
import PackageDescription

let package = Package(
  name: "grpc-swift-health",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(url: "https://github.com/grpc/grpc-swift-2.git", exact: "2.4.3"),
    .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", exact: "2.9.2"),
  ],
  targets: [
    .executableTarget(
      name: "grpc-swift-health",
      dependencies: [
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
      ],
      path: "Sources/GRPCSwiftHealth",
      swiftSettings: [.swiftLanguageMode(.v6)]
    )
  ]
)
