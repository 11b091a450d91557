// RESPCommandTable: the frozen command table of spec/05 §6-§7 — name, arity, flags, the role a
// command needs, key positions and subcommands — and the dispatch checks that run before any
// handler, in the spec's order: unknown command or subcommand, arity, login, role. A pure value
// lookup; the listener runs the key checks of spec/03 §4.3 and readiness between login and role.
import TokMeshCore

public struct RESPCommandFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let readonly = RESPCommandFlags(rawValue: 1)
    public static let write = RESPCommandFlags(rawValue: 2)
    public static let fast = RESPCommandFlags(rawValue: 4)
    /// Runs before AUTH (PING, QUIT, AUTH, HELLO).
    public static let noAuth = RESPCommandFlags(rawValue: 8)
    /// Runs while the node is recovering (connection commands, INFO).
    public static let loading = RESPCommandFlags(rawValue: 16)

    /// The Redis 7 flag names, in the order COMMAND lists them.
    public var names: [String] {
        [(RESPCommandFlags.write, "write"), (.readonly, "readonly"), (.fast, "fast"), (.noAuth, "no_auth"), (.loading, "loading")]
            .filter { contains($0.0) }.map(\.1)
    }
}

/// Who may run a command: anyone (before AUTH too), any authenticated key, or at least a role.
public enum RESPAccess: Sendable, Equatable {
    case none
    case anyKey
    case role(Role)
}

public struct RESPCommandSpec: Sendable, Equatable {
    /// Uppercase name (lookups are case-insensitive).
    public let name: String
    /// Redis arity: n = exactly n words with the name; -n = at least n.
    public let arity: Int
    public let flags: RESPCommandFlags
    public let access: RESPAccess
    /// First key, last key (-1 = the last argument) and step; 0,0,0 for keyless commands.
    public let keys: (first: Int, last: Int, step: Int)
    /// Uppercase subcommand names and their arities (counting the command and subcommand).
    public let subcommands: [String: Int]
    /// The position in `RESPCommandTable.all` (per-command counters are indexed by it).
    public fileprivate(set) var ordinal = 0

    public static func == (a: RESPCommandSpec, b: RESPCommandSpec) -> Bool { a.name == b.name }


    /// The category of COMMAND's reply.
    public var category: String {
        if flags.contains(.write) { return "@write" }
        if flags.contains(.readonly) { return "@read" }
        return "@connection"
    }

    func accepts(wordCount: Int) -> Bool { arity >= 0 ? wordCount == arity : wordCount >= -arity }
}

/// A dispatch refusal: the error line to answer (without `-` and CRLF).
public struct RESPRefusal: Error, Sendable, Equatable {
    public let line: String
}

public enum RESPCommandTable {
    private static func spec(_ name: String, _ arity: Int, _ flags: RESPCommandFlags, _ access: RESPAccess,
                             keys: (Int, Int, Int) = (0, 0, 0), subcommands: [String: Int] = [:]) -> RESPCommandSpec {
        RESPCommandSpec(name: name, arity: arity, flags: flags, access: access, keys: keys, subcommands: subcommands)
    }

    /// Every command of spec/05 §7 (25, as `COMMAND COUNT` answers).
    public static let all: [RESPCommandSpec] = table.enumerated().map { ordinal, spec in
        var numbered = spec
        numbered.ordinal = ordinal
        return numbered
    }

    private static let table: [RESPCommandSpec] = [
        spec("PING", -1, [.fast, .noAuth, .loading], .none),
        spec("ECHO", 2, [.fast, .loading], .anyKey),
        spec("QUIT", -1, [.noAuth, .loading], .none),
        spec("AUTH", -2, [.noAuth, .loading], .none),
        spec("HELLO", -1, [.noAuth, .loading], .none),
        spec("CLIENT", -2, [.loading], .anyKey, subcommands: ["SETNAME": 3, "GETNAME": 2, "ID": 2, "SETINFO": 4, "INFO": 2]),
        spec("SELECT", 2, [.fast, .loading], .anyKey),
        spec("COMMAND", -1, [.loading], .anyKey, subcommands: ["COUNT": 2, "DOCS": -2, "INFO": -2]),
        spec("CONFIG", -3, [.loading], .anyKey, subcommands: ["GET": -3]),
        spec("INFO", -1, [.loading], .anyKey),
        spec("DBSIZE", 1, [.readonly, .fast], .anyKey),
        spec("GET", 2, [.readonly, .fast], .role(.validator), keys: (1, 1, 1)),
        spec("EXISTS", -2, [.readonly, .fast], .role(.validator), keys: (1, -1, 1)),
        spec("TTL", 2, [.readonly, .fast], .role(.validator), keys: (1, 1, 1)),
        spec("PTTL", 2, [.readonly, .fast], .role(.validator), keys: (1, 1, 1)),
        spec("TYPE", 2, [.readonly, .fast], .role(.validator), keys: (1, 1, 1)),
        spec("SET", -3, [.write], .role(.issuer), keys: (1, 1, 1)),
        spec("DEL", -2, [.write], .role(.issuer), keys: (1, -1, 1)),
        spec("EXPIRE", -3, [.write, .fast], .role(.issuer), keys: (1, 1, 1)),
        spec("PEXPIRE", -3, [.write, .fast], .role(.issuer), keys: (1, 1, 1)),
        spec("SCAN", -2, [.readonly], .role(.issuer)),
        spec("TM.CREATE", -3, [.write], .role(.issuer), keys: (1, 1, 1)),
        spec("TM.VALIDATE", -2, [.fast], .role(.validator)),
        spec("TM.TOUCH", 2, [.write, .fast], .role(.validator), keys: (1, 1, 1)),
        spec("TM.REVOKE_USER", 2, [.write], .role(.issuer)),
    ]

    private static let byName: [String: RESPCommandSpec] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The spec of an uppercase or lowercase name, or nil.
    public static func lookup(_ name: [UInt8]) -> RESPCommandSpec? {
        guard name.count <= 32 else { return nil }
        return byName[upper(name)]
    }

    /// ASCII upper case (command names are ASCII; other bytes pass through).
    public static func upper(_ bytes: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: bytes.count) { out in
            for (i, b) in bytes.enumerated() { out[i] = b >= 0x61 && b <= 0x7A ? b - 0x20 : b }
            return bytes.count
        }
    }

    /// A name as errors may quote it: at most 64 bytes, printable ASCII only (spec/05 §6: errors
    /// quote only the command name, never an argument).
    public static func quoted(_ name: [UInt8]) -> String {
        String(decoding: name.prefix(64).map { $0 >= 0x21 && $0 < 0x7F && $0 != UInt8(ascii: "'") ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }

    /// The checks every command passes before its handler (spec/05 §6, steps 1-3 and the role
    /// of step 4): `role` is the logged-in key's role, nil before AUTH.
    public static func check(_ command: [[UInt8]], role: Role?) -> Result<RESPCommandSpec, RESPRefusal> {
        guard let name = command.first, let spec = lookup(name) else {
            return .failure(RESPRefusal(line: "ERR TM-SYS-4040 unknown command '\(quoted(command.first ?? []))'"))
        }
        guard spec.accepts(wordCount: command.count) else {
            return .failure(RESPRefusal(line: "ERR TM-ARG-1001 wrong number of arguments for '\(spec.name.lowercased())' command"))
        }
        if !spec.subcommands.isEmpty, command.count >= 2 {
            let sub = upper(Array(command[1].prefix(32)))
            guard let arity = spec.subcommands[sub] else {
                return .failure(RESPRefusal(line: "ERR TM-SYS-4040 unknown subcommand '\(quoted(command[1]))' for '\(spec.name)'"))
            }
            guard arity >= 0 ? command.count == arity : command.count >= -arity else {
                return .failure(RESPRefusal(line: "ERR TM-ARG-1001 wrong number of arguments for '\(spec.name.lowercased())|\(sub.lowercased())' command"))
            }
        }
        switch spec.access {
        case .none:
            break
        case .anyKey:
            guard role != nil else { return .failure(RESPRefusal(line: "NOAUTH TM-AUTH-4010 Authentication required.")) }
        case .role:
            guard let role else { return .failure(RESPRefusal(line: "NOAUTH TM-AUTH-4010 Authentication required.")) }
            if let refusal = roleRefusal(spec, role: role) { return .failure(refusal) }
        }
        return .success(spec)
    }

    /// The role part of step 4: nil when `role` may run the command. Metrics keys may run only
    /// the "any key" group (spec/05 §7); roles are ordered.
    public static func roleRefusal(_ spec: RESPCommandSpec, role: Role) -> RESPRefusal? {
        guard case .role(let needed) = spec.access, role < needed else { return nil }
        return RESPRefusal(line: "ERR TM-AUTH-4030 role \(role.rawValue) may not run '\(spec.name)' (needs \(needed.rawValue))")
    }
}
