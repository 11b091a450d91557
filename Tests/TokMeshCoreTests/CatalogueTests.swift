// Tests of the error catalogue (spec/01 §8) and small Core utilities: IP/CIDR canonical forms,
// civil time, session limits.
import Testing
@testable import TokMeshCore

@Suite struct CatalogueTests {
    @Test("spec/01 §8: every code maps to the status, Connect code and gRPC status of the table")
    func catalogue() {
        #expect(ErrorCode.allCases.count == 54)
        #expect(ErrorCode.sessNotFound.httpStatus == 404 && ErrorCode.sessNotFound.connectCode == .notFound && ErrorCode.sessNotFound.grpcStatus == 5)
        #expect(ErrorCode.sessQuota.httpStatus == 429 && ErrorCode.sessQuota.grpcStatus == 8)
        #expect(ErrorCode.sessVersion.connectCode == .aborted && ErrorCode.sessVersion.grpcStatus == 10)
        #expect(ErrorCode.authMissing.respPrefix == "NOAUTH" && ErrorCode.authInvalid.respPrefix == "ERR")
        #expect(ErrorCode.clstMisdirected.httpStatus == 421)
        #expect(ErrorCode.clstTimeout.grpcStatus == 4)
        #expect(ErrorCode.clstInconsistent.connectCode == .dataLoss)
        #expect(ErrorCode.adminBackupUnusable.httpStatus == 422)
        for code in ErrorCode.allCases {
            #expect(code.rawValue.hasPrefix("TM-"))
            #expect(!code.defaultMessage.isEmpty)
            #expect([400, 401, 403, 404, 405, 409, 413, 421, 422, 429, 500, 503, 504].contains(code.httpStatus))
        }
    }

    @Test("IP addresses are canonical: RFC 5952 IPv6, mapped IPv4 folded")
    func ipCanonical() {
        #expect(IPAddress("2001:0db8:0000:0000:0000:0000:0000:0001")?.description == "2001:db8::1")
        #expect(IPAddress("::ffff:10.1.2.3")?.description == "10.1.2.3")
        #expect(IPAddress("10.1.2") == nil)
        #expect(IPAddress("not-an-ip") == nil)
        #expect(IPAddress.parseLoose("[::1]:443")?.description == "::1")
        #expect(IPAddress.parseLoose("192.0.2.1:8080")?.description == "192.0.2.1")
    }

    @Test func cidr() {
        let net = CIDR("10.0.0.0/8")!
        #expect(net.contains(IPAddress("10.1.2.3")!))
        #expect(!net.contains(IPAddress("11.0.0.1")!))
        #expect(!net.contains(IPAddress("::1")!))
        #expect(CIDR("10.1.2.3")!.prefixLength == 32)
        #expect(CIDR("10.1.2.3/33") == nil)
        #expect(CIDR("2001:db8::/32")!.contains(IPAddress("2001:db8:1::5")!))
        #expect(CIDR("10.9.9.9/8")!.description == "10.0.0.0/8")
    }

    @Test func civilTime() {
        #expect(CivilTime(unixMillis: 0).rfc3339 == "1970-01-01T00:00:00.000Z")
        #expect(CivilTime(unixMillis: 1_765_535_400_123).rfc3339 == "2025-12-12T10:30:00.123Z")
        #expect(CivilTime(unixMillis: 951_782_400_000).dateString == "2000-02-29")
        #expect(CivilTime.daysFromCivil(year: 2000, month: 3, day: 1) == 11017)
    }

    @Test("spec/01 §4: limits give the codes the spec names")
    func limits() throws {
        #expect(throws: TokMeshError(.argMissing, "Missing required argument: user_id", details: ["field": "user_id"])) {
            _ = try SessionLimits.checkUserID(nil)
        }
        do { _ = try SessionLimits.checkUserID(String(repeating: "u", count: 129)); Issue.record("expected TM-SESS-4001") } catch { #expect(error.code == .sessLimit) }
        do { try SessionLimits.checkData(["k": String(repeating: "v", count: 1024), "k2": String(repeating: "v", count: 1024),
                                          "k3": String(repeating: "v", count: 1024), "k4": String(repeating: "v", count: 1024)])
             Issue.record("expected TM-SESS-4001") } catch { #expect(error.code == .sessLimit) }
        let ua = String(repeating: "é", count: 300)  // 600 bytes
        let cut = SessionLimits.truncateUTF8(ua)
        #expect(cut.utf8.count == 512 && cut.unicodeScalars.allSatisfy { $0 == "é" })
        let limits = SessionLimits()
        #expect(try limits.checkTTL(millis: nil) == 7_200_000)
        do { _ = try limits.checkTTL(millis: limits.ttlMaxMillis + 1); Issue.record("expected TM-ARG-1001") } catch { #expect(error.code == .argInvalid) }
        #expect(try SessionLimits.checkIPAddress("::ffff:1.2.3.4") == "1.2.3.4")
    }
}
