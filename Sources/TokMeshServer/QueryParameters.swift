// QueryParameters: the strict query-string rules of spec/04 §4 — form-decoded, only the
// route's listed names, no repeats (TM-ARG-1001), integers decimal, booleans true/false.
import TokMeshCore
import TokMeshHTTP

struct QueryParameters: Sendable {
    private var values: [String: String]

    init(raw: String?, allowed: Set<String>) throws(TokMeshError) {
        guard let pairs = QueryString.parse(raw) else { throw TokMeshError.invalid("query", "Malformed query string") }
        var values: [String: String] = [:]
        for (name, value) in pairs {
            guard allowed.contains(name) else {
                throw TokMeshError(.argInvalid, "Unknown query parameter: \(JSONBody.printable(name))", details: ["field": .string(JSONBody.printable(name))])
            }
            guard values[name] == nil else {
                throw TokMeshError(.argInvalid, "Repeated query parameter: \(name)", details: ["field": .string(name)])
            }
            values[name] = value
        }
        self.values = values
    }

    func string(_ name: String) -> String? { values[name] }

    func int(_ name: String) throws(TokMeshError) -> Int64? {
        guard let raw = values[name] else { return nil }
        guard let v = Int64(raw), !raw.hasPrefix("+") else { throw TokMeshError.invalid(name, "\(name) must be an integer") }
        return v
    }

    func bool(_ name: String) throws(TokMeshError) -> Bool? {
        guard let raw = values[name] else { return nil }
        switch raw {
        case "true": return true
        case "false": return false
        default: throw TokMeshError.invalid(name, "\(name) must be true or false")
        }
    }

    /// `page` ≥ 1 (default 1) and `size` 1…max (default `defaultSize`), else TM-ARG-1001.
    func paging(defaultSize: Int, maxSize: Int) throws(TokMeshError) -> (page: Int, size: Int) {
        let page = try int("page") ?? 1
        guard page >= 1, page <= 1_000_000 else { throw TokMeshError.invalid("page", "page must be at least 1") }
        let size = try int("size") ?? Int64(defaultSize)
        guard size >= 1, size <= Int64(maxSize) else {
            throw TokMeshError(.argInvalid, "size must be 1-\(maxSize)", details: ["field": "size", "max": .int(Int64(maxSize))])
        }
        return (Int(page), Int(size))
    }
}
