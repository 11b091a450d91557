// JSONParser: the strict JSON decoder of spec/04 §4. One UTF-8 value, at most 32 levels deep,
// nothing but white space after it, duplicate object keys rejected, numbers kept as Int64 when
// integral. Errors carry a short reason and never echo the input (bodies may hold tokens).

public struct JSONParseError: Error, Sendable, Equatable {
    public let reason: String
    public let field: String?
}

public struct JSONParser {
    public static let depthMax = 32
    private let bytes: [UInt8]
    private var index = 0

    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 1, path: nil)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw JSONParseError(reason: "trailing data after JSON value", field: nil) }
        return value
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func fail(_ reason: String, _ field: String?) -> JSONParseError { JSONParseError(reason: reason, field: field) }

    private mutating func parseValue(depth: Int, path: String?) throws(JSONParseError) -> JSONValue {
        guard depth <= JSONParser.depthMax else { throw fail("JSON nested deeper than \(JSONParser.depthMax) levels", path) }
        guard index < bytes.count else { throw fail("unexpected end of JSON", path) }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth, path: path)
        case UInt8(ascii: "["): return try parseArray(depth: depth, path: path)
        case UInt8(ascii: "\""): return .string(try parseString(path: path))
        case UInt8(ascii: "t"): try expectLiteral("true", path); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false", path); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null", path); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber(path: path)
        default: throw fail("invalid JSON", path)
        }
    }

    private mutating func expectLiteral(_ literal: StaticString, _ path: String?) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("invalid JSON literal", path) }
        let ptr = literal.utf8Start
        for i in 0..<count where bytes[index + i] != ptr[i] { throw fail("invalid JSON literal", path) }
        index += count
    }

    private mutating func parseObject(depth: Int, path: String?) throws(JSONParseError) -> JSONValue {
        index += 1
        var object = JSONObject()
        var seen = Set<String>()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(object) }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected object key", path) }
            let key = try parseString(path: path)
            guard seen.insert(key).inserted else { throw fail("duplicate field", key) }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'", key) }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth + 1, path: key)
            object.append(key, value)
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of JSON", path) }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(object) }
            throw fail("expected ',' or '}'", path)
        }
    }

    private mutating func parseArray(depth: Int, path: String?) throws(JSONParseError) -> JSONValue {
        index += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth + 1, path: path))
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of JSON", path) }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            throw fail("expected ',' or ']'", path)
        }
    }

    private mutating func parseHex4(path: String?) throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("bad unicode escape", path) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw fail("bad unicode escape", path)
            }
            v = v << 4 | d
            index += 1
        }
        return v
    }

    private mutating func parseString(path: String?) throws(JSONParseError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let c = bytes[index]
            if c == UInt8(ascii: "\"") {
                let s = bytes[start..<index]
                index += 1
                guard let str = String(validating: s, as: UTF8.self) else { throw fail("invalid UTF-8 in string", path) }
                return str
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw fail("control character in string", path) }
            index += 1
        }
        var out = Array(bytes[start..<index])
        while index < bytes.count {
            let c = bytes[index]
            if c == UInt8(ascii: "\"") {
                index += 1
                guard let str = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in string", path) }
                return str
            }
            if c < 0x20 { throw fail("control character in string", path) }
            if c != UInt8(ascii: "\\") { out.append(c); index += 1; continue }
            index += 1
            guard index < bytes.count else { break }
            let e = bytes[index]
            index += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4(path: path)
                if (0xD800..<0xDC00).contains(scalar) {
                    guard index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw fail("unpaired surrogate", path)
                    }
                    index += 2
                    let low = try parseHex4(path: path)
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate", path) }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw fail("unpaired surrogate", path)
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("bad unicode escape", path) }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw fail("bad escape in string", path)
            }
        }
        throw fail("unterminated string", path)
    }

    private mutating func parseNumber(path: String?) throws(JSONParseError) -> JSONValue {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { throw fail("invalid number", path) }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(bytes[index]) {
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        } else {
            throw fail("invalid number", path)
        }
        var integral = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            integral = false
            index += 1
            let digits = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index > digits else { throw fail("invalid number", path) }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            integral = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let digits = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index > digits else { throw fail("invalid number", path) }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if integral, let i = Int64(text) { return .int(i) }
        guard let d = Double(text), d.isFinite else { throw fail("invalid number", path) }
        return .double(d)
    }
}
