// RESPArguments: the argument grammar of the keyspace and TokMesh commands (spec/05 §7.2-§7.3) —
// keys as session IDs, SET's and EXPIRE's options, SCAN's cursor and options, TM.VALIDATE's and
// TM.CREATE's — parsed into values or the spec's error line, before any service call. Pure: the
// listener passes the configured TTL ceiling.
import TokMeshCore

public enum RESPArguments {
    /// A key: a session ID, lowercased (spec/05 §7.2).
    public static func key(_ bytes: [UInt8]) -> Result<String, RESPRefusal> {
        guard let id = Identifiers.normalizeID(String(decoding: bytes, as: UTF8.self), kind: .session) else {
            return .failure(RESPRefusal(line: "ERR TM-ARG-1001 key is not a session id"))
        }
        return .success(id)
    }

    static let syntax = RESPRefusal(line: "ERR TM-ARG-1001 syntax error")
    static let notInteger = RESPRefusal(line: "ERR TM-ARG-1001 value is not an integer or out of range")

    /// A positive TTL in milliseconds from seconds or milliseconds, within `maxSeconds`.
    static func ttl(_ bytes: [UInt8], millis: Bool, command: String, maxSeconds: Int64) -> Result<Int64, RESPRefusal> {
        guard let value = RESPConnectionCommands.integer(bytes) else { return .failure(notInteger) }
        guard value > 0 else { return .failure(RESPRefusal(line: "ERR TM-ARG-1001 invalid expire time in '\(command)' command")) }
        let ms = millis ? value : (value > Int64.max / 1000 ? Int64.max : value * 1000)
        guard ms <= maxSeconds * 1000 else { return .failure(RESPRefusal(line: "ERR TM-ARG-1001 TTL exceeds the maximum of \(maxSeconds) seconds")) }
        return .success(ms)
    }

    public enum Condition: Sendable, Equatable { case always, onlyIfAbsent, onlyIfPresent }

    public struct SetOptions: Sendable, Equatable {
        /// EX/PX as milliseconds; nil = none given (KEEPTTL behaves the same, spec/05 §7.2).
        public var ttlMillis: Int64?
        public var condition: Condition = .always
    }

    /// `SET key json [EX s|PX ms|KEEPTTL] [NX|XX]`: the options after the value.
    public static func setOptions(_ words: ArraySlice<[UInt8]>, maxTTLSeconds: Int64) -> Result<SetOptions, RESPRefusal> {
        var options = SetOptions()
        var sawTTL = false, sawCondition = false, seen = Set<String>()
        var i = words.startIndex
        while i < words.endIndex {
            let option = String(decoding: words[i], as: UTF8.self).uppercased()
            guard !seen.contains(option) else { return .failure(syntax) }
            seen.insert(option)
            switch option {
            case "EX", "PX":
                guard i + 1 < words.endIndex else { return .failure(syntax) }
                if sawTTL { return .failure(RESPRefusal(line: "ERR TM-ARG-1003 syntax error")) }
                sawTTL = true
                switch ttl(words[i + 1], millis: option == "PX", command: "set", maxSeconds: maxTTLSeconds) {
                case .success(let ms): options.ttlMillis = ms
                case .failure(let r): return .failure(r)
                }
                i += 2
            case "KEEPTTL":
                if sawTTL { return .failure(RESPRefusal(line: "ERR TM-ARG-1003 syntax error")) }
                sawTTL = true
                i += 1
            case "NX", "XX":
                if sawCondition { return .failure(RESPRefusal(line: "ERR TM-ARG-1003 syntax error")) }
                sawCondition = true
                options.condition = option == "NX" ? .onlyIfAbsent : .onlyIfPresent
                i += 1
            default:
                return .failure(syntax)
            }
        }
        return .success(options)
    }

    public enum ExpireCondition: Sendable, Equatable { case always, never, onlyIfLater, onlyIfEarlier }

    /// `EXPIRE key s` / `PEXPIRE key ms` `[NX|XX|GT|LT]`: the TTL and the condition. NX never
    /// applies (every session has an expiry); XX is the same as none.
    public static func expire(_ words: [[UInt8]], millis: Bool, maxTTLSeconds: Int64) -> Result<(Int64, ExpireCondition), RESPRefusal> {
        var flags = Set<String>()
        for word in words.dropFirst(3) {
            let option = String(decoding: word, as: UTF8.self).uppercased()
            guard ["NX", "XX", "GT", "LT"].contains(option) else {
                return .failure(RESPRefusal(line: "ERR TM-ARG-1001 Unsupported option \(RESPCommandTable.quoted(word))"))
            }
            flags.insert(option)
        }
        if flags.contains("NX") && flags.count > 1 || flags.contains("GT") && flags.contains("LT") {
            return .failure(RESPRefusal(line: "ERR TM-ARG-1003 NX and XX, GT or LT options at the same time are not compatible"))
        }
        let command = millis ? "pexpire" : "expire"
        let ms: Int64
        switch ttl(words[2], millis: millis, command: command, maxSeconds: maxTTLSeconds) {
        case .success(let v): ms = v
        case .failure(let r): return .failure(r)
        }
        let condition: ExpireCondition = flags.contains("NX") ? .never : flags.contains("GT") ? .onlyIfLater : flags.contains("LT") ? .onlyIfEarlier : .always
        return .success((ms, condition))
    }

    public struct ScanRequest: Sendable, Equatable {
        /// The ring position to continue from (0 starts).
        public var cursor: UInt32
        public var pattern: [UInt8]?
        public var count = 10
        /// False when TYPE names anything but `string` (nothing matches).
        public var typeMatches = true
    }

    /// `SCAN cursor [MATCH p] [COUNT n] [TYPE t]` (spec/05 §7.2).
    public static func scan(_ words: [[UInt8]]) -> Result<ScanRequest, RESPRefusal> {
        let text = String(decoding: words[1], as: UTF8.self)
        guard let cursor = UInt32(text), String(cursor) == text else { return .failure(RESPRefusal(line: "ERR TM-ARG-1001 invalid cursor")) }
        var request = ScanRequest(cursor: cursor)
        var i = 2
        while i < words.count {
            guard i + 1 < words.count else { return .failure(syntax) }
            switch String(decoding: words[i], as: UTF8.self).uppercased() {
            case "MATCH":
                guard words[i + 1].count <= 256 else { return .failure(RESPRefusal(line: "ERR TM-ARG-1001 pattern longer than 256 bytes")) }
                request.pattern = words[i + 1]
            case "COUNT":
                guard let n = RESPConnectionCommands.integer(words[i + 1]) else { return .failure(notInteger) }
                guard n >= 1 else { return .failure(syntax) }
                request.count = Int(min(n, 1000))
            case "TYPE":
                request.typeMatches = String(decoding: words[i + 1], as: UTF8.self).lowercased() == "string"
            default:
                return .failure(syntax)
            }
            i += 2
        }
        return .success(request)
    }

    public struct ValidateRequest: Sendable, Equatable {
        public var token: String
        public var touch = false
        public var withSession = false
        public var ipAddress: String?
        public var userAgent: String?
    }

    /// `TM.VALIDATE token [TOUCH] [WITHSESSION] [IP ip] [UA agent]`.
    public static func validate(_ words: [[UInt8]]) -> Result<ValidateRequest, RESPRefusal> {
        var request = ValidateRequest(token: String(decoding: words[1], as: UTF8.self))
        guard words.count > 2 else { return .success(request) }
        var seen = Set<String>()
        var i = 2
        while i < words.count {
            let option = String(decoding: words[i], as: UTF8.self).uppercased()
            guard !seen.contains(option) else { return .failure(syntax) }
            seen.insert(option)
            switch option {
            case "TOUCH": request.touch = true; i += 1
            case "WITHSESSION": request.withSession = true; i += 1
            case "IP", "UA":
                guard i + 1 < words.count else { return .failure(syntax) }
                let value = String(decoding: words[i + 1], as: UTF8.self)
                if option == "IP" { request.ipAddress = value } else { request.userAgent = value }
                i += 2
            default:
                return .failure(syntax)
            }
        }
        if (request.ipAddress != nil || request.userAgent != nil) && !request.touch {
            return .failure(RESPRefusal(line: "ERR TM-ARG-1003 IP and UA need TOUCH"))
        }
        return .success(request)
    }

    public struct CreateRequest: Sendable, Equatable {
        /// nil for `*` (the server picks the ID).
        public var sessionID: String?
        public var json: [UInt8]
        public var ttlMillis: Int64?
    }

    /// `TM.CREATE key|* json [TTL seconds]`.
    public static func create(_ words: [[UInt8]], maxTTLSeconds: Int64) -> Result<CreateRequest, RESPRefusal> {
        var request = CreateRequest(sessionID: nil, json: words[2])
        if words[1] != [UInt8(ascii: "*")] {
            switch key(words[1]) {
            case .success(let id): request.sessionID = id
            case .failure(let r): return .failure(r)
            }
        }
        switch words.count {
        case 3: break
        case 5 where String(decoding: words[3], as: UTF8.self).uppercased() == "TTL":
            switch ttl(words[4], millis: false, command: "tm.create", maxSeconds: maxTTLSeconds) {
            case .success(let ms): request.ttlMillis = ms
            case .failure(let r): return .failure(r)
            }
        default:
            return .failure(syntax)
        }
        return .success(request)
    }
}
