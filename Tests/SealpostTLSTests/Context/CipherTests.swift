import Foundation
import Testing

@testable import SealpostTLS

/// Cipher grades, exclusions, server preference, DH parameters and ECDHE grades against `openssl s_client`.
@Suite("Server context: ciphers and key exchange")
struct CipherTests {
    static let seedExclusions =
        "aNULL, MD5, DES, 3DES, DES-CBC3-SHA, RC4-SHA, AES256-SHA, AES128-SHA, eNULL, EXPORT, RC4, PSK, aECDH, "
        + "EDH-DSS-DES-CBC3-SHA, EDH-RSA-DES-CDC3-SHA, KRB5-DE5, CBC3-SHA"

    func cipher(_ context: TLSContext, _ arguments: [String]) throws -> String? {
        let (outcome, _) = try SClient.handshake(context, arguments)
        return outcome?.info?.cipher
    }

    /// In OpenSSL 3.0 the MEDIUM, LOW and EXPORT classes are empty (RC4, SEED, IDEA and DES live in the legacy
    /// provider), so the high, medium, low and export grades all offer the HIGH suites; none offers a NULL
    /// cipher. The null grade offers only NULL ciphers (for TLS 1.2; TLS 1.3 suites are never affected).
    @Test("each grade admits a suite inside it and refuses one outside", arguments: ["high", "medium", "low", "export"])
    func encryptingGrades(grade: String) throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let context = try serverContext(material.rsaServer + "smtpd_tls_ciphers = \(grade)\n")
        #expect(try cipher(context, ["-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"]) == "ECDHE-RSA-AES256-GCM-SHA384")
        #expect(try cipher(context, ["-tls1_2", "-cipher", "NULL-SHA256@SECLEVEL=0"]) == nil)
    }

    @Test("the null grade admits NULL-SHA256 and refuses AES")
    func nullGrade() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let context = try serverContext(material.rsaServer + "smtpd_tls_ciphers = null\n")
        #expect(try cipher(context, ["-tls1_2", "-cipher", "NULL-SHA256@SECLEVEL=0"]) == "NULL-SHA256")
        #expect(try cipher(context, ["-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"]) == nil)
        // TLS 1.3 suites are not governed by the grade (Postfix 3.7 never sets them).
        #expect(try cipher(context, []) == "TLS_AES_256_GCM_SHA384")
    }

    @Test("the mandatory grade applies at encrypt, the opportunistic one at may")
    func mandatoryGrade() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let lines = material.rsaServer + "smtpd_tls_ciphers = null\nsmtpd_tls_mandatory_ciphers = high\n"
        #expect(try cipher(serverContext(lines), ["-tls1_2", "-cipher", "NULL-SHA256@SECLEVEL=0"]) == "NULL-SHA256")
        let encrypt = try serverContext(lines + "smtpd_tls_security_level = encrypt\n")
        #expect(try cipher(encrypt, ["-tls1_2", "-cipher", "NULL-SHA256@SECLEVEL=0"]) == nil)
        #expect(try cipher(encrypt, ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"]) == "ECDHE-RSA-AES128-GCM-SHA256")
    }

    @Test("the seed's exclusion list works as written: unknown names are harmless, AES128-SHA is refused")
    func seedExclusions() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let settings = try serverSettings(material.rsaServer + "smtpd_tls_exclude_ciphers = \(Self.seedExclusions)\n")
        #expect(settings.ciphers.cipherString == "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH:!aNULL:!MD5:!DES:!3DES:"
            + "!DES-CBC3-SHA:!RC4-SHA:!AES256-SHA:!AES128-SHA:!eNULL:!EXPORT:!RC4:!PSK:!aECDH:!EDH-DSS-DES-CBC3-SHA:"
            + "!EDH-RSA-DES-CDC3-SHA:!KRB5-DE5:!CBC3-SHA")
        let context = try TLSServerContextBuilder.makeContext(settings)
        #expect(try cipher(context, ["-tls1_2", "-cipher", "AES128-SHA"]) == nil)
        #expect(try cipher(context, ["-tls1_2", "-cipher", "AES256-SHA"]) == nil)
        #expect(try cipher(context, ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA"]) == "ECDHE-RSA-AES128-SHA")
        #expect(try cipher(context, []) == "TLS_AES_256_GCM_SHA384")
        // Without the list the same client gets AES128-SHA.
        #expect(try cipher(serverContext(material.rsaServer), ["-tls1_2", "-cipher", "AES128-SHA"]) == "AES128-SHA")
    }

    @Test("mandatory exclusions add to the others at encrypt only")
    func mandatoryExclusions() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let lines = material.rsaServer + "smtpd_tls_exclude_ciphers = AES256-SHA\nsmtpd_tls_mandatory_exclude_ciphers = AES128-SHA\n"
        let may = try serverSettings(lines)
        #expect(may.ciphers.cipherString.hasSuffix(":!AES256-SHA"))
        let encrypt = try serverSettings(lines + "smtpd_tls_security_level = encrypt\n")
        #expect(encrypt.ciphers.cipherString.hasSuffix(":!AES256-SHA:!AES128-SHA"))
        #expect(try cipher(TLSServerContextBuilder.makeContext(encrypt), ["-tls1_2", "-cipher", "AES128-SHA"]) == nil)
        #expect(try cipher(TLSServerContextBuilder.makeContext(may), ["-tls1_2", "-cipher", "AES128-SHA"]) == "AES128-SHA")
    }

    @Test("an exclusion starting with ! + - or @ is refused, as Postfix refuses it", arguments: ["!aNULL", "+RC4", "-MD5", "@STRENGTH"])
    func badExclusion(word: String) throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let error = #expect(throws: TLSConfigurationError.self) {
            try serverSettings(material.rsaServer + "smtpd_tls_exclude_ciphers = MD5, \(word)\n")
        }
        #expect(error?.code == .invalidCipherExclusion)
        #expect(error?.reason.contains("smtpd_tls_exclude_ciphers: invalid unary '!+-@' in cipher exclusion: \(word)") == true)
    }

    @Test("tls_preempt_cipherlist: off, the client's first choice wins; on, the server's")
    func preempt() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let offer = ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"]
        #expect(try cipher(serverContext(material.rsaServer), offer) == "ECDHE-RSA-AES128-GCM-SHA256")
        let preferring = try serverContext(material.rsaServer + "tls_preempt_cipherlist = yes\n")
        #expect(try cipher(preferring, offer) == "ECDHE-RSA-AES256-GCM-SHA384")
    }

    @Test("DH parameters: OpenSSL's automatic 2048-bit group by default, else the file's size")
    func dhParameters() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let dhe = ["-tls1_2", "-cipher", "DHE-RSA-AES256-GCM-SHA384"]
        let (automatic, automaticOutput) = try SClient.handshake(serverContext(material.rsaServer), dhe)
        #expect(automatic?.info?.cipher == "DHE-RSA-AES256-GCM-SHA384", "\(automaticOutput.all)")
        #expect(SClient.serverTempKey(automaticOutput) == "DH, 2048 bits")
        for (file, bits) in [(material.dh2048, 2048), (material.dh3072, 3072)] {
            let context = try serverContext(material.rsaServer + "smtpd_tls_dh1024_param_file = \(file)\n")
            let (_, output) = try SClient.handshake(context, dhe)
            #expect(SClient.serverTempKey(output) == "DH, \(bits) bits", "\(output.all)")
        }
        let (_, autoOutput) = try SClient.handshake(
            serverContext(material.rsaServer + "smtpd_tls_dh1024_param_file = auto\n"), dhe)
        #expect(SClient.serverTempKey(autoOutput) == "DH, 2048 bits")
    }

    @Test("a missing or wrong DH file is an error naming the parameter; the 512-bit file is obsolete and ignored")
    func dhFileErrors() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let missing = #expect(throws: TLSConfigurationError.self) {
            try serverSettings(material.rsaServer + "smtpd_tls_dh1024_param_file = \(material.directory)/nope.pem\n")
        }
        #expect(missing?.parameter == "smtpd_tls_dh1024_param_file")
        #expect(missing?.underlying?.code == .fileMissing)
        #expect(missing?.description.contains("\(material.directory)/nope.pem") == true)
        let wrong = #expect(throws: TLSConfigurationError.self) {
            try serverSettings(material.rsaServer + "smtpd_tls_dh1024_param_file = \(material.rsaCertificate)\n")
        }
        #expect(wrong?.underlying?.code == .notDHParameters)
        let settings = try serverSettings(material.rsaServer + "smtpd_tls_dh512_param_file = /etc/ssl/private/512.dh\n")
        #expect(settings.warnings.contains { $0.parameter == "smtpd_tls_dh512_param_file" && $0.message.contains("obsolete") })
    }

    @Test("ECDHE grades: ultra refuses a P-256-only client, strong and auto accept it; none offers no curve")
    func eecdhGrades() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let p256Only = ["-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384", "-curves", "prime256v1"]
        let p256TLS13 = ["-curves", "prime256v1"]
        let ultra = try serverContext(material.rsaServer + "smtpd_tls_eecdh_grade = ultra\n")
        #expect(try cipher(ultra, p256Only) == nil)
        #expect(try cipher(ultra, p256TLS13) == nil)
        let (ultraOutcome, _) = try SClient.handshake(ultra, ["-curves", "secp384r1"])
        #expect(ultraOutcome?.info?.keyExchange == TLSKeyExchangeInfo(name: "ECDHE", curve: "secp384r1", bits: nil))
        #expect(ultraOutcome?.info?.summaryLine(peer: "p").contains(" key-exchange ECDHE (secp384r1) ") == true)

        let strong = try serverContext(material.rsaServer + "smtpd_tls_eecdh_grade = strong\n")
        #expect(try cipher(strong, p256Only) == "ECDHE-RSA-AES256-GCM-SHA384")
        let (strongOutcome, _) = try SClient.handshake(strong, [])
        // A default client offers X25519 first, but the strong grade has only prime256v1 (a HelloRetryRequest).
        #expect(strongOutcome?.info?.keyExchange?.curve == "prime256v1")

        let automatic = try serverContext(material.rsaServer)
        #expect(try cipher(automatic, p256Only) == "ECDHE-RSA-AES256-GCM-SHA384")

        let none = try serverContext(material.rsaServer + "smtpd_tls_eecdh_grade = none\n")
        #expect(try cipher(none, p256Only) == nil)
        let (ffdhe, ffdheOutput) = try SClient.handshake(none, ["-groups", "ffdhe2048"])
        #expect(ffdhe?.info?.keyExchange == TLSKeyExchangeInfo(name: "DHE", curve: nil, bits: 2048), "\(ffdheOutput.all)")
        #expect(ffdhe?.info?.summaryLine(peer: "p").contains(" key-exchange DHE (2048 bits) ") == true)
    }

    @Test("curve names OpenSSL does not know are skipped with Postfix's warning")
    func unknownCurves() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let context = try serverContext(material.rsaServer + "tls_eecdh_auto_curves = nonsense25519 secp384r1\n")
        #expect(context.warnings.contains { $0.message == "ignoring unknown key exchange group \"nonsense25519\"" })
        #expect(try cipher(context, ["-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384", "-curves", "secp384r1"])
            == "ECDHE-RSA-AES256-GCM-SHA384")
        let fallback = try serverContext(material.rsaServer + "tls_eecdh_auto_curves = nonsense\ntls_ffdhe_auto_groups =\n")
        #expect(fallback.warnings.contains { $0.message == "using Postfix default key exchange groups instead" })
        #expect(try cipher(fallback, []) == "TLS_AES_256_GCM_SHA384")
    }
}
