// Connection: a resolved target (spec/09 §3) and the calls made to it — alias, `local`,
// `unix:`/`socket:` paths or an http(s) URL; the API key (never on the socket); every request
// with `User-Agent`, `X-Request-ID: cli-<ULID>` and on POSTs `X-Timestamp`/`X-Nonce`; the JSON
// envelope unwrapped into data or a CLIError with the server's code and request ID; anything
// that is not a TokMesh envelope, and every transport failure, is "unavailable" (exit 69).
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import TokMeshCore
import TokMeshHTTP

public struct Connection: Sendable {
    public var label: String
    /// `unix:/path` or `https://host:port`, for messages.
    public var address: String
    var endpoint: HTTP1ClientEndpoint
    var apiKey: String?
    var timeout: TimeAmount
    var verbose: Bool

    public var isSocket: Bool { if case .unix = endpoint { true } else { false } }

    /// Resolves `-t` (or env, cli.yaml `default`, `local`) into an endpoint.
    static func resolve(_ name: String, config: CLIConfig, globals: GlobalOptions, environment: [String: String],
                        needKey: Bool, promptKey: () -> String?) throws(CLIError) -> Connection {
        let timeout = TimeAmount.milliseconds(globals.timeoutMillis(config: config, environment: environment))
        var target: CLITarget
        let label: String
        if let t = config.targets[name] {
            target = t
            label = name
        } else if name == "local" {
            target = CLITarget(socket: CLIConfig.builtInSocket())
            label = "local"
        } else if name.hasPrefix("unix:") || name.hasPrefix("socket:") {
            target = CLITarget(socket: String(name.drop(while: { $0 != ":" }).dropFirst()))
            label = "local"
        } else if name.hasPrefix("http://") || name.hasPrefix("https://") {
            target = CLITarget(url: name)
            label = ""
        } else {
            throw CLIError.usage("unknown target: \(name)")
        }
        if let socket = target.socket {
            return Connection(label: label, address: "unix:" + socket, endpoint: .unix(path: socket), apiKey: nil, timeout: timeout, verbose: globals.verbose)
        }
        guard let url = target.url, let parts = URLComponents(string: url), let host = parts.host, !host.isEmpty,
              parts.path.isEmpty || parts.path == "/", parts.query == nil else {
            throw CLIError.usage("unknown target: \(name)")
        }
        let tls = parts.scheme == "https"
        let port = parts.port ?? (tls ? 443 : 80)
        var context: NIOSSLContext?
        if tls {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            configuration.applicationProtocols = ["http/1.1"]
            let ca = globals.tlsCA ?? environment["TOKMESH_TLS_CA"] ?? target.caFile
            let cert = globals.tlsCert ?? environment["TOKMESH_TLS_CERT"] ?? target.certFile
            let key = globals.tlsKey ?? environment["TOKMESH_TLS_KEY"] ?? target.keyFile
            if let ca { configuration.additionalTrustRoots = [.file(ca)] }
            if (cert == nil) != (key == nil) { throw CLIError.usage("--tls-cert and --tls-key go together") }
            if let cert, let key {
                do {
                    configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
                    configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
                } catch {
                    throw CLIError(.usage, "cannot read the client certificate or key", code: "TM-CLI-1005")
                }
            }
            do { context = try NIOSSLContext(configuration: configuration) } catch {
                throw CLIError.unavailable("cannot set up TLS with the given CA or certificate", code: "TM-CLI-1003")
            }
        }
        var key: String?
        if needKey {
            key = globals.apiKey ?? environment["TOKMESH_API_KEY"].flatMap { $0.isEmpty ? nil : $0 } ?? target.apiKey ?? promptKey()
            guard key != nil else { throw CLIError.usage("API key required for HTTP(S) target") }
        }
        return Connection(label: label.isEmpty ? "\(host):\(port)" : label, address: "\(tls ? "https" : "http")://\(host):\(port)",
                          endpoint: .tcp(host: host, port: port, tls: context, serverName: tls ? host : nil), apiKey: key, timeout: timeout,
                          verbose: globals.verbose)
    }

    /// One API call; the server's `data` on success.
    func call(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: JSONObject? = nil,
              timeout override: TimeAmount? = nil) async throws(CLIError) -> JSONValue {
        let (_, data) = try await exchange(method, path, query: query, body: body.map { JSONWriter.write(.object($0)) },
                                           contentType: body == nil ? nil : "application/json", timeout: override)
        return data
    }

    /// One exchange; the decoded envelope's data (success) or the CLIError (failure).
    func exchange(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8]?, contentType: String?,
                  extraHeaders: [(String, String)] = [], timeout override: TimeAmount? = nil,
                  sink: (@Sendable ([UInt8]) -> Void)? = nil) async throws(CLIError) -> (HTTP1ClientResponse, JSONValue) {
        var target = path
        if !query.isEmpty {
            target += "?" + query.map { Self.escape($0.0) + "=" + Self.escape($0.1) }.joined(separator: "&")
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let requestID = "cli-" + ((try? ULIDGenerator.shared.next(nowMillis: now)) ?? "0")
        var headers: [(String, String)] = [("User-Agent", "tokmesh-cli/\(CLIVersion.version)"), ("X-Request-ID", requestID), ("Accept", "application/json")]
        if let apiKey, !isSocket { headers.append(("Authorization", "Bearer " + apiKey)) }
        if let contentType { headers.append(("Content-Type", contentType)) }
        if method == .POST {
            var nonce = [UInt8](repeating: 0, count: 16)
            var g = SystemRandomNumberGenerator()
            for i in nonce.indices { nonce[i] = UInt8.random(in: 0...255, using: &g) }
            headers.append(("X-Timestamp", String(now)))
            headers.append(("X-Nonce", Identifiers.base64URL(nonce)))
        }
        headers += extraHeaders
        if verbose {
            let shown = apiKey.map { "Bearer " + ($0.split(separator: ":").first.map(String.init) ?? "") + ":***" }
            FileHandle.standardError.write(Data("> \(method.rawValue) \(address)\(target)\(shown.map { " (Authorization: \($0))" } ?? "") [\(requestID)]\n".utf8))
        }
        let started = Date()
        let response: HTTP1ClientResponse
        do {
            response = try await HTTP1Client.send(endpoint, method: method, path: target, headers: headers, body: body, timeout: override ?? timeout,
                                                 sink: sink)
        } catch {
            var e: CLIError
            switch error {
            case .tls(let m): e = CLIError.unavailable("TLS handshake with \(address) failed: \(m)", code: "TM-CLI-1003")
            case .timeout: e = CLIError.unavailable("no answer from \(address) within the timeout", code: "TM-CLI-1006")
            case .connect(let m): e = CLIError.unavailable("cannot reach \(address): \(m)")
            case .closed: e = CLIError.unavailable("\(address) closed the connection without an answer")
            }
            e.target = describe
            throw e
        }
        if verbose {
            let ms = Int(Date().timeIntervalSince(started) * 1000)
            FileHandle.standardError.write(Data("< \(response.status) in \(ms) ms [\(response.header("X-Request-ID") ?? "-")]\n".utf8))
        }
        if sink != nil, (200..<300).contains(response.status) { return (response, .null) }
        if method == .HEAD { return (response, .null) }
        guard let parsed = try? JSONParser.parse(response.body), case .object(let envelope) = parsed, envelope["request_id"] != nil else {
            if (200..<300).contains(response.status), response.header("Content-Type")?.hasPrefix("text/plain") == true {
                return (response, .string(String(decoding: response.body, as: UTF8.self)))
            }
            var e = CLIError.unavailable("unexpected response from \(label) (HTTP \(response.status))")
            e.target = describe
            throw e
        }
        if let code = envelope["code"]?.stringValue, !(200..<300).contains(response.status) {
            var e = CLIError(.server, envelope["message"]?.stringValue ?? code, code: code, details: envelope["details"]?.objectValue ?? JSONObject(),
                             requestID: envelope["request_id"]?.stringValue)
            e.target = describe
            throw e
        }
        return (response, envelope["data"] ?? .null)
    }

    var describe: String { label == address ? address : "\(label) (\(address))" }

    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }
}
