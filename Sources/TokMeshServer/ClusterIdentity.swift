// ClusterIdentity: the cluster ID a node holds (spec/07 §1) — `<data_dir>/cluster-id`, a
// lowercase UUID written by the bootstrap of the cluster work; "" while the node has none (a
// fresh node, which accepts any caller's cluster ID). A file that is not a UUID stops start-up
// with TM-CFG-1001 naming it.
import Foundation
import TokMeshCore

enum ClusterIdentity {
    static func load(dataDirectory: String) throws(ConfigFailure) -> String {
        let path = dataDirectory + "/cluster-id"
        guard let raw = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
        let id = raw.trimmingWhitespace()
        guard isUUID(id) else {
            throw ConfigFailure(issues: [ConfigIssue(code: .cfgFormat, key: "storage.data_dir", message: "\(path) does not hold a lowercase UUID",
                                                     source: nil)])
        }
        return id
    }

    static func isUUID(_ id: String) -> Bool {
        let u = Array(id.utf8)
        guard u.count == 36 else { return false }
        for (i, c) in u.enumerated() {
            if [8, 13, 18, 23].contains(i) {
                guard c == UInt8(ascii: "-") else { return false }
            } else {
                guard (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) else { return false }
            }
        }
        return true
    }
}
