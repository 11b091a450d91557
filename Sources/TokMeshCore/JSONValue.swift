// JSONValue: the JSON document model used by every JSON surface (HTTP API, audit log, config
// output). Objects keep insertion order so responses are stable and readable; the strict parser
// in JSONParser.swift produces this type and the writer in JSONWriter.swift renders it.

public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var intValue: Int64? { if case .int(let i) = self { return i }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
}

/// An ordered JSON object. Keys are unique (the parser rejects duplicates, setters replace).
public struct JSONObject: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public private(set) var pairs: [(key: String, value: JSONValue)]

    public init() { pairs = [] }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        pairs = []
        for (k, v) in elements { self[k] = v }
    }

    public var isEmpty: Bool { pairs.isEmpty }
    public var keys: [String] { pairs.map(\.key) }

    public subscript(key: String) -> JSONValue? {
        get { pairs.first(where: { $0.key == key })?.value }
        set {
            if let i = pairs.firstIndex(where: { $0.key == key }) {
                if let v = newValue { pairs[i].value = v } else { pairs.remove(at: i) }
            } else if let v = newValue {
                pairs.append((key, v))
            }
        }
    }

    /// Appends without a uniqueness check; for builders that know their keys are distinct.
    public mutating func append(_ key: String, _ value: JSONValue) { pairs.append((key, value)) }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.pairs.count == rhs.pairs.count else { return false }
        for (k, v) in lhs.pairs where rhs[k] != v { return false }
        return true
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue {
    public static func strings(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }
    public static func uint(_ v: UInt64) -> JSONValue { .int(Int64(clamping: v)) }
}
