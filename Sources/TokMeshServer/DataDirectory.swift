// DataDirectory: opens `storage.data_dir` for a running node (spec/02 §1): creates it (0750),
// probes that it is writable, and takes the exclusive `LOCK` (flock) that keeps a second server
// off the same directory (TM-CFG-1005). The lock is released when the process exits.
import Foundation
import TokMeshCore

final class DataDirectory: Sendable {
    let path: String
    private let lockDescriptor: Int32

    private init(path: String, lockDescriptor: Int32) {
        self.path = path
        self.lockDescriptor = lockDescriptor
    }

    static func open(_ path: String) throws(ConfigFailure) -> DataDirectory {
        func fail(_ code: ErrorCode, _ message: String) -> ConfigFailure {
            ConfigFailure(issues: [ConfigIssue(code: code, key: "storage.data_dir", message: message, source: nil)])
        }
        let fm = FileManager.default
        if !fm.fileExists(atPath: path) {
            do {
                try fm.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
            } catch {
                throw fail(.cfgMissing, "\(path) does not exist and cannot be created")
            }
        }
        let probe = path + "/.write_test"
        guard fm.createFile(atPath: probe, contents: Data()) else { throw fail(.cfgPermission, "\(path) is not writable") }
        try? fm.removeItem(atPath: probe)
        let fd = Foundation.open(path + "/LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw fail(.cfgPermission, "cannot open \(path)/LOCK") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw fail(.cfgConflict, "\(path)/LOCK is held by another server")
        }
        return DataDirectory(path: path, lockDescriptor: fd)
    }

    func release() {
        flock(lockDescriptor, LOCK_UN)
        close(lockDescriptor)
    }
}
