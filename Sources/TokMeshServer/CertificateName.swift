// CertificateName: the subject common name of an X.509 certificate (swift-certificates), used
// for node identity on the cluster port (spec/06 §8, spec/07 §1): a node's certificate CN is
// its node ID, and a peer's verified client certificate CN must equal the `tokmesh-node-id` it
// sends.
import NIOSSL
import X509

enum CertificateName {
    static func commonName(_ certificate: NIOSSLCertificate) -> String? {
        guard let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der) else { return nil }
        for rdn in parsed.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                return String(describing: attribute.value)
            }
        }
        return nil
    }

    /// The CN of the first certificate in a PEM file; nil when unreadable or without a CN.
    static func commonName(pemFile path: String) -> String? {
        guard let first = (try? NIOSSLCertificate.fromPEMFile(path))?.first else { return nil }
        return commonName(first)
    }
}
