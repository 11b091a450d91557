// grpc-swift-health PORT — serves grpc.health.v1.Health/Check on 127.0.0.1:PORT over h2c with
// grpc-swift-2 and its NIO Posix transport. No code generation and no swift-protobuf: messages
// pass through as bytes, and every Check answers the same encoded HealthCheckResponse
// {status: SERVING} (`08 01`) that the bare nghttp2 baseline and tokmesh-server send.
import GRPCCore
import GRPCNIOTransportHTTP2Posix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes in, bytes out: the request is not decoded at all.
struct PassthroughCoder: MessageSerializer, MessageDeserializer {
  typealias Message = [UInt8]

  func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes {
    Bytes(message)
  }

  func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
    serializedMessageBytes.withUnsafeBytes { Array($0) }
  }
}

struct HealthService: RegistrableRPCService {
  static let check = MethodDescriptor(
    service: ServiceDescriptor(fullyQualifiedService: "grpc.health.v1.Health"),
    method: "Check",
    type: .unary
  )
  static let serving: [UInt8] = [0x08, 0x01]

  func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
    router.registerHandler(
      forMethod: Self.check,
      deserializer: PassthroughCoder(),
      serializer: PassthroughCoder()
    ) { request, _ in
      _ = try await ServerRequest(stream: request)  // exactly one request message
      return StreamingServerResponse(single: ServerResponse(message: Self.serving))
    }
  }
}

let arguments = CommandLine.arguments
guard arguments.count == 2, let port = Int(arguments[1]) else {
  print("usage: grpc-swift-health PORT")
  exit(64)
}

let server = GRPCServer(
  transport: .http2NIOPosix(
    address: .ipv4(host: "127.0.0.1", port: port),
    transportSecurity: .plaintext
  ),
  services: [HealthService()]
)
try await withThrowingDiscardingTaskGroup { group in
  group.addTask { try await server.serve() }
  if let address = try await server.listeningAddress {
    print("grpc-swift-health: listening on \(address)")
  }
}
