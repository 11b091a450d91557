// Tests of recovery's folded load (WALFold.swift, spec/02 §6 step 4): for random snapshots and
// logs — creates, updates (some expiring), deletes, revokes, tokens moving between sessions —
// loading the snapshot with the folded log gives exactly the state that loading it and then
// replaying every record gives: sessions, tombstones, token answers and every index. A fold
// refuses only logs whose order matters (a token under two IDs, a RESET).
import Testing
@testable import TokMeshCore
@testable import TokMeshStorage

@Suite struct WALFoldTests {
    static let now: Int64 = 100_000

    /// Everything observable about an engine's state, as sorted lines.
    static func observable(_ e: SessionEngine, tokens: [String], names: [String]) -> [String] {
        let cut = e.snapshotCut(now: now)
        var lines = cut.sessions.map { "session \($0.key.string) \($0.blob)" }
        lines += cut.tombstones.map { "tombstone \($0.digest.string) \($0.session.string) \($0.revokedAt) \($0.expiresAt)" }
        for token in tokens { lines.append("validate \(token) \(e.validate(tokenHash: token, now: now))") }
        for name in names {
            lines.append("user \(name) \(e.sessionIDs(ofUser: name).sorted())")
            lines.append("device \(name) \(e.sessionIDs(ofDevice: name).sorted())")
            lines.append("creator \(name) \(e.sessionIDs(ofCreator: name).sorted())")
        }
        lines.append("stats \(e.stats(now: now))")
        return lines.sorted() + e.consistencyProblems()
    }

    @Test("folded load == snapshot load + record-by-record replay, for 300 random logs")
    func foldEqualsReplay() throws {
        var folded = 0, refused = 0
        for seed in 1...300 {
            var rng = SplitMix64(seed: UInt64(seed))
            let names = ["a", "b", "c"]
            var tokenNumber = 0
            func newToken() -> String { tokenNumber += 1; return Identifiers.tokenHash("seed-\(seed)-token-\(tokenNumber)") }
            func session(_ id: String? = nil, token: String? = nil, expires: Int64? = nil) -> Session {
                Session(id: id ?? (try! Identifiers.newSessionID(nowMillis: 1000)), userID: names.randomElement(using: &rng)!,
                        tokenHash: token ?? newToken(), ipAddress: "10.0.0.1", userAgent: "t",
                        deviceID: ["", "a", "b"].randomElement(using: &rng)!, createdBy: names.randomElement(using: &rng)!,
                        createdAt: 1000, expiresAt: expires ?? Self.now + Int64.random(in: -5_000...50_000, using: &rng), data: [:])
            }
            // The snapshot: sessions (some expired by now) and tombstones of tokens nobody holds.
            var snapshot = (0..<Int.random(in: 0...40, using: &rng)).map { _ in session() }
            let snapshotTombstones = (0..<Int.random(in: 0...4, using: &rng)).map { _ in
                StoredTombstone(Tombstone(tokenHash: newToken(), sessionID: try! Identifiers.newSessionID(nowMillis: 1000), revokedAt: 500,
                                          expiresAt: Self.now + Int64.random(in: -1000...9000, using: &rng)))!
            }
            // The log, over the sessions it knows (from the snapshot and its own creates).
            var known = snapshot
            var freedTokens = snapshotTombstones.map(\.digest.string) + [newToken()]
            var records: [WALRecord] = []
            for _ in 0..<Int.random(in: 0...60, using: &rng) {
                switch Int.random(in: 0..<100, using: &rng) {
                case 0..<30:
                    let s = session()
                    known.append(s)
                    records.append(.create(time: 1, session: s))
                case 30..<55 where !known.isEmpty:
                    var s = known.randomElement(using: &rng)!
                    s.version += 1
                    s.expiresAt = Self.now + Int64.random(in: -3000...60_000, using: &rng)
                    s.data = ["n": String(records.count)]
                    records.append(.update(time: 2, session: s))
                case 55..<70 where !known.isEmpty:
                    let s = known.randomElement(using: &rng)!
                    records.append(.delete(time: 3, sessionID: s.id, reason: .expired))
                    freedTokens.append(s.tokenHash)
                case 70..<85 where !known.isEmpty:
                    let s = known.randomElement(using: &rng)!
                    records.append(.revoke(time: 4, tombstone: Tombstone(tokenHash: s.tokenHash, sessionID: s.id, revokedAt: 4,
                                                                          expiresAt: Self.now + Int64.random(in: -2000...9000, using: &rng))))
                    freedTokens.append(s.tokenHash)
                case 85..<87 where !freedTokens.isEmpty:
                    // A token given up earlier, taken by a new session (a client-chosen token).
                    let s = session(token: freedTokens.randomElement(using: &rng)!)
                    known.append(s)
                    records.append(.create(time: 5, session: s))
                case 87..<89 where !snapshot.isEmpty:
                    // A token a snapshot session still holds (replay supersedes that session).
                    let s = session(token: snapshot.randomElement(using: &rng)!.tokenHash)
                    known.append(s)
                    records.append(.create(time: 5, session: s))
                case 89..<96:
                    records.append(.delete(time: 6, sessionID: try! Identifiers.newSessionID(nowMillis: 1000), reason: .expired))
                default:
                    if Int.random(in: 0..<20, using: &rng) == 0 { records.append(.reset(time: 7, snapshotID: "snap-x")) }
                }
            }
            if Int.random(in: 0..<4, using: &rng) == 0 { snapshot.shuffle(using: &rng) }
            let stored = snapshot.map { StoredSession($0)! }
            let tokens = known.map(\.tokenHash) + snapshotTombstones.map(\.digest.string)
            let allNames = names + [""]

            let replayed = SessionEngine(shardCount: 8)
            replayed.load(SessionBatch(stored), tombstones: snapshotTombstones, now: Self.now)
            for record in records where record.type != WALRecord.typeReset { replayed.apply(record, now: Self.now) }

            let entries: [WALFold.Entry] = records.map { record in
                switch record {
                case .create(_, let s), .update(_, let s): .image(StoredSession(s)!)
                case .delete(_, let id, _): .delete(SessionKey(id)!)
                case .revoke(_, let t): .revoke(StoredTombstone(t)!)
                case .reset: .reset
                }
            }
            guard let fold = WALFold(entries, now: Self.now) else {
                refused += 1
                let tokenOwners = Dictionary(grouping: records.compactMap { r -> (String, String)? in
                    switch r {
                    case .create(_, let s), .update(_, let s): (s.tokenHash, s.id)
                    case .revoke(_, let t): (t.tokenHash, t.sessionID)
                    default: nil
                    }
                }, by: \.0).mapValues { Set($0.map(\.1)) }
                #expect(records.contains { $0.type == WALRecord.typeReset } || tokenOwners.values.contains { $0.count > 1 },
                        "seed \(seed): a fold was refused without a reason")
                continue
            }
            #expect(!records.contains { $0.type == WALRecord.typeReset })
            folded += 1
            let loaded = SessionEngine(shardCount: 8)
            loaded.load(SessionBatch(stored), tombstones: snapshotTombstones, now: Self.now, replayedOver: fold)
            let want = Self.observable(replayed, tokens: tokens, names: allNames)
            let got = Self.observable(loaded, tokens: tokens, names: allNames)
            #expect(got == want, "seed \(seed): \(Set(got).symmetricDifference(Set(want)).sorted().prefix(6))")
        }
        // Both paths were exercised.
        #expect(folded > 150 && refused > 10, "folded \(folded), refused \(refused)")
    }
}
