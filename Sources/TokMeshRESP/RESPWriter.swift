// RESPWriter: encodes replies (spec/05 §4) into one output buffer for a whole read batch, in
// the connection's protocol: RESP2 renders nil as `$-1`, maps as flat arrays, sets as arrays and
// verbatim text as bulk strings; RESP3 uses `_`, `%`, `~` and `=` (`txt:`). Error text is made
// one line (CR/LF → space) and cut at 512 bytes, so no reply can break the framing.

import TokMeshCore

public struct RESPWriter: Sendable {
    public var protocolVersion: Int
    public private(set) var bytes: [UInt8] = []

    public init(protocolVersion: Int = 2) { self.protocolVersion = protocolVersion }

    public var isEmpty: Bool { bytes.isEmpty }

    /// Hands the buffered replies over and starts a new buffer.
    public mutating func take() -> [UInt8] {
        defer { bytes = [] }
        return bytes
    }

    private mutating func line(_ prefix: UInt8, _ text: some StringProtocol) {
        bytes.append(prefix)
        bytes.append(contentsOf: text.utf8)
        bytes.append(13)
        bytes.append(10)
    }

    private mutating func count(_ prefix: UInt8, _ n: Int) { line(prefix, String(n)) }

    /// Replies rendered earlier by another writer of the same protocol.
    public mutating func raw(_ reply: [UInt8]) { bytes.append(contentsOf: reply) }

    /// `+text`. The text is always ours (OK, PONG, flag names, `string`), never an argument,
    /// and has no CR or LF, so it is written as is.
    public mutating func status(_ text: String) {
        bytes.append(UInt8(ascii: "+"))
        bytes.append(contentsOf: text.utf8)
        bytes.append(13)
        bytes.append(10)
    }

    /// `-<line>`, e.g. `ERR TM-ARG-1001 syntax error` or `NOAUTH TM-AUTH-4010 …`.
    public mutating func error(_ text: String) { line(UInt8(ascii: "-"), RESPWriter.oneLine(text)) }

    public mutating func integer(_ value: Int64) {
        bytes.append(UInt8(ascii: ":"))
        JSONWriter.writeDecimal(value, into: &bytes)
        bytes.append(13)
        bytes.append(10)
    }

    public mutating func bulk(_ data: some Collection<UInt8>) {
        count(UInt8(ascii: "$"), data.count)
        bytes.append(contentsOf: data)
        bytes.append(13)
        bytes.append(10)
    }

    public mutating func bulk(_ text: String) { bulk(Array(text.utf8)) }

    /// A bulk string of `count` bytes that `fill` writes in place.
    public mutating func bulk(count: Int, fill: (UnsafeMutableRawBufferPointer) -> Void) {
        bytes.append(UInt8(ascii: "$"))
        JSONWriter.writeDecimal(Int64(count), into: &bytes)
        bytes.append(13)
        bytes.append(10)
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: count))
        bytes.withUnsafeMutableBytes { fill(UnsafeMutableRawBufferPointer(rebasing: $0[start...])) }
        bytes.append(13)
        bytes.append(10)
    }

    public mutating func null() {
        if protocolVersion >= 3 { bytes.append(contentsOf: [UInt8(ascii: "_"), 13, 10]) } else { bytes.append(contentsOf: Array("$-1\r\n".utf8)) }
    }

    /// The header of an array of `n` elements; the caller writes them.
    public mutating func arrayHeader(_ n: Int) { count(UInt8(ascii: "*"), n) }

    /// The header of a map of `n` pairs (`%n` in RESP3, `*2n` in RESP2); the caller writes
    /// key, value, key, value…
    public mutating func mapHeader(_ n: Int) {
        if protocolVersion >= 3 { count(UInt8(ascii: "%"), n) } else { count(UInt8(ascii: "*"), 2 * n) }
    }

    /// The header of a set of `n` elements (`~n` in RESP3, an array in RESP2).
    public mutating func setHeader(_ n: Int) { count(protocolVersion >= 3 ? UInt8(ascii: "~") : UInt8(ascii: "*"), n) }

    /// Plain text for humans (INFO, CLIENT INFO): verbatim `=` with `txt:` in RESP3, bulk in RESP2.
    public mutating func verbatim(_ text: String) {
        guard protocolVersion >= 3 else { return bulk(text) }
        let body = Array("txt:".utf8) + Array(text.utf8)
        count(UInt8(ascii: "="), body.count)
        bytes.append(contentsOf: body)
        bytes.append(13)
        bytes.append(10)
    }

    /// One line of at most 512 bytes, CR and LF replaced by spaces (cut on a UTF-8 boundary).
    static func oneLine(_ text: String) -> String {
        var out = Array(text.utf8).map { $0 == 13 || $0 == 10 ? UInt8(ascii: " ") : $0 }
        if out.count > 512 {
            var end = 512
            while end > 0 && out[end] & 0xC0 == 0x80 { end -= 1 }
            out = Array(out[..<end])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
