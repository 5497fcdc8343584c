import Foundation
import SealpostTestSupport
import Testing

/// `sealpost check`: each problem of the acceptance list gives one line naming file:line, the
/// parameter, the value and the expected form, and a non-zero exit.
@Suite struct CheckCommandTests {
    /// A configuration directory with a valid RSA certificate and key made by the real openssl.
    final class Instance {
        let fixtures: OpenSSLFixtures
        var path: String { fixtures.directory }

        init() throws {
            fixtures = try OpenSSLFixtures()
            try fixtures.rsaKey("key.pem")
            chmod(fixtures.path("key.pem"), 0o600)
            try fixtures.selfSigned("cert.pem", key: "key.pem", subject: "/CN=mx.example.com", days: 365)
            try fixtures.write("master.cf", "smtp inet n - n - - smtpd\n", mode: 0o644)
        }

        /// Writes main.cf: the queue in the directory plus `lines`.
        func mainCf(_ lines: String) throws {
            try fixtures.write("main.cf", "queue_directory = \(path)/queue\n" + lines, mode: 0o644)
        }

        func check() throws -> SealpostBinary.Result {
            try SealpostBinary.run(["check", "-c", path])
        }
    }

    /// The error lines of a check run.
    func errors(_ result: SealpostBinary.Result) -> [String] {
        result.standardError.split(separator: "\n").map(String.init).filter { $0.hasPrefix("sealpost: error: ") }
    }

    @Test func aCleanConfigurationPasses() throws {
        let instance = try Instance()
        try instance.mainCf("smtpd_tls_cert_file = \(instance.path)/cert.pem\nsmtpd_tls_key_file = \(instance.path)/key.pem\n")
        let result = try instance.check()
        #expect(result.status == 0, "\(result.standardError)")
        #expect(errors(result).isEmpty)
    }

    @Test func anEncryptedPrivateKey() throws {
        let instance = try Instance()
        try instance.fixtures.openssl("genpkey", "-algorithm", "RSA", "-aes256", "-pass", "pass:secret", "-out", "encrypted.pem")
        chmod("\(instance.path)/encrypted.pem", 0o600)
        try instance.mainCf("smtpd_tls_cert_file = \(instance.path)/cert.pem\nsmtpd_tls_key_file = \(instance.path)/encrypted.pem\n")
        let result = try instance.check()
        #expect(result.status == 1)
        let lines = errors(result)
        #expect(lines.count == 1, "\(lines)")
        let line = try #require(lines.first)
        #expect(line.hasPrefix("sealpost: error: \(instance.path)/main.cf:3: smtpd_tls_key_file = \(instance.path)/encrypted.pem: "))
        #expect(line.contains("is encrypted"))
        #expect(line.contains("needs an unencrypted key"))
    }

    @Test func aKeyThatDoesNotMatchItsCertificate() throws {
        let instance = try Instance()
        try instance.fixtures.rsaKey("other.pem")
        chmod("\(instance.path)/other.pem", 0o600)
        try instance.mainCf("smtpd_tls_cert_file = \(instance.path)/cert.pem\nsmtpd_tls_key_file = \(instance.path)/other.pem\n")
        let result = try instance.check()
        #expect(result.status == 1)
        let line = try #require(errors(result).first)
        #expect(errors(result).count == 1)
        #expect(line.hasPrefix("sealpost: error: \(instance.path)/main.cf:3: smtpd_tls_key_file = \(instance.path)/other.pem: "))
        #expect(line.contains("does not match") && line.contains("\(instance.path)/cert.pem"))
    }

    @Test func aSessionCacheTimeoutOfForever() throws {
        let instance = try Instance()
        try instance.mainCf("smtpd_tls_session_cache_timeout = forever\n")
        let result = try instance.check()
        #expect(result.status == 1)
        #expect(errors(result) == [
            "sealpost: error: \(instance.path)/main.cf:2: smtpd_tls_session_cache_timeout = forever: invalid value; "
                + "expected a time: a number with an optional unit s (seconds), m (minutes), h (hours), d (days) or w "
                + "(weeks), s when no unit is given of at most 8640000s"
        ])
    }

    @Test func anUnknownLookupType() throws {
        let instance = try Instance()
        try instance.mainCf("virtual_alias_maps = ldap:/etc/sealpost/ldap-aliases.cf\n")
        let result = try instance.check()
        #expect(result.status == 1)
        #expect(errors(result) == [
            "sealpost: error: \(instance.path)/main.cf:2: virtual_alias_maps = ldap:/etc/sealpost/ldap-aliases.cf: invalid "
                + "value; expected lookup tables as type:name (unsupported lookup table type \"ldap\" in "
                + "\"ldap:/etc/sealpost/ldap-aliases.cf\"; supported types: btree, cdb, cidr, hash, inline, lmdb, pcre, "
                + "regexp, static, texthash, unix)"
        ])
    }

    @Test func aMissingCertificateFile() throws {
        let instance = try Instance()
        try instance.mainCf("smtpd_tls_cert_file = \(instance.path)/missing.pem\nsmtpd_tls_key_file = \(instance.path)/key.pem\n")
        let result = try instance.check()
        #expect(result.status == 1)
        let line = try #require(errors(result).first)
        #expect(errors(result).count == 1)
        #expect(line.hasPrefix("sealpost: error: \(instance.path)/main.cf:2: smtpd_tls_cert_file = \(instance.path)/missing.pem: "))
        #expect(line.contains("does not exist"))
    }

    @Test func warningsDoNotFailTheCheck() throws {
        let instance = try Instance()
        chmod("\(instance.path)/key.pem", 0o644)
        try instance.mainCf(
            "smtpd_tls_cert_file = \(instance.path)/cert.pem\nsmtpd_tls_key_file = \(instance.path)/key.pem\nsmtpd_tls_cert_fil = x\n")
        let result = try instance.check()
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("warning: \(instance.path)/main.cf:3: smtpd_tls_key_file = \(instance.path)/key.pem: "))
        #expect(result.standardError.contains("0644"))
        #expect(result.standardError.contains("unknown parameter smtpd_tls_cert_fil=x; did you mean smtpd_tls_cert_file?"))
    }

    @Test func anExpiredCertificateIsAnErrorAndOneExpiringSoonAWarning() throws {
        let instance = try Instance()
        try instance.mainCf("smtpd_tls_cert_file = \(instance.path)/cert.pem\nsmtpd_tls_key_file = \(instance.path)/key.pem\n")
        // The certificate is valid for 365 days: a 400-day warning window catches it.
        let result = try SealpostBinary.run(["check", "-c", instance.path, "-w", "400"])
        #expect(result.status == 0)
        #expect(result.standardError.contains("warning: \(instance.path)/main.cf:2: smtpd_tls_cert_file"))
        #expect(result.standardError.contains("expires in"))
    }

    @Test func encryptWithoutACertificateIsAnError() throws {
        let instance = try Instance()
        try instance.mainCf("")
        try instance.fixtures.write("master.cf", "submission inet n - n - - smtpd\n  -o smtpd_tls_security_level=encrypt\n")
        let result = try instance.check()
        #expect(result.status == 1)
        #expect(errors(result).first?.contains("master.cf:1: service submission/inet: smtpd_tls_security_level = encrypt needs a server certificate") == true)
    }

    @Test func tableFilesAreOpened() throws {
        let instance = try Instance()
        try instance.fixtures.write("access", "/bad[regexp/ REJECT\n")
        try instance.mainCf("virtual_alias_maps = regexp:\(instance.path)/access\n")
        let result = try instance.check()
        #expect(result.status == 1)
        let line = try #require(errors(result).first)
        #expect(line.hasPrefix("sealpost: error: \(instance.path)/main.cf:2: virtual_alias_maps = regexp:\(instance.path)/access: \(instance.path)/access:1: "))
    }

    @Test func theSeedConfigurationChecksWithOnlyFileErrors() throws {
        // The seed names Let's Encrypt files under $domain.$tld that do not exist here: those and
        // the DH file are the only errors; everything else parses.
        let result = try SealpostBinary.run(["check", "-c", SealpostBinary.fixture("seed")])
        #expect(result.status == 1)
        for line in errors(result) {
            #expect(line.contains("smtpd_tls_cert_file") || line.contains("smtpd_tls_key_file") || line.contains("smtpd_tls_dh1024_param_file")
                || line.contains("queue_directory") || line.contains("data_directory"), "\(line)")
        }
        #expect(result.standardError.contains("smtpd_tls_dh512_param_file has no effect in Sealpost"))
    }
}
