// NodeIdentity: the node ID of spec/07 §1 — `cluster.node_id`, else the persisted
// `<data_dir>/node-id`, else (cluster enabled) the cluster certificate's CN, else `tmnd-` + ULID,
// persisted (0600). A configured ID that differs from the persisted one stops start-up with
// TM-CFG-1005; with the cluster on, an ID that differs from the certificate's CN with TM-CFG-1007.
import Foundation
import TokMeshCore

enum NodeIdentity {
    static func isValid(_ id: String) -> Bool {
        let u = Array(id.utf8)
        guard u.count >= 6, u.count <= 64, id.hasPrefix("tmnd-") else { return false }
        let allowed = u.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") }
        let last = u.last!
        return allowed && last != UInt8(ascii: "-")
    }

    static func resolve(configured: String, dataDirectory: String, now: Int64, certificateName: String? = nil) throws(ConfigFailure) -> String {
        let path = dataDirectory + "/node-id"
        let persisted = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingWhitespace()
        if let persisted, !persisted.isEmpty {
            if !configured.isEmpty && configured.lowercased() != persisted {
                throw ConfigFailure(issues: [ConfigIssue(code: .cfgConflict, key: "cluster.node_id",
                                                         message: "\(configured) differs from the persisted node ID \(persisted)", source: nil)])
            }
            return persisted
        }
        let id: String
        if !configured.isEmpty {
            id = configured.lowercased()
        } else if let certificateName, isValid(certificateName) {
            id = certificateName
        } else {
            guard let ulid = try? ULIDGenerator.shared.next(nowMillis: now) else {
                throw ConfigFailure(issues: [ConfigIssue(code: .cfgPermission, key: "cluster.node_id", message: "CSPRNG failure", source: nil)])
            }
            id = "tmnd-" + ulid
        }
        guard FileManager.default.createFile(atPath: path, contents: Data((id + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigFailure(issues: [ConfigIssue(code: .cfgPermission, key: "storage.data_dir", message: "cannot write \(path)", source: nil)])
        }
        return id
    }
}
