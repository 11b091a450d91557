// CertificateWarnings: the start-up warnings of spec/08 §6 about a listener's certificate and
// key files — expired (TM-CFG-1008) or expiring within 30 days, issued by a development CA
// (its issuer names `INSECURE`, spec/11 §8), or a private key readable by group or others.
// Warnings never stop the node; an unreadable or broken pair is the listener's own error.
import Foundation
import NIOSSL
import TokMeshCore
import X509

enum CertificateWarnings {
    static let expirySoon: TimeInterval = 30 * 86_400

    /// The warnings for one listener's pair; `keyGroup` is the key prefix, e.g. `server.https.tls`.
    static func check(certFile: String, keyFile: String, keyGroup: String, now: Date) -> [ConfigIssue] {
        var out: [ConfigIssue] = []
        let certKey = keyGroup + ".cert_file"
        if let first = (try? NIOSSLCertificate.fromPEMFile(certFile))?.first, let der = try? first.toDERBytes(),
           let certificate = try? Certificate(derEncoded: der) {
            let expiry = certificate.notValidAfter
            let stamp = CivilTime(unixMillis: Int64(expiry.timeIntervalSince1970 * 1000)).rfc3339
            if expiry <= now {
                out.append(ConfigIssue(code: .cfgExpired, key: certKey, message: "\(certFile) expired at \(stamp)", source: nil))
            } else if expiry.timeIntervalSince(now) < expirySoon {
                out.append(ConfigIssue(code: .cfgExpired, key: certKey, message: "\(certFile) expires at \(stamp), within 30 days", source: nil))
            }
            let issuer = String(describing: certificate.issuer)
            if issuer.contains("INSECURE") {
                out.append(ConfigIssue(code: .cfgCertificate, key: certKey,
                                       message: "\(certFile) is issued by a development CA (\(issuer)); use a production CA outside development", source: nil))
            }
        }
        if let mode = mode(keyFile), mode & 0o077 != 0 {
            out.append(ConfigIssue(code: .cfgPermission, key: keyGroup + ".key_file",
                                   message: "\(keyFile) is readable by group or others (mode \(String(mode & 0o777, radix: 8))); chmod 600 it", source: nil))
        }
        return out
    }

    /// The permission bits of a file, nil when it cannot be read.
    static func mode(_ path: String) -> UInt16? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber).map { UInt16(truncating: $0) }
    }
}
