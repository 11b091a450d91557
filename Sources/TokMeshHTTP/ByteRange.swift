// ByteRange: the single-range subset of HTTP Range requests (RFC 9110 §14) that snapshot
// downloads serve. Pure: given the `Range` and `If-Range` values, the file size and its ETag it
// decides between the whole file (200), one range (206) and 416. Several ranges, other units,
// syntax errors and a stale `If-Range` all fall back to the whole file, as RFC 9110 allows.
import TokMeshCore

public enum ByteRange: Sendable, Equatable {
    case whole
    /// Inclusive byte positions.
    case partial(first: Int, last: Int)
    case unsatisfiable

    public static func resolve(range: String?, ifRange: String?, size: Int, etag: String) -> ByteRange {
        guard let range = range?.trimmingWhitespace() else { return .whole }
        if let ifRange = ifRange?.trimmingWhitespace(), ifRange != etag { return .whole }
        guard range.lowercased().hasPrefix("bytes=") else { return .whole }
        let spec = String(range.dropFirst(6)).trimmingWhitespace()
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .whole }
        let a = spec[..<dash], b = spec[spec.index(after: dash)...]
        func number(_ s: Substring) -> Int? {
            guard !s.isEmpty, s.utf8.count <= 18, s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            return Int(s)
        }
        if a.isEmpty {
            guard let n = number(b) else { return .whole }
            guard n > 0, size > 0 else { return .unsatisfiable }
            return .partial(first: max(0, size - n), last: size - 1)
        }
        guard let first = number(a) else { return .whole }
        let last: Int
        if b.isEmpty {
            last = size - 1
        } else {
            guard let l = number(b), l >= first else { return .whole }
            last = min(l, size - 1)
        }
        guard first < size else { return .unsatisfiable }
        return .partial(first: first, last: last)
    }
}
