// RESPParser: the command parser of spec/05 §5 as a pure, incremental state machine — bytes in,
// commands (arrays of binary-safe arguments) out, no sockets or clocks. Accepts multibulk
// requests (`*<n>` then n × `$<len>` + data) and inline lines (split the way Redis's
// sdssplitargs does, quotes and escapes included). Header lines must be canonical decimals within
// 32 bytes; the spec's limits are enforced before anything is buffered beyond them. `*0`, `*-1`
// and empty inline lines produce nothing. A violation is terminal: the connection answers the
// commands parsed before it, then the error, then closes (the caller's job).

/// A protocol violation, with the code and text of spec/05 §5 (the caller adds `-ERR `).
public struct RESPProtocolError: Error, Equatable, Sendable {
    /// `TM-SYS-4130` for size breaches, `TM-SYS-4000` for malformed input.
    public let code: String
    public let message: String

    static func tooLarge(_ what: String) -> RESPProtocolError { RESPProtocolError(code: "TM-SYS-4130", message: "Protocol error: \(what)") }
    static func malformed(_ what: String) -> RESPProtocolError { RESPProtocolError(code: "TM-SYS-4000", message: "Protocol error: \(what)") }

    /// The error line without the leading `-` and trailing CRLF.
    public var line: String { "ERR \(code) \(message)" }
}

/// The parser's limits (spec/05 §5); tests shrink them.
public struct RESPLimits: Sendable, Equatable {
    public var maxArguments = 4096
    public var maxBulkBytes = 1 << 20
    public var maxInlineBytes = 64 << 10
    public var maxCommandBytes = 2 << 20

    public init() {}
}

public struct RESPParser: Sendable {
    public enum Event: Equatable, Sendable {
        /// One command: its name and arguments, binary-safe.
        case command([[UInt8]])
        /// More bytes are needed for the next command.
        case needMore
        /// A violation; every later call returns it again.
        case failed(RESPProtocolError)
    }

    private let limits: RESPLimits
    private var buffer: [UInt8] = []
    private var offset = 0
    // A multibulk command in progress: expected argument count and those read so far.
    private var expected = 0
    private var arguments: [[UInt8]] = []
    private var argumentBytes = 0
    private var failure: RESPProtocolError?

    public init(limits: RESPLimits = RESPLimits()) { self.limits = limits }

    /// True while part of a command has been received (the incomplete-command timer runs).
    public var hasPartialCommand: Bool { expected > 0 || offset < buffer.count }

    /// Unparsed bytes held (for the caller's read pause).
    public var bufferedBytes: Int { buffer.count - offset }

    public mutating func append<S: Sequence<UInt8>>(_ bytes: S) {
        guard failure == nil else { return }
        if offset > 0 && offset >= buffer.count / 2 {
            buffer.removeFirst(offset)
            offset = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete command, `needMore`, or the violation.
    public mutating func next() -> Event {
        if let failure { return .failed(failure) }
        do throws(RESPProtocolError) {
            while true {
                if expected == 0 {
                    guard offset < buffer.count else { return .needMore }
                    if buffer[offset] == UInt8(ascii: "*") {
                        guard let count = try header(prefix: "*", limitError: "invalid multibulk length") else { return .needMore }
                        if count <= 0 { continue }  // `*0` and `*-1` are ignored
                        guard count <= limits.maxArguments else { throw .tooLarge("invalid multibulk length") }
                        expected = count
                        arguments = []
                        arguments.reserveCapacity(count)
                        argumentBytes = 0
                    } else {
                        guard let line = try inlineLine() else { return .needMore }
                        let args = try RESPParser.splitInline(line)
                        if args.isEmpty { continue }
                        guard args.count <= limits.maxArguments else { throw .tooLarge("invalid multibulk length") }
                        return .command(args)
                    }
                }
                while arguments.count < expected {
                    guard offset < buffer.count else { return .needMore }
                    guard buffer[offset] == UInt8(ascii: "$") else {
                        throw .malformed("expected '$', got '\(RESPParser.printable(buffer[offset]))'")
                    }
                    let start = offset
                    guard let length = try header(prefix: "$", limitError: "invalid bulk length") else { return .needMore }
                    guard length >= 0 else { throw .malformed("invalid bulk length") }
                    guard length <= limits.maxBulkBytes else { throw .tooLarge("invalid bulk length") }
                    guard argumentBytes + length <= limits.maxCommandBytes else { throw .tooLarge("command too large") }
                    guard buffer.count - offset >= length + 2 else {
                        offset = start  // re-read the header once the data is here
                        return .needMore
                    }
                    guard buffer[offset + length] == 13, buffer[offset + length + 1] == 10 else { throw .malformed("bulk not terminated by CRLF") }
                    arguments.append(Array(buffer[offset..<offset + length]))
                    argumentBytes += length
                    offset += length + 2
                }
                let command = arguments
                expected = 0
                arguments = []
                return .command(command)
            }
        } catch {
            failure = error
            buffer = []
            offset = 0
            return .failed(error)
        }
    }

    /// Reads `<prefix><canonical decimal>\r\n` at `offset` (or `-1`); nil when the line is not
    /// complete yet. Advances past it on success.
    private mutating func header(prefix: Character, limitError: String) throws(RESPProtocolError) -> Int? {
        let lineLimit = 32
        var end = offset + 1
        while end < buffer.count && buffer[end] != 10 {
            end += 1
            if end - offset > lineLimit { throw .malformed(limitError) }
        }
        guard end < buffer.count else {
            if buffer.count - offset > lineLimit { throw .malformed(limitError) }
            return nil
        }
        guard end - 1 > offset, buffer[end - 1] == 13 else { throw .malformed(limitError) }
        let digits = buffer[(offset + 1)..<(end - 1)]
        guard let value = RESPParser.canonicalDecimal(digits) else { throw .malformed(limitError) }
        offset = end + 1
        return value
    }

    /// `-1`, `0`, or digits without a leading zero, sign or space, up to 18 digits.
    static func canonicalDecimal(_ digits: ArraySlice<UInt8>) -> Int? {
        if digits.elementsEqual([UInt8(ascii: "-"), UInt8(ascii: "1")]) { return -1 }
        guard !digits.isEmpty, digits.count <= 18, digits.first != UInt8(ascii: "0") || digits.count == 1 else { return nil }
        var value = 0
        for d in digits {
            guard d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(d - UInt8(ascii: "0"))
        }
        return value
    }

    /// The next inline line without its LF (and a CR before it); nil when incomplete.
    private mutating func inlineLine() throws(RESPProtocolError) -> ArraySlice<UInt8>? {
        var end = offset
        while end < buffer.count && buffer[end] != 10 { end += 1 }
        guard end < buffer.count else {
            if buffer.count - offset > limits.maxInlineBytes { throw .tooLarge("too big inline request") }
            return nil
        }
        guard end - offset <= limits.maxInlineBytes else { throw .tooLarge("too big inline request") }
        var lineEnd = end
        if lineEnd > offset && buffer[lineEnd - 1] == 13 { lineEnd -= 1 }
        let line = buffer[offset..<lineEnd]
        offset = end + 1
        return line
    }

    /// Splits an inline line as Redis's sdssplitargs: blanks separate arguments; `"…"` takes
    /// `\n \r \t \b \a \\ \"` and `\xHH`; `'…'` takes `\'`; a closing quote must be followed by
    /// a blank or the end.
    static func splitInline(_ line: ArraySlice<UInt8>) throws(RESPProtocolError) -> [[UInt8]] {
        var args: [[UInt8]] = []
        var i = line.startIndex
        func isBlank(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 || c == 11 || c == 12 }
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        while true {
            while i < line.endIndex && isBlank(line[i]) { i += 1 }
            guard i < line.endIndex else { return args }
            var current: [UInt8] = []
            var inDouble = false, inSingle = false, done = false
            while !done {
                if inDouble {
                    guard i < line.endIndex else { throw .malformed("unbalanced quotes in request") }
                    let c = line[i]
                    if c == UInt8(ascii: "\\") && i + 3 < line.endIndex && line[i + 1] == UInt8(ascii: "x"),
                       let hi = hex(line[i + 2]), let lo = hex(line[i + 3]) {
                        current.append(hi << 4 | lo)
                        i += 3
                    } else if c == UInt8(ascii: "\\") && i + 1 < line.endIndex {
                        i += 1
                        switch line[i] {
                        case UInt8(ascii: "n"): current.append(10)
                        case UInt8(ascii: "r"): current.append(13)
                        case UInt8(ascii: "t"): current.append(9)
                        case UInt8(ascii: "b"): current.append(8)
                        case UInt8(ascii: "a"): current.append(7)
                        default: current.append(line[i])
                        }
                    } else if c == UInt8(ascii: "\"") {
                        // The closing quote must be followed by a blank or the end.
                        if i + 1 < line.endIndex && !isBlank(line[i + 1]) { throw .malformed("unbalanced quotes in request") }
                        done = true
                    } else {
                        current.append(c)
                    }
                } else if inSingle {
                    guard i < line.endIndex else { throw .malformed("unbalanced quotes in request") }
                    let c = line[i]
                    if c == UInt8(ascii: "\\") && i + 1 < line.endIndex && line[i + 1] == UInt8(ascii: "'") {
                        i += 1
                        current.append(UInt8(ascii: "'"))
                    } else if c == UInt8(ascii: "'") {
                        if i + 1 < line.endIndex && !isBlank(line[i + 1]) { throw .malformed("unbalanced quotes in request") }
                        done = true
                    } else {
                        current.append(c)
                    }
                } else {
                    guard i < line.endIndex else { break }
                    switch line[i] {
                    case let c where isBlank(c): done = true
                    case UInt8(ascii: "\""): inDouble = true
                    case UInt8(ascii: "'"): inSingle = true
                    default: current.append(line[i])
                    }
                }
                if i < line.endIndex { i += 1 }
            }
            args.append(current)
        }
    }

    static func printable(_ c: UInt8) -> String {
        c >= 0x20 && c < 0x7f ? String(UnicodeScalar(c)) : "\\x" + String(c, radix: 16)
    }
}
