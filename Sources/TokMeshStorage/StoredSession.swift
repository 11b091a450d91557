// StoredSession: how the engine holds a session — one exact-size byte array per session
// instead of a struct of a dozen strings and a dictionary, so a million sessions fit in about
// half the memory and a snapshot is a copy of bytes. Layout (little-endian, in memory only;
// docs/decisions.md): id (16, the ULID value), token digest (32), created_at, expires_at,
// last_active (i64 each), version (u64), then LEB128-length strings user_id, ip_address,
// user_agent, last_access_ip, last_access_ua, device_id, created_by, then a LEB128 count of data
// entries and their key/value strings in key order. Strings are checked to be UTF-8 on the way in.
// `StoredTombstone` is the same for a revoked session's token-index marker.
import TokMeshCore

public struct StoredSession: Sendable {
    let blob: [UInt8]

    private static let fixedBytes = 80
    private static let offsetExpires = 56

    private init(blob: [UInt8]) { self.blob = blob }

    /// Packs `s`; nil when its ID or token hash is not canonical.
    public init?(_ s: Session) {
        guard let key = SessionKey(s.id), let digest = TokenDigest(s.tokenHash) else { return nil }
        let keys = s.data.keys.sorted()
        var size = StoredSession.fixedBytes + StoredSession.varintSize(keys.count)
        let strings = [s.userID, s.ipAddress, s.userAgent, s.lastAccessIP, s.lastAccessUA, s.deviceID, s.createdBy]
        for field in strings { size += StoredSession.stringSize(field) }
        for k in keys { size += StoredSession.stringSize(k) + StoredSession.stringSize(s.data[k]!) }
        blob = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var w = BlobWriter(UnsafeMutableRawBufferPointer(buffer))
            w.fixed(key.bits); w.fixed(digest.head); w.fixed(digest.tail)
            w.fixed(s.createdAt); w.fixed(s.expiresAt); w.fixed(s.lastActive); w.fixed(s.version)
            for field in strings { w.string(field) }
            w.varint(keys.count)
            for k in keys { w.string(k); w.string(s.data[k]!) }
            precondition(w.offset == size, "stored session size")
            count = size
        }
    }

    // MARK: fields read without unpacking

    @inline(__always)
    private func load<T: FixedWidthInteger>(_ offset: Int, as: T.Type) -> T {
        blob.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }

    var key: SessionKey { SessionKey(bits: load(0, as: UInt128.self)) }
    var digest: TokenDigest { TokenDigest(head: load(16, as: UInt128.self), tail: load(32, as: UInt128.self)) }
    public var expiresAt: Int64 { load(StoredSession.offsetExpires, as: Int64.self) }

    @inline(__always)
    public func isExpired(now: Int64) -> Bool { now >= expiresAt }

    var userID: String {
        blob.withUnsafeBytes { raw in
            var r = BlobReader(raw, offset: StoredSession.fixedBytes)
            return r.string()
        }
    }

    /// The three index strings in one pass.
    var indexStrings: (user: String, device: String, creator: String) {
        blob.withUnsafeBytes { raw in
            var r = BlobReader(raw, offset: StoredSession.fixedBytes)
            let user = r.string()
            for _ in 0..<4 { r.skipString() }
            return (user, r.string(), r.string())
        }
    }

    /// The UTF-8 bytes of the three index strings, without making strings.
    func withIndexBytes<T>(_ body: (_ user: UnsafeRawBufferPointer, _ device: UnsafeRawBufferPointer, _ creator: UnsafeRawBufferPointer) -> T) -> T {
        blob.withUnsafeBytes { raw in
            var r = BlobReader(raw, offset: StoredSession.fixedBytes)
            let user = r.bytes()
            for _ in 0..<4 { r.skipString() }
            let device = r.bytes()
            return body(user, device, r.bytes())
        }
    }

    /// The session as a value.
    public var session: Session {
        blob.withUnsafeBytes { raw in
            var r = BlobReader(raw, offset: 0)
            let key = SessionKey(bits: r.fixed(UInt128.self))
            let digest = TokenDigest(head: r.fixed(UInt128.self), tail: r.fixed(UInt128.self))
            let createdAt = r.fixed(Int64.self), expiresAt = r.fixed(Int64.self), lastActive = r.fixed(Int64.self)
            let version = r.fixed(UInt64.self)
            let user = r.string(), ip = r.string(), ua = r.string(), lastIP = r.string(), lastUA = r.string()
            let device = r.string(), creator = r.string()
            let count = r.varint()
            var data: [String: String] = [:]
            if count > 0 {
                data.reserveCapacity(count)
                for _ in 0..<count { data[r.string()] = r.string() }
            }
            var s = Session(id: key.string, userID: user, tokenHash: digest.string, ipAddress: ip, userAgent: ua, deviceID: device,
                            createdBy: creator, createdAt: createdAt, expiresAt: expiresAt, data: data)
            s.lastAccessIP = lastIP
            s.lastAccessUA = lastUA
            s.lastActive = lastActive
            s.version = version
            return s
        }
    }

    /// The HTTP session object (spec/04 §7), byte for byte what `session.writeJSON` writes,
    /// rendered straight from the packed bytes (RESP GET: no strings or dictionary built).
    public func writeJSON(now: Int64, into out: inout [UInt8]) {
        let count = jsonCount(now: now)
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: count))
        out.withUnsafeMutableBytes { writeJSON(now: now, into: UnsafeMutableRawBufferPointer(rebasing: $0[start...])) }
    }

    /// The byte count `writeJSON` will write.
    public func jsonCount(now: Int64) -> Int {
        blob.withUnsafeBytes { raw in
            var r = BlobReader(raw, offset: StoredSession.fixedBytes)
            var n = StoredSession.jsonLiteralBytes + 31 + (now >= expiresAt ? 21 : 20)
            for offset in [48, 56, 64] { n += JSONWriter.decimalCount(load(offset, as: Int64.self)) }
            n += JSONWriter.decimalCount(Int64(clamping: load(72, as: UInt64.self)))
            for _ in 0..<7 { n += 2 + JSONWriter.escapedCount(r.bytes()) }
            let pairs = r.varint()
            n += max(0, pairs - 1) + pairs  // commas between pairs, colons
            for _ in 0..<2 * pairs { n += 2 + JSONWriter.escapedCount(r.bytes()) }
            return n
        }
    }

    /// The field-name literals `writeJSON` writes around the ID, strings, numbers and data.
    private static let jsonLiteralBytes = [#"{"id":""#, "\"", #","user_id":"#, #","device_id":"#, #","ip_address":"#, #","user_agent":"#,
                                           #","last_access_ip":"#, #","last_access_ua":"#, #","created_by":"#, #","created_at":"#,
                                           #","expires_at":"#, #","last_active":"#, #","version":"#, #","data":{"#].reduce(0) { $0 + $1.utf8.count }

    /// Writes the JSON into `out`, exactly `jsonCount(now:)` bytes.
    public func writeJSON(now: Int64, into out: UnsafeMutableRawBufferPointer) {
        blob.withUnsafeBytes { raw in
            var r = BlobReader(raw, offset: 0)
            let key = SessionKey(bits: r.fixed(UInt128.self))
            r.skip(32)
            let createdAt = r.fixed(Int64.self), expiresAt = r.fixed(Int64.self), lastActive = r.fixed(Int64.self)
            let version = r.fixed(UInt64.self)
            let user = r.bytes(), ip = r.bytes(), ua = r.bytes(), lastIP = r.bytes(), lastUA = r.bytes()
            let device = r.bytes(), creator = r.bytes()
            var w = JSONWriter.Cursor(out)
            w.literal(#"{"id":""#)
            key.writeUTF8(into: w.reserve(31))
            w.byte(UInt8(ascii: "\""))
            w.literal(#","user_id":"#); w.string(user)
            w.literal(#","device_id":"#); w.string(device)
            w.literal(#","ip_address":"#); w.string(ip)
            w.literal(#","user_agent":"#); w.string(ua)
            w.literal(#","last_access_ip":"#); w.string(lastIP)
            w.literal(#","last_access_ua":"#); w.string(lastUA)
            w.literal(#","created_by":"#); w.string(creator)
            w.literal(#","created_at":"#); w.decimal(createdAt)
            w.literal(#","expires_at":"#); w.decimal(expiresAt)
            w.literal(#","last_active":"#); w.decimal(lastActive)
            w.literal(#","version":"#); w.decimal(Int64(clamping: version))
            w.literal(#","data":{"#)
            let count = r.varint()
            for i in 0..<count {
                if i > 0 { w.byte(UInt8(ascii: ",")) }
                w.string(r.bytes())
                w.byte(UInt8(ascii: ":"))
                w.string(r.bytes())
            }
            w.literal(now >= expiresAt ? #"},"status":"expired"}"# : #"},"status":"active"}"#)
            precondition(w.offset == out.count, "session JSON size")
        }
    }

    // MARK: snapshot items (TOKMESH_BAK_V1, docs/formats.md)

    /// Appends the session as a snapshot item body (u32-length strings, the ID and token hash
    /// as text) without unpacking it into a `Session`.
    func appendSnapshotItem(to out: inout [UInt8]) {
        blob.withUnsafeBytes { raw in
            // Pass 1: the body size (every string gets a u32 length instead of a LEB128 one; the
            // ID and token hash become their 31- and 69-byte text).
            var r = BlobReader(raw, offset: StoredSession.fixedBytes)
            var bodySize = 4 + 31 + 4 + 69 + 32 + 4
            for _ in 0..<7 { bodySize += 4 + r.bytes().count }
            let count = r.varint()
            let pairsStart = r.offset
            for _ in 0..<(2 * count) { bodySize += 4 + r.bytes().count }
            // Pass 2: write it in place.
            let start = out.count
            out.append(contentsOf: repeatElement(0, count: 5 + bodySize))
            out.withUnsafeMutableBytes { all in
                var w = BlobWriter(UnsafeMutableRawBufferPointer(rebasing: all[start...]))
                w.fixed(SnapshotFile.itemSession)
                w.fixed(UInt32(bodySize))
                var f = BlobReader(raw, offset: 0)
                let key = SessionKey(bits: f.fixed(UInt128.self))
                let digest = TokenDigest(head: f.fixed(UInt128.self), tail: f.fixed(UInt128.self))
                var strings = BlobReader(raw, offset: StoredSession.fixedBytes)
                w.fixed(UInt32(31)); key.writeUTF8(into: w.reserve(31))
                let user = strings.bytes()
                w.fixed(UInt32(user.count)); w.copy(user)
                w.fixed(UInt32(69)); digest.writeUTF8(into: w.reserve(69))
                for _ in 0..<6 {
                    let s = strings.bytes()
                    w.fixed(UInt32(s.count)); w.copy(s)
                }
                w.copy(UnsafeRawBufferPointer(rebasing: raw[48..<StoredSession.fixedBytes]))
                w.fixed(UInt32(count))
                var p = BlobReader(raw, offset: pairsStart)
                for _ in 0..<(2 * count) {
                    let s = p.bytes()
                    w.fixed(UInt32(s.count)); w.copy(s)
                }
            }
        }
    }

    /// A packed snapshot item (kind 3): the in-memory bytes themselves, checked as untrusted
    /// input — the fixed fields, seven strings and the data pairs with minimal LEB128 lengths,
    /// UTF-8 strings, at most 4096 data entries with no key repeated, no trailing bytes. Any
    /// 128-bit ID and 256-bit digest is canonical. Keys keep the writer's order (String order,
    /// which is byte order except for keys not in NFC). One copy, no re-encoding.
    init?(packedItem item: UnsafeRawBufferPointer) {
        guard item.count >= StoredSession.fixedBytes else { return nil }
        var r = BlobReader(item, offset: StoredSession.fixedBytes)
        for _ in 0..<7 {
            guard let f = r.checkedVarintString(), StoredSession.isUTF8(f) else { return nil }
        }
        guard let count = r.checkedVarint(), count <= 4096 else { return nil }
        let pairsStart = r.offset
        var sorted = true
        var previousKey: UnsafeRawBufferPointer?
        for _ in 0..<count {
            guard let k = r.checkedVarintString(), StoredSession.isUTF8(k), let v = r.checkedVarintString(), StoredSession.isUTF8(v) else { return nil }
            if let p = previousKey, !p.lexicographicallyPrecedes(k) { sorted = false }
            previousKey = k
        }
        guard r.offset == item.count else { return nil }
        if !sorted {
            var keys: [UnsafeRawBufferPointer] = []
            var p = BlobReader(item, offset: pairsStart)
            for _ in 0..<count { keys.append(p.bytes()); p.skipString() }
            guard StoredSession.byteOrder(of: keys) != nil else { return nil }
        }
        blob = Array(item)
    }

    /// Packs a snapshot item body; nil when it is malformed (bad lengths, non-UTF-8 strings, an
    /// ID or token hash that is not canonical, more than 4096 data entries, a repeated data key,
    /// trailing bytes). Two passes over the item, no temporary arrays: the first checks it and
    /// sizes the result, the second writes it. Data keys not in byte order (not written by us)
    /// take the sorting path.
    init?(snapshotItem item: UnsafeRawBufferPointer) {
        var r = BlobReader(item, offset: 0)
        guard let idBytes = r.checkedLengthPrefixed(), let key = SessionKey(utf8: idBytes),
              let user = r.checkedLengthPrefixed(), StoredSession.isUTF8(user),
              let hashBytes = r.checkedLengthPrefixed(), let digest = TokenDigest(utf8: hashBytes) else { return nil }
        var size = StoredSession.fixedBytes + StoredSession.varintSize(user.count) + user.count
        let stringsStart = r.offset
        for _ in 0..<6 {
            guard let f = r.checkedLengthPrefixed(), StoredSession.isUTF8(f) else { return nil }
            size += StoredSession.varintSize(f.count) + f.count
        }
        guard let integers = r.checkedBytes(32), let count32 = r.checkedLengthPrefixedCount(), count32 <= 4096 else { return nil }
        let count = Int(count32)
        size += StoredSession.varintSize(count)
        let pairsStart = r.offset
        var sorted = true
        var previousKey: UnsafeRawBufferPointer?
        for _ in 0..<count {
            guard let k = r.checkedLengthPrefixed(), StoredSession.isUTF8(k), let v = r.checkedLengthPrefixed(), StoredSession.isUTF8(v) else { return nil }
            if let p = previousKey, !p.lexicographicallyPrecedes(k) { sorted = false }
            previousKey = k
            size += StoredSession.varintSize(k.count) + k.count + StoredSession.varintSize(v.count) + v.count
        }
        guard r.offset == item.count else { return nil }
        var order: [Int] = []
        if !sorted {
            // Keys must be unique; they are kept in byte order.
            var keys: [UnsafeRawBufferPointer] = []
            var p = BlobReader(item, offset: pairsStart)
            for _ in 0..<count { keys.append(p.checkedLengthPrefixed()!); _ = p.checkedLengthPrefixed() }
            guard let byteOrder = StoredSession.byteOrder(of: keys) else { return nil }
            order = byteOrder
        }
        blob = [UInt8](unsafeUninitializedCapacity: size) { buffer, n in
            var w = BlobWriter(UnsafeMutableRawBufferPointer(buffer))
            w.fixed(key.bits); w.fixed(digest.head); w.fixed(digest.tail)
            w.copy(integers)
            w.varint(user.count); w.copy(user)
            var strings = BlobReader(item, offset: stringsStart)
            for _ in 0..<6 {
                let f = strings.checkedLengthPrefixed()!
                w.varint(f.count); w.copy(f)
            }
            w.varint(count)
            var pairs = BlobReader(item, offset: pairsStart)
            if sorted {
                for _ in 0..<(2 * count) {
                    let f = pairs.checkedLengthPrefixed()!
                    w.varint(f.count); w.copy(f)
                }
            } else {
                var all: [(UnsafeRawBufferPointer, UnsafeRawBufferPointer)] = []
                for _ in 0..<count { all.append((pairs.checkedLengthPrefixed()!, pairs.checkedLengthPrefixed()!)) }
                for i in order {
                    w.varint(all[i].0.count); w.copy(all[i].0)
                    w.varint(all[i].1.count); w.copy(all[i].1)
                }
            }
            n = size
        }
    }

    // MARK: helpers

    static func varintSize(_ n: Int) -> Int {
        var size = 1, v = n >> 7
        while v > 0 { size += 1; v >>= 7 }
        return size
    }

    static func stringSize(_ s: String) -> Int {
        let n = s.utf8.count
        return varintSize(n) + n
    }

    /// The indices of `keys` in byte order; nil when a key repeats.
    static func byteOrder(of keys: [UnsafeRawBufferPointer]) -> [Int]? {
        let order = keys.indices.sorted { keys[$0].lexicographicallyPrecedes(keys[$1]) }
        for i in order.indices.dropFirst() where keys[order[i]].elementsEqual(keys[order[i - 1]]) { return nil }
        return order
    }

    static func isUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if bytes.allSatisfy({ $0 < 0x80 }) { return true }
        return String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) != nil
    }
}

/// A revoked session's token-index marker: the session it was, the full token digest, when it
/// was revoked and until when it must answer "revoked".
public struct StoredTombstone: Sendable, Equatable {
    let session: SessionKey
    let digest: TokenDigest
    public let revokedAt: Int64
    public let expiresAt: Int64

    init(session: SessionKey, digest: TokenDigest, revokedAt: Int64, expiresAt: Int64) {
        self.session = session
        self.digest = digest
        self.revokedAt = revokedAt
        self.expiresAt = expiresAt
    }

    /// Packs `t`; nil when its session ID or token hash is not canonical.
    public init?(_ t: Tombstone) {
        guard let session = SessionKey(t.sessionID), let digest = TokenDigest(t.tokenHash) else { return nil }
        self.init(session: session, digest: digest, revokedAt: t.revokedAt, expiresAt: t.expiresAt)
    }

    public var tombstone: Tombstone {
        Tombstone(tokenHash: digest.string, sessionID: session.string, revokedAt: revokedAt, expiresAt: expiresAt)
    }
}

/// Writes into a buffer sized in advance.
struct BlobWriter {
    let out: UnsafeMutableRawBufferPointer
    private(set) var offset = 0

    init(_ out: UnsafeMutableRawBufferPointer) { self.out = out }

    @inline(__always)
    mutating func fixed<T: FixedWidthInteger>(_ v: T) {
        out.storeBytes(of: v.littleEndian, toByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
    }

    mutating func varint(_ n: Int) {
        var v = UInt(n)
        while v >= 0x80 {
            out[offset] = UInt8(truncatingIfNeeded: v) | 0x80
            offset += 1
            v >>= 7
        }
        out[offset] = UInt8(v)
        offset += 1
    }

    mutating func copy(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        UnsafeMutableRawBufferPointer(rebasing: out[offset..<offset + bytes.count]).copyMemory(from: bytes)
        offset += bytes.count
    }

    mutating func string(_ s: String) {
        var native = s
        native.withUTF8 { u in
            varint(u.count)
            copy(UnsafeRawBufferPointer(u))
        }
    }

    /// The next `count` bytes, to be filled by the caller.
    mutating func reserve(_ count: Int) -> UnsafeMutableRawBufferPointer {
        defer { offset += count }
        return UnsafeMutableRawBufferPointer(rebasing: out[offset..<offset + count])
    }
}

/// Reads a stored blob (trusted: written by `BlobWriter`) or, through the `checked` calls, a
/// snapshot item (untrusted: every read is bounds-checked).
struct BlobReader {
    let raw: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ raw: UnsafeRawBufferPointer, offset: Int) {
        self.raw = raw
        self.offset = offset
    }

    @inline(__always)
    mutating func fixed<T: FixedWidthInteger>(_: T.Type) -> T {
        defer { offset += MemoryLayout<T>.size }
        return T(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    mutating func varint() -> Int {
        var v = 0, shift = 0
        while true {
            let b = raw[offset]
            offset += 1
            v |= Int(b & 0x7f) << shift
            if b < 0x80 { return v }
            shift += 7
        }
    }

    mutating func bytes() -> UnsafeRawBufferPointer {
        let n = varint()
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: raw[offset..<offset + n])
    }

    mutating func skipString() { offset += varint() }

    mutating func skip(_ n: Int) { offset += n }

    mutating func string() -> String {
        let b = bytes()
        return String(decoding: b, as: UTF8.self)
    }

    // Untrusted input.

    mutating func checkedBytes(_ n: Int) -> UnsafeRawBufferPointer? {
        guard n >= 0, raw.count - offset >= n else { return nil }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: raw[offset..<offset + n])
    }

    mutating func checkedLengthPrefixedCount() -> UInt32? {
        guard raw.count - offset >= 4 else { return nil }
        return fixed(UInt32.self)
    }

    /// A minimally encoded LEB128 value of at most 4 bytes (below 2^28).
    mutating func checkedVarint() -> Int? {
        var v = 0
        for i in 0..<4 {
            guard offset < raw.count else { return nil }
            let b = raw[offset]
            offset += 1
            v |= Int(b & 0x7f) << (7 * i)
            if b < 0x80 { return i > 0 && b == 0 ? nil : v }
        }
        return nil
    }

    mutating func checkedVarintString() -> UnsafeRawBufferPointer? {
        guard let n = checkedVarint() else { return nil }
        return checkedBytes(n)
    }

    mutating func checkedLengthPrefixed() -> UnsafeRawBufferPointer? {
        guard let n = checkedLengthPrefixedCount() else { return nil }
        return checkedBytes(Int(n))
    }
}
