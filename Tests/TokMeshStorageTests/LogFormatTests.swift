// Tests of the log formats and the pure segment scanner (spec/02 §3.1-3.2, §3.6): CRC32C
// vectors, header and frame round trips, both ciphers, torn tails at every byte of a frame,
// corruption in the middle, tag failures and index gaps.
import Testing
import TokMeshCore
@testable import TokMeshStorage

@Suite struct LogFormatTests {
    static let masterKey: [UInt8] = (0..<32).map { UInt8($0 &* 7 &+ 3) }
    static let types: Set<UInt8> = [1, 2, 3, 4]

    /// A segment with `count` records of growing payloads, sealed with `cipher`.
    static func segment(_ count: Int, cipher: CipherID = .none, first: UInt64 = 1) throws -> [UInt8] {
        let salt = [UInt8](repeating: 9, count: 32)
        let header = SegmentHeader(kind: .wal, cipher: cipher, segmentNumber: 3, firstIndex: first,
                                   keyFingerprint: cipher == .none ? [UInt8](repeating: 0, count: 16) : LogCipher.fingerprint(masterKey: masterKey),
                                   salt: salt)
        var bytes = header.encoded()
        let sealer = cipher == .none ? LogCipher.plaintext : LogCipher(id: cipher, masterKey: masterKey, salt: salt)
        for i in 0..<count {
            let index = first + UInt64(i)
            let type = UInt8(i % 4 + 1)
            let payload = Array("record-\(i)-".utf8) + [UInt8](repeating: UInt8(i & 0xFF), count: i)
            LogFrame.encode(type: type, index: index, stored: try sealer.seal(payload, kind: .wal, type: type, index: index), into: &bytes)
        }
        return bytes
    }

    static func scan(_ bytes: [UInt8], key: [UInt8]? = masterKey) throws -> SegmentScan {
        try SegmentScanner.scan(bytes, kind: .wal, masterKey: key, knownTypes: types)
    }

    @Test("CRC32C's sliced tables agree with the bit-by-bit definition at every length and alignment")
    func crc32cAgainstBitwise() {
        func bitwise(_ bytes: ArraySlice<UInt8>) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for b in bytes {
                c ^= UInt32(b)
                for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            }
            return ~c
        }
        var rng = SplitMix64(seed: 20261128)
        let data = (0..<300).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        for start in 0..<9 {
            for end in start...data.count where (end - start) % 7 == 0 || end - start < 24 {
                #expect(CRC32C.checksum(data[start..<end]) == bitwise(data[start..<end]), "bytes \(start)..<\(end)")
            }
        }
    }

    @Test("CRC32C matches the Castagnoli check value and is continuable")
    func crc() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        let data = (0..<1000).map { UInt8($0 % 251) }
        #expect(CRC32C.checksum(data[500...], continuing: CRC32C.checksum(data[..<500])) == CRC32C.checksum(data))
    }

    @Test("headers round-trip; a short or altered header is torn")
    func header() throws {
        let bytes = try Self.segment(0, cipher: .aes256GCM)
        let h = try SegmentHeader.decode(bytes)
        #expect(h.segmentNumber == 3 && h.firstIndex == 1 && h.cipher == .aes256GCM && h.kind == .wal)
        #expect(throws: SegmentHeader.DecodeError.torn) { try SegmentHeader.decode(bytes.prefix(79)) }
        var altered = bytes
        altered[20] ^= 1
        #expect(throws: SegmentHeader.DecodeError.torn) { try SegmentHeader.decode(altered) }
        var magic = bytes
        magic[0] = 0
        #expect(throws: SegmentHeader.DecodeError.badMagic) { try SegmentHeader.decode(magic) }
    }

    @Test("records round-trip in plaintext and under both ciphers", arguments: [CipherID.none, .aes256GCM, .chaCha20Poly1305])
    func roundTrip(cipher: CipherID) throws {
        let s = try Self.scan(try Self.segment(50, cipher: cipher, first: 100))
        #expect(s.end == .clean && s.records.count == 50 && s.nextIndex == 150)
        #expect(s.records[7] == LogRecord(index: 107, type: 4, payload: Array("record-7-".utf8) + [UInt8](repeating: 7, count: 7)))
    }

    @Test("encrypted payloads do not contain the plaintext; a wrong key is refused")
    func encryption() throws {
        let bytes = try Self.segment(5, cipher: .chaCha20Poly1305)
        #expect(!String(decoding: bytes, as: UTF8.self).contains("record-"))
        #expect(throws: SegmentScanner.Failure.wrongKey) { try Self.scan(bytes, key: [UInt8](repeating: 1, count: 32)) }
    }

    @Test("spec/02 §3.6: a torn tail at every byte of the last frame keeps every earlier record")
    func tornTailAtEveryByte() throws {
        let full = try Self.segment(4, cipher: .aes256GCM)
        let withoutLast = try Self.scan(try Self.segment(3, cipher: .aes256GCM))
        for cut in (withoutLast.validEnd + 1)..<full.count {
            let s = try Self.scan(Array(full.prefix(cut)))
            #expect(s.end == .tornTail(offset: withoutLast.validEnd), "cut at \(cut)")
            #expect(s.records.count == 3 && s.validEnd == withoutLast.validEnd)
        }
    }

    @Test("spec/02 §3.6: a flipped byte mid-segment is corruption with the intact prefix kept")
    func corruptMiddle() throws {
        let bytes = try Self.segment(10)
        let prefix = try Self.scan(try Self.segment(4))
        var damaged = bytes
        damaged[prefix.validEnd + 12] ^= 0x40  // inside frame 5's body
        let s = try Self.scan(damaged)
        guard case .corrupt(let offset, let next, _) = s.end else { Issue.record("expected corruption, got \(s.end)"); return }
        #expect(offset == prefix.validEnd && next > offset && s.records.count == 4)
    }

    @Test("an altered ciphertext with a recomputed checksum fails on its tag")
    func tagFailure() throws {
        var bytes = try Self.segment(3, cipher: .aes256GCM)
        let first = try Self.scan(try Self.segment(1, cipher: .aes256GCM))
        // Flip a ciphertext byte of frame 2 and fix its CRC so only the AEAD tag can notice.
        let frameStart = first.validEnd
        let length = Int(bytes[frameStart]) | Int(bytes[frameStart + 1]) << 8
        bytes[frameStart + 8 + 9 + 14] ^= 1
        let crc = CRC32C.checksum(bytes[(frameStart + 8)..<(frameStart + 8 + length)])
        for i in 0..<4 { bytes[frameStart + 4 + i] = UInt8((crc >> (8 * UInt32(i))) & 0xFF) }
        let s = try Self.scan(bytes)
        guard case .corrupt(_, _, let reason) = s.end else { Issue.record("expected corruption, got \(s.end)"); return }
        #expect(reason == "authentication tag" && s.records.count == 1)
    }

    @Test("an index gap or an unknown type is corruption, not data")
    func indexAndType() throws {
        var bytes = SegmentHeader(kind: .wal, cipher: .none, segmentNumber: 1, firstIndex: 1, keyFingerprint: [UInt8](repeating: 0, count: 16),
                                  salt: [UInt8](repeating: 0, count: 32)).encoded()
        LogFrame.encode(type: 1, index: 1, stored: [1], into: &bytes)
        LogFrame.encode(type: 1, index: 3, stored: [3], into: &bytes)
        LogFrame.encode(type: 1, index: 4, stored: [4], into: &bytes)
        let gap = try Self.scan(bytes)
        #expect(gap.records.count == 1)
        if case .corrupt = gap.end {} else { Issue.record("an index gap must be corruption") }
        var typed = SegmentHeader(kind: .wal, cipher: .none, segmentNumber: 1, firstIndex: 1, keyFingerprint: [UInt8](repeating: 0, count: 16),
                                  salt: [UInt8](repeating: 0, count: 32)).encoded()
        LogFrame.encode(type: 9, index: 1, stored: [1], into: &typed)
        #expect(try Self.scan(typed).end == .tornTail(offset: SegmentHeader.byteCount))
    }

    @Test("the preferred cipher follows the CPU flags")
    func preferredCipher() {
        #expect(CipherID.preferred(cpuFlags: "flags : fpu aes pclmulqdq avx") == .aes256GCM)
        #expect(CipherID.preferred(cpuFlags: "Features : fp asimd aes pmull") == .aes256GCM)
        #expect(CipherID.preferred(cpuFlags: "flags : fpu sse2") == .chaCha20Poly1305)
    }
}
