// Tests of the command table and dispatch checks (spec/05 §6-§7): 25 commands, case-insensitive
// names, the check order (unknown, arity, subcommand, login, role), error texts that quote only
// the command name, and the role ladder.
import Testing
import TokMeshCore
@testable import TokMeshRESP

@Suite struct RESPCommandTableTests {
    func words(_ list: String...) -> [[UInt8]] { list.map { Array($0.utf8) } }

    func refusal(_ command: [[UInt8]], role: Role?) -> String? {
        if case .failure(let r) = RESPCommandTable.check(command, role: role) { return r.line }
        return nil
    }

    @Test("the table holds the 25 commands of spec/05 §7, looked up case-insensitively")
    func table() {
        #expect(RESPCommandTable.all.count == 25)
        #expect(Set(RESPCommandTable.all.map(\.name)).count == 25)
        #expect(RESPCommandTable.lookup(Array("tm.validate".utf8))?.name == "TM.VALIDATE")
        #expect(RESPCommandTable.lookup(Array("KEYS".utf8)) == nil)
        #expect(RESPCommandTable.lookup(Array("get".utf8))?.flags.names == ["readonly", "fast"])
    }

    @Test("check order: unknown, arity, subcommand, login, role")
    func order() {
        #expect(refusal(words("KEYS", "*"), role: nil) == "ERR TM-SYS-4040 unknown command 'KEYS'")
        #expect(refusal(words("GET"), role: nil) == "ERR TM-ARG-1001 wrong number of arguments for 'get' command")
        #expect(refusal(words("CLIENT", "KILL", "x"), role: .admin) == "ERR TM-SYS-4040 unknown subcommand 'KILL' for 'CLIENT'")
        #expect(refusal(words("CLIENT", "SETNAME"), role: .admin) == "ERR TM-ARG-1001 wrong number of arguments for 'client|setname' command")
        #expect(refusal(words("GET", "tmss-x"), role: nil) == "NOAUTH TM-AUTH-4010 Authentication required.")
        #expect(refusal(words("ECHO", "x"), role: nil) == "NOAUTH TM-AUTH-4010 Authentication required.")
        #expect(refusal(words("SET", "k", "{}"), role: .validator) == "ERR TM-AUTH-4030 role validator may not run 'SET' (needs issuer)")
        #expect(refusal(words("GET", "k"), role: .metrics) == "ERR TM-AUTH-4030 role metrics may not run 'GET' (needs validator)")
    }

    @Test("PING, QUIT, AUTH and HELLO run before AUTH; every role may run the any-key group")
    func access() {
        for c in [words("PING"), words("QUIT"), words("AUTH", "a", "b"), words("HELLO", "3")] { #expect(refusal(c, role: nil) == nil) }
        for role in Role.allCases {
            #expect(refusal(words("INFO"), role: role) == nil)
            #expect(refusal(words("CONFIG", "GET", "save"), role: role) == nil)
        }
        #expect(refusal(words("SET", "k", "{}"), role: .admin) == nil)
        #expect(refusal(words("TM.VALIDATE", "t", "TOUCH"), role: .validator) == nil)
    }

    @Test("errors quote only a sanitised command name, never an argument")
    func quoting() {
        let secretish = "tmtk_SECRETTOKENVALUE"
        #expect(refusal(words("TM.VALIDAT", secretish), role: .admin) == "ERR TM-SYS-4040 unknown command 'TM.VALIDAT'")
        let long = String(repeating: "X", count: 100) + "\r\n'"
        #expect(refusal(words(long), role: nil) == "ERR TM-SYS-4040 unknown command '\(String(repeating: "X", count: 64))'")
        #expect(refusal([[0x41, 0x0A, 0x42]], role: nil) == "ERR TM-SYS-4040 unknown command 'A?B'")
    }
}
