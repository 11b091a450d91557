// Tests of API key administration (spec/03 §2.2): create checks and warnings, emergency keys,
// status with the no-admin-left warning, rotation with and without grace.
import Testing
@testable import TokMeshAuth
@testable import TokMeshCore
@testable import TokMeshService

@Suite struct KeyAdminServiceTests {
    let clock = TestClock(1_800_000_000_000)
    let keys: KeyAdminService

    init() {
        var settings = AuthSettings()
        settings.argon2 = Argon2Parameters(memory: 8192, iterations: 1, parallelism: 1)
        keys = KeyAdminService(authenticator: Authenticator(registry: KeyRegistry(), settings: settings, clock: clock), clock: clock)
    }

    func input(_ role: String?, _ change: (inout KeyCreateInput) -> Void = { _ in }) -> KeyCreateInput {
        var i = KeyCreateInput()
        i.role = role
        change(&i)
        return i
    }

    @Test("spec/03 §2.2: create validates role, allow-list, rate limit and expiry; warns beyond a year")
    func create() throws {
        #expect(errorCode { _ = try keys.create(input(nil), createdBy: "x") } == .argMissing)
        #expect(errorCode { _ = try keys.create(input("root"), createdBy: "x") } == .argInvalid)
        #expect(errorCode { _ = try keys.create(input("issuer") { $0.allowedlist = ["10.0.0.0/33"] }, createdBy: "x") } == .argInvalid)
        #expect(errorCode { _ = try keys.create(input("issuer") { $0.rateLimit = 0 }, createdBy: "x") } == .argInvalid)
        #expect(errorCode { _ = try keys.create(input("issuer") { $0.expiresAt = clock.nowMillis() - 1 }, createdBy: "x") } == .argInvalid)
        let forever = try keys.create(input("issuer"), createdBy: "tmak-admin")
        #expect(forever.warning == KeyAdminService.longLivedWarning)
        #expect(forever.key.secretHash.hasPrefix("$argon2id$") && !forever.key.secretHash.contains(forever.secret))
        #expect(forever.key.rateLimit == 1000 && forever.key.createdBy == "tmak-admin")
        let month = try keys.create(input("validator") { $0.expiresAt = clock.nowMillis() + 30 * 86_400_000 }, createdBy: "x")
        #expect(month.warning == nil)
        #expect(keys.list(role: .validator, status: nil).map(\.keyID) == [month.key.keyID])
        #expect(keys.key(json: forever.key)["key_secret"] == nil)
    }

    @Test("spec/03 §9: the emergency key is a never-expiring admin key by LOCAL_ADMIN")
    func emergency() throws {
        let k = try keys.createEmergency(description: nil)
        #expect(k.key.role == .admin && k.key.expiresAt == 0 && k.key.createdBy == "LOCAL_ADMIN")
        #expect(k.key.description == "Emergency Admin Key" && k.warning == KeyAdminService.emergencyWarning)
    }

    @Test("disabling the last active admin key is allowed, with a warning")
    func status() throws {
        let admin = try keys.create(input("admin"), createdBy: "x")
        let (disabled, warning) = try keys.setStatus(admin.key.keyID, status: "disabled")
        #expect(disabled.status == .disabled && disabled.version == 2 && warning == KeyAdminService.noAdminWarning)
        #expect(try keys.setStatus(admin.key.keyID, status: "active").1 == nil)
        #expect(errorCode { _ = try keys.setStatus(admin.key.keyID, status: "gone") } == .argInvalid)
        #expect(errorCode { _ = try keys.setStatus("tmak-01m8dj4nv1rn4ra90dznrh4xqz", status: "active") } == .adminNotFound)
    }

    @Test("rotation keeps one old secret for the grace; grace 0 cuts it at once")
    func rotate() throws {
        let k = try keys.create(input("issuer"), createdBy: "x")
        let (rotated, secret) = try keys.rotate(k.key.keyID, graceSeconds: 60)
        #expect(secret != k.secret && rotated.oldSecretHash == k.key.secretHash && rotated.gracePeriodEnd == clock.nowMillis() + 60_000)
        let (again, _) = try keys.rotate(k.key.keyID, graceSeconds: 0)
        #expect(again.oldSecretHash.isEmpty && again.gracePeriodEnd == 0 && again.version == 3)
        #expect(errorCode { _ = try keys.rotate(k.key.keyID, graceSeconds: 86_401) } == .argInvalid)
    }
}

extension KeyAdminService {
    func key(json key: APIKey) -> JSONObject { key.json().objectValue ?? JSONObject() }
}
