// SegmentedLog: the file side of the log engine (spec/02 §3) shared by the session WAL and,
// later, the Raft log. Opening scans every segment in order, replays the valid records,
// truncates a torn tail of the newest segment, sets corrupted segments aside (`.corrupt`), and
// starts a fresh segment (one segment, one process run, one cipher). Appends seal and frame
// records and write them in one `write(2)`, rotating before a segment would pass its size.
// `sync` makes everything written durable. Not thread-safe: one owner (the WAL writer) drives it.
import Foundation
import TokMeshCore

public struct LogOptions: Sendable {
    public var directory: String
    public var kind: LogKind
    /// File name prefix: `wal` → `wal-00000001.log`.
    public var prefix: String
    /// 32-byte storage master key; nil writes plaintext segments.
    public var masterKey: [UInt8]?
    public var cipher: CipherID
    public var segmentBytesMax: Int
    public var knownTypes: Set<UInt8>

    public init(directory: String, kind: LogKind, prefix: String, masterKey: [UInt8]?, cipher: CipherID = .preferred(),
                segmentBytesMax: Int = 64 * 1024 * 1024, knownTypes: Set<UInt8>) {
        self.directory = directory
        self.kind = kind
        self.prefix = prefix
        self.masterKey = masterKey
        self.cipher = masterKey == nil ? .none : cipher
        self.segmentBytesMax = segmentBytesMax
        self.knownTypes = knownTypes
    }
}

public struct LogOpenReport: Sendable, Equatable {
    public struct Damage: Sendable, Equatable {
        public var segment: String
        public var offset: Int
        public var reason: String
    }
    /// Index of the last valid record (0: none).
    public var lastIndex: UInt64 = 0
    /// Torn tails truncated (newest segment only): a WARN each.
    public var tornTails: [Damage] = []
    /// Corruption found: an ERROR naming the segment and offset.
    public var corruption: Damage?
    /// Files renamed or copied to `<name>.corrupt`.
    public var setAside: [String] = []
}

public enum LogError: Error, Sendable, Equatable, CustomStringConvertible {
    case io(String)
    case unreadable(String)

    public var description: String {
        switch self {
        case .io(let m): "log I/O failed: \(m)"
        case .unreadable(let m): "log unreadable: \(m)"
        }
    }
}

public final class SegmentedLog {
    public let options: LogOptions
    public private(set) var nextIndex: UInt64
    private var segmentNumber: UInt64
    private var fd: Int32 = -1
    private var segmentBytes = 0
    private var segmentHasFrames = false
    private var cipher: LogCipher = .plaintext

    private init(options: LogOptions, nextIndex: UInt64, lastSegment: UInt64) {
        self.options = options
        self.nextIndex = nextIndex
        self.segmentNumber = lastSegment
    }

    deinit { if fd >= 0 { Foundation.close(fd) } }

    static func segmentName(_ prefix: String, _ number: UInt64) -> String {
        let digits = String(number)
        return "\(prefix)-\(String(repeating: "0", count: max(0, 8 - digits.count)))\(digits).log"
    }

    /// Segment numbers present in the directory, ascending.
    static func segmentNumbers(_ options: LogOptions) throws(LogError) -> [UInt64] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: options.directory) else {
            throw .io("cannot list \(options.directory)")
        }
        let head = options.prefix + "-"
        return names.compactMap { name -> UInt64? in
            guard name.hasPrefix(head), name.hasSuffix(".log") else { return nil }
            return UInt64(name.dropFirst(head.count).dropLast(4))
        }.sorted()
    }

    /// Segments read and scanned ahead of `open`, on another thread while recovery reads the
    /// snapshot: a cache of `SegmentScanner.scan` results by file name and size. `open` makes
    /// every decision itself and takes a scan from here only for a file of the same name and
    /// size; anything missing (unreadable, over the budget) it reads as usual.
    public struct Prescan: Sendable {
        public var scans: [String: (size: Int, scan: SegmentScan)] = [:]

        public init() {}
    }

    /// Reads and scans the segments in index order until `budgetBytes` of files have been read.
    /// Never writes, never throws: a segment that cannot be read or scanned is left out.
    public static func prescan(_ options: LogOptions, budgetBytes: Int) -> Prescan {
        var result = Prescan()
        guard let numbers = try? segmentNumbers(options) else { return result }
        var read = 0
        for number in numbers {
            let name = segmentName(options.prefix, number)
            guard let data = FileManager.default.contents(atPath: options.directory + "/" + name), read + data.count <= budgetBytes else { break }
            read += data.count
            let bytes = [UInt8](data)
            guard let scan = try? SegmentScanner.scan(bytes, kind: options.kind, masterKey: options.masterKey, knownTypes: options.knownTypes) else { break }
            result.scans[name] = (bytes.count, scan)
        }
        return result
    }

    /// Opens (creating the directory if needed), replays every valid record in index order
    /// through `replay`, repairs the tail as spec/02 §3.6 says, and starts a new segment.
    /// `after` is the index a snapshot base already reflects: new records never reuse it.
    /// `prescanned` holds scans made ahead (see `Prescan`).
    public static func open(_ options: LogOptions, after base: UInt64 = 0, prescanned: Prescan = Prescan(),
                            replay: (LogRecord) throws -> Void) throws -> (SegmentedLog, LogOpenReport) {
        let fm = FileManager.default
        try fm.createDirectory(atPath: options.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        let numbers = try segmentNumbers(options)
        var report = LogOpenReport()
        var expected: UInt64? = nil
        var lastNumber: UInt64 = 0
        for (position, number) in numbers.enumerated() {
            let name = segmentName(options.prefix, number)
            let path = options.directory + "/" + name
            let newest = position == numbers.count - 1
            func setAsideLater() {
                for later in numbers[(position + 1)...] {
                    let laterName = segmentName(options.prefix, later)
                    let from = options.directory + "/" + laterName
                    try? fm.moveItem(atPath: from, toPath: from + ".corrupt")
                    report.setAside.append(laterName + ".corrupt")
                }
            }
            if position > 0, number != lastNumber + 1 {
                report.corruption = .init(segment: name, offset: 0, reason: "missing segment \(lastNumber + 1)")
                setAsideLater()
                try? fm.moveItem(atPath: path, toPath: path + ".corrupt")
                report.setAside.insert(name + ".corrupt", at: 0)
                break
            }
            lastNumber = number
            let ahead = prescanned.scans[name].flatMap { fileSize(path) == $0.size ? $0.scan : nil }
            var bytes: [UInt8] = []
            if ahead == nil {
                guard let data = fm.contents(atPath: path) else { throw LogError.unreadable(name) }
                bytes = [UInt8](data)
            }
            let scan: SegmentScan
            do throws(SegmentScanner.Failure) {
                if let ahead {
                    scan = ahead
                } else {
                    scan = try SegmentScanner.scan(bytes, kind: options.kind, masterKey: options.masterKey, knownTypes: options.knownTypes)
                }
            } catch .header(.torn) where newest {
                // A crash while the header was written: the segment holds nothing.
                report.tornTails.append(.init(segment: name, offset: 0, reason: "torn segment header"))
                try? fm.removeItem(atPath: path)
                lastNumber = number
                continue
            } catch .wrongKey {
                throw LogError.unreadable("\(name) is encrypted under another key")
            } catch {
                report.corruption = .init(segment: name, offset: 0, reason: "unreadable segment header")
                try? fm.moveItem(atPath: path, toPath: path + ".corrupt")
                report.setAside.append(name + ".corrupt")
                setAsideLater()
                break
            }
            if let e = expected, scan.header.firstIndex != e {
                report.corruption = .init(segment: name, offset: 0, reason: "first index \(scan.header.firstIndex), expected \(e)")
                try? fm.moveItem(atPath: path, toPath: path + ".corrupt")
                report.setAside.append(name + ".corrupt")
                setAsideLater()
                break
            }
            for record in scan.records { try replay(record) }
            if let last = scan.records.last { report.lastIndex = last.index }
            expected = scan.nextIndex
            switch scan.end {
            case .clean:
                continue
            case .tornTail(let offset) where newest:
                report.tornTails.append(.init(segment: name, offset: offset, reason: "incomplete frame"))
                try truncate(path, to: offset)
            case .tornTail(let offset):
                report.corruption = .init(segment: name, offset: offset, reason: "invalid frame in an older segment")
            case .corrupt(let offset, _, let reason):
                report.corruption = .init(segment: name, offset: offset, reason: reason)
            }
            if report.corruption != nil {
                try? fm.removeItem(atPath: path + ".corrupt")
                try? fm.copyItem(atPath: path, toPath: path + ".corrupt")
                report.setAside.append(name + ".corrupt")
                try truncate(path, to: report.corruption!.offset)
                setAsideLater()
                break
            }
        }
        let log = SegmentedLog(options: options, nextIndex: max(expected ?? 1, base + 1), lastSegment: lastNumber)
        try log.startSegment()
        return (log, report)
    }

    private static func fileSize(_ path: String) -> Int? {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : nil
    }

    private static func truncate(_ path: String, to offset: Int) throws(LogError) {
        guard Foundation.truncate(path, off_t(offset)) == 0 else { throw .io("cannot truncate \(path)") }
    }

    private func syncDirectory() throws(LogError) {
        let dfd = Foundation.open(options.directory, O_RDONLY | O_CLOEXEC)
        guard dfd >= 0 else { throw .io("cannot open \(options.directory)") }
        defer { Foundation.close(dfd) }
        guard fsync(dfd) == 0 else { throw .io("fsync of \(options.directory) failed") }
    }

    /// Creates the next segment (header written and fsynced, directory fsynced).
    private func startSegment() throws {
        if fd >= 0 {
            guard fdatasync(fd) == 0 else { throw LogError.io("fdatasync before rotation failed") }
            Foundation.close(fd)
            fd = -1
        }
        segmentNumber += 1
        let salt = try SecureRandom.bytes(SegmentHeader.saltBytes)
        let fingerprint = options.masterKey.map { LogCipher.fingerprint(masterKey: $0) } ?? [UInt8](repeating: 0, count: SegmentHeader.fingerprintBytes)
        let header = SegmentHeader(kind: options.kind, cipher: options.cipher, segmentNumber: segmentNumber, firstIndex: nextIndex,
                                   keyFingerprint: fingerprint, salt: salt)
        cipher = options.masterKey.map { LogCipher(id: options.cipher, masterKey: $0, salt: salt) } ?? .plaintext
        let path = options.directory + "/" + SegmentedLog.segmentName(options.prefix, segmentNumber)
        let newFD = Foundation.open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o600)
        guard newFD >= 0 else { throw LogError.io("cannot create \(path)") }
        fd = newFD
        try writeAll(header.encoded())
        guard fsync(fd) == 0 else { throw LogError.io("fsync of a new segment failed") }
        try syncDirectory()
        segmentBytes = SegmentHeader.byteCount
        segmentHasFrames = false
    }

    private func writeAll(_ bytes: [UInt8]) throws(LogError) {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("write failed: errno \(errno)")
            }
            written += n
        }
    }

    /// Seals, frames and writes `records` (to the OS, not yet durable); returns their indexes.
    @discardableResult
    public func append(_ records: [(type: UInt8, payload: [UInt8])]) throws -> ClosedRange<UInt64>? {
        guard !records.isEmpty else { return nil }
        let first = nextIndex
        var batch: [UInt8] = []
        for record in records {
            precondition(options.knownTypes.contains(record.type), "appending an undeclared record type")
            precondition(record.payload.count <= LogFrame.payloadBytesMax, "log payload over 16 MiB")
            var frame: [UInt8] = []
            LogFrame.encode(type: record.type, index: nextIndex,
                            stored: try cipher.seal(record.payload, kind: options.kind, type: record.type, index: nextIndex), into: &frame)
            if segmentHasFrames && segmentBytes + batch.count + frame.count > options.segmentBytesMax {
                try writeAll(batch)
                batch.removeAll(keepingCapacity: true)
                // The sealed frame belongs to the old segment's key: seal again after rotation.
                try startSegment()
                frame.removeAll(keepingCapacity: true)
                LogFrame.encode(type: record.type, index: nextIndex,
                                stored: try cipher.seal(record.payload, kind: options.kind, type: record.type, index: nextIndex), into: &frame)
            }
            batch.append(contentsOf: frame)
            segmentBytes += frame.count
            segmentHasFrames = true
            nextIndex += 1
        }
        try writeAll(batch)
        return first...(nextIndex - 1)
    }

    /// A duplicate of the current segment's descriptor, for an fdatasync on another thread
    /// (records in earlier segments were made durable when the segment was rotated away).
    /// The caller closes it; -1 when there is none.
    public func duplicateHandle() -> Int32 { fd >= 0 ? dup(fd) : -1 }

    /// Makes every written record durable (fdatasync).
    public func sync() throws(LogError) {
        guard fdatasync(fd) == 0 else { throw .io("fdatasync failed: errno \(errno)") }
    }

    /// Visits records with index ≥ `from`, in order, until `visit` returns false. Reads the
    /// files as they are (including the segment being written).
    public func read(from: UInt64, _ visit: (LogRecord) -> Bool) throws {
        for number in try SegmentedLog.segmentNumbers(options) {
            let name = SegmentedLog.segmentName(options.prefix, number)
            guard let data = FileManager.default.contents(atPath: options.directory + "/" + name) else { throw LogError.unreadable(name) }
            let scan = try SegmentScanner.scan([UInt8](data), kind: options.kind, masterKey: options.masterKey, knownTypes: options.knownTypes)
            guard scan.nextIndex > from else { continue }
            for record in scan.records where record.index >= from {
                if !visit(record) { return }
            }
        }
    }

    /// Makes the next record start a new segment (the current one is fsynced and closed), so
    /// that a batch written now can outlive every segment before it.
    public func rotate() throws {
        if segmentHasFrames { try startSegment() }
    }

    /// Deletes the oldest segments whose records all precede `index` — a prefix of the log,
    /// never the segment being written — and returns their names. For a log whose state up to
    /// `index` was written again after it (the Raft log's snapshot batch).
    @discardableResult
    public func removeSegments(before index: UInt64) throws -> [String] {
        let numbers = try SegmentedLog.segmentNumbers(options).filter { $0 < segmentNumber }
        var firstIndexes: [UInt64] = []
        for number in numbers + [segmentNumber] {
            let name = SegmentedLog.segmentName(options.prefix, number)
            guard let handle = FileHandle(forReadingAtPath: options.directory + "/" + name),
                  let head = try? handle.read(upToCount: SegmentHeader.byteCount),
                  let header = try? SegmentHeader.decode([UInt8](head)) else { throw LogError.unreadable(name) }
            try? handle.close()
            firstIndexes.append(header.firstIndex)
        }
        var removed: [String] = []
        // Segment k holds [first_k, first_{k+1} - 1].
        for k in numbers.indices {
            guard firstIndexes[k + 1] <= index else { break }
            let name = SegmentedLog.segmentName(options.prefix, numbers[k])
            guard unlink(options.directory + "/" + name) == 0 else { throw LogError.io("cannot remove \(name)") }
            removed.append(name)
        }
        if !removed.isEmpty { try syncDirectory() }
        return removed
    }

    /// Flushes and closes the current segment.
    public func close() throws(LogError) {
        guard fd >= 0 else { return }
        defer { Foundation.close(fd); fd = -1 }
        guard fdatasync(fd) == 0 else { throw .io("fdatasync at close failed") }
    }
}
