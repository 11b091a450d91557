// SealedFile: one opaque payload in a file written by the snapshot file rules (spec/02: temp
// file, fsync, rename, directory fsync, SHA-256 trailer) and encrypted at rest like the log
// segments — for the Raft snapshots, whose state the log engine does not interpret. Layout
// (little-endian): magic (8, the caller's), version (2), cipher id (1), salt (32), key
// fingerprint (16), payload length (8), then the payload in chunks of at most 4 MiB, each a
// stored length (4) and the chunk sealed under HKDF(master key, salt) with the chunk number as
// its index, and a SHA-256 of everything before it (32).
import Crypto
import Foundation
import TokMeshCore

public enum SealedFile {
    static let version: UInt16 = 1
    static let chunkBytes = 4 << 20

    public enum ReadError: Error, Sendable, Equatable, CustomStringConvertible {
        case missing(String)
        case damaged(String, reason: String)
        case wrongKey(String)

        public var description: String {
            switch self {
            case .missing(let path): "\(path) is missing"
            case .damaged(let path, let reason): "\(path) is damaged: \(reason)"
            case .wrongKey(let path): "\(path) is encrypted under another key"
            }
        }
    }

    /// Writes `payload` to `<directory>/<name>` durably, sealed under `masterKey` (nil:
    /// plaintext). `kind` goes into every chunk's associated data.
    public static func write(directory: String, name: String, magic: [UInt8], kind: LogKind, payload: [UInt8], masterKey: [UInt8]?) throws {
        precondition(magic.count == 8, "an 8-byte magic")
        let cipherID: CipherID = masterKey == nil ? .none : .preferred()
        let salt = try SecureRandom.bytes(SegmentHeader.saltBytes)
        let cipher = masterKey.map { LogCipher(id: cipherID, masterKey: $0, salt: salt) } ?? .plaintext
        var out = magic
        out.appendLE(version)
        out.append(cipherID.rawValue)
        out += salt
        out += masterKey.map { LogCipher.fingerprint(masterKey: $0) } ?? [UInt8](repeating: 0, count: SegmentHeader.fingerprintBytes)
        out.appendLE(UInt64(payload.count))
        var offset = 0, number: UInt64 = 0
        while offset < payload.count {
            let end = min(payload.count, offset + chunkBytes)
            let stored = try cipher.seal(Array(payload[offset..<end]), kind: kind, type: 0, index: number)
            out.appendLE(UInt32(stored.count))
            out += stored
            offset = end
            number += 1
        }
        out += Array(SHA256.hash(data: out))
        try SnapshotFile.writeDurably(directory: directory, name: name) { (put: ([UInt8]) throws(SnapshotError) -> Void) throws(SnapshotError) in try put(out) }
    }

    /// The payload of a file `write` produced, after its checksum, magic and tags are checked.
    public static func read(path: String, magic: [UInt8], kind: LogKind, masterKey: [UInt8]?) throws(ReadError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw .missing(path) }
        let bytes = [UInt8](data)
        let fixed = 8 + 2 + 1 + SegmentHeader.saltBytes + SegmentHeader.fingerprintBytes + 8
        guard bytes.count >= fixed + 32 else { throw .damaged(path, reason: "too short") }
        guard Array(SHA256.hash(data: bytes[..<(bytes.count - 32)])) == Array(bytes.suffix(32)) else {
            throw .damaged(path, reason: "SHA-256 mismatch")
        }
        var r = ByteReader(bytes[..<(bytes.count - 32)])
        guard r.readBytes(8).map(Array.init) == magic, r.read(UInt16.self) == version,
              let cipherID = r.read(UInt8.self).flatMap(CipherID.init(rawValue:)),
              let salt = r.readBytes(SegmentHeader.saltBytes).map(Array.init),
              let fingerprint = r.readBytes(SegmentHeader.fingerprintBytes).map(Array.init),
              let length = r.read(UInt64.self) else { throw .damaged(path, reason: "bad header") }
        let cipher: LogCipher
        if cipherID == .none {
            cipher = .plaintext
        } else {
            guard let masterKey, LogCipher.fingerprint(masterKey: masterKey) == fingerprint else { throw .wrongKey(path) }
            cipher = LogCipher(id: cipherID, masterKey: masterKey, salt: salt)
        }
        var payload: [UInt8] = []
        var number: UInt64 = 0
        while r.remaining > 0 {
            guard let size = r.read(UInt32.self), let stored = r.readBytes(Int(size)),
                  let chunk = try? cipher.open(stored, kind: kind, type: 0, index: number) else {
                throw .damaged(path, reason: "chunk \(number) unreadable")
            }
            payload += chunk
            number += 1
        }
        guard UInt64(payload.count) == length else { throw .damaged(path, reason: "length \(payload.count), expected \(length)") }
        return payload
    }
}
