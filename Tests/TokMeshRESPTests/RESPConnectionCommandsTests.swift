// Tests of the connection commands (spec/05 §4, §7.1) and Redis globs: PING/ECHO/SELECT,
// CLIENT name rules, HELLO option parsing and reply in both protocols, COMMAND COUNT/INFO/DOCS,
// CONFIG GET over a fixed table.
import Testing
import TokMeshCore
@testable import TokMeshRESP

@Suite struct RESPConnectionCommandsTests {
    func words(_ list: String...) -> [[UInt8]] { list.map { Array($0.utf8) } }
    let config = [("save", ""), ("appendonly", "yes"), ("databases", "1"), ("maxclients", "10000"), ("timeout", "0")]

    func run(_ command: [[UInt8]], _ state: inout RESPConnectionState, protocolVersion: Int = 2) -> String {
        var writer = RESPWriter(protocolVersion: protocolVersion)
        #expect(RESPConnectionCommands.handle(command, state: &state, writer: &writer, config: config))
        return String(decoding: writer.take(), as: UTF8.self)
    }

    @Test("PING, ECHO, SELECT")
    func basics() {
        var state = RESPConnectionState(id: 7)
        #expect(run(words("PING"), &state) == "+PONG\r\n")
        #expect(run(words("ping", "hi"), &state) == "$2\r\nhi\r\n")
        #expect(run(words("ECHO", "a\r\nb"), &state) == "$4\r\na\r\nb\r\n")
        #expect(run(words("SELECT", "0"), &state) == "+OK\r\n")
        #expect(run(words("SELECT", "1"), &state) == "-ERR TM-ARG-1001 DB index is out of range\r\n")
        #expect(run(words("SELECT", "01"), &state) == "-ERR TM-ARG-1001 value is not an integer or out of range\r\n")
        #expect(run(words("SELECT", "x"), &state) == "-ERR TM-ARG-1001 value is not an integer or out of range\r\n")
        var writer = RESPWriter()
        #expect(!RESPConnectionCommands.handle(words("GET", "k"), state: &state, writer: &writer, config: config))
    }

    @Test("CLIENT SETNAME, GETNAME, ID, SETINFO")
    func client() {
        var state = RESPConnectionState(id: 42)
        #expect(run(words("CLIENT", "GETNAME"), &state) == "$-1\r\n")
        #expect(run(words("CLIENT", "GETNAME"), &state, protocolVersion: 3) == "_\r\n")
        #expect(run(words("client", "setname", "gateway-1"), &state) == "+OK\r\n")
        #expect(run(words("CLIENT", "GETNAME"), &state) == "$9\r\ngateway-1\r\n")
        #expect(run(words("CLIENT", "SETNAME", "has space"), &state)
            == "-ERR TM-ARG-1001 Client names cannot contain spaces, newlines or special characters.\r\n")
        #expect(state.name == "gateway-1")
        #expect(run(words("CLIENT", "SETNAME", ""), &state) == "+OK\r\n" && state.name.isEmpty)
        #expect(run(words("CLIENT", "ID"), &state) == ":42\r\n")
        #expect(run(words("CLIENT", "SETINFO", "LIB-NAME", "redis-py"), &state) == "+OK\r\n" && state.libName == "redis-py")
        #expect(run(words("CLIENT", "SETINFO", "lib-ver", "5.0.1"), &state) == "+OK\r\n" && state.libVersion == "5.0.1")
        #expect(run(words("CLIENT", "SETINFO", "COLOR", "x"), &state) == "-ERR TM-ARG-1001 Unrecognized option 'COLOR'\r\n")
    }

    @Test("HELLO options: protocol, AUTH, SETNAME, each once, any order; errors leave the protocol alone")
    func hello() {
        func parse(_ c: [[UInt8]]) -> Result<RESPHelloRequest, RESPRefusal> { RESPConnectionCommands.parseHello(c) }
        #expect(parse(words("HELLO")) == .success(RESPHelloRequest()))
        var expected = RESPHelloRequest()
        expected.protocolVersion = 3
        expected.auth = (Array("default".utf8), Array("k:s".utf8))
        expected.name = Array("n".utf8)
        #expect(parse(words("HELLO", "3", "SETNAME", "n", "auth", "default", "k:s")) == .success(expected))
        #expect(parse(words("HELLO", "x")) == .failure(RESPRefusal(line: "ERR TM-ARG-1001 Protocol version is not an integer or out of range")))
        #expect(parse(words("HELLO", "4")) == .failure(RESPRefusal(line: "NOPROTO TM-ARG-1001 unsupported protocol version")))
        #expect(parse(words("HELLO", "3", "AUTH", "u")) == .failure(RESPRefusal(line: "ERR TM-ARG-1001 Syntax error in HELLO option 'AUTH'")))
        #expect(parse(words("HELLO", "3", "SETNAME", "a", "SETNAME", "b")) == .failure(RESPRefusal(line: "ERR TM-ARG-1001 Syntax error in HELLO option 'SETNAME'")))
        #expect(parse(words("HELLO", "2", "MAINT", "x")) == .failure(RESPRefusal(line: "ERR TM-ARG-1001 Syntax error in HELLO option 'MAINT'")))
        var state = RESPConnectionState(id: 3)
        state.protocolVersion = 3
        var w = RESPWriter(protocolVersion: 3)
        RESPConnectionCommands.helloReply(state: state, version: "0.1.0", writer: &w)
        #expect(String(decoding: w.take(), as: UTF8.self) == "%8\r\n$6\r\nserver\r\n$7\r\ntokmesh\r\n$7\r\nversion\r\n$5\r\n7.0.0\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:3\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n$15\r\ntokmesh_version\r\n$5\r\n0.1.0\r\n")
    }

    @Test("COMMAND COUNT, DOCS, INFO")
    func command() {
        var state = RESPConnectionState(id: 1)
        #expect(run(words("COMMAND", "COUNT"), &state) == ":25\r\n")
        #expect(run(words("COMMAND", "DOCS"), &state) == "*0\r\n")
        #expect(run(words("COMMAND", "DOCS"), &state, protocolVersion: 3) == "%0\r\n")
        let info = run(words("COMMAND", "INFO", "get", "nosuch"), &state)
        #expect(info.hasPrefix("*2\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*2\r\n+@tokmesh\r\n+@read\r\n*0\r\n*0\r\n*0\r\n"))
        #expect(info.hasSuffix("$-1\r\n"))
        let all = run(words("COMMAND"), &state)
        #expect(all.hasPrefix("*25\r\n") && all.contains("$14\r\ntm.revoke_user\r\n") && all.contains("$14\r\nclient|setname\r\n"))
    }

    @Test("CONFIG GET matches globs over the fixed table, each key once")
    func configGet() {
        var state = RESPConnectionState(id: 1)
        #expect(run(words("CONFIG", "GET", "save"), &state) == "*2\r\n$4\r\nsave\r\n$0\r\n\r\n")
        #expect(run(words("CONFIG", "GET", "save", "appendonly"), &state, protocolVersion: 3) == "%2\r\n$4\r\nsave\r\n$0\r\n\r\n$10\r\nappendonly\r\n$3\r\nyes\r\n")
        #expect(run(words("CONFIG", "GET", "*", "save"), &state).hasPrefix("*10\r\n"))
        #expect(run(words("CONFIG", "GET", "nothing"), &state) == "*0\r\n")
    }

    @Test("Redis globs")
    func globs() {
        let cases: [(String, String, Bool)] = [
            ("tmss-*", "tmss-01abc", true), ("tmss-*", "tmak-01abc", false), ("*", "", true), ("?", "", false),
            ("a?c", "abc", true), ("a[bx]c", "axc", true), ("a[^b]c", "abc", false), ("a[a-c]d", "abd", true),
            ("a[c-a]d", "abd", true), ("a\\*b", "a*b", true), ("a\\*b", "axb", false), ("*a*a*a*b", String(repeating: "a", count: 200), false),
            ("m*x*y", "mxxy", true), ("[", "a", false), ("app*only", "appendonly", true),
        ]
        for (p, t, want) in cases { #expect(Glob.matches(Array(p.utf8), Array(t.utf8)) == want, "\(p) ~ \(t)") }
    }
}
