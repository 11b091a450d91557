// SegmentHeader: the fixed 80-byte header at the start of every log segment (spec/02 §3.1,
// docs/formats.md): magic, format version, log kind, cipher id, segment number, first record
// index, key fingerprint, random salt, CRC32C of the preceding bytes.

public struct SegmentHeader: Sendable, Equatable {
    public static let magic: [UInt8] = Array("TMLOGSEG".utf8)
    public static let formatVersion: UInt16 = 1
    public static let byteCount = 80
    public static let fingerprintBytes = 16
    public static let saltBytes = 32

    public var kind: LogKind
    public var cipher: CipherID
    public var segmentNumber: UInt64
    public var firstIndex: UInt64
    public var keyFingerprint: [UInt8]
    public var salt: [UInt8]

    public init(kind: LogKind, cipher: CipherID, segmentNumber: UInt64, firstIndex: UInt64, keyFingerprint: [UInt8], salt: [UInt8]) {
        precondition(keyFingerprint.count == SegmentHeader.fingerprintBytes && salt.count == SegmentHeader.saltBytes, "header field sizes")
        self.kind = kind
        self.cipher = cipher
        self.segmentNumber = segmentNumber
        self.firstIndex = firstIndex
        self.keyFingerprint = keyFingerprint
        self.salt = salt
    }

    public func encoded() -> [UInt8] {
        var out = SegmentHeader.magic
        out.appendLE(SegmentHeader.formatVersion)
        out.append(kind.rawValue)
        out.append(cipher.rawValue)
        out.appendLE(segmentNumber)
        out.appendLE(firstIndex)
        out.append(contentsOf: keyFingerprint)
        out.append(contentsOf: salt)
        out.appendLE(CRC32C.checksum(out))
        assert(out.count == SegmentHeader.byteCount, "segment header size")
        return out
    }

    public enum DecodeError: Error, Sendable, Equatable {
        /// Fewer bytes than a header, or a wrong checksum: a header torn by a crash.
        case torn
        case badMagic
        case unsupportedVersion(UInt16)
        case unknownKind(UInt8)
        case unknownCipher(UInt8)
    }

    public static func decode<C: Collection<UInt8>>(_ bytes: C) throws(DecodeError) -> SegmentHeader {
        guard bytes.count >= byteCount else { throw .torn }
        let stored = Array(bytes.prefix(byteCount))
        var r = ByteReader(stored)
        guard Array(stored.prefix(8)) == magic else { throw .badMagic }
        guard CRC32C.checksum(stored.prefix(byteCount - 4)) == ByteReader(stored.suffix(4)).peekUInt32() else { throw .torn }
        _ = r.readBytes(8)
        let version = r.read(UInt16.self)!
        guard version == formatVersion else { throw .unsupportedVersion(version) }
        let kindByte = r.read(UInt8.self)!, cipherByte = r.read(UInt8.self)!
        guard let kind = LogKind(rawValue: kindByte) else { throw .unknownKind(kindByte) }
        guard let cipher = CipherID(rawValue: cipherByte) else { throw .unknownCipher(cipherByte) }
        let number = r.read(UInt64.self)!, first = r.read(UInt64.self)!
        let fingerprint = Array(r.readBytes(fingerprintBytes)!), salt = Array(r.readBytes(saltBytes)!)
        return SegmentHeader(kind: kind, cipher: cipher, segmentNumber: number, firstIndex: first, keyFingerprint: fingerprint, salt: salt)
    }
}

extension ByteReader {
    func peekUInt32() -> UInt32? {
        var copy = self
        return copy.read(UInt32.self)
    }
}
