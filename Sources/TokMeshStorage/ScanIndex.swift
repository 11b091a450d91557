// ScanIndex: one shard's sessions ordered by ring position `murmur3(session_id)` (spec/07 §8),
// ties by ID, for RESP SCAN (spec/05 §7.2). Built on the first scan only — nodes that are never
// scanned pay nothing — then kept lazily: an insert appends the key to a pending list (16 bytes,
// no hashing on the write path), removals are not tracked at all. A page first merges the
// pending keys in (sorted, one linear merge) and skips entries whose session is gone, dropping
// them when they outnumber the live ones. Guarded by its shard's lock like everything else there.
import TokMeshCore

struct ScanIndex {
    struct Entry: Comparable {
        let position: UInt32
        let key: SessionKey
        static func < (a: Entry, b: Entry) -> Bool {
            a.position != b.position ? a.position < b.position : a.key.bits < b.key.bits
        }
    }

    private(set) var entries: [Entry] = []
    private var pending: [SessionKey] = []
    private(set) var isBuilt = false
    /// Entries met whose session was gone (a hint for compaction).
    private var staleSeen = 0

    static func position(_ key: SessionKey) -> UInt32 { MurmurHash3.hash32(key.string) }

    /// A session entered the shard (after the index was built).
    mutating func noteInsert(_ key: SessionKey) {
        if isBuilt { pending.append(key) }
    }

    /// Forgets everything (the shard's contents were replaced by a restore).
    mutating func reset() { self = ScanIndex() }

    /// Brings the index up to date with the shard's current keys.
    mutating func refresh(allKeys: () -> [SessionKey], isPresent: (SessionKey) -> Bool) {
        if !isBuilt {
            entries = allKeys().map { Entry(position: ScanIndex.position($0), key: $0) }
            entries.sort()
            isBuilt = true
            pending = []
            staleSeen = 0
            return
        }
        if staleSeen > 64 && staleSeen * 2 > entries.count {
            entries.removeAll { !isPresent($0.key) }
            staleSeen = 0
        }
        guard !pending.isEmpty else { return }
        // A key removed and inserted again may be pending while still listed: merge skips it.
        var added = pending.map { Entry(position: ScanIndex.position($0), key: $0) }
        pending = []
        added.sort()
        var merged: [Entry] = []
        merged.reserveCapacity(entries.count + added.count)
        var i = 0, j = 0
        while i < entries.count || j < added.count {
            if j == added.count || (i < entries.count && entries[i] < added[j]) {
                merged.append(entries[i]); i += 1
            } else if i < entries.count && entries[i] == added[j] {
                merged.append(entries[i]); i += 1; j += 1
            } else {
                if merged.last != added[j] { merged.append(added[j]) }
                j += 1
            }
        }
        entries = merged
    }

    /// Up to `count` keys at positions ≥ `cursor` that pass `isLive`, in order, extended to the
    /// end of the last position taken (a position is never split). `more` is true when entries
    /// after those remain (live or not: the caller may then return a cursor with few keys).
    mutating func page(from cursor: UInt32, count: Int, isLive: (SessionKey) -> Bool?) -> (keys: [Entry], more: Bool) {
        var low = 0, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].position < cursor { low = mid + 1 } else { high = mid }
        }
        var out: [Entry] = []
        var i = low
        while i < entries.count {
            let e = entries[i]
            if out.count >= count, let last = out.last, e.position != last.position { break }
            switch isLive(e.key) {
            case true?: out.append(e)
            case false?: break  // expired: held but not listed
            case nil: staleSeen += 1  // gone
            }
            i += 1
        }
        return (out, i < entries.count)
    }
}
