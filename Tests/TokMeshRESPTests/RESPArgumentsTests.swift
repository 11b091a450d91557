// Tests of the keyspace and TokMesh command grammars (spec/05 §7.2-§7.3): keys, SET and EXPIRE
// options with their exact error lines, SCAN cursors and options, TM.VALIDATE and TM.CREATE.
import Testing
import TokMeshCore
@testable import TokMeshRESP

@Suite struct RESPArgumentsTests {
    func words(_ list: String...) -> [[UInt8]] { list.map { Array($0.utf8) } }
    func refusal<T>(_ r: Result<T, RESPRefusal>) -> String? { if case .failure(let e) = r { return e.line }; return nil }
    let maxTTL: Int64 = 30 * 86_400

    @Test("keys are lowercased session IDs")
    func keys() throws {
        let id = try Identifiers.newSessionID(nowMillis: 1000)
        #expect(try RESPArguments.key(Array(id.uppercased().utf8)).get() == id)
        #expect(refusal(RESPArguments.key(Array("foo".utf8))) == "ERR TM-ARG-1001 key is not a session id")
    }

    @Test("SET options: EX/PX/KEEPTTL, NX/XX, exclusive pairs, repeats and bad values")
    func setOptions() throws {
        func parse(_ w: [[UInt8]]) -> Result<RESPArguments.SetOptions, RESPRefusal> { RESPArguments.setOptions(w[...], maxTTLSeconds: maxTTL) }
        #expect(try parse(words("EX", "60", "NX")).get() == RESPArguments.SetOptions(ttlMillis: 60_000, condition: .onlyIfAbsent))
        #expect(try parse(words("xx", "px", "1500")).get() == RESPArguments.SetOptions(ttlMillis: 1500, condition: .onlyIfPresent))
        #expect(try parse(words("KEEPTTL")).get() == RESPArguments.SetOptions())
        #expect(refusal(parse(words("EX", "5", "PX", "5"))) == "ERR TM-ARG-1003 syntax error")
        #expect(refusal(parse(words("NX", "XX"))) == "ERR TM-ARG-1003 syntax error")
        #expect(refusal(parse(words("EX", "5", "KEEPTTL"))) == "ERR TM-ARG-1003 syntax error")
        #expect(refusal(parse(words("NX", "NX"))) == "ERR TM-ARG-1001 syntax error")
        #expect(refusal(parse(words("GET"))) == "ERR TM-ARG-1001 syntax error")
        #expect(refusal(parse(words("EX"))) == "ERR TM-ARG-1001 syntax error")
        #expect(refusal(parse(words("EX", "x"))) == "ERR TM-ARG-1001 value is not an integer or out of range")
        #expect(refusal(parse(words("EX", "0"))) == "ERR TM-ARG-1001 invalid expire time in 'set' command")
        #expect(refusal(parse(words("EX", "2592001"))) == "ERR TM-ARG-1001 TTL exceeds the maximum of 2592000 seconds")
    }

    @Test("EXPIRE and PEXPIRE: values and NX/XX/GT/LT")
    func expire() throws {
        func parse(_ w: [[UInt8]], millis: Bool = false) -> Result<(Int64, RESPArguments.ExpireCondition), RESPRefusal> {
            RESPArguments.expire(w, millis: millis, maxTTLSeconds: maxTTL)
        }
        let plain = try parse(words("EXPIRE", "k", "10")).get()
        #expect(plain.0 == 10_000 && plain.1 == .always)
        #expect(try parse(words("PEXPIRE", "k", "10", "gt"), millis: true).get().1 == .onlyIfLater)
        #expect(try parse(words("EXPIRE", "k", "10", "NX")).get().1 == .never)
        #expect(try parse(words("EXPIRE", "k", "10", "XX", "LT")).get().1 == .onlyIfEarlier)
        #expect(refusal(parse(words("EXPIRE", "k", "10", "NX", "XX"))) == "ERR TM-ARG-1003 NX and XX, GT or LT options at the same time are not compatible")
        #expect(refusal(parse(words("EXPIRE", "k", "10", "GT", "LT"))) == "ERR TM-ARG-1003 NX and XX, GT or LT options at the same time are not compatible")
        #expect(refusal(parse(words("PEXPIRE", "k", "-1"), millis: true)) == "ERR TM-ARG-1001 invalid expire time in 'pexpire' command")
    }

    @Test("SCAN: cursor range, MATCH, COUNT bounds, TYPE")
    func scan() throws {
        #expect(try RESPArguments.scan(words("SCAN", "0")).get() == RESPArguments.ScanRequest(cursor: 0))
        let full = try RESPArguments.scan(words("SCAN", "4294967295", "MATCH", "tmss-0*", "COUNT", "5000", "TYPE", "hash")).get()
        #expect(full.cursor == UInt32.max && full.pattern == Array("tmss-0*".utf8) && full.count == 1000 && !full.typeMatches)
        #expect(refusal(RESPArguments.scan(words("SCAN", "4294967296"))) == "ERR TM-ARG-1001 invalid cursor")
        #expect(refusal(RESPArguments.scan(words("SCAN", "-1"))) == "ERR TM-ARG-1001 invalid cursor")
        #expect(refusal(RESPArguments.scan(words("SCAN", "0", "COUNT", "0"))) == "ERR TM-ARG-1001 syntax error")
        #expect(refusal(RESPArguments.scan(words("SCAN", "0", "MATCH"))) == "ERR TM-ARG-1001 syntax error")
    }

    @Test("TM.VALIDATE options; IP and UA need TOUCH")
    func validate() throws {
        let r = try RESPArguments.validate(words("TM.VALIDATE", "tok", "touch", "IP", "10.0.0.1", "WITHSESSION")).get()
        #expect(r == RESPArguments.ValidateRequest(token: "tok", touch: true, withSession: true, ipAddress: "10.0.0.1", userAgent: nil))
        #expect(refusal(RESPArguments.validate(words("TM.VALIDATE", "tok", "UA", "x"))) == "ERR TM-ARG-1003 IP and UA need TOUCH")
        #expect(refusal(RESPArguments.validate(words("TM.VALIDATE", "tok", "BOGUS"))) == "ERR TM-ARG-1001 syntax error")
    }

    @Test("TM.CREATE: * or a key, JSON, optional TTL")
    func create() throws {
        #expect(try RESPArguments.create(words("TM.CREATE", "*", "{}"), maxTTLSeconds: maxTTL).get().sessionID == nil)
        let id = try Identifiers.newSessionID(nowMillis: 1000)
        let r = try RESPArguments.create(words("TM.CREATE", id, "{}", "ttl", "60"), maxTTLSeconds: maxTTL).get()
        #expect(r.sessionID == id && r.ttlMillis == 60_000)
        #expect(refusal(RESPArguments.create(words("TM.CREATE", "*", "{}", "TTL"), maxTTLSeconds: maxTTL)) == "ERR TM-ARG-1001 syntax error")
        #expect(refusal(RESPArguments.create(words("TM.CREATE", "*", "{}", "TTL", "0"), maxTTLSeconds: maxTTL)) == "ERR TM-ARG-1001 invalid expire time in 'tm.create' command")
    }
}
