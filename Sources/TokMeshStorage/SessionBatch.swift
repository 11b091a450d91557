// SessionBatch: sessions read from a snapshot, already sorted by the engine shard each of their
// entries lands in (ID with its creator and device entries, token, user), so a bulk load fills
// one shard at a time from contiguous lists without touching a session's bytes again. Routing
// happens while each session is packed (its bytes still in cache), by several workers at once;
// a worker's lists keep file order, and the workers' lists are read in worker order, so "first
// in the file" is well defined for repeated IDs or tokens. Buckets are the low 8 bits of the
// shard hash, so the same batch serves any power-of-two shard count up to 256.
import Foundation
import TokMeshCore

struct RoutedSession {
    var session: StoredSession
    var key: SessionKey
    var expiresAt: Int64
    var ordinal: Int32
}

struct RoutedToken {
    var token: TokenKey
    var key: SessionKey
    var expiresAt: Int64
    var ordinal: Int32
}

struct RoutedIndexEntry {
    var name: String
    var key: SessionKey
    var expiresAt: Int64
    var ordinal: Int32
}

/// A creator or device entry: the name is an index into its worker's `names`, so the entry
/// holds no reference (a few issuer keys create nearly every session: no shared string is
/// retained a million times, by workers on different cores).
struct RoutedNameEntry {
    var name: Int32
    var key: SessionKey
    var expiresAt: Int64
    var ordinal: Int32
}

/// One routing worker's lists, each in the order the worker met the sessions. A value: the
/// worker fills its own copy in a local variable (no shared state, no dynamic access checks).
struct SessionRoutes: Sendable {
    static let buckets = 256
    var ids = [[RoutedSession]](repeating: [], count: buckets)
    var tokens = [[RoutedToken]](repeating: [], count: buckets)
    var users = [[RoutedIndexEntry]](repeating: [], count: buckets)
    var creators = [[RoutedNameEntry]](repeating: [], count: buckets)
    var devices = [[RoutedNameEntry]](repeating: [], count: buckets)
    /// The creator and device names the entries point at.
    var names: [String] = []
    var count = 0

    init() {}

    /// Lists sized for about `expected` sessions spread evenly over the buckets.
    init(expected: Int) {
        let each = expected / SessionRoutes.buckets + expected / SessionRoutes.buckets / 4 + 4
        for b in 0..<SessionRoutes.buckets {
            ids[b].reserveCapacity(each)
            tokens[b].reserveCapacity(each)
            users[b].reserveCapacity(each)
        }
    }

    // The last creator and device seen, so a run of sessions with one name adds it once.
    private var lastCreator: (bytes: [UInt8], name: Int32) = ([], -1)
    private var lastDevice: (bytes: [UInt8], name: Int32) = ([], -1)

    @inline(__always)
    private static func bucket(_ bytes: UnsafeRawBufferPointer) -> Int { Int(MurmurHash3.hash32(bytes)) & (buckets - 1) }

    private static func name(_ bytes: UnsafeRawBufferPointer, cache: inout (bytes: [UInt8], name: Int32), names: inout [String]) -> Int32 {
        let same = cache.name >= 0 && bytes.count == cache.bytes.count
            && cache.bytes.withUnsafeBytes { bytes.isEmpty || memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }
        if !same {
            cache = (Array(bytes), Int32(names.count))
            names.append(String(decoding: bytes, as: UTF8.self))
        }
        return cache.name
    }

    mutating func add(_ s: StoredSession, ordinal: Int32) {
        let key = s.key, token = s.digest.key, expiresAt = s.expiresAt
        let keyBucket = Int(truncatingIfNeeded: key.mixed) & (SessionRoutes.buckets - 1)
        ids[keyBucket].append(RoutedSession(session: s, key: key, expiresAt: expiresAt, ordinal: ordinal))
        tokens[Int(truncatingIfNeeded: token.mixed) & (SessionRoutes.buckets - 1)].append(RoutedToken(token: token, key: key, expiresAt: expiresAt, ordinal: ordinal))
        s.withIndexBytes { user, device, creator in
            users[SessionRoutes.bucket(user)].append(RoutedIndexEntry(name: String(decoding: user, as: UTF8.self), key: key, expiresAt: expiresAt, ordinal: ordinal))
            // Creator and device entries live in the session's own shard (EngineShard).
            creators[keyBucket].append(RoutedNameEntry(name: SessionRoutes.name(creator, cache: &lastCreator, names: &names), key: key, expiresAt: expiresAt, ordinal: ordinal))
            if !device.isEmpty {
                devices[keyBucket].append(RoutedNameEntry(name: SessionRoutes.name(device, cache: &lastDevice, names: &names), key: key, expiresAt: expiresAt, ordinal: ordinal))
            }
        }
        count += 1
    }
}

/// The sessions of a snapshot, routed (see the file comment).
public struct SessionBatch: Sendable {
    let routes: [SessionRoutes]

    init(routes: [SessionRoutes]) { self.routes = routes }

    /// Routes `sessions` on the calling thread (tests, small inputs), in their order.
    public init(_ sessions: [StoredSession]) {
        var r = SessionRoutes()
        for (i, s) in sessions.enumerated() { r.add(s, ordinal: Int32(i)) }
        routes = [r]
    }

    public var count: Int { routes.reduce(0) { $0 + $1.count } }

    /// Every session, in no particular order (writing a restored state back out as a snapshot).
    public var sessions: [StoredSession] {
        var out: [StoredSession] = []
        out.reserveCapacity(count)
        for r in routes { for list in r.ids { for e in list { out.append(e.session) } } }
        return out
    }
}
