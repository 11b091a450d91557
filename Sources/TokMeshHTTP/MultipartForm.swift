// MultipartForm: a strict `multipart/form-data` reader (RFC 7578) for the restore upload. Pure:
// it takes the aggregated body and the Content-Type value and returns the parts with their
// field names, file names and bytes, or a reason the body is malformed.
import TokMeshCore

public struct MultipartPart: Sendable, Equatable {
    public var name: String
    public var filename: String?
    public var contentType: String?
    public var data: [UInt8]
}

public enum MultipartForm {
    public struct Malformed: Error, Sendable, Equatable {
        public var reason: String
    }

    static let partsMax = 16
    static let partHeaderBytesMax = 8 * 1024

    /// The boundary of a `multipart/form-data` Content-Type, or nil for any other type.
    public static func boundary(contentType: String) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingWhitespace() }
        guard let type = pieces.first, type.lowercased() == "multipart/form-data" else { return nil }
        for parameter in pieces.dropFirst() {
            guard let eq = parameter.firstIndex(of: "=") else { continue }
            guard parameter[..<eq].trimmingWhitespace().lowercased() == "boundary" else { continue }
            var value = parameter[parameter.index(after: eq)...].trimmingWhitespace()
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            return (1...70).contains(value.utf8.count) ? value : nil
        }
        return nil
    }

    public static func parse(_ body: [UInt8], boundary: String) throws(Malformed) -> [MultipartPart] {
        let delimiter = Array("--\(boundary)".utf8)
        let separator = Array("\r\n--\(boundary)".utf8)
        // The preamble before the first delimiter is ignored (RFC 2046 §5.1.1).
        guard var at = find(delimiter, in: body, from: 0) else { throw Malformed(reason: "no boundary found") }
        at += delimiter.count
        var parts: [MultipartPart] = []
        while true {
            if body.count >= at + 2 && body[at] == UInt8(ascii: "-") && body[at + 1] == UInt8(ascii: "-") { return parts }
            // Transport padding, then CRLF ends the delimiter line.
            while at < body.count && (body[at] == UInt8(ascii: " ") || body[at] == UInt8(ascii: "\t")) { at += 1 }
            guard body.count >= at + 2, body[at] == 13, body[at + 1] == 10 else { throw Malformed(reason: "bad delimiter line") }
            at += 2
            guard let headerEnd = find([13, 10, 13, 10], in: body, from: at), headerEnd - at <= partHeaderBytesMax else {
                throw Malformed(reason: "part headers not terminated")
            }
            let headers = String(decoding: body[at..<headerEnd], as: UTF8.self)
            let dataStart = headerEnd + 4
            guard let dataEnd = find(separator, in: body, from: dataStart) else { throw Malformed(reason: "closing boundary missing") }
            var part = MultipartPart(name: "", filename: nil, contentType: nil, data: Array(body[dataStart..<dataEnd]))
            for line in headers.split(separator: "\r\n", omittingEmptySubsequences: true) {
                guard let colon = line.firstIndex(of: ":") else { throw Malformed(reason: "bad part header") }
                let field = line[..<colon].trimmingWhitespace().lowercased()
                let value = line[line.index(after: colon)...].trimmingWhitespace()
                if field == "content-disposition" {
                    let params = dispositionParameters(value)
                    guard params.type == "form-data", let name = params.values["name"] else { throw Malformed(reason: "part without a form-data name") }
                    part.name = name
                    part.filename = params.values["filename"]
                } else if field == "content-type" {
                    part.contentType = value
                }
            }
            guard !part.name.isEmpty else { throw Malformed(reason: "part without Content-Disposition") }
            parts.append(part)
            guard parts.count <= partsMax else { throw Malformed(reason: "too many parts") }
            at = dataEnd + separator.count
        }
    }

    /// `form-data; name="file"; filename="x.snap"` → type and parameters (quotes removed).
    static func dispositionParameters(_ value: String) -> (type: String, values: [String: String]) {
        var values: [String: String] = [:]
        var pieces: [String] = []
        var current = "", quoted = false, escaped = false
        for ch in value {
            if escaped { current.append(ch); escaped = false; continue }
            if quoted && ch == "\\" { escaped = true; continue }
            if ch == "\"" { quoted.toggle(); continue }
            if ch == ";" && !quoted { pieces.append(current); current = ""; continue }
            current.append(ch)
        }
        pieces.append(current)
        let type = pieces.first?.trimmingWhitespace().lowercased() ?? ""
        for piece in pieces.dropFirst() {
            guard let eq = piece.firstIndex(of: "=") else { continue }
            values[piece[..<eq].trimmingWhitespace().lowercased()] = String(piece[piece.index(after: eq)...])
        }
        return (type, values)
    }

    /// The first index of `needle` in `haystack` at or after `from`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var i = from
        let last = haystack.count - needle.count
        return haystack.withUnsafeBufferPointer { h -> Int? in
            while i <= last {
                if h[i] == first {
                    var j = 1
                    while j < needle.count && h[i + j] == needle[j] { j += 1 }
                    if j == needle.count { return i }
                }
                i += 1
            }
            return nil
        }
    }
}
