// JSONBody: strict field access over a decoded request object (spec/04 §4). Unknown fields,
// wrong JSON types and non-integral numbers are TM-SYS-4000 with `details.field`; `null` means
// absent. Used by every JSON route so all of them share one set of rules.

public struct JSONBody: Sendable {
    public let object: JSONObject

    /// Parses `bytes` (empty = `{}`) and refuses any field not in `allowed`.
    public init(bytes: [UInt8], allowed: Set<String>) throws(TokMeshError) {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            object = JSONObject()
            return
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw TokMeshError.malformed(error.field, error.reason)
        }
        guard case .object(let o) = value else { throw TokMeshError.malformed(nil, "body must be a JSON object") }
        for key in o.keys where !allowed.contains(key) {
            throw TokMeshError(.sysMalformed, "Unknown field: \(JSONBody.safeName(key))", details: ["field": .string(JSONBody.safeName(key))])
        }
        object = o
    }

    public init(object: JSONObject) { self.object = object }

    /// Field names are echoed in errors; keep them short and printable.
    public static func printable(_ key: String) -> String { safeName(key) }

    static func safeName(_ key: String) -> String {
        let cleaned = String(key.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.prefix(64).map(Character.init))
        return cleaned
    }

    private func wrongType(_ name: String, _ expected: String) -> TokMeshError {
        TokMeshError(.sysMalformed, "Field \(name) must be \(expected)", details: ["field": .string(name)])
    }

    private func value(_ name: String) -> JSONValue? {
        guard let v = object[name], v != .null else { return nil }
        return v
    }

    public func string(_ name: String) throws(TokMeshError) -> String? {
        guard let v = value(name) else { return nil }
        guard case .string(let s) = v else { throw wrongType(name, "a string") }
        return s
    }

    public func int(_ name: String) throws(TokMeshError) -> Int64? {
        guard let v = value(name) else { return nil }
        guard case .int(let i) = v else { throw wrongType(name, "an integer") }
        return i
    }

    public func bool(_ name: String) throws(TokMeshError) -> Bool? {
        guard let v = value(name) else { return nil }
        guard case .bool(let b) = v else { throw wrongType(name, "a boolean") }
        return b
    }

    public func stringMap(_ name: String) throws(TokMeshError) -> [String: String]? {
        guard let v = value(name) else { return nil }
        guard case .object(let o) = v else { throw wrongType(name, "an object of strings") }
        var out: [String: String] = [:]
        for (k, item) in o.pairs {
            guard case .string(let s) = item else { throw wrongType(name, "an object of strings") }
            out[k] = s
        }
        return out
    }

    public func stringList(_ name: String) throws(TokMeshError) -> [String]? {
        guard let v = value(name) else { return nil }
        guard case .array(let items) = v else { throw wrongType(name, "a list of strings") }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else { throw wrongType(name, "a list of strings") }
            out.append(s)
        }
        return out
    }
}
