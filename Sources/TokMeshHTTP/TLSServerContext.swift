// TLSServerContext: the TLS side of a listener (spec/06 §8) — a certificate chain and key from
// PEM files, TLS 1.2 or newer, the ALPN protocols the port offers, and, with a client CA bundle,
// a required client certificate that must chain to it. Errors name the file and never contain
// key material.
import NIOCore
import NIOSSL

public enum TLSServerContext {
    public struct LoadError: Error, CustomStringConvertible {
        public var file: String
        public var reason: String
        public var description: String { "\(file): \(reason)" }
        public init(file: String, reason: String) {
            self.file = file
            self.reason = reason
        }
    }

    public static func make(certFile: String, keyFile: String, clientCAFile: String?, alpn: [String]) throws(LoadError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certFile)
        } catch {
            throw LoadError(file: certFile, reason: "not a readable PEM certificate chain")
        }
        guard !chain.isEmpty else { throw LoadError(file: certFile, reason: "no certificate in the file") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw LoadError(file: keyFile, reason: "not a readable PEM private key")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                     privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = alpn
        if let clientCAFile, !clientCAFile.isEmpty {
            configuration.trustRoots = .file(clientCAFile)
            configuration.certificateVerification = .noHostnameVerification
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw LoadError(file: certFile, reason: "the certificate, key or CA bundle was refused (\(error))")
        }
    }
}
