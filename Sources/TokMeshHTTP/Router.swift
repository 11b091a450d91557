// Router: a frozen table of (method, path template) → handler, built once at start-up
// (STYLE §6). Templates are exact paths with `{name}` segments; parameters are percent-decoded
// once. A known path with another method is `.methodNotAllowed` with the allowed methods.

public struct Route<Handler: Sendable>: Sendable {
    public var method: String
    public var template: String
    public var handler: Handler
    public init(_ method: String, _ template: String, _ handler: Handler) {
        self.method = method
        self.template = template
        self.handler = handler
    }
}

public enum RouteMatch<Handler: Sendable>: Sendable {
    case matched(Handler, parameters: [String: String], template: String)
    case methodNotAllowed(allowed: [String])
    case notFound
}

public struct Router<Handler: Sendable>: Sendable {
    // Inlinable so callers in other modules get `match` specialised for their handler type (it
    // runs on every request).
    @usableFromInline enum Segment: Sendable, Equatable { case literal(String), parameter(String) }
    @usableFromInline struct Entry: Sendable {
        @usableFromInline var method: String
        @usableFromInline var template: String
        @usableFromInline var segments: [Segment]
        @usableFromInline var handler: Handler
    }
    @usableFromInline let exact: [String: [Entry]]
    @usableFromInline let patterned: [Entry]
    public let routes: [(method: String, template: String)]

    public init(_ routes: [Route<Handler>]) {
        var exact: [String: [Entry]] = [:]
        var patterned: [Entry] = []
        var seen = Set<String>()
        for r in routes {
            precondition(seen.insert(r.method + " " + r.template).inserted, "duplicate route \(r.method) \(r.template)")
            let segments = r.template.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { s -> Segment in
                s.hasPrefix("{") && s.hasSuffix("}") ? .parameter(String(s.dropFirst().dropLast())) : .literal(String(s))
            }
            let entry = Entry(method: r.method, template: r.template, segments: segments, handler: r.handler)
            if segments.contains(where: { if case .parameter = $0 { return true }; return false }) {
                patterned.append(entry)
            } else {
                exact[r.template, default: []].append(entry)
            }
        }
        self.exact = exact
        self.patterned = patterned
        self.routes = routes.map { ($0.method, $0.template) }
    }

    @inlinable
    public func match(method: String, path: String) -> RouteMatch<Handler> {
        if let entries = exact[path] {
            if let e = entries.first(where: { $0.method == method }) { return .matched(e.handler, parameters: [:], template: e.template) }
            return .methodNotAllowed(allowed: entries.map(\.method))
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        var allowed: [String] = []
        for entry in patterned where entry.segments.count == parts.count {
            var params: [String: String] = [:]
            var ok = true
            for (segment, part) in zip(entry.segments, parts) {
                switch segment {
                case .literal(let l): if l != part { ok = false }
                case .parameter(let name):
                    guard !part.isEmpty, let decoded = Router.percentDecode(part) else { ok = false; break }
                    params[name] = decoded
                }
                if !ok { break }
            }
            guard ok else { continue }
            if entry.method == method { return .matched(entry.handler, parameters: params, template: entry.template) }
            allowed.append(entry.method)
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    /// Percent-decoding (no `+` rule: that is for query strings). Nil on a bad escape or bad UTF-8.
    @inlinable
    public static func percentDecode<S: StringProtocol>(_ s: S, plusIsSpace: Bool = false) -> String? {
        var out: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let c = it.popFirst() {
            if c == UInt8(ascii: "%") {
                guard it.count >= 2, let h = hexValue(it[it.startIndex]), let l = hexValue(it[it.startIndex + 1]) else { return nil }
                out.append(h << 4 | l)
                it = it.dropFirst(2)
            } else if plusIsSpace && c == UInt8(ascii: "+") {
                out.append(0x20)
            } else {
                out.append(c)
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    @usableFromInline
    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Form-decoding of a query string into ordered (name, value) pairs.
public enum QueryString {
    public static func parse(_ query: String?) -> [(String, String)]? {
        guard let query, !query.isEmpty else { return [] }
        var out: [(String, String)] = []
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Router<Int>.percentDecode(kv[0], plusIsSpace: true),
                  let value = Router<Int>.percentDecode(kv.count > 1 ? kv[1] : "", plusIsSpace: true) else { return nil }
            out.append((name, value))
        }
        return out
    }
}
