// Tests of snapshot files (spec/02 §5.1): round trip in plaintext and under both ciphers, the
// header readable without the key, a flipped byte anywhere refused, a wrong key refused, and a
// cut of a live engine loading back into an empty one.
import Crypto
import Foundation
import Testing
@testable import TokMeshCore
@testable import TokMeshStorage

@Suite struct SnapshotFileTests {
    static let key: [UInt8] = (0..<32).map { UInt8(255 - $0) }

    func header(_ cipher: CipherID, sessions: Int, tombstones: Int) -> SnapshotHeader {
        SnapshotHeader(snapshotID: "snap-20261127-050000", trigger: "manual", description: "test", createdAt: 1_795_000_000_000,
                       nodeID: "tmnd-test", walPosition: 42, sessionCount: sessions, tombstoneCount: tombstones, cipher: cipher,
                       keyFingerprint: cipher == .none ? [UInt8](repeating: 0, count: 16) : LogCipher.fingerprint(masterKey: Self.key),
                       salt: [UInt8](repeating: 3, count: 32))
    }

    func sample(_ n: Int) -> ([Session], [Tombstone]) {
        let sessions = (0..<n).map { i -> Session in
            var s = makeSession(i, user: "user-\(i)", ttl: 3_600_000)
            s.data = ["marker": "PLAINTEXT-\(i)", "é": String(repeating: "x", count: i % 300)]
            return s
        }
        let tombstones = (0..<n / 10).map {
            Tombstone(tokenHash: Identifiers.tokenHash("revoked-\($0)"), sessionID: try! Identifiers.newSessionID(nowMillis: 5),
                      revokedAt: 5, expiresAt: 9_999_999_999_999)
        }
        return (sessions, tombstones)
    }

    func pack(_ sample: ([Session], [Tombstone])) -> ([StoredSession], [StoredTombstone]) {
        (sample.0.map { StoredSession($0)! }, sample.1.map { StoredTombstone($0)! })
    }

    @Test("round trip, with chunks spanning 1 MiB", arguments: [CipherID.none, .aes256GCM, .chaCha20Poly1305])
    func roundTrip(cipher: CipherID) throws {
        let (sessions, tombstones) = pack(sample(6000))
        let bytes = try SnapshotFile.encode(header: header(cipher, sessions: 6000, tombstones: 600), sessions: sessions,
                                            tombstones: tombstones, masterKey: Self.key)
        #expect(bytes.count > SnapshotFile.chunkBytesMax)
        let back = try SnapshotFile.decode(bytes, masterKey: Self.key)
        let decoded: [Session] = back.sessions.sessions.map(\.session).sorted { $0.id < $1.id }
        let written: [Session] = sessions.map(\.session).sorted { $0.id < $1.id }
        #expect(back.sessions.count == 6000)
        #expect(decoded == written)
        #expect(back.tombstones == tombstones && back.header.walPosition == 42)
        #expect(try SnapshotFile.readHeader(bytes).snapshotID == "snap-20261127-050000")
        if cipher != .none {
            #expect(!String(decoding: bytes, as: UTF8.self).contains("PLAINTEXT-"))
            #expect(throws: SnapshotError.wrongKey) { try SnapshotFile.decode(bytes, masterKey: [UInt8](repeating: 1, count: 32)) }
        }
    }

    @Test("format version 1 (text session items) still decodes to the same state as version 2 (packed items)")
    func formatVersions() throws {
        let (sessions, tombstones) = pack(sample(3000))
        var old = header(.aes256GCM, sessions: 3000, tombstones: 300)
        old.formatVersion = 1
        let v1 = try SnapshotFile.encode(header: old, sessions: sessions, tombstones: tombstones, masterKey: Self.key)
        let v2 = try SnapshotFile.encode(header: header(.aes256GCM, sessions: 3000, tombstones: 300), sessions: sessions,
                                         tombstones: tombstones, masterKey: Self.key)
        #expect(try SnapshotFile.readHeader(v1).formatVersion == 1 && SnapshotFile.readHeader(v2).formatVersion == 2)
        #expect(v2.count < v1.count, "packed items are smaller than text ones")
        for bytes in [v1, v2] {
            let back = try SnapshotFile.decode(bytes, masterKey: Self.key)
            #expect(back.sessions.sessions.map(\.blob).sorted { $0.lexicographicallyPrecedes($1) } == sessions.map(\.blob).sorted { $0.lexicographicallyPrecedes($1) })
            #expect(back.tombstones == tombstones)
        }
    }

    @Test("a packed session item is refused when truncated, extended, non-minimal, non-UTF-8 or with a repeated data key")
    func packedItems() throws {
        var s = sample(3).0[2]
        s.data = ["a": "1", "b": String(repeating: "x", count: 200), "c": "3"]
        let blob = try #require(StoredSession(s)).blob
        func accepts(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { StoredSession(packedItem: $0) } != nil }
        #expect(accepts(blob))
        #expect(blob.withUnsafeBytes { StoredSession(packedItem: $0) }?.session == s)
        for n in 0..<blob.count { #expect(!accepts(Array(blob.prefix(n))), "cut at \(n)") }
        #expect(!accepts(blob + [0]))
        // Offsets into the strings after the 80 fixed bytes: user_id's length byte, then its bytes.
        let userLength = Int(blob[80])
        var bad = blob
        bad[81] = 0xFF  // not UTF-8
        #expect(!accepts(bad))
        bad = blob
        bad.replaceSubrange(80...80, with: [UInt8(userLength) | 0x80, 0])  // the same length in two bytes
        #expect(!accepts(bad))
        var unordered = s
        unordered.data = ["a": "1", "c": "3"]
        var swapped = try #require(StoredSession(unordered)).blob
        // The last four bytes are "a" "1" "c" "3" as 1-byte strings: swap the two pairs.
        let tail = Array(swapped.suffix(8))
        swapped.replaceSubrange((swapped.count - 8)..., with: Array(tail[4...]) + Array(tail[..<4]))
        #expect(swapped.withUnsafeBytes { StoredSession(packedItem: $0) }?.session.data == unordered.data, "keys in another order")
        swapped.replaceSubrange((swapped.count - 8)..., with: Array(tail[..<4]) + Array(tail[..<4]))
        #expect(!accepts(swapped), "a repeated key")
        // Random damage never crashes; whatever is accepted is a session that renders.
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var damaged = blob
            for _ in 0..<Int.random(in: 1...3, using: &rng) { damaged[Int.random(in: 0..<damaged.count, using: &rng)] = .random(in: 0...255, using: &rng) }
            if let back = damaged.withUnsafeBytes({ StoredSession(packedItem: $0) }) {
                #expect(StoredSession(back.session) != nil)
            }
        }
    }

    @Test("a flipped byte anywhere makes the file unusable")
    func tampering() throws {
        let (sessions, tombstones) = pack(sample(50))
        let bytes = try SnapshotFile.encode(header: header(.aes256GCM, sessions: 50, tombstones: 5), sessions: sessions,
                                            tombstones: tombstones, masterKey: Self.key)
        for position in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 97)) {
            var damaged = bytes
            damaged[position] ^= 0x01
            #expect(throws: SnapshotError.self, "byte \(position)") { try SnapshotFile.decode(damaged, masterKey: Self.key) }
        }
        #expect(throws: SnapshotError.self) { try SnapshotFile.decode(Array("hello, not a backup".utf8), masterKey: Self.key) }
    }

    @Test("read(path:) checks the trailer on another thread: a good file decodes, any altered byte is refused as a checksum mismatch",
          arguments: [CipherID.none, .aes256GCM])
    func readFromFile(cipher: CipherID) throws {
        let (sessions, tombstones) = pack(sample(6000))
        let bytes = try SnapshotFile.encode(header: header(cipher, sessions: 6000, tombstones: 600), sessions: sessions,
                                            tombstones: tombstones, masterKey: Self.key)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("snap-\(UUID().uuidString).snap").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let back = try SnapshotFile.read(path: path, masterKey: Self.key)
        #expect(back.sessions.count == 6000 && back.tombstones == tombstones)
        #expect(back.sessions.sessions.map(\.blob).sorted { $0.lexicographicallyPrecedes($1) }
                == sessions.map(\.blob).sorted { $0.lexicographicallyPrecedes($1) })
        // Body, chunk framing, header and trailer: each one byte off is a checksum mismatch
        // (decoding may fail too, or not at all for a plaintext byte).
        for position in [bytes.count / 2, SnapshotFile.magic.count + 4 + 10, bytes.count - 40, bytes.count - 1] {
            var damaged = bytes
            damaged[position] ^= 0x20
            try Data(damaged).write(to: URL(fileURLWithPath: path))
            #expect(throws: SnapshotError.unusable("checksum mismatch"), "byte \(position)") { try SnapshotFile.read(path: path, masterKey: Self.key) }
        }
        try Data(bytes.prefix(20)).write(to: URL(fileURLWithPath: path))
        #expect(throws: SnapshotError.self) { try SnapshotFile.read(path: path, masterKey: Self.key) }
        #expect(throws: SnapshotError.self) { try SnapshotFile.read(path: path + ".missing", masterKey: Self.key) }
    }

    @Test("behind a valid checksum, an altered or reordered chunk fails its own authentication", arguments: [CipherID.aes256GCM, .chaCha20Poly1305])
    func chunkAuthentication(cipher: CipherID) throws {
        let (sessions, tombstones) = pack(sample(6000))
        let bytes = try SnapshotFile.encode(header: header(cipher, sessions: 6000, tombstones: 600), sessions: sessions,
                                            tombstones: tombstones, masterKey: Self.key)
        func resealed(_ change: (inout [UInt8]) -> Void) -> [UInt8] {
            var body = Array(bytes.dropLast(32))
            change(&body)
            return body + Array(SHA256.hash(data: body))
        }
        // The middle of the file is ciphertext of the first chunk (> 1 MiB of plaintext in all).
        let altered = resealed { $0[$0.count / 3] ^= 0x40 }
        #expect(throws: SnapshotError.unusable("chunk 0 does not authenticate")) { try SnapshotFile.decode(altered, masterKey: Self.key) }
        // Marking the first chunk as the last one changes its associated data.
        let headerLength = Int(UInt32(bytes[14]) | UInt32(bytes[15]) << 8 | UInt32(bytes[16]) << 16 | UInt32(bytes[17]) << 24)
        let firstFrame = SnapshotFile.magic.count + 4 + headerLength
        #expect(bytes[firstFrame] == 0)
        let flagged = resealed { $0[firstFrame] = 1 }
        #expect(throws: SnapshotError.self) { try SnapshotFile.decode(flagged, masterKey: Self.key) }
    }

    @Test("a packed session unpacks to the same value, and its snapshot item packs back to the same bytes")
    func packedSessions() throws {
        let (sessions, tombstones) = sample(400)
        for var s in sessions {
            s.lastAccessIP = "::1"
            s.lastAccessUA = String(repeating: "ü", count: 200)
            s.version = 7
            s.lastActive = 1234
            s.userAgent = "quote \" backslash \\ tab \t nul \u{0} del \u{7F} é"
            s.data["k\"ey"] = "v\nal"
            let stored = try #require(StoredSession(s))
            #expect(stored.session == s && stored.expiresAt == s.expiresAt && stored.userID == s.userID)
            // RESP GET renders JSON straight from the packed bytes: the same bytes as HTTP.
            for now in [s.expiresAt - 1, s.expiresAt] {
                var packed: [UInt8] = [], unpacked: [UInt8] = []
                stored.writeJSON(now: now, into: &packed)
                s.writeJSON(now: now, into: &unpacked)
                #expect(packed == unpacked)
                #expect(unpacked == JSONWriter.write(s.json(now: now)))
            }
            var item: [UInt8] = []
            stored.appendSnapshotItem(to: &item)
            var legacy: [UInt8] = []
            WALRecord.encode(s, into: &legacy)
            #expect(Array(item.dropFirst(5)) == legacy, "the snapshot item keeps the TOKMESH_BAK_V1 session encoding")
            let back = legacy.withUnsafeBytes { StoredSession(snapshotItem: $0) }
            #expect(back?.blob == stored.blob)
            #expect(legacy.dropLast().withUnsafeBytes { StoredSession(snapshotItem: $0) } == nil)
        }
        for t in tombstones { #expect(StoredTombstone(t)?.tombstone == t) }
        // Data keys out of byte order are sorted on the way in; a repeated key is refused.
        var s = sessions[1]
        s.data = ["b": "2", "a": "1", "c": "3"]
        var item: [UInt8] = []
        WALRecord.encode(s, into: &item)
        item.removeLast(3 * 10)
        for (k, v) in [("c", "3"), ("a", "1"), ("b", "2")] { WALRecord.encode(k, into: &item); WALRecord.encode(v, into: &item) }
        #expect(item.withUnsafeBytes { StoredSession(snapshotItem: $0) }?.blob == StoredSession(s)?.blob)
        item.removeLast(10)
        WALRecord.encode("a", into: &item); WALRecord.encode("2", into: &item)
        #expect(item.withUnsafeBytes { StoredSession(snapshotItem: $0) } == nil)
        var bad = sessions[0]
        bad.id = "tmss-not-a-ulid"
        #expect(StoredSession(bad) == nil)
        bad = sessions[0]
        bad.tokenHash = "tmth_" + String(repeating: "G", count: 64)
        #expect(StoredSession(bad) == nil)
    }

    @Test("a load keeps the first holder of a repeated ID or token and leaves every index consistent")
    func loadWithRepeats() throws {
        let base = (0..<3000).map { makeSession($0, user: "u\($0 % 50)", device: $0 % 3 == 0 ? "d\($0 % 7)" : "") }
        var sameID = base[10]
        sameID.tokenHash = Identifiers.tokenHash("other-token")
        var sameToken = makeSession(10, user: "intruder")
        sameToken.id = try Identifiers.newSessionID(nowMillis: 1000)
        let revoked = Tombstone(tokenHash: base[20].tokenHash, sessionID: base[20].id, revokedAt: 1000, expiresAt: 999_999)
        let engine = SessionEngine(shardCount: 16)
        engine.load(sessions: (base + [sameID, sameToken]).map { StoredSession($0)! }, tombstones: [StoredTombstone(revoked)!], now: 1000)
        #expect(engine.consistencyProblems().isEmpty)
        #expect(engine.stats(now: 1000) == EngineStats(totalSessions: 3000, activeSessions: 3000, tombstones: 0))
        #expect(engine.get(base[10].id, now: 1000) == .live(base[10]))
        #expect(engine.validate(tokenHash: base[10].tokenHash, now: 1000) == .live(base[10]))
        #expect(engine.sessionIDs(ofUser: "intruder").isEmpty && engine.sessionIDs(ofUser: "u7").count == 60)
        #expect(engine.sessionIDs(ofDevice: "d0").count == base.filter { $0.deviceID == "d0" }.count)
        #expect(engine.sessionIDs(ofCreator: "tmak-test").count == 3000)
    }

    @Test("seeded: the bulk load keeps exactly the sessions whose ID and token no earlier session carries, at 16 and 256 shards")
    func loadModel() throws {
        var rng = SystemRandomNumberGenerator()
        let seed = UInt64.random(in: 0...UInt64.max, using: &rng)
        var g = SplitMix64(seed: seed)
        for shards in [16, 256] {
            let ids = (0..<400).map { _ in try! Identifiers.newSessionID(nowMillis: 1000) }
            var sessions: [Session] = []
            for n in 0..<3000 {
                var s = makeSession(Int.random(in: 0..<2500, using: &g), user: "u\(Int.random(in: 0..<300, using: &g))",
                                    device: Bool.random(using: &g) ? "d\(n % 5)" : "", ttl: Int64.random(in: -500...5000, using: &g))
                s.id = ids[Int.random(in: 0..<ids.count, using: &g)]
                if s.expiresAt <= s.createdAt { s.expiresAt = s.createdAt + 1 }
                sessions.append(s)
            }
            let now: Int64 = 2000
            var seenIDs = Set<String>(), seenTokens = Set<String>()
            var kept: [String: Session] = [:]
            for s in sessions where !s.isExpired(now: now) {
                if !seenIDs.contains(s.id) && !seenTokens.contains(s.tokenHash) { kept[s.id] = s }
                seenIDs.insert(s.id)
                seenTokens.insert(s.tokenHash)
            }
            let engine = SessionEngine(shardCount: shards)
            engine.load(sessions: sessions.map { StoredSession($0)! }, tombstones: [], now: now)
            #expect(engine.consistencyProblems().isEmpty, "seed \(seed)")
            let held = Dictionary(uniqueKeysWithValues: engine.scan { _ in true }.map { ($0.id, $0) })
            #expect(held == kept, "seed \(seed), \(shards) shards")
            for s in kept.values { #expect(engine.validate(tokenHash: s.tokenHash, now: now) == .live(s), "seed \(seed)") }
        }
    }

    @Test("a cut of a live engine loads back into an empty one")
    func cutAndLoad() throws {
        let engine = SessionEngine(shardCount: 16)
        for i in 0..<500 { try engine.create(makeSession(i, user: "u\(i % 9)", ttl: i % 7 == 0 ? 100 : 600_000), maxPerUser: 1000, now: 1000) }
        let live = engine.scan { _ in true }.filter { !$0.isExpired(now: 2000) }
        for s in live.prefix(20) { _ = try engine.revoke(s.id, now: 2000) }
        let cut = engine.snapshotCut(now: 2000)
        let restored = SessionEngine(shardCount: 16)
        restored.load(sessions: cut.sessions, tombstones: cut.tombstones, now: 2000)
        #expect(restored.stats(now: 2000) == EngineStats(totalSessions: live.count - 20, activeSessions: live.count - 20, tombstones: 20))
        #expect(restored.consistencyProblems().isEmpty)
        #expect(restored.validate(tokenHash: live[0].tokenHash, now: 2000) == .revoked(revokedAt: 2000))
    }
}

