// Tests of configuration loading (spec/08): precedence flag > env > file > default, value
// formats, every failure collected with its code and source, and the router's table.
import Foundation
import Testing
@testable import TokMeshCore
@testable import TokMeshHTTP
@testable import TokMeshServer

@Suite struct ConfigTests {
    func load(_ args: [String] = [], env: [String: String] = [:], file: String? = nil) throws -> LoadedConfig {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tmcfg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var args = args
        if let file {
            try file.write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
            args.append("--config=" + dir + "/c.yaml")
        }
        let loader = ConfigLoader(arguments: args, environment: env.merging(["HOME": dir]) { a, _ in a }, workingDirectory: dir)
        let parsed = try loader.parseArguments()
        return try loader.load(explicitFile: parsed.configFile, flags: parsed.flags)
    }

    func issues(_ args: [String] = [], env: [String: String] = [:], file: String? = nil) -> [ConfigIssue] {
        do { _ = try load(args, env: env, file: file); return [] } catch let f as ConfigFailure { return f.issues } catch { return [] }
    }

    @Test("spec/08 §1: flag > env > file > default")
    func precedence() throws {
        let yaml = "session:\n  quota:\n    max_per_user: 7\n  ttl:\n    default: 1h\n"
        let c = try load(["--session.quota.max-per-user", "9"], env: ["TOKMESH_SESSION_TTL_DEFAULT": "30m"], file: yaml)
        #expect(c.value("session.quota.max_per_user") == .int(9))
        #expect(c.value("session.ttl.default") == .duration(1_800_000))
        #expect(c.value("session.ttl.max") == .duration(720 * 3_600_000))
        #expect(c.sources["session.ttl.default"] == .env("TOKMESH_SESSION_TTL_DEFAULT"))
        #expect(try load(file: yaml).value("session.quota.max_per_user") == .int(7))
        #expect(try load(["--telemetry.audit.session_events"]).value("telemetry.audit.session_events") == .bool(true))
    }

    @Test("spec/08 §3: durations, sizes, addresses and CIDR lists")
    func formats() throws {
        #expect(ConfigValue.parseDuration("1h30m") == 5_400_000)
        #expect(ConfigValue.parseDuration("1.5s") == 1500)
        #expect(ConfigValue.parseDuration("90") == nil)
        #expect(ConfigValue.parseDuration("0") == 0)
        #expect(ConfigValue.parseSize("64KB") == 65536 && ConfigValue.parseSize("1mib") == 1_048_576 && ConfigValue.parseSize("12") == nil)
        #expect(ConfigValue.parseAddress("[::1]:5080")! == ("::1", 5080))
        #expect(ConfigValue.parseAddress(":5080") == nil)
        let c = try load(["--security.network.trusted_proxies=127.0.0.1, 10.0.0.0/8"])
        #expect(c.value("security.network.trusted_proxies") == .list(["127.0.0.1/32", "10.0.0.0/8"]))
    }

    @Test("spec/08 §5: every failure is collected with its code, in key-table order")
    func validationErrors() {
        let found = issues(["--server.http.address=127.0.0.1:99999"], env: ["TOKMESH_SESSION_TTL_DEFAULT": "banana"],
                           file: "session:\n  quota:\n    max_per_user: 0\nbogus: 1\n")
        #expect(found.map(\.code) == [.cfgFormat, .cfgRange, .cfgFormat, .cfgRange])
        #expect(found.map(\.key) == ["bogus", "server.http.address", "session.ttl.default", "session.quota.max_per_user"])
        #expect(found[1].line == "[TM-CFG-1002] server.http.address: port 99999 is out of range 1-65535 (from flag --server.http.address)")
        #expect(found[2].line.hasSuffix("(from env TOKMESH_SESSION_TTL_DEFAULT)"))
        let report = ConfigFailure(issues: found).report
        #expect(report.hasPrefix("[FATAL] Configuration validation failed (4 errors)\nError 1/4: "))
    }

    @Test("cross-key rules and YAML types")
    func crossChecks() {
        #expect(issues(["--session.ttl.default=800h"]).map(\.code) == [.cfgConflict])
        #expect(issues(file: "security:\n  anti_replay:\n    required: yes\n").map(\.code) == [.cfgFormat])
        #expect(issues(file: "server: [1, 2\n").map(\.code) == [.cfgFormat])
        let duplicate = issues(file: "server:\n  http:\n    address: 127.0.0.1:5080\nserver:\n  https:\n    enabled: false\n")
        #expect(duplicate.map(\.code) == [.cfgFormat] && duplicate.first?.message.contains("duplicate key") == true)
        #expect(issues(["--config=/nonexistent/c.yaml"]).map(\.code) == [.cfgMissing])
        #expect(issues(env: ["TOKMESH_SERVER_CONFIG_FILE": "/nonexistent/c.yaml"]).map(\.code) == [.cfgMissing])
        #expect(issues(["--cluster.node_id=tmnd-Bad"]).map(\.code) == [.cfgRange])
    }

    @Test("spec/08 §5: layers merge first; a bad value replaced by a later layer is no error")
    func mergeFirst() throws {
        let file = "server:\n  http:\n    address: \":5080\"\nsession:\n  ttl:\n    default: banana\n"
        let c = try load(["--session.ttl.default=1h"], env: ["TOKMESH_SERVER_HTTP_ADDRESS": "127.0.0.1:6000"], file: file)
        #expect(c.value("server.http.address") == .string("127.0.0.1:6000") && c.value("session.ttl.default") == .duration(3_600_000))
        // A bad env value replaced by a good flag, and a bad value nobody replaced.
        #expect(issues(["--session.ttl.default=1h"], env: ["TOKMESH_SESSION_TTL_DEFAULT": "x"]) == [])
        #expect(issues(file: file).map(\.key) == ["server.http.address", "session.ttl.default"])
    }

    @Test("spec/08 §10 items 3-4: listeners sharing a port with overlapping hosts are TM-CFG-1005; a missing certificate and key are one issue")
    func listenersAndCertificates() {
        let resp = ["--server.redis.enabled", "--server.redis.address=127.0.0.1:5080"]
        #expect(issues(resp).map(\.code) == [.cfgConflict] && issues(resp).first?.key == "server.redis.address")
        #expect(issues(["--server.http.address=0.0.0.0:5080", "--server.redis.enabled", "--server.redis.address=127.0.0.1:5080"]).map(\.code) == [.cfgConflict])
        #expect(issues(["--server.http.address=[::]:5080", "--server.redis.enabled", "--server.redis.address=[::1]:5080"]).map(\.code) == [.cfgConflict])
        #expect(issues(["--server.redis.enabled", "--server.redis.address=127.0.0.2:5080"]) == [])
        #expect(issues(["--server.redis.enabled", "--server.redis.address=127.0.0.1:5081"]) == [])
        let three = issues(file: "server:\n  http:\n    address: 127.0.0.1:99999\n  https:\n    enabled: true\nsession:\n  ttl:\n    default: banana\n")
        #expect(three.map(\.code) == [.cfgRange, .cfgDependency, .cfgFormat])
    }

    @Test("spec/08 §4-5: cluster seeds are host:port lists from YAML or env; seeds need the cluster, expect_nodes > 1 needs seeds")
    func clusterDiscovery() throws {
        let yaml = "cluster:\n  discovery:\n    seeds: [tokmesh-1:5343, \"10.0.0.2:5343\"]\n  bootstrap:\n    expect_nodes: 3\n"
        let certs = ["--cluster.enabled", "--cluster.advertise_address=tokmesh-1:5343", "--cluster.tls.cert_file=a.crt",
                     "--cluster.tls.key_file=a.key", "--cluster.tls.client_ca_file=ca.crt"]
        let c = try load(certs, file: yaml)
        #expect(c.value("cluster.discovery.seeds") == .list(["tokmesh-1:5343", "10.0.0.2:5343"]))
        let env = try load(certs, env: ["TOKMESH_CLUSTER_DISCOVERY_SEEDS": "a:1, b:2"])
        #expect(env.value("cluster.discovery.seeds") == .list(["a:1", "b:2"]))
        #expect(issues(file: yaml).map(\.code) == [.cfgDependency])
        #expect(issues(["--cluster.bootstrap.expect_nodes=3"]).map(\.key) == ["cluster.bootstrap.expect_nodes"])
        #expect(issues(certs + ["--cluster.discovery.seeds=nohostport"]).map(\.code) == [.cfgFormat])
        #expect(issues(certs + ["--cluster.discovery.seeds=a:99999"]).map(\.code) == [.cfgRange])
        #expect(issues(["--cluster.data.replication_factor=8"]).map(\.code) == [.cfgRange])
    }

    @Test("spec/08 §2: env names are unique and unknown flags are usage errors")
    func names() {
        #expect(Set(ConfigKeys.all.map(\.envName)).count == ConfigKeys.all.count)
        #expect(ConfigKeys.byName["server.http.max_body_size"]?.envName == "TOKMESH_SERVER_HTTP_MAX_BODY_SIZE")
        #expect(throws: UsageError.self) { _ = try ConfigLoader(arguments: ["--no.such.key=1"], environment: [:], workingDirectory: "/").parseArguments() }
    }

    @Test("relative paths: file values against the file's directory, flags against the working directory")
    func paths() throws {
        let c = try load(["--storage.data_dir=./d"])
        guard case .string(let p) = c.value("storage.data_dir") else { Issue.record("not a path"); return }
        #expect(p.hasSuffix("/d") && p.hasPrefix("/"))
    }
}

@Suite struct RouterTests {
    @Test("exact and templated routes, 405 with the allowed methods, percent-decoding")
    func matching() {
        let router = Router<Int>([Route("GET", "/sessions", 1), Route("POST", "/sessions", 2), Route("GET", "/sessions/{id}", 3),
                                  Route("POST", "/sessions/{id}/touch", 4)])
        guard case .matched(3, let p, _) = router.match(method: "GET", path: "/sessions/a%2Fb") else { Issue.record("no match"); return }
        #expect(p["id"] == "a/b")
        guard case .methodNotAllowed(let allowed) = router.match(method: "PATCH", path: "/sessions/x") else { Issue.record("expected 405"); return }
        #expect(allowed == ["GET"])
        if case .notFound = router.match(method: "GET", path: "/sessions/") {} else { Issue.record("empty parameter must not match") }
        if case .notFound = router.match(method: "GET", path: "/Sessions") {} else { Issue.record("paths are case-sensitive") }
        #expect(QueryString.parse("a=1+2&b=%2B")!.map { "\($0.0)=\($0.1)" } == ["a=1 2", "b=+"])
    }
}

@Suite struct ConfigurationDocTests {
    @Test("docs/configuration.md is the key table as --config-reference prints it")
    func docMatchesTable() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        #expect(doc.hasSuffix(ConfigKeys.reference()), "regenerate docs/configuration.md with tokmesh-server --config-reference")
    }
}

@Suite struct ByteRangeTests {
    @Test("single ranges, suffixes, open ends, fallbacks to the whole file, and 416")
    func ranges() {
        let tag = "\"abc\""
        func r(_ h: String?, _ ifRange: String? = nil, size: Int = 1000) -> ByteRange { ByteRange.resolve(range: h, ifRange: ifRange, size: size, etag: tag) }
        #expect(r(nil) == .whole)
        #expect(r("bytes=0-99") == .partial(first: 0, last: 99))
        #expect(r("bytes=100-") == .partial(first: 100, last: 999))
        #expect(r("bytes=900-5000") == .partial(first: 900, last: 999))
        #expect(r("bytes=-10") == .partial(first: 990, last: 999))
        #expect(r("bytes=-5000") == .partial(first: 0, last: 999))
        #expect(r("bytes=1000-") == .unsatisfiable)
        #expect(r("bytes=-0") == .unsatisfiable)
        #expect(r("bytes=0-", size: 0) == .unsatisfiable)
        #expect(r("bytes=0-9,20-29") == .whole)
        #expect(r("bytes=9-1") == .whole)
        #expect(r("items=0-9") == .whole)
        #expect(r("bytes=x-9") == .whole)
        #expect(r("bytes=0-9", "\"other\"") == .whole)
        #expect(r("bytes=0-9", tag) == .partial(first: 0, last: 9))
    }
}

@Suite struct MultipartFormTests {
    @Test("curl-style form with a file and a field; malformed bodies are refused")
    func parse() throws {
        #expect(MultipartForm.boundary(contentType: "multipart/form-data; boundary=------abc") == "------abc")
        #expect(MultipartForm.boundary(contentType: "multipart/form-data; boundary=\"q b\"") == "q b")
        #expect(MultipartForm.boundary(contentType: "application/json") == nil)
        let file: [UInt8] = [0, 1, 2, 13, 10, 45, 45, 255]  // contains CRLF-- but not the boundary
        var body = Array("preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.snap\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
        body += file
        body += Array("\r\n--XyZ\r\nContent-Disposition: form-data; name=\"restore_keys\"\r\n\r\ntrue\r\n--XyZ--\r\n".utf8)
        let parts = try MultipartForm.parse(body, boundary: "XyZ")
        #expect(parts.count == 2)
        #expect(parts[0] == MultipartPart(name: "file", filename: "b.snap", contentType: "application/octet-stream", data: file))
        #expect(parts[1].name == "restore_keys" && parts[1].data == Array("true".utf8))
        #expect(throws: MultipartForm.Malformed.self) { try MultipartForm.parse(Array("no boundary here".utf8), boundary: "XyZ") }
        #expect(throws: MultipartForm.Malformed.self) {
            try MultipartForm.parse(Array("--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nunterminated".utf8), boundary: "XyZ")
        }
        #expect(throws: MultipartForm.Malformed.self) {
            try MultipartForm.parse(Array("--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--".utf8), boundary: "XyZ")
        }
    }
}
