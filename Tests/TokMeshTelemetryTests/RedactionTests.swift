// Tests of the redaction rules of spec/10 §2: secret-class identifiers anywhere in a string,
// secret field names, and text that must pass untouched (IDs with hyphens, paths).
import Testing
@testable import TokMeshTelemetry

@Suite struct RedactionTests {
    @Test("rule 1: tmtk_/tmas_/tmth_ values become prefix + marker, wherever they are")
    func pattern() {
        #expect(Redaction.redact("tmtk_abcDEF-123_x") == "tmtk_***REDACTED***")
        #expect(Redaction.redact("bad token tmtk_AAAA, key tmas_zz9 end") == "bad token tmtk_***REDACTED***, key tmas_***REDACTED*** end")
        #expect(Redaction.redact("xtmth_00") == "xtmth_***REDACTED***")
        #expect(Redaction.redact("Bearer tmak-01jf:tmas_secret") == "Bearer tmak-01jf:tmas_***REDACTED***")
    }

    @Test("public identifiers and ordinary text pass untouched")
    func untouched() {
        for text in ["tmss-01jfabc", "tmak-01jf", "/var/lib/tokmesh/tm_x", "tmTK_abc", "tmtk_", "html_page", ""] {
            #expect(Redaction.redact(text) == text)
        }
    }

    @Test("rule 2: secret field names, case-insensitive")
    func fields() {
        for name in ["token", "Authorization", "X-API-Key", "api_key", "x-nonce", "encryption_key", "key_secret", "db_password"] {
            #expect(Redaction.isSecretField(name), "\(name)")
        }
        for name in ["api_key_id", "key_id", "operator_id", "user_id", "path"] { #expect(!Redaction.isSecretField(name), "\(name)") }
    }
}
