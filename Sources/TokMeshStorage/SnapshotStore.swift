// SnapshotStore: the snapshot directory (spec/02 §5-§6). Creates snapshots without stopping
// writes (note the last assigned WAL index P, cut the shards, wait until the log is durable up
// to P, write the file durably), lists them newest first, picks the newest valid one as the
// recovery base (falling back to older ones), applies retention, and compacts the WAL: segments
// whose records all precede the second-newest snapshot's position are deleted (§3.7).
import Crypto
import Foundation
import Synchronization
import TokMeshCore

public struct SnapshotInfo: Sendable, Equatable {
    public var snapshotID: String
    public var trigger: String
    public var description: String
    public var createdAt: Int64
    public var sizeBytes: Int
    public var sessionCount: Int
    public var encrypted: Bool
    /// `sha256:<hex of the trailer>`.
    public var checksum: String
    public var walPosition: UInt64

    public var json: JSONObject {
        ["snapshot_id": .string(snapshotID), "trigger": .string(trigger), "description": .string(description),
         "created_at": .int(createdAt), "size_bytes": .int(Int64(sizeBytes)), "session_count": .int(Int64(sessionCount)),
         "encrypted": .bool(encrypted), "checksum": .string(checksum)]
    }
}

public final class SnapshotStore: Sendable {
    public let directory: String
    private let masterKey: [UInt8]?
    private let cipher: CipherID
    private let nodeID: String
    private let running = Mutex(false)

    /// A snapshot is being written now (INFO `bgsave_in_progress`).
    public var isWriting: Bool { running.withLock { $0 } }

    public init(directory: String, masterKey: [UInt8]?, cipher: CipherID, nodeID: String) throws {
        self.directory = directory
        self.masterKey = masterKey
        self.cipher = masterKey == nil ? .none : cipher
        self.nodeID = nodeID
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        // Leftover temporary files of an interrupted snapshot are deleted at start (§5.2).
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasSuffix(".snap.tmp") {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }

    /// The listing entry of a file, from its header and stored trailer (not verified here).
    private func info(_ name: String) -> SnapshotInfo? {
        guard let (header, size, trailer) = try? SnapshotFile.peek(path: directory + "/" + name) else { return nil }
        // The file name is the ID (a backup copied in as `<id>.snap` is listed under that name).
        return SnapshotInfo(snapshotID: String(name.dropLast(5)), trigger: header.trigger, description: header.description,
                            createdAt: header.createdAt, sizeBytes: size, sessionCount: header.sessionCount,
                            encrypted: header.cipher != .none, checksum: "sha256:" + Identifiers.hex(trailer),
                            walPosition: header.walPosition)
    }

    private var fileNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".snap") }
    }

    /// Readable snapshots, newest first (by header `created_at`, then ID).
    public func list() -> [SnapshotInfo] {
        fileNames.compactMap(info).sorted { ($0.createdAt, $0.snapshotID) > ($1.createdAt, $1.snapshotID) }
    }

    /// The newest snapshot that fully verifies; `onFailure` hears about each one skipped
    /// (files whose header or checksum fails first, then any whose body fails).
    public func newestValid(onFailure: (String, SnapshotError) -> Void) -> SnapshotContents? {
        for name in fileNames {
            do { _ = try SnapshotFile.peek(path: directory + "/" + name) } catch { onFailure(String(name.dropLast(5)), error) }
        }
        for candidate in list() {
            do {
                return try contents(of: candidate.snapshotID)
            } catch {
                onFailure(candidate.snapshotID, error)
            }
        }
        return nil
    }

    /// `snap-YYYYMMDD-HHMMSS` (UTC), `-2`, `-3`… when that second is taken.
    func newID(now: Int64) -> String {
        let taken = Set(fileNames.map { String($0.dropLast(5)) })
        return CivilTime.stampedID("snap", unixMillis: now, isTaken: taken.contains)
    }

    public enum CreateError: Error, Sendable, Equatable {
        /// Another snapshot is being written (TM-ADMIN-4091).
        case busy
        case failed(String)
    }

    /// Writes a snapshot of `engine` reflecting every record up to the writer's last assigned
    /// index. Blocking (cut, encode, fsync): call it off the event loops.
    public func create(engine: SessionEngine, writer: LogWriter, trigger: String, description: String, now: Int64) throws(CreateError) -> SnapshotInfo {
        try exclusively { () throws(CreateError) -> SnapshotInfo in
            let position = writer.lastAssignedIndex
            let cut = engine.snapshotCut(now: now)
            do {
                // The file must never reflect a record the log could still lose.
                try writer.waitAcknowledged(position, durable: true)
            } catch {
                throw .failed("the log is not durable: \(error)")
            }
            return try write(sessions: cut.sessions, tombstones: cut.tombstones, position: position, trigger: trigger,
                             description: description, now: now)
        }
    }

    /// Writes given contents as a snapshot at `position` (the `restore` snapshot of spec/02 §7
    /// step 4: the restored state, to be named by a RESET record after `position`).
    public func create(contents: SnapshotContents, position: UInt64, trigger: String, description: String, now: Int64) throws(CreateError) -> SnapshotInfo {
        try exclusively { () throws(CreateError) -> SnapshotInfo in
            try write(sessions: contents.sessions.sessions, tombstones: contents.tombstones, position: position, trigger: trigger,
                      description: description, now: now)
        }
    }

    /// Runs `body` as the one snapshot being written (§5.2), or throws `.busy`.
    private func exclusively(_ body: () throws(CreateError) -> SnapshotInfo) throws(CreateError) -> SnapshotInfo {
        guard running.withLock({ r -> Bool in
            if r { return false }
            r = true
            return true
        }) else { throw .busy }
        defer { running.withLock { $0 = false } }
        return try body()
    }

    private func write(sessions: [StoredSession], tombstones: [StoredTombstone], position: UInt64, trigger: String, description: String,
                       now: Int64) throws(CreateError) -> SnapshotInfo {
        let id = newID(now: now)
        let salt: [UInt8]
        do { salt = try SecureRandom.bytes(32) } catch { throw .failed("CSPRNG failure") }
        let header = SnapshotHeader(snapshotID: id, trigger: trigger, description: description, createdAt: now, nodeID: nodeID,
                                    walPosition: position, sessionCount: sessions.count, tombstoneCount: tombstones.count,
                                    cipher: cipher, keyFingerprint: fingerprint ?? [UInt8](repeating: 0, count: 16), salt: salt)
        do {
            try SnapshotFile.writeDurably(directory: directory, name: id + ".snap") { (put: ([UInt8]) throws(SnapshotError) -> Void) throws(SnapshotError) in
                do {
                    try SnapshotFile.encode(header: header, sessions: sessions, tombstones: tombstones, masterKey: masterKey) { try put($0) }
                } catch let error as SnapshotError {
                    throw error
                } catch {
                    throw .io("sealing failed: \(error)")
                }
            }
        } catch {
            throw .failed("\(error)")
        }
        guard let written = info(id + ".snap") else { throw .failed("the new snapshot cannot be read back") }
        return written
    }

    /// This node's key fingerprint (nil when encryption is off).
    public var fingerprint: [UInt8]? { masterKey.map { LogCipher.fingerprint(masterKey: $0) } }

    /// The path of snapshot `id`, if `id` is a plain file name stem and the file exists.
    public func path(of id: String) -> String? {
        guard !id.isEmpty, id.utf8.count <= 128, !id.hasPrefix("."),
              id.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
                  || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                  || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) else { return nil }
        let path = "\(directory)/\(id).snap"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// Checks a backup file before a restore is accepted (spec/02 §7): magic, header, trailer,
    /// and that an encrypted file was sealed under this node's key. Returns its header.
    public func checkUsable(_ bytes: [UInt8]) throws(SnapshotError) -> SnapshotHeader {
        let header = try SnapshotFile.readHeader(bytes)
        if header.cipher != .none && fingerprint != header.keyFingerprint { throw .wrongKey }
        return header
    }

    /// Verifies and decodes the snapshot named `id` (a RESET record's target).
    public func contents(of id: String) throws(SnapshotError) -> SnapshotContents {
        guard let path = path(of: id) else { throw .io("snapshot \(id) is missing") }
        return try SnapshotFile.read(path: path, masterKey: masterKey)
    }

    /// Decodes a backup file's bytes with this node's key.
    public func decode(_ bytes: [UInt8]) throws(SnapshotError) -> SnapshotContents {
        try SnapshotFile.decode(bytes, masterKey: masterKey)
    }

    /// Keeps the newest `count` ∪ those younger than `days` ∪ `protected` (snapshots named by a
    /// RESET record still in the log) (spec/02 §5.4); returns deleted IDs. Files whose header
    /// cannot be read are never deleted.
    @discardableResult
    public func applyRetention(count: Int, days: Int, now: Int64, protected: Set<String> = []) -> [String] {
        let all = list()
        var deleted: [String] = []
        for (position, snapshot) in all.enumerated() where position >= max(1, count) && !protected.contains(snapshot.snapshotID) {
            guard now - snapshot.createdAt >= Int64(days) * 86_400_000 else { continue }
            if (try? FileManager.default.removeItem(atPath: "\(directory)/\(snapshot.snapshotID).snap")) != nil { deleted.append(snapshot.snapshotID) }
        }
        return deleted
    }

    /// Deletes WAL segments whose records all precede the second-newest snapshot's position
    /// (all are kept while fewer than two snapshots exist), never the segment being written.
    /// Returns the deleted file names and the first index a recovery can still need (records
    /// before it are never replayed again).
    @discardableResult
    public func compactWAL(directory walDirectory: String, prefix: String) -> (deleted: [String], keepFrom: UInt64) {
        let snapshots = list()
        guard snapshots.count >= 2 else { return ([], 0) }
        let keepFrom = snapshots[1].walPosition + 1  // the first record a fallback by one snapshot needs
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: walDirectory)) ?? [])
            .filter { $0.hasPrefix(prefix + "-") && $0.hasSuffix(".log") }.sorted()
        var firstIndexes: [UInt64] = []
        for name in names {
            guard let handle = FileHandle(forReadingAtPath: walDirectory + "/" + name) else { return ([], 0) }
            let head = (try? handle.read(upToCount: SegmentHeader.byteCount)) ?? Data()
            try? handle.close()
            guard let header = try? SegmentHeader.decode([UInt8](head)) else { return ([], 0) }
            firstIndexes.append(header.firstIndex)
        }
        var deleted: [String] = []
        // Segment k holds [first_k, first_{k+1} - 1]; the newest segment is never deleted.
        for k in 0..<max(0, names.count - 1) where firstIndexes[k + 1] <= keepFrom {
            if (try? FileManager.default.removeItem(atPath: walDirectory + "/" + names[k])) != nil { deleted.append(names[k]) }
        }
        return (deleted, keepFrom)
    }
}
