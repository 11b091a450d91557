// LogCipher: payload encryption of log frames (spec/02 §3.2). A per-segment key is
// HKDF-SHA256(master key, segment salt, "tokmesh/log/v1"); a payload is stored as 12-byte random
// nonce ‖ ciphertext ‖ 16-byte tag, authenticated with log kind ‖ type ‖ index so a frame cannot
// be moved or retyped unnoticed. Cipher ids: 0 none, 1 AES-256-GCM, 2 ChaCha20-Poly1305.
import Crypto
import Foundation

public enum LogKind: UInt8, Sendable {
    case wal = 1
    case raft = 2
}

public enum CipherID: UInt8, Sendable {
    case none = 0
    case aes256GCM = 1
    case chaCha20Poly1305 = 2

    /// AES-256-GCM where the CPU accelerates it (x86-64 AES-NI + PCLMULQDQ, ARMv8 AES + PMULL),
    /// else ChaCha20-Poly1305.
    public static func preferred(cpuFlags: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> CipherID {
        guard let cpuFlags else { return .chaCha20Poly1305 }
        let words = Set(cpuFlags.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init))
        let x86 = words.contains("aes") && words.contains("pclmulqdq")
        let arm = words.contains("aes") && words.contains("pmull")
        return x86 || arm ? .aes256GCM : .chaCha20Poly1305
    }

    public var name: String {
        switch self {
        case .none: "none"
        case .aes256GCM: "aes-256-gcm"
        case .chaCha20Poly1305: "chacha20-poly1305"
        }
    }
}

public enum LogCipherError: Error, Sendable, Equatable {
    /// The tag did not verify: wrong key, or the frame was altered.
    case authenticationFailed
    case malformed
}

/// The cipher of one segment: its id and the key derived for it.
public struct LogCipher: Sendable {
    public static let nonceBytes = 12
    public static let tagBytes = 16
    public static let overheadBytes = nonceBytes + tagBytes

    public let id: CipherID
    /// The derived segment key's bytes (SymmetricKey is not Sendable; one is made per call).
    private let keyBytes: [UInt8]?

    public static let plaintext = LogCipher(id: .none, key: nil)

    private init(id: CipherID, key: [UInt8]?) {
        self.id = id
        self.keyBytes = key
    }

    /// The key of a segment: HKDF-SHA256(master, salt, "tokmesh/log/v1").
    public init(id: CipherID, masterKey: [UInt8], salt: [UInt8]) {
        precondition(id == .none || masterKey.count == 32, "the storage master key is 32 bytes")
        self.id = id
        self.keyBytes = id == .none ? nil : HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: masterKey), salt: salt,
                                                                   info: Array("tokmesh/log/v1".utf8), outputByteCount: 32)
            .withUnsafeBytes { Array($0) }
    }

    /// First 16 bytes of SHA-256 of the master key: names the key without revealing it.
    public static func fingerprint(masterKey: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: masterKey).prefix(16))
    }

    static func associatedData(kind: LogKind, type: UInt8, index: UInt64) -> [UInt8] {
        var aad: [UInt8] = [kind.rawValue, type]
        aad.appendLE(index)
        return aad
    }

    public func seal(_ payload: [UInt8], kind: LogKind, type: UInt8, index: UInt64) throws -> [UInt8] {
        guard let keyBytes else { return payload }
        return try LogCipher.seal(payload, cipher: id, key: SymmetricKey(data: keyBytes),
                                  associatedData: LogCipher.associatedData(kind: kind, type: type, index: index))
    }

    /// nonce ‖ ciphertext ‖ tag of `plain` under `key` (shared with snapshot chunks).
    static func seal(_ plain: [UInt8], cipher: CipherID, key: SymmetricKey, associatedData aad: [UInt8]) throws -> [UInt8] {
        switch cipher {
        case .none:
            return plain
        case .aes256GCM:
            let box = try AES.GCM.seal(plain, using: key, nonce: AES.GCM.Nonce(), authenticating: aad)
            return Array(box.nonce) + Array(box.ciphertext) + Array(box.tag)
        case .chaCha20Poly1305:
            let box = try ChaChaPoly.seal(plain, using: key, nonce: ChaChaPoly.Nonce(), authenticating: aad)
            return Array(box.nonce) + Array(box.ciphertext) + Array(box.tag)
        }
    }

    /// Opens what `seal` produced; throws on a bad tag or shape.
    static func open(_ stored: ArraySlice<UInt8>, cipher: CipherID, key: SymmetricKey, associatedData aad: [UInt8]) throws(LogCipherError) -> [UInt8] {
        if cipher == .none { return Array(stored) }
        guard stored.count >= overheadBytes else { throw .malformed }
        let nonce = stored.prefix(nonceBytes)
        let ciphertext = stored.dropFirst(nonceBytes).dropLast(tagBytes)
        let tag = stored.suffix(tagBytes)
        do {
            switch cipher {
            case .none:
                return Array(stored)
            case .aes256GCM:
                let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: nonce), ciphertext: ciphertext, tag: tag)
                return Array(try AES.GCM.open(box, using: key, authenticating: aad))
            case .chaCha20Poly1305:
                let box = try ChaChaPoly.SealedBox(nonce: ChaChaPoly.Nonce(data: nonce), ciphertext: ciphertext, tag: tag)
                return Array(try ChaChaPoly.open(box, using: key, authenticating: aad))
            }
        } catch {
            throw .authenticationFailed
        }
    }

    /// Opens `stored` (nonce ‖ ciphertext ‖ tag) straight from memory and copies the plaintext to
    /// `out`, which may overlap `stored` (snapshot chunks are decrypted in place); returns the
    /// plaintext's length. No intermediate arrays: a snapshot of 250 MB goes through here.
    static func open(_ stored: UnsafeRawBufferPointer, cipher: CipherID, key: SymmetricKey, associatedData aad: [UInt8],
                     into out: UnsafeMutableRawPointer) throws(LogCipherError) -> Int {
        guard cipher != .none else {
            out.copyMemory(from: stored.baseAddress!, byteCount: stored.count)
            return stored.count
        }
        guard stored.count >= overheadBytes else { throw .malformed }
        let nonce = UnsafeRawBufferPointer(rebasing: stored[..<nonceBytes])
        let ciphertext = UnsafeRawBufferPointer(rebasing: stored[nonceBytes..<(stored.count - tagBytes)])
        let tag = UnsafeRawBufferPointer(rebasing: stored[(stored.count - tagBytes)...])
        let plain: Data
        do {
            switch cipher {
            case .none:
                preconditionFailure("handled above")
            case .aes256GCM:
                plain = try AES.GCM.open(AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: nonce), ciphertext: ciphertext, tag: tag),
                                         using: key, authenticating: aad)
            case .chaCha20Poly1305:
                plain = try ChaChaPoly.open(ChaChaPoly.SealedBox(nonce: ChaChaPoly.Nonce(data: nonce), ciphertext: ciphertext, tag: tag),
                                            using: key, authenticating: aad)
            }
        } catch {
            throw .authenticationFailed
        }
        plain.withUnsafeBytes { out.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return plain.count
    }

    public func open(_ stored: ArraySlice<UInt8>, kind: LogKind, type: UInt8, index: UInt64) throws(LogCipherError) -> [UInt8] {
        guard let keyBytes else { return Array(stored) }
        return try LogCipher.open(stored, cipher: id, key: SymmetricKey(data: keyBytes),
                                  associatedData: LogCipher.associatedData(kind: kind, type: type, index: index))
    }

    /// Opens the frames of one segment with one key object (recovery opens every frame of the
    /// WAL): each payload straight from the segment's memory into a fresh array.
    struct Opener {
        let id: CipherID
        let key: SymmetricKey?

        func open(_ stored: UnsafeRawBufferPointer, kind: LogKind, type: UInt8, index: UInt64) throws(LogCipherError) -> [UInt8] {
            guard let key else { return Array(stored) }
            guard stored.count >= LogCipher.overheadBytes else { throw .malformed }
            var failure: LogCipherError?
            let plain = [UInt8](unsafeUninitializedCapacity: stored.count - LogCipher.overheadBytes) { buffer, initialized in
                do throws(LogCipherError) {
                    initialized = try LogCipher.open(stored, cipher: id, key: key,
                                                     associatedData: LogCipher.associatedData(kind: kind, type: type, index: index),
                                                     into: UnsafeMutableRawPointer(buffer.baseAddress!))
                } catch {
                    failure = error
                    initialized = 0
                }
            }
            if let failure { throw failure }
            return plain
        }
    }

    var opener: Opener { Opener(id: id, key: keyBytes.map { SymmetricKey(data: $0) }) }
}
