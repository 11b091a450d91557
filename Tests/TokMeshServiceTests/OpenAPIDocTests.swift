// OpenAPIDocTests: docs/openapi.yaml describes exactly the routes the JSON API serves
// (spec/04 §12). The document is loaded with Yams and its (method, path template) pairs are
// compared, both ways, with the table of the router a real node builds from the same route
// rows; a route added to the server without the document (or the other way round) fails here.
import Foundation
import NIOPosix
import Testing
import Yams
@testable import TokMeshAuth
@testable import TokMeshCore
@testable import TokMeshHTTP
@testable import TokMeshServer
@testable import TokMeshService
@testable import TokMeshStorage

@Suite struct OpenAPIDocTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The (METHOD, template) pairs of the router a node assembles (APIRoutes.router).
    func routerTable() throws -> Set<String> {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tmoas-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let loader = ConfigLoader(arguments: ["--storage.data_dir=" + dir], environment: ["HOME": dir], workingDirectory: dir)
        let parsed = try loader.parseArguments()
        let config = ServerConfig(try loader.load(explicitFile: parsed.configFile, flags: parsed.flags))
        let clock = SystemClock()
        let logger = Logger(level: .error, clock: clock)
        let authenticator = Authenticator(registry: KeyRegistry(), settings: config.auth, clock: clock) { _ in }
        let engine = SessionEngine(shardCount: 1)
        let pool = NIOThreadPool(numberOfThreads: 1)
        let node = NodeContext(
            config: config, runtime: RuntimeConfig(current: config, loader: loader, file: nil, flags: parsed.flags, logger: logger, authenticator: authenticator),
            tracer: nil, nodeID: "tmnd-openapi-test", clock: clock, logger: logger,
            sessions: SessionService(engine: engine, limits: config.limits, clock: clock),
            keys: KeyAdminService(authenticator: authenticator, clock: clock), authenticator: authenticator,
            audit: try AuditLog(directory: dir + "/audit", nodeID: "tmnd-openapi-test", clock: clock), journal: LateJournal(),
            snapshots: try SnapshotStore(directory: dir + "/snapshots", masterKey: nil, cipher: .preferred(), nodeID: "tmnd-openapi-test"),
            stats: ConnectionStats(maxConnections: 10), blockingPool: pool, maintenancePool: pool, shutdownRequest: { _ in })
        return Set(APIRoutes.router(node).routes.map { "\($0.method) \($0.template)" })
    }

    /// The (METHOD, template) pairs of docs/openapi.yaml's `paths`.
    func documentTable() throws -> Set<String> {
        let text = try String(contentsOf: Self.root.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        guard let doc = try Yams.load(yaml: text) as? [String: Any], let paths = doc["paths"] as? [String: Any] else {
            Issue.record("docs/openapi.yaml has no paths mapping")
            return []
        }
        let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        var table = Set<String>()
        for (path, item) in paths {
            guard let operations = item as? [String: Any] else { continue }
            for method in operations.keys where methods.contains(method) { table.insert("\(method.uppercased()) \(path)") }
        }
        return table
    }

    @Test("spec/04 §12: every served route is in docs/openapi.yaml and every documented route is served")
    func documentMatchesRouter() throws {
        let served = try routerTable()
        let documented = try documentTable()
        #expect(served.count > 20, "the router table looks empty: \(served)")
        #expect(served.subtracting(documented).sorted() == [], "routes served but missing from docs/openapi.yaml")
        #expect(documented.subtracting(served).sorted() == [], "routes in docs/openapi.yaml that the server does not serve")
    }
}
