// SegmentScanner: the pure reading of one segment's bytes (spec/02 §3.6). It returns the valid
// records in order and how the segment ends: cleanly, with a torn tail (an invalid frame with
// no valid frame after it — normal after a crash), or corrupt (an invalid frame followed by a
// valid one). "Valid after it" means a frame with a correct checksum whose index is at least
// the expected one. No file I/O: the log engine decides what to do with the outcome.

public enum SegmentEnd: Sendable, Equatable {
    case clean
    /// Truncate at `offset` (end of the last valid frame).
    case tornTail(offset: Int)
    /// The intact prefix ends at `offset`; a valid frame follows at `nextValidOffset`.
    case corrupt(offset: Int, nextValidOffset: Int, reason: String)
}

public struct SegmentScan: Sendable {
    public var header: SegmentHeader
    public var records: [LogRecord]
    public var end: SegmentEnd
    /// Byte offset just past the last valid frame.
    public var validEnd: Int
    public var nextIndex: UInt64
}

public enum SegmentScanner {
    public enum Failure: Error, Sendable, Equatable {
        case header(SegmentHeader.DecodeError)
        case wrongKind(LogKind)
        case wrongKey
    }

    /// Scans `bytes` (a whole segment file). `knownTypes` lists the record types this log
    /// writes; another type is corruption. `masterKey` opens encrypted segments.
    public static func scan(_ bytes: [UInt8], kind: LogKind, masterKey: [UInt8]?, knownTypes: Set<UInt8>) throws(Failure) -> SegmentScan {
        let header: SegmentHeader
        do { header = try SegmentHeader.decode(bytes) } catch { throw .header(error) }
        guard header.kind == kind else { throw .wrongKind(header.kind) }
        let cipher: LogCipher
        if header.cipher == .none {
            cipher = .plaintext
        } else {
            guard let masterKey, LogCipher.fingerprint(masterKey: masterKey) == header.keyFingerprint else { throw .wrongKey }
            cipher = LogCipher(id: header.cipher, masterKey: masterKey, salt: header.salt)
        }
        let opener = cipher.opener
        var records: [LogRecord] = []
        return bytes.withUnsafeBytes { raw in
            var offset = SegmentHeader.byteCount
            var expected = header.firstIndex
            while offset < raw.count {
                var reason = "checksum or length"
                if let frame = LogFrame.parse(raw, at: offset) {
                    if frame.index != expected {
                        reason = "index \(frame.index), expected \(expected)"
                    } else if !knownTypes.contains(frame.type) {
                        reason = "unknown record type \(frame.type)"
                    } else if let payload = try? opener.open(UnsafeRawBufferPointer(rebasing: raw[frame.stored]), kind: kind,
                                                             type: frame.type, index: frame.index) {
                        records.append(LogRecord(index: frame.index, type: frame.type, payload: payload))
                        offset += frame.size
                        expected += 1
                        continue
                    } else {
                        reason = "authentication tag"
                    }
                }
                // An invalid frame: corrupt if a valid frame follows, else a torn tail.
                if let next = nextValidFrame(raw, after: offset, expected: expected) {
                    return SegmentScan(header: header, records: records, end: .corrupt(offset: offset, nextValidOffset: next, reason: reason),
                                       validEnd: offset, nextIndex: expected)
                }
                return SegmentScan(header: header, records: records, end: .tornTail(offset: offset), validEnd: offset, nextIndex: expected)
            }
            return SegmentScan(header: header, records: records, end: .clean, validEnd: offset, nextIndex: expected)
        }
    }

    /// The first offset after `offset` where a frame with a correct checksum and an index of
    /// at least `expected` starts.
    static func nextValidFrame(_ raw: UnsafeRawBufferPointer, after offset: Int, expected: UInt64) -> Int? {
        var candidate = offset + 1
        while candidate + LogFrame.prefixBytes + LogFrame.fixedBodyBytes <= raw.count {
            // Cheap filters before the checksum: a plausible length and index.
            let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: candidate, as: UInt32.self)))
            if length >= LogFrame.fixedBodyBytes, length <= raw.count - candidate - LogFrame.prefixBytes, length <= LogFrame.bodyBytesMax {
                let index = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: candidate + LogFrame.prefixBytes + 1, as: UInt64.self))
                if index >= expected, LogFrame.parse(raw, at: candidate) != nil { return candidate }
            }
            candidate += 1
        }
        return nil
    }
}
