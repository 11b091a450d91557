// StorageKey: the 32-byte master key of encryption at rest (spec/02 §8) — from
// `security.storage.encryption_key` (64 hex characters) or from `<data_dir>/encryption.key`,
// generated once (mode 0600) when neither exists. A key file readable by group or others is
// refused (TM-CFG-1004); a malformed one is TM-CFG-1007. The key is never logged.
import Foundation
import TokMeshCore

enum StorageKey {
    static func parseHex(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count == 64 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        var i = 0
        while i < 64 {
            guard let hi = hexValue(chars[i]), let lo = hexValue(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }

    static func load(configuredHex: String, dataDirectory: String) throws(ConfigFailure) -> [UInt8] {
        func fail(_ code: ErrorCode, _ message: String) -> ConfigFailure {
            ConfigFailure(issues: [ConfigIssue(code: code, key: "security.storage.encryption_key", message: message, source: nil)])
        }
        if !configuredHex.isEmpty {
            guard let key = parseHex(configuredHex) else { throw fail(.cfgFormat, "must be 64 hexadecimal characters") }
            return key
        }
        let path = dataDirectory + "/encryption.key"
        var st = stat()
        if stat(path, &st) == 0 {
            guard st.st_mode & 0o077 == 0 else { throw fail(.cfgPermission, "\(path) is readable by group or others; chmod 600 it") }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8), let key = parseHex(text.trimmingWhitespace()) else {
                throw fail(.cfgCertificate, "\(path) is not 64 hexadecimal characters")
            }
            return key
        }
        guard let key = try? SecureRandom.bytes(32) else { throw fail(.cfgPermission, "CSPRNG failure") }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw fail(.cfgPermission, "cannot create \(path)") }
        defer { close(fd) }
        let line = Array((Identifiers.hex(key) + "\n").utf8)
        guard line.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == line.count, fsync(fd) == 0 else {
            throw fail(.cfgPermission, "cannot write \(path)")
        }
        return key
    }
}
