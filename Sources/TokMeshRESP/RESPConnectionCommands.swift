// RESPConnectionCommands: the connection state of spec/05 §2 and the commands that only read or
// change it (spec/05 §4, §7.1): PING, ECHO, SELECT, CLIENT SETNAME/GETNAME/ID/SETINFO, HELLO's
// option parsing, COMMAND COUNT/INFO/DOCS and CONFIG GET. Pure functions over the state and a
// reply writer; AUTH (Argon2, on the blocking pool) and the keyspace commands live with the
// listener, which calls these for everything else.
import TokMeshCore

/// One connection's state (owned by its event loop).
public struct RESPConnectionState: Sendable {
    public let id: Int64
    public var protocolVersion = 2
    public var name = ""
    public var libName = ""
    public var libVersion = ""
    /// The logged-in key: ID and role (nil before AUTH or after a failed one).
    public var key: (id: String, role: Role)?

    public init(id: Int64) { self.id = id }
}

/// What HELLO asked for, once its options parse (spec/05 §4). The listener authenticates
/// `auth` (if any) before switching protocol and answering.
public struct RESPHelloRequest: Sendable, Equatable {
    public var protocolVersion: Int?
    public var auth: (user: [UInt8], password: [UInt8])?
    public var name: [UInt8]?

    public static func == (a: RESPHelloRequest, b: RESPHelloRequest) -> Bool {
        a.protocolVersion == b.protocolVersion && a.auth?.user == b.auth?.user && a.auth?.password == b.auth?.password && a.name == b.name
    }
}

public enum RESPConnectionCommands {
    /// Replies to a connection command, or returns false for a command it does not handle.
    /// `config` answers CONFIG GET's read-only table (spec/05 §7.1).
    public static func handle(_ command: [[UInt8]], state: inout RESPConnectionState, writer: inout RESPWriter,
                              config: [(String, String)]) -> Bool {
        let name = String(decoding: command[0], as: UTF8.self).uppercased()
        switch name {
        case "PING":
            if command.count == 1 { writer.status("PONG") } else if command.count == 2 { writer.bulk(command[1]) } else {
                writer.error("ERR TM-ARG-1001 wrong number of arguments for 'ping' command")
            }
        case "ECHO":
            writer.bulk(command[1])
        case "SELECT":
            switch integer(command[1]) {
            case 0?: writer.status("OK")
            case _?: writer.error("ERR TM-ARG-1001 DB index is out of range")
            case nil: writer.error("ERR TM-ARG-1001 value is not an integer or out of range")
            }
        case "CLIENT":
            client(command, state: &state, writer: &writer)
        case "COMMAND":
            commandInfo(command, writer: &writer)
        case "CONFIG":
            var matches: [(String, String)] = []
            for pattern in command[2...] {
                for (key, value) in config where Glob.matches(pattern, Array(key.utf8)) && !matches.contains(where: { $0.0 == key }) {
                    matches.append((key, value))
                }
            }
            writer.mapHeader(matches.count)
            for (key, value) in matches { writer.bulk(key); writer.bulk(value) }
        default:
            return false
        }
        return true
    }

    /// CLIENT SETNAME|GETNAME|ID|SETINFO (INFO needs the listener's addresses and clock).
    static func client(_ command: [[UInt8]], state: inout RESPConnectionState, writer: inout RESPWriter) {
        switch String(decoding: command[1], as: UTF8.self).uppercased() {
        case "SETNAME":
            guard isValidName(command[2]) else {
                return writer.error("ERR TM-ARG-1001 Client names cannot contain spaces, newlines or special characters.")
            }
            state.name = String(decoding: command[2], as: UTF8.self)
            writer.status("OK")
        case "GETNAME":
            if state.name.isEmpty { writer.null() } else { writer.bulk(state.name) }
        case "ID":
            writer.integer(state.id)
        case "SETINFO":
            let attribute = String(decoding: command[2], as: UTF8.self).uppercased()
            guard attribute == "LIB-NAME" || attribute == "LIB-VER" else {
                return writer.error("ERR TM-ARG-1001 Unrecognized option '\(RESPCommandTable.quoted(command[2]))'")
            }
            guard isValidName(command[3]) else {
                return writer.error("ERR TM-ARG-1001 \(attribute == "LIB-NAME" ? "lib-name" : "lib-ver") cannot contain spaces, newlines or special characters.")
            }
            if attribute == "LIB-NAME" { state.libName = String(decoding: command[3], as: UTF8.self) } else { state.libVersion = String(decoding: command[3], as: UTF8.self) }
            writer.status("OK")
        default:
            writer.error("ERR TM-SYS-4040 unknown subcommand '\(RESPCommandTable.quoted(command[1]))' for 'CLIENT'")
        }
    }

    /// 0-128 bytes of 0x21-0x7E (`""` clears).
    static func isValidName(_ bytes: [UInt8]) -> Bool { bytes.count <= 128 && bytes.allSatisfy { $0 >= 0x21 && $0 <= 0x7E } }

    /// COMMAND, COMMAND INFO name…, COMMAND COUNT, COMMAND DOCS.
    static func commandInfo(_ command: [[UInt8]], writer: inout RESPWriter) {
        let sub = command.count > 1 ? String(decoding: command[1], as: UTF8.self).uppercased() : "INFO"
        switch sub {
        case "COUNT":
            writer.integer(Int64(RESPCommandTable.all.count))
        case "DOCS":
            writer.mapHeader(0)
        default:  // INFO, or COMMAND alone
            let names = command.count > 2 ? Array(command[2...]) : nil
            let specs: [RESPCommandSpec?] = names.map { $0.map(RESPCommandTable.lookup) } ?? RESPCommandTable.all
            writer.arrayHeader(specs.count)
            for spec in specs {
                guard let spec else { writer.null(); continue }
                entry(spec, writer: &writer)
            }
        }
    }

    /// A Redis 7 COMMAND entry: name, arity, flags, first/last key, step, categories, tips,
    /// key specs, subcommands.
    static func entry(_ spec: RESPCommandSpec, writer: inout RESPWriter) {
        writer.arrayHeader(10)
        writer.bulk(spec.name.lowercased())
        writer.integer(Int64(spec.arity))
        let flags = spec.flags.names
        writer.setHeader(flags.count)
        for f in flags { writer.status(f) }
        writer.integer(Int64(spec.keys.first))
        writer.integer(Int64(spec.keys.last))
        writer.integer(Int64(spec.keys.step))
        writer.setHeader(2)
        writer.status("@tokmesh")
        writer.status(spec.category)
        writer.arrayHeader(0)
        writer.arrayHeader(0)
        let subs = spec.subcommands.sorted { $0.key < $1.key }
        writer.arrayHeader(subs.count)
        for (sub, arity) in subs {
            writer.arrayHeader(10)
            writer.bulk("\(spec.name.lowercased())|\(sub.lowercased())")
            writer.integer(Int64(arity))
            writer.setHeader(0)
            writer.integer(0); writer.integer(0); writer.integer(0)
            writer.setHeader(2)
            writer.status("@tokmesh")
            writer.status(spec.category)
            writer.arrayHeader(0); writer.arrayHeader(0); writer.arrayHeader(0)
        }
    }

    /// Parses HELLO's options: `[protover [AUTH user pass] [SETNAME name]]`, each once, any
    /// order. Returns the request or the error line (spec/05 §4).
    public static func parseHello(_ command: [[UInt8]]) -> Result<RESPHelloRequest, RESPRefusal> {
        var request = RESPHelloRequest()
        guard command.count > 1 else { return .success(request) }
        guard let version = integer(command[1]) else {
            return .failure(RESPRefusal(line: "ERR TM-ARG-1001 Protocol version is not an integer or out of range"))
        }
        guard version == 2 || version == 3 else { return .failure(RESPRefusal(line: "NOPROTO TM-ARG-1001 unsupported protocol version")) }
        request.protocolVersion = Int(version)
        var i = 2
        while i < command.count {
            let option = String(decoding: command[i], as: UTF8.self).uppercased()
            let syntax = RESPRefusal(line: "ERR TM-ARG-1001 Syntax error in HELLO option '\(RESPCommandTable.quoted(command[i]))'")
            switch option {
            case "AUTH" where request.auth == nil && i + 2 < command.count:
                request.auth = (command[i + 1], command[i + 2])
                i += 3
            case "SETNAME" where request.name == nil && i + 1 < command.count:
                guard isValidName(command[i + 1]) else {
                    return .failure(RESPRefusal(line: "ERR TM-ARG-1001 Client names cannot contain spaces, newlines or special characters."))
                }
                request.name = command[i + 1]
                i += 2
            default:
                return .failure(syntax)
            }
        }
        return .success(request)
    }

    /// The HELLO reply map (spec/05 §4), in the connection's (new) protocol.
    public static func helloReply(state: RESPConnectionState, version: String, writer: inout RESPWriter) {
        writer.mapHeader(8)
        writer.bulk("server"); writer.bulk("tokmesh")
        writer.bulk("version"); writer.bulk("7.0.0")
        writer.bulk("proto"); writer.integer(Int64(state.protocolVersion))
        writer.bulk("id"); writer.integer(state.id)
        writer.bulk("mode"); writer.bulk("standalone")
        writer.bulk("role"); writer.bulk("master")
        writer.bulk("modules"); writer.arrayHeader(0)
        writer.bulk("tokmesh_version"); writer.bulk(version)
    }

    /// A canonical signed decimal that fits Int64 (Redis's string2ll), or nil.
    static func integer(_ bytes: [UInt8]) -> Int64? {
        guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let value = Int64(text), String(value) == text else { return nil }
        return value
    }
}
