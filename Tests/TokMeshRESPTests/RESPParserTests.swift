// Tests of the RESP parser and writer (spec/05 §4-§5): multibulk and inline commands, byte-by-
// byte feeding, pipelined commands, the limits and malformed input (each error's code and text),
// inline quoting as Redis splits it, and replies in RESP2 and RESP3.
import Testing
import TokMeshCore
@testable import TokMeshRESP

@Suite struct RESPParserTests {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
    func args(_ list: String...) -> [[UInt8]] { list.map { Array($0.utf8) } }

    /// Every command the input yields, then the final event (needMore or the failure).
    func drain(_ input: String, limits: RESPLimits = RESPLimits(), chunk: Int? = nil) -> ([[[UInt8]]], RESPParser.Event) {
        var parser = RESPParser(limits: limits)
        var commands: [[[UInt8]]] = []
        let all = bytes(input)
        var start = 0
        var last = RESPParser.Event.needMore
        repeat {
            let end = chunk.map { min(all.count, start + $0) } ?? all.count
            parser.append(all[start..<end])
            start = end
            loop: while true {
                last = parser.next()
                switch last {
                case .command(let c): commands.append(c)
                case .needMore: break loop
                case .failed: return (commands, last)
                }
            }
        } while start < all.count
        return (commands, last)
    }

    @Test("multibulk commands, whole or a byte at a time, pipelined, binary-safe")
    func multibulk() {
        let input = "*2\r\n$4\r\nPING\r\n$3\r\na\r\n\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"
        for chunk in [nil, 1, 2, 7] as [Int?] {
            let (commands, last) = drain(input, chunk: chunk)
            #expect(commands == [[bytes("PING"), [97, 13, 10]], args("SET", "k", "")], "chunk \(String(describing: chunk))")
            #expect(last == .needMore)
        }
    }

    @Test("*0, *-1 and empty inline lines produce nothing")
    func ignored() {
        let (commands, last) = drain("*0\r\n*-1\r\n\r\n   \n*1\r\n$4\r\nPING\r\n")
        #expect(commands == [args("PING")] && last == .needMore)
    }

    @Test("inline commands split as Redis does")
    func inline() {
        let (commands, _) = drain("set k  v\r\nECHO \"a b\\n\\x41\\\"\" 'it\\'s'\nget \"\"\n")
        #expect(commands == [args("set", "k", "v"), [bytes("ECHO"), bytes("a b\nA\""), bytes("it's")], [bytes("get"), []]])
        for bad in ["ECHO \"open\n", "ECHO 'open\n", "ECHO \"a\"b\n"] {
            #expect(drain(bad).1 == .failed(RESPProtocolError(code: "TM-SYS-4000", message: "Protocol error: unbalanced quotes in request")), "\(bad)")
        }
    }

    @Test("limits: argument count, bulk length, inline length, command size")
    func limits() {
        var small = RESPLimits()
        small.maxArguments = 3
        small.maxBulkBytes = 8
        small.maxInlineBytes = 16
        small.maxCommandBytes = 12
        let tooLarge = { (m: String) in RESPParser.Event.failed(RESPProtocolError(code: "TM-SYS-4130", message: "Protocol error: \(m)")) }
        #expect(drain("*4\r\n", limits: small).1 == tooLarge("invalid multibulk length"))
        #expect(drain("*1\r\n$9\r\n", limits: small).1 == tooLarge("invalid bulk length"))
        #expect(drain(String(repeating: "x", count: 17), limits: small).1 == tooLarge("too big inline request"))
        #expect(drain("a b c d\n", limits: small).1 == tooLarge("invalid multibulk length"))
        #expect(drain("*2\r\n$8\r\n12345678\r\n$8\r\n", limits: small).1 == tooLarge("command too large"))
        // Within the limits everything passes.
        #expect(drain("*3\r\n$4\r\n1234\r\n$4\r\n1234\r\n$4\r\n1234\r\n", limits: small).0.count == 1)
    }

    @Test("malformed headers and data are TM-SYS-4000; commands before the violation still come out")
    func malformed() {
        let malformed = { (m: String) in RESPParser.Event.failed(RESPProtocolError(code: "TM-SYS-4000", message: "Protocol error: \(m)")) }
        for header in ["*01\r\n", "*+1\r\n", "* 1\r\n", "*x\r\n", "*1\n", "*" + String(repeating: "9", count: 40)] {
            #expect(drain(header).1 == malformed("invalid multibulk length"), "\(header)")
        }
        for header in ["*1\r\n$01\r\n", "*1\r\n$-2\r\n", "*1\r\n$ 1\r\n"] {
            #expect(drain(header).1 == malformed("invalid bulk length"), "\(header)")
        }
        #expect(drain("*1\r\n:1\r\n").1 == malformed("expected '$', got ':'"))
        #expect(drain("*1\r\n$-1\r\n").1 == malformed("invalid bulk length"))
        #expect(drain("*1\r\n$2\r\nabX\r\n").1 == malformed("bulk not terminated by CRLF"))
        let (commands, last) = drain("*1\r\n$4\r\nPING\r\n*1\r\n$2\r\nabc\r\n*1\r\n$4\r\nPING\r\n")
        #expect(commands == [args("PING")] && last == malformed("bulk not terminated by CRLF"))
    }

    @Test("a violation is final: later bytes are ignored")
    func terminal() {
        var parser = RESPParser()
        parser.append(bytes("*x\r\n"))
        let first = parser.next()
        parser.append(bytes("*1\r\n$4\r\nPING\r\n"))
        #expect(parser.next() == first)
        #expect(parser.bufferedBytes == 0)
    }

    @Test("a partial command is visible (for the incomplete-command timer)")
    func partial() {
        var parser = RESPParser()
        #expect(!parser.hasPartialCommand)
        parser.append(bytes("*2\r\n$4\r\nPING\r\n"))
        #expect(parser.next() == .needMore && parser.hasPartialCommand)
        parser.append(bytes("$1\r\nx\r\n"))
        #expect(parser.next() == .command(args("PING", "x")) && !parser.hasPartialCommand)
    }

    @Test("replies in RESP2 and RESP3")
    func writer() {
        var w2 = RESPWriter(protocolVersion: 2), w3 = RESPWriter(protocolVersion: 3)
        for var w in [w2, w3] {
            w.status("OK"); w.error("ERR TM-ARG-1001 bad\r\nline"); w.integer(-2); w.bulk("héllo"); w.null()
            w.mapHeader(1); w.bulk("k"); w.integer(1); w.setHeader(1); w.bulk("s"); w.verbatim("a:1")
            if w.protocolVersion == 2 { w2 = w } else { w3 = w }
        }
        #expect(String(decoding: w2.take(), as: UTF8.self)
            == "+OK\r\n-ERR TM-ARG-1001 bad  line\r\n:-2\r\n$6\r\nhéllo\r\n$-1\r\n*2\r\n$1\r\nk\r\n:1\r\n*1\r\n$1\r\ns\r\n$3\r\na:1\r\n")
        #expect(String(decoding: w3.take(), as: UTF8.self)
            == "+OK\r\n-ERR TM-ARG-1001 bad  line\r\n:-2\r\n$6\r\nhéllo\r\n_\r\n%1\r\n$1\r\nk\r\n:1\r\n~1\r\n$1\r\ns\r\n=7\r\ntxt:a:1\r\n")
        #expect(w2.isEmpty)
        var long = RESPWriter()
        long.error(String(repeating: "é", count: 400))
        let line = long.take()
        #expect(line.count <= 1 + 512 + 2 && String(validating: line, as: UTF8.self) != nil)
    }

    @Test("seeded round trips: random binary commands in random chunks come out whole and in order")
    func roundTrips() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<200 {
            let commands: [[[UInt8]]] = (0..<Int.random(in: 1...5, using: &rng)).map { _ in
                (0..<Int.random(in: 1...6, using: &rng)).map { _ in (0..<Int.random(in: 0...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) } }
            }
            var wire: [UInt8] = []
            for c in commands {
                wire += Array("*\(c.count)\r\n".utf8)
                for a in c { wire += Array("$\(a.count)\r\n".utf8) + a + [13, 10] }
            }
            var parser = RESPParser()
            var out: [[[UInt8]]] = []
            var start = 0
            while start < wire.count {
                let end = min(wire.count, start + Int.random(in: 1...64, using: &rng))
                parser.append(wire[start..<end])
                start = end
                while case .command(let c) = parser.next() { out.append(c) }
            }
            #expect(out == commands)
        }
    }

    @Test("random bytes never trap: the parser ends wanting more or with a protocol error")
    func garbage() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            var parser = RESPParser()
            let prefix: [UInt8] = [[], Array("*".utf8), Array("*2\r\n$".utf8)][Int.random(in: 0...2, using: &rng)]
            parser.append(prefix + (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            var steps = 0
            while case .command = parser.next() { steps += 1; if steps > 1000 { break } }
            #expect(steps <= 1000)
        }
    }
}

