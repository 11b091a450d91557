// SnapshotFile: the snapshot = backup file of spec/02 §5.1 (docs/formats.md). Magic
// `TOKMESH_BAK_V1`, a length-prefixed plaintext JSON header, a body of chunks (≤ 1 MiB of
// plaintext each; sealed under HKDF(master key, salt, "tokmesh/snapshot/v1") with chunk number ‖
// last-chunk flag as associated data, so chunks cannot be reordered, dropped or spliced), and a
// SHA-256 trailer over everything before it. Writing goes to `<name>.tmp`, fsync, rename,
// directory fsync. Reading verifies magic, trailer and every chunk before returning anything.
import Crypto
import Dispatch
import Foundation
import TokMeshCore

public struct SnapshotHeader: Sendable, Equatable {
    /// 2 when written (packed session items); 1 (text session items) is still read.
    public var formatVersion: Int = 2
    public var snapshotID: String
    public var trigger: String
    public var description: String
    public var createdAt: Int64
    public var nodeID: String
    /// The last WAL index reflected in the snapshot.
    public var walPosition: UInt64
    public var sessionCount: Int
    public var tombstoneCount: Int
    public var cipher: CipherID
    public var keyFingerprint: [UInt8]
    public var salt: [UInt8]
    public var chunkBytes: Int = SnapshotFile.chunkBytesMax

    public init(snapshotID: String, trigger: String, description: String, createdAt: Int64, nodeID: String, walPosition: UInt64,
                sessionCount: Int, tombstoneCount: Int, cipher: CipherID, keyFingerprint: [UInt8], salt: [UInt8]) {
        self.snapshotID = snapshotID
        self.trigger = trigger
        self.description = description
        self.createdAt = createdAt
        self.nodeID = nodeID
        self.walPosition = walPosition
        self.sessionCount = sessionCount
        self.tombstoneCount = tombstoneCount
        self.cipher = cipher
        self.keyFingerprint = keyFingerprint
        self.salt = salt
    }

    var json: JSONValue {
        .object([
            "format_version": .int(Int64(formatVersion)), "snapshot_id": .string(snapshotID), "trigger": .string(trigger),
            "description": .string(description), "created_at": .int(createdAt), "node_id": .string(nodeID),
            "cluster_id": "", "wal_position": .uint(walPosition), "control_plane_index": 0,
            "session_count": .int(Int64(sessionCount)), "tombstone_count": .int(Int64(tombstoneCount)), "api_key_count": 0,
            "cipher": .int(Int64(cipher.rawValue)), "key_fingerprint": .string(Identifiers.hex(keyFingerprint)),
            "salt": .string(Identifiers.hex(salt)), "chunk_size": .int(Int64(chunkBytes)),
        ])
    }

    init?(json: JSONValue) {
        guard case .object(let o) = json, let version = o["format_version"]?.intValue, (1...2).contains(version),
              let id = o["snapshot_id"]?.stringValue, let trigger = o["trigger"]?.stringValue,
              let description = o["description"]?.stringValue, let createdAt = o["created_at"]?.intValue,
              let node = o["node_id"]?.stringValue, let position = o["wal_position"]?.intValue, position >= 0,
              let sessions = o["session_count"]?.intValue, let tombstones = o["tombstone_count"]?.intValue,
              let cipherRaw = o["cipher"]?.intValue, let cipher = CipherID(rawValue: UInt8(clamping: cipherRaw)),
              let fingerprint = o["key_fingerprint"]?.stringValue.flatMap(SnapshotHeader.unhex),
              let salt = o["salt"]?.stringValue.flatMap(SnapshotHeader.unhex), salt.count == 32,
              let chunk = o["chunk_size"]?.intValue, chunk > 0, chunk <= Int64(SnapshotFile.chunkBytesMax) else { return nil }
        self.init(snapshotID: id, trigger: trigger, description: description, createdAt: createdAt, nodeID: node,
                  walPosition: UInt64(position), sessionCount: Int(sessions), tombstoneCount: Int(tombstones), cipher: cipher,
                  keyFingerprint: fingerprint, salt: salt)
        self.chunkBytes = Int(chunk)
        self.formatVersion = Int(version)
    }

    static func unhex(_ s: String) -> [UInt8]? {
        let u = Array(s.utf8)
        guard u.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var i = 0
        while i < u.count {
            guard let b = UInt8(String(decoding: u[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(b)
            i += 2
        }
        return out
    }
}

public struct SnapshotContents: Sendable {
    public var header: SnapshotHeader
    public var sessions: SessionBatch
    public var tombstones: [StoredTombstone]
}

public enum SnapshotError: Error, Sendable, Equatable, CustomStringConvertible {
    case io(String)
    /// Magic, header, trailer or a chunk does not verify (TM-ADMIN-4221 for uploads).
    case unusable(String)
    case wrongKey

    public var description: String {
        switch self {
        case .io(let m): "snapshot I/O failed: \(m)"
        case .unusable(let m): "snapshot unusable: \(m)"
        case .wrongKey: "snapshot encrypted under another key"
        }
    }
}

#if os(Linux)
/// Linux's `sync_file_range(2)` (not in the Glibc module map).
@_silgen_name("sync_file_range")
private func linuxSyncFileRange(_ fd: Int32, _ offset: Int64, _ count: Int64, _ flags: UInt32) -> Int32
#endif

/// A read-only buffer shared by the parsing workers while its owner keeps it alive.
private struct UncheckedRaw: @unchecked Sendable {
    let raw: UnsafeRawBufferPointer
    init(_ raw: UnsafeRawBufferPointer) { self.raw = raw }
}

public enum SnapshotFile {
    public static let magic: [UInt8] = Array("TOKMESH_BAK_V1".utf8)
    public static let chunkBytesMax = 1 << 20
    static let headerBytesMax = 64 * 1024
    static let itemSession: UInt8 = 1
    /// Snapshot bytes handed to the disk at a time while writing (see `writeDurably`).
    static let writeBackBytes = 8 << 20
    static let syncWrite: UInt32 = 2  // SYNC_FILE_RANGE_WRITE
    static let itemTombstone: UInt8 = 2
    /// A session as its in-memory bytes (StoredSession.swift), format version 2.
    static let itemPackedSession: UInt8 = 3

    private static func chunkKey(masterKey: [UInt8], salt: [UInt8]) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: masterKey), salt: salt,
                               info: Array("tokmesh/snapshot/v1".utf8), outputByteCount: 32)
    }

    private static func chunkAAD(_ number: UInt64, last: Bool) -> [UInt8] {
        var aad: [UInt8] = []
        aad.appendLE(number)
        aad.append(last ? 1 : 0)
        return aad
    }

    /// The whole file as bytes (sessions and tombstones as they were cut).
    public static func encode(header: SnapshotHeader, sessions: [StoredSession], tombstones: [StoredTombstone], masterKey: [UInt8]?) throws -> [UInt8] {
        var out: [UInt8] = []
        try encode(header: header, sessions: sessions, tombstones: tombstones, masterKey: masterKey) { out.append(contentsOf: $0) }
        return out
    }

    /// Streams the file to `emit` a chunk at a time (never the whole body in memory), ending
    /// with the SHA-256 trailer over everything emitted before it.
    static func encode(header: SnapshotHeader, sessions: [StoredSession], tombstones: [StoredTombstone], masterKey: [UInt8]?,
                       emit: ([UInt8]) throws -> Void) throws {
        var hasher = SHA256()
        func put(_ bytes: [UInt8]) throws {
            hasher.update(data: bytes)
            try emit(bytes)
        }
        var lead = magic
        let headerBytes = JSONWriter.write(header.json)
        lead.appendLE(UInt32(headerBytes.count))
        lead.append(contentsOf: headerBytes)
        try put(lead)
        let key = header.cipher == .none ? nil : masterKey.map { chunkKey(masterKey: $0, salt: header.salt) }
        let chunkBytes = header.chunkBytes
        var number: UInt64 = 0
        var pending: [UInt8] = []
        pending.reserveCapacity(chunkBytes + 64 * 1024)
        func seal(_ plain: ArraySlice<UInt8>, last: Bool) throws {
            let stored = try key.map { try LogCipher.seal(Array(plain), cipher: header.cipher, key: $0, associatedData: chunkAAD(number, last: last)) }
            var frame: [UInt8] = [last ? 1 : 0]
            frame.reserveCapacity(5 + (stored?.count ?? plain.count))
            frame.appendLE(UInt32(stored?.count ?? plain.count))
            if let stored { frame.append(contentsOf: stored) } else { frame.append(contentsOf: plain) }
            try put(frame)
            number += 1
        }
        // A chunk is sealed once more bytes follow it, so the last one is known when it is sealed.
        func flushFull() throws {
            guard pending.count > chunkBytes else { return }
            var start = 0
            while pending.count - start > chunkBytes {
                try seal(pending[start..<start + chunkBytes], last: false)
                start += chunkBytes
            }
            pending.removeFirst(start)
        }
        for s in sessions {
            if header.formatVersion == 1 {
                s.appendSnapshotItem(to: &pending)
            } else {
                pending.append(itemPackedSession)
                pending.appendLE(UInt32(s.blob.count))
                pending.append(contentsOf: s.blob)
            }
            try flushFull()
        }
        for t in tombstones {
            var item: [UInt8] = []
            WALRecord.encode(t.session.string, into: &item)
            WALRecord.encode(t.digest.string, into: &item)
            item.appendLE(t.revokedAt)
            item.appendLE(t.expiresAt)
            pending.append(itemTombstone)
            pending.appendLE(UInt32(item.count))
            pending.append(contentsOf: item)
            try flushFull()
        }
        try seal(pending[...], last: true)
        try emit(Array(hasher.finalize()))
    }

    /// Reads `count` bytes at `offset` of `fd`, or nil on a short read or an error.
    private static func readAt(_ fd: Int32, _ count: Int, at offset: Int) -> [UInt8]? {
        var complete = true
        let out = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            complete = count == 0 || readInto(fd, buffer.baseAddress!, count, at: offset)
            if !complete { buffer.initialize(repeating: 0) }
            initialized = count
        }
        return complete ? out : nil
    }

    /// Fills `count` bytes at `to` from `offset` of `fd`; false on a short read or an error.
    private static func readInto(_ fd: Int32, _ to: UnsafeMutableRawPointer, _ count: Int, at offset: Int) -> Bool {
        var done = 0
        while done < count {
            let n = pread(fd, to + done, count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }

    /// Opens `path` and runs `body` with its descriptor and size.
    private static func withFile<T>(_ path: String, _ body: (Int32, Int) throws(SnapshotError) -> T) throws(SnapshotError) -> T {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot open \(path)") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io("cannot stat \(path)") }
        return try body(fd, Int(st.st_size))
    }

    /// The whole file, read straight into one array.
    public static func readAll(path: String) throws(SnapshotError) -> [UInt8] {
        try withFile(path) { (fd, size) throws(SnapshotError) -> [UInt8] in
            guard let bytes = readAt(fd, size, at: 0) else { throw .io("short read of \(path)") }
            return bytes
        }
    }

    /// Reads the magic and header from the start of a file and its stored trailer, without
    /// reading the body or verifying the checksum (listing; recovery and restore verify).
    public static func peek(path: String) throws(SnapshotError) -> (header: SnapshotHeader, size: Int, trailer: [UInt8]) {
        try withFile(path) { (fd, size) throws(SnapshotError) -> (SnapshotHeader, Int, [UInt8]) in
            guard size >= magic.count + 4 + 32, let lead = readAt(fd, magic.count + 4, at: 0), Array(lead.prefix(magic.count)) == magic else {
                throw .unusable("not a TokMesh backup (magic)")
            }
            var r = ByteReader(lead.dropFirst(magic.count))
            guard let length = r.read(UInt32.self), Int(length) <= headerBytesMax, magic.count + 4 + Int(length) + 32 <= size,
                  let raw = readAt(fd, Int(length), at: magic.count + 4), let json = try? JSONParser.parse(raw),
                  let header = SnapshotHeader(json: json), let trailer = readAt(fd, 32, at: size - 32) else {
                throw .unusable("unreadable header")
            }
            return (header, size, trailer)
        }
    }

    /// Reads only the header (no key needed), after checking magic and trailer.
    public static func readHeader(_ bytes: [UInt8]) throws(SnapshotError) -> SnapshotHeader {
        try verifiedParts(bytes).header
    }

    private static func verifiedParts(_ bytes: [UInt8]) throws(SnapshotError) -> (header: SnapshotHeader, bodyStart: Int) {
        guard bytes.count >= magic.count + 4 + 32, Array(bytes.prefix(magic.count)) == magic else { throw .unusable("not a TokMesh backup (magic)") }
        guard Array(SHA256.hash(data: bytes.dropLast(32))) == Array(bytes.suffix(32)) else { throw .unusable("checksum mismatch") }
        var r = ByteReader(bytes.dropFirst(magic.count))
        guard let length = r.read(UInt32.self), Int(length) <= headerBytesMax, let raw = r.readBytes(Int(length)),
              let json = try? JSONParser.parse(Array(raw)), let header = SnapshotHeader(json: json) else {
            throw .unusable("unreadable header")
        }
        return (header, magic.count + 4 + Int(length))
    }

    /// Reads, verifies and decodes the file at `path`. The chunks are read into each worker's
    /// small buffer and opened straight into the plaintext body (a `PageBuffer`, `decodeFile`),
    /// so the file's bytes are copied once and stay in cache between the read and the
    /// decryption. The SHA-256 trailer is checked by another thread reading the same descriptor
    /// while these decrypt and parse (recovery's critical path); nothing is returned unless it
    /// matches, and a file that fails both ways is reported as a checksum mismatch, as when the
    /// checksum came first.
    public static func read(path: String, masterKey: [UInt8]?) throws(SnapshotError) -> SnapshotContents {
        try withFile(path) { (fd, size) throws(SnapshotError) -> SnapshotContents in
            guard size >= magic.count + 4 + 32 else { throw .unusable("not a TokMesh backup (magic)") }
            final class Digest: @unchecked Sendable {
                let done = DispatchSemaphore(value: 0)
                var value: [UInt8]?  // written before `done` is signalled
            }
            let digest = Digest()
            DispatchQueue.global(qos: .userInitiated).async {
                digest.value = bodyDigest(fd, bodyBytes: size - 32)
                digest.done.signal()
            }
            let decoded: Result<SnapshotContents, SnapshotError>
            do throws(SnapshotError) {
                decoded = .success(try decodeFile(fd, size: size, masterKey: masterKey))
            } catch {
                decoded = .failure(error)
            }
            let trailer = readAt(fd, 32, at: size - 32)
            digest.done.wait()  // before the descriptor closes
            guard let sum = digest.value, let trailer else { throw .io("short read of \(path)") }
            guard sum == trailer else { throw .unusable("checksum mismatch") }
            return try decoded.get()
        }
    }

    /// Decodes the file open at `fd` without checking its trailer: header, then the chunk frames
    /// (their 5-byte heads read in order), then the chunks, opened on every core straight into one
    /// page buffer (each chunk has its own nonce and authenticates alone), then the items.
    private static func decodeFile(_ fd: Int32, size: Int, masterKey: [UInt8]?) throws(SnapshotError) -> SnapshotContents {
        guard let lead = readAt(fd, magic.count + 4, at: 0), Array(lead.prefix(magic.count)) == magic else {
            throw .unusable("not a TokMesh backup (magic)")
        }
        let length = Int(UInt32(littleEndian: lead.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: magic.count, as: UInt32.self) }))
        let bodyStart = magic.count + 4 + length
        guard length <= headerBytesMax, bodyStart + 32 <= size, let raw = readAt(fd, length, at: magic.count + 4),
              let json = try? JSONParser.parse(raw), let header = SnapshotHeader(json: json) else {
            throw .unusable("unreadable header")
        }
        _ = try chunkKey(header, masterKey: masterKey)  // the key check
        var head = [UInt8](repeating: 0, count: 5)
        let (frames, plainBytes) = try chunkFrames(from: bodyStart, to: size - 32, cipher: header.cipher) { offset in
            head.withUnsafeMutableBytes { readInto(fd, $0.baseAddress!, 5, at: offset) ? UnsafeRawBufferPointer($0) : nil }
        }
        guard let body = PageBuffer(count: plainBytes) else { throw .io("no memory for a \(size)-byte snapshot") }
        // Worker w opens chunks w, w + workers, …; the first failure by chunk number is reported.
        let workers = max(1, min(frames.count, ProcessInfo.processInfo.activeProcessorCount))
        final class Failures: @unchecked Sendable {
            var first: [(chunk: UInt64, error: SnapshotError)?]  // one slot per worker
            init(_ n: Int) { first = Array(repeating: nil, count: n) }
        }
        let failures = Failures(workers)
        let scratchBytes = header.chunkBytes + LogCipher.overheadBytes
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let key = header.cipher == .none ? nil : masterKey.map { chunkKey(masterKey: $0, salt: header.salt) }  // one per worker: not Sendable
            var scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: scratchBytes, alignment: 64)
            defer { scratch.deallocate() }
            for frame in stride(from: w, to: frames.count, by: workers).lazy.map({ frames[$0] }) {
                if frame.count > scratch.count {  // only a chunk larger than the header says (a crafted file)
                    scratch.deallocate()
                    scratch = .allocate(byteCount: frame.count, alignment: 64)
                }
                do throws(SnapshotError) {
                    guard readInto(fd, scratch.baseAddress!, frame.count, at: frame.offset) else { throw .io("short read") }
                    try openChunk(frame, UnsafeRawBufferPointer(rebasing: scratch[..<frame.count]), cipher: header.cipher, key: key, into: body.base)
                } catch {
                    failures.first[w] = (frame.number, error)
                    return
                }
            }
        }
        if let failure = failures.first.compactMap({ $0 }).min(by: { $0.chunk < $1.chunk }) { throw failure.error }
        return try parsedContents(header, UnsafeRawBufferPointer(start: body.base, count: plainBytes))
    }

    /// SHA-256 of the first `bodyBytes` bytes of `fd`, read in 4 MiB pieces; nil on a short read.
    private static func bodyDigest(_ fd: Int32, bodyBytes: Int) -> [UInt8]? {
        var hasher = SHA256()
        let piece = 4 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: piece, alignment: 64)
        defer { buffer.deallocate() }
        var offset = 0
        while offset < bodyBytes {
            let n = pread(fd, buffer.baseAddress!, min(piece, bodyBytes - offset), off_t(offset))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[..<n]))
            offset += n
        }
        return Array(hasher.finalize())
    }

    /// Verifies and decodes a whole file in memory (an uploaded backup). The chunks are opened
    /// in place: each plaintext is moved down over the frame headers and tags before it, so the
    /// body ends up contiguous in the file's own buffer.
    public static func decode(_ bytes: consuming [UInt8], masterKey: [UInt8]?) throws(SnapshotError) -> SnapshotContents {
        let (header, bodyStart) = try verifiedParts(bytes)
        let key = try chunkKey(header, masterKey: masterKey)
        let bodyEnd = bytes.count - 32
        // In order: a chunk's plaintext lands over frames already opened, never over one still to come.
        let opened = bytes.withUnsafeMutableBytes { raw in
            Result { () throws(SnapshotError) -> Int in
                let all = UnsafeRawBufferPointer(raw)
                let (frames, plainBytes) = try chunkFrames(from: bodyStart, to: bodyEnd, cipher: header.cipher) {
                    UnsafeRawBufferPointer(rebasing: all[$0..<($0 + 5)])
                }
                for frame in frames {
                    try openChunk(frame, UnsafeRawBufferPointer(rebasing: all[frame.offset..<(frame.offset + frame.count)]), cipher: header.cipher, key: key,
                                  into: raw.baseAddress! + bodyStart)
                }
                return plainBytes
            }
        }
        let plainBytes = try opened.get()
        let parsed = bytes.withUnsafeBytes { raw in
            Result { () throws(SnapshotError) in try parsedContents(header, UnsafeRawBufferPointer(rebasing: raw[bodyStart..<(bodyStart + plainBytes)])) }
        }
        return try parsed.get()
    }

    /// The chunk key of an encrypted file (nil for a plaintext one); `.wrongKey` when the file
    /// names another master key.
    private static func chunkKey(_ header: SnapshotHeader, masterKey: [UInt8]?) throws(SnapshotError) -> SymmetricKey? {
        guard header.cipher != .none else { return nil }
        guard let masterKey, LogCipher.fingerprint(masterKey: masterKey) == header.keyFingerprint else { throw .wrongKey }
        return chunkKey(masterKey: masterKey, salt: header.salt)
    }

    /// One chunk frame of a body: where its stored bytes are and where its plaintext goes.
    private struct ChunkFrame {
        let number: UInt64
        let offset: Int
        let count: Int
        let last: Bool
        let plainOffset: Int
    }

    /// The chunk frames between `start` and `end`, checked for framing (flags, lengths, exactly
    /// one last chunk at the end, room for nonce and tag), and the plaintext's total length.
    /// `head(offset)` gives the 5 bytes of the frame head there, valid until its next call, or
    /// nil on a short read.
    private static func chunkFrames(from start: Int, to end: Int, cipher: CipherID,
                                    head: (Int) -> UnsafeRawBufferPointer?) throws(SnapshotError) -> (frames: [ChunkFrame], plainBytes: Int) {
        let overhead = cipher == .none ? 0 : LogCipher.overheadBytes
        var frames: [ChunkFrame] = []
        var read = start, plain = 0
        var sawLast = false
        while read < end {
            guard !sawLast, end - read >= 5 else { throw .unusable("bad chunk framing") }
            guard let frame = head(read) else { throw .io("short read") }
            guard frame[0] <= 1 else { throw .unusable("bad chunk framing") }
            sawLast = frame[0] == 1
            let n = Int(UInt32(littleEndian: frame.loadUnaligned(fromByteOffset: 1, as: UInt32.self)))
            guard end - read - 5 >= n else { throw .unusable("bad chunk framing") }
            guard n >= overhead else { throw .unusable("chunk \(frames.count) does not authenticate") }
            frames.append(ChunkFrame(number: UInt64(frames.count), offset: read + 5, count: n, last: sawLast, plainOffset: plain))
            plain += n - overhead
            read += 5 + n
        }
        guard sawLast else { throw .unusable("missing last chunk") }
        return (frames, plain)
    }

    /// Opens one chunk's `stored` bytes and writes its plaintext at `out + frame.plainOffset`
    /// (which may overlap `stored`: uploads are opened in place).
    private static func openChunk(_ frame: ChunkFrame, _ stored: UnsafeRawBufferPointer, cipher: CipherID, key: SymmetricKey?,
                                  into out: UnsafeMutableRawPointer) throws(SnapshotError) {
        guard let key else {
            (out + frame.plainOffset).copyMemory(from: stored.baseAddress!, byteCount: stored.count)
            return
        }
        do {
            _ = try LogCipher.open(stored, cipher: cipher, key: key, associatedData: chunkAAD(frame.number, last: frame.last), into: out + frame.plainOffset)
        } catch {
            throw .unusable("chunk \(frame.number) does not authenticate")
        }
    }

    /// The items of a plaintext body, checked against the header's counts.
    private static func parsedContents(_ header: SnapshotHeader, _ body: UnsafeRawBufferPointer) throws(SnapshotError) -> SnapshotContents {
        let (sessions, tombstones) = try parseItems(body)
        guard sessions.count == header.sessionCount, tombstones.count == header.tombstoneCount else { throw .unusable("counts differ from the header") }
        return SnapshotContents(header: header, sessions: sessions, tombstones: tombstones)
    }

    /// Parses the plaintext body's items, a share of them per core: item boundaries are found
    /// first, then each share packs its sessions and routes them to their shards (SessionBatch).
    static func parseItems(_ body: UnsafeRawBufferPointer) throws(SnapshotError) -> (SessionBatch, [StoredTombstone]) {
        // Boundaries: where every item starts.
        var found: [Int] = []
        var offset = 0
        while offset < body.count {
            guard body.count - offset >= 5 else { throw .unusable("bad item framing") }
            let length = Int(UInt32(littleEndian: body.loadUnaligned(fromByteOffset: offset + 1, as: UInt32.self)))
            guard body.count - offset - 5 >= length else { throw .unusable("bad item framing") }
            found.append(offset)
            offset += 5 + length
        }
        let starts = found
        let shares = max(1, min(16, starts.count / 4096))
        let perShare = (starts.count + shares - 1) / shares
        // Each share's first session ordinal.
        var ordinals: [Int] = []
        var ordinal = 0
        for (k, start) in starts.enumerated() {
            if k % perShare == 0 { ordinals.append(ordinal) }
            if body[start] == itemSession || body[start] == itemPackedSession { ordinal += 1 }
        }
        while ordinals.count < shares { ordinals.append(ordinal) }
        let firstOrdinals = ordinals
        final class Share: @unchecked Sendable {
            var routes = SessionRoutes()
            var tombstones: [StoredTombstone] = []
            var failure: SnapshotError?
        }
        let results = (0..<shares).map { _ in Share() }
        let all = UncheckedRaw(body)
        DispatchQueue.concurrentPerform(iterations: shares) { w in
            let share = results[w]
            var routes = SessionRoutes(expected: perShare)
            defer { share.routes = routes }
            var next = Int32(firstOrdinals[w])
            for k in (w * perShare)..<min(starts.count, (w + 1) * perShare) {
                let start = starts[k]
                let end = k + 1 < starts.count ? starts[k + 1] : all.raw.count
                let item = UnsafeRawBufferPointer(rebasing: all.raw[(start + 5)..<end])
                switch all.raw[start] {
                case itemSession, itemPackedSession:
                    let parsed = all.raw[start] == itemSession ? StoredSession(snapshotItem: item) : StoredSession(packedItem: item)
                    guard let session = parsed else { share.failure = .unusable("bad session item"); return }
                    routes.add(session, ordinal: next)
                    next += 1
                case itemTombstone:
                    var t = BlobReader(item, offset: 0)
                    guard let id = t.checkedLengthPrefixed().flatMap(SessionKey.init(utf8:)),
                          let digest = t.checkedLengthPrefixed().flatMap(TokenDigest.init(utf8:)),
                          let revokedAt = t.checkedBytes(8), let expiresAt = t.checkedBytes(8), t.offset == item.count else {
                        share.failure = .unusable("bad tombstone item")
                        return
                    }
                    share.tombstones.append(StoredTombstone(session: id, digest: digest,
                                                            revokedAt: Int64(littleEndian: revokedAt.loadUnaligned(as: Int64.self)),
                                                            expiresAt: Int64(littleEndian: expiresAt.loadUnaligned(as: Int64.self))))
                default:
                    share.failure = .unusable("unknown item kind \(all.raw[start])")
                    return
                }
            }
        }
        if let failure = results.lazy.compactMap(\.failure).first { throw failure }
        return (SessionBatch(routes: results.map(\.routes)), results.flatMap(\.tombstones))
    }

    /// Creates `<directory>/<name>` durably from the pieces `produce` hands to its writer:
    /// temp file, fsync, rename, directory fsync. The temp file is removed on failure.
    static func writeDurably(directory: String, name: String,
                             produce: (_ put: ([UInt8]) throws(SnapshotError) -> Void) throws(SnapshotError) -> Void) throws(SnapshotError) {
        let tmp = "\(directory)/\(name).tmp", final = "\(directory)/\(name)"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io("cannot create \(tmp)") }
        // Written back as it goes (bytes_per_sync): each 8 MiB is handed to the disk once written
        // (without waiting), so the file never piles up as dirty pages that the kernel would
        // later throttle every writer for, the WAL included.
        var fileOffset = 0, flushedTo = 0
        do throws(SnapshotError) {
            try produce { (bytes: [UInt8]) throws(SnapshotError) in
                var written = 0
                while written < bytes.count {
                    let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
                    if n < 0 { if errno == EINTR { continue }; throw .io("write failed") }
                    written += n
                }
                fileOffset += bytes.count
                if fileOffset - flushedTo >= SnapshotFile.writeBackBytes {
                    #if os(Linux)
                    _ = linuxSyncFileRange(fd, Int64(flushedTo), Int64(fileOffset - flushedTo), SnapshotFile.syncWrite)
                    #endif
                    flushedTo = fileOffset
                }
            }
            guard fsync(fd) == 0 else { throw .io("fsync failed") }
        } catch {
            close(fd)
            unlink(tmp)
            throw error
        }
        close(fd)
        guard rename(tmp, final) == 0 else { unlink(tmp); throw .io("rename failed") }
        let dfd = open(directory, O_RDONLY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }
}
