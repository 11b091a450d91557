// CertCommands: `tokmesh-cli cert init|issue` (spec/09 §8.8, local) with swift-certificates —
// a self-signed ECDSA P-256 cluster CA (CA:true, pathlen 0, keyCertSign+cRLSign) and
// certificates it signs: node (CN = node ID, serverAuth + clientAuth), server (serverAuth) or
// client (clientAuth), with DNS/IP SANs, a 16-byte random serial and not-before 5 minutes
// back. Keys are written 0600 (a new directory 0700); existing files need --force.
import ArgumentParser
import Crypto
import Foundation
import SwiftASN1
import TokMeshCore
import X509

struct CertCommand: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "cert", abstract: "Local certificates: init (a cluster CA), issue (node, server or client).",
                                                    subcommands: [CertInit.self, CertIssue.self])

    static func serial() -> Certificate.SerialNumber {
        var g = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }
        bytes[0] &= 0x7F  // a positive INTEGER
        if bytes[0] == 0 { bytes[0] = 1 }
        return Certificate.SerialNumber(bytes: bytes)
    }

    static func pem(_ certificate: Certificate) throws -> String {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return PEMDocument(type: "CERTIFICATE", derBytes: serializer.serializedBytes).pemString + "\n"
    }

    static func write(_ text: String, to path: String, mode: Int, force: Bool) throws(CLIError) {
        if FileManager.default.fileExists(atPath: path) && !force { throw CLIError.usage("\(path) exists; use --force to replace it") }
        try? FileManager.default.removeItem(atPath: path)
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw CLIError(.data, "cannot write \(path)", code: "TM-CLI-1007")
        }
    }

    static func prepare(_ dir: String) throws(CLIError) {
        guard !FileManager.default.fileExists(atPath: dir) else { return }
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) } catch {
            throw CLIError(.data, "cannot create \(dir)", code: "TM-CLI-1007")
        }
    }
}

struct CertInit: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create a self-signed cluster CA (ca.crt, ca.key).")
    @Option(name: .customLong("dir")) var dir: String = "certs"
    @Option(name: .customLong("name")) var name: String = "TokMesh Cluster CA"
    @Option(name: .customLong("days")) var days: Int = 3650
    @Flag(name: .customLong("force")) var force = false
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            try CertCommand.prepare(dir)
            for f in ["ca.crt", "ca.key"] where FileManager.default.fileExists(atPath: "\(dir)/\(f)") && !force {
                throw CLIError.usage("\(dir)/\(f) exists; use --force to replace it")
            }
            let key = P256.Signing.PrivateKey()
            let now = Date()
            let certificate: Certificate
            do {
                let subject = try DistinguishedName { CommonName(name) }
                let publicKey = Certificate.PublicKey(key.publicKey)
                certificate = try Certificate(
                    version: .v3, serialNumber: CertCommand.serial(), publicKey: publicKey, notValidBefore: now - 300,
                    notValidAfter: now + Double(days) * 86_400, issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
                    extensions: try Certificate.Extensions {
                        Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                        Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                        SubjectKeyIdentifier(hash: publicKey)
                    },
                    issuerPrivateKey: Certificate.PrivateKey(key))
                try CertCommand.write(CertCommand.pem(certificate), to: "\(dir)/ca.crt", mode: 0o644, force: force)
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError(.data, "cannot build the CA certificate: \(error)", code: "TM-CLI-1007")
            }
            try CertCommand.write(key.pemRepresentation + "\n", to: "\(dir)/ca.key", mode: 0o600, force: force)
            ctx.output.out(ctx.output.paint("[LOCAL]", "90") + " Created \(dir)/ca.crt and \(dir)/ca.key")
            ctx.output.details(nil, [("Subject", "CN=\(name)"), ("Expires", Output.detailTime(Int64((now.timeIntervalSince1970 + Double(days) * 86_400) * 1000)))])
        }
    }
}

struct CertIssue: CLIRunnable {
    static let configuration = CommandConfiguration(commandName: "issue", abstract: "Issue a node, server or client certificate signed by the CA.")
    @Option(name: .customLong("dir")) var dir: String = "certs"
    @Option(name: .customLong("node-id")) var nodeID: String?
    @Option(name: .customLong("server")) var server: String?
    @Option(name: .customLong("client")) var client: String?
    @Option(name: .customLong("host")) var hosts: [String] = []
    @Option(name: .customLong("ip")) var ips: [String] = []
    @Option(name: .customLong("days")) var days: Int = 825
    @Option(name: .customLong("ca-cert")) var caCert: String?
    @Option(name: .customLong("ca-key")) var caKey: String?
    @Flag(name: .customLong("force")) var force = false
    @OptionGroup var globals: GlobalOptions

    func execute() async throws {
        try await runCommand(globals) { (ctx: Context) async throws(CLIError) in
            let kinds = [nodeID.map { ("node", $0) }, server.map { ("server", $0) }, client.map { ("client", $0) }].compactMap { $0 }
            guard kinds.count == 1, let (kind, cn) = kinds.first else { throw CLIError.usage("give exactly one of --node-id, --server and --client") }
            if kind == "node" && (!cn.hasPrefix("tmnd-") || cn.range(of: "^tmnd-[a-z0-9-]{1,59}[a-z0-9]$", options: .regularExpression) == nil) {
                throw CLIError.usage("--node-id must be a node ID (tmnd-…)")
            }
            if kind != "client" && hosts.isEmpty && ips.isEmpty { throw CLIError.usage("a \(kind) certificate needs at least one --host or --ip") }
            var names: [GeneralName] = hosts.map { .dnsName($0) }
            for ip in ips {
                guard let parsed = IPAddress(ip) else { throw CLIError.usage("not an IP address: \(ip)") }
                names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(parsed.bytes))))
            }
            let crtPath = "\(dir)/\(cn).crt", keyPath = "\(dir)/\(cn).key"
            for p in [crtPath, keyPath] where FileManager.default.fileExists(atPath: p) && !force { throw CLIError.usage("\(p) exists; use --force to replace it") }
            let caCertPath = caCert ?? "\(dir)/ca.crt", caKeyPath = caKey ?? "\(dir)/ca.key"
            let ca: Certificate, caPrivate: P256.Signing.PrivateKey
            do {
                ca = try Certificate(pemEncoded: String(contentsOfFile: caCertPath, encoding: .utf8))
                caPrivate = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: caKeyPath, encoding: .utf8))
            } catch {
                throw CLIError(.data, "cannot read the CA (\(caCertPath), \(caKeyPath)); run 'tokmesh-cli cert init' first", code: "TM-CLI-1007")
            }
            let key = P256.Signing.PrivateKey()
            let now = Date()
            let usages: [ExtendedKeyUsage.Usage] = kind == "node" ? [.serverAuth, .clientAuth] : kind == "server" ? [.serverAuth] : [.clientAuth]
            let certificate: Certificate
            do {
                let publicKey = Certificate.PublicKey(key.publicKey)
                let caKeyID = try? ca.extensions.subjectKeyIdentifier?.keyIdentifier
                certificate = try Certificate(
                    version: .v3, serialNumber: CertCommand.serial(), publicKey: publicKey, notValidBefore: now - 300,
                    notValidAfter: min(now + Double(days) * 86_400, ca.notValidAfter), issuer: ca.subject,
                    subject: try DistinguishedName { CommonName(cn) }, signatureAlgorithm: .ecdsaWithSHA256,
                    extensions: try Certificate.Extensions {
                        Critical(BasicConstraints.notCertificateAuthority)
                        Critical(KeyUsage(digitalSignature: true, keyAgreement: true))
                        try ExtendedKeyUsage(usages)
                        SubjectKeyIdentifier(hash: publicKey)
                        AuthorityKeyIdentifier(keyIdentifier: caKeyID ?? nil)
                        if !names.isEmpty { SubjectAlternativeNames(names) }
                    },
                    issuerPrivateKey: Certificate.PrivateKey(caPrivate))
                try CertCommand.write(CertCommand.pem(certificate), to: crtPath, mode: 0o644, force: force)
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError(.data, "cannot build the certificate: \(error)", code: "TM-CLI-1007")
            }
            try CertCommand.write(key.pemRepresentation + "\n", to: keyPath, mode: 0o600, force: force)
            ctx.output.out(ctx.output.paint("[LOCAL]", "90") + " Issued \(crtPath)")
            ctx.output.details(nil, [("Subject", "CN=\(cn)"), ("SANs", (hosts.map { "DNS:\($0)" } + ips.map { "IP:\($0)" }).joined(separator: ", ").ifEmpty("-")),
                                     ("Usage", usages.map { $0 == .serverAuth ? "serverAuth" : "clientAuth" }.joined(separator: ", ")),
                                     ("Expires", Output.detailTime(Int64(certificate.notValidAfter.timeIntervalSince1970 * 1000)))])
        }
    }
}

extension String {
    func ifEmpty(_ replacement: String) -> String { isEmpty ? replacement : self }
}
