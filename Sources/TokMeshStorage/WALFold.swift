// WALFold: the session WAL after a snapshot, folded to each session's final state, so recovery
// can load snapshot and log together in one bulk load instead of applying records one by one
// (spec/02 §6 step 4). Records carry post-images, so a session's last record decides it: its
// last image (kept if unexpired), or absence after a delete or a revoke. Records of different
// sessions interact only through token hashes, so the fold refuses (nil) whenever that order
// could matter: a token met under two session IDs, or a RESET (the caller then replays record
// by record). What the snapshot loses to the fold — sessions the log names, sessions holding a
// token an unexpired image takes over, tombstones of such tokens — is what replay would remove.
import TokMeshCore

public final class WALFold: Sendable {
    /// One replayed record, decoded.
    public enum Entry: Sendable {
        case image(StoredSession)
        case delete(SessionKey)
        case revoke(StoredTombstone)
        /// A RESET: the log cannot be folded.
        case reset
        /// Undecodable or non-canonical: skipped, as replay skips it.
        case skip
    }

    /// Every session the log names, with its final image (nil: deleted, revoked or expired).
    let finals: [SessionKey: StoredSession?]
    /// Tokens of unexpired images: a snapshot session holding one is superseded, a snapshot
    /// tombstone of one is cleared.
    let taken: Set<TokenKey>
    /// The last unexpired tombstone of each revoked token (replaces the snapshot's).
    let tombstones: [TokenKey: StoredTombstone]
    /// Every snapshot session and tombstone is asked about and nearly every answer is no, so a
    /// bitmap over each key's mixed bits answers most of them without a hash-table probe.
    private let keyFilter: BitFilter
    private let tokenFilter: BitFilter

    /// Folds `entries` (index order) as replay at `now` would apply them; nil when it cannot.
    public init?(_ entries: some Collection<Entry>, now: Int64) {
        var owner: [TokenKey: SessionKey] = [:], finals: [SessionKey: StoredSession?] = [:]
        var taken: Set<TokenKey> = [], tombstones: [TokenKey: StoredTombstone] = [:]
        owner.reserveCapacity(entries.count)
        finals.reserveCapacity(entries.count)
        taken.reserveCapacity(entries.count)
        func claim(_ token: TokenKey, by key: SessionKey) -> Bool {
            if let other = owner.updateValue(key, forKey: token), other != key { return false }
            return true
        }
        for entry in entries {
            switch entry {
            case .image(let s):
                guard claim(s.digest.key, by: s.key) else { return nil }
                if s.isExpired(now: now) {
                    finals[s.key] = .some(nil)
                } else {
                    finals[s.key] = s
                    taken.insert(s.digest.key)
                    if !tombstones.isEmpty { tombstones.removeValue(forKey: s.digest.key) }
                }
            case .delete(let key):
                finals[key] = .some(nil)
            case .revoke(let t):
                guard claim(t.digest.key, by: t.session) else { return nil }
                finals[t.session] = .some(nil)
                if t.expiresAt > now { tombstones[t.digest.key] = t }
            case .reset:
                return nil
            case .skip:
                break
            }
        }
        var keyFilter = BitFilter(entries: finals.count)
        for key in finals.keys { keyFilter.insert(key.mixed) }
        var tokenFilter = BitFilter(entries: taken.count + tombstones.count)
        for token in taken { tokenFilter.insert(token.mixed) }
        for token in tombstones.keys { tokenFilter.insert(token.mixed) }
        (self.finals, self.taken, self.tombstones, self.keyFilter, self.tokenFilter) = (finals, taken, tombstones, keyFilter, tokenFilter)
    }

    /// The final images that are live, for the bulk load after the snapshot's.
    var liveImages: [StoredSession] { finals.values.compactMap { $0 } }

    /// True when the log names the snapshot's session `key` (it gives way to the log's state).
    @inline(__always)
    func replaces(_ key: SessionKey) -> Bool { keyFilter.mayContain(key.mixed) && finals[key] != nil }

    /// True when the log takes over `token` (an unexpired image or a tombstone of its own).
    @inline(__always)
    func supersedes(token: TokenKey) -> Bool {
        tokenFilter.mayContain(token.mixed) && (taken.contains(token) || tombstones[token] != nil)
    }
}

/// A one-hash Bloom filter: about 32 bits per entry (a few percent false positives).
struct BitFilter: Sendable {
    private var words: [UInt64]
    private let mask: Int

    init(entries: Int) {
        var bits = 1 << 10
        while bits < entries * 32 && bits < 1 << 26 { bits <<= 1 }
        words = [UInt64](repeating: 0, count: bits / 64)
        mask = bits - 1
    }

    // The low bits choose shards; the filter takes bits above them.
    @inline(__always)
    private func position(_ mixed: UInt64) -> Int { Int(truncatingIfNeeded: mixed >> 20) & mask }

    mutating func insert(_ mixed: UInt64) {
        let i = position(mixed)
        words[i >> 6] |= 1 << UInt64(i & 63)
    }

    @inline(__always)
    func mayContain(_ mixed: UInt64) -> Bool {
        let i = position(mixed)
        return words[i >> 6] & (1 << UInt64(i & 63)) != 0
    }
}
