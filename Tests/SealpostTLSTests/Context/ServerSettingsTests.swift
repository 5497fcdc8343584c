import Foundation
import Testing

@testable import SealpostTLS

/// Which parameter applies when, the certificate rules, and the errors — without a handshake.
@Suite("Server settings: Postfix's rules")
struct ServerSettingsTests {
    @Test("levels: security_level over the legacy switches; wrapper mode means encrypt and ignores the level")
    func levels() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let certificate = "smtpd_tls_cert_file = \(material.rsaCertificate)\nsmtpd_tls_key_file = \(material.rsaKey)\n"
        #expect(try serverSettings(certificate).securityLevel == .none)
        #expect(try serverSettings(certificate + "smtpd_use_tls = yes\n").securityLevel == .may)
        #expect(try serverSettings(certificate + "smtpd_enforce_tls = yes\n").securityLevel == .encrypt)
        #expect(try serverSettings(certificate + "smtpd_enforce_tls = yes\nsmtpd_tls_security_level = may\n").securityLevel == .may)
        #expect(try serverSettings(certificate + "smtpd_use_tls = yes\nsmtpd_tls_security_level = none\n").securityLevel == .none)
        let wrapper = try serverSettings(certificate + "smtpd_tls_security_level = none\nsmtpd_tls_wrappermode = yes\n")
        #expect(wrapper.securityLevel == .encrypt && wrapper.wrapperMode)
        #expect(wrapper.protocols.parameter == "smtpd_tls_mandatory_protocols")
        #expect(wrapper.ciphers.gradeParameter == "smtpd_tls_mandatory_ciphers")
        let may = try serverSettings(certificate + "smtpd_tls_security_level = may\n")
        #expect(may.protocols.parameter == "smtpd_tls_protocols")
        #expect(may.ciphers.gradeParameter == "smtpd_tls_ciphers")
        let error = #expect(throws: TLSConfigurationError.self) { try TLSServerContextBuilder.makeContext(serverSettings(certificate)) }
        #expect(error?.code == .tlsNotEnabled)
    }

    @Test("the seed's submission and smtps services from master.cf -o overrides")
    func seedServices() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let main = material.rsaServer + """
            smtpd_tls_mandatory_protocols = TLSv1
            smtpd_tls_mandatory_ciphers = high
            smtpd_tls_ciphers = medium
            smtpd_tls_exclude_ciphers = \(CipherTests.seedExclusions)
            smtpd_tls_eecdh_grade = strong
            smtpd_tls_session_cache_timeout = 3600s
            smtpd_tls_loglevel = 0
            tls_preempt_cipherlist = yes
            tls_random_source = dev:/dev/urandom

            """
        let master = """
            smtp      inet  n       -       y       -       -       smtpd
            submission inet n       -       n       -       -       smtpd
              -o syslog_name=postfix/submission
              -o smtpd_tls_security_level=encrypt
            smtps     inet  n       -       n       -       -       smtpd
              -o syslog_name=postfix/smtps
              -o smtpd_tls_wrappermode=yes
            """
        let smtp = try serverSettings(main, master: master, service: "smtp/inet")
        let submission = try serverSettings(main, master: master, service: "submission/inet")
        let smtps = try serverSettings(main, master: master, service: "smtps/inet")
        #expect(smtp.securityLevel == .may && smtp.ciphers.grade == .medium)
        #expect(smtp.protocols.allowedVersions == [.tlsv1, .tlsv1_1, .tlsv1_2, .tlsv1_3])
        for service in [submission, smtps] {
            #expect(service.securityLevel == .encrypt)
            #expect(service.ciphers.grade == .high)
            #expect(service.protocols.allowedVersions == [.tlsv1])
            #expect(service.keyExchange.groupNames == ["prime256v1", "ffdhe2048", "ffdhe3072"])
            #expect(service.prefersServerCiphers)
            #expect(service.logLevel == 0)
        }
        for settings in [smtp, submission, smtps] {
            _ = try TLSServerContextBuilder.makeContext(settings)
        }
    }

    @Test("certificates: none means anonymous; nothing at all is an error; chain files override the legacy files")
    func certificates() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let none = try serverSettings("smtpd_tls_security_level = may\nsmtpd_tls_cert_file = NONE\n")
        #expect(none.isAnonymousOnly && none.certificates.isExplicitlyNone)
        let missing = #expect(throws: TLSConfigurationError.self) { try serverSettings("smtpd_tls_security_level = may\n") }
        #expect(missing?.code == .noServerCertificate)
        #expect(missing?.reason.hasPrefix("No server certs available. TLS won't be enabled") == true)

        let chain = try material.fixtures.concatenate(["ec.key", "ec.pem", "rsa.key", "rsa.pem"], into: "chain.pem")
        let both = try serverSettings(material.rsaServer + "smtpd_tls_chain_files = \(chain)\n")
        #expect(both.certificates.certifiedKeys.count == 2)
        #expect(both.warnings.contains { $0.message.contains("the legacy parameters will be ignored") })
        let context = try TLSServerContextBuilder.makeContext(both)
        let (ec, _) = try SClient.handshake(context, ["-sigalgs", "ECDSA+SHA256"])
        #expect(ec?.info?.serverSignature?.algorithm == "ECDSA")

        let wrongKey = #expect(throws: TLSConfigurationError.self) {
            try serverSettings("smtpd_tls_security_level = may\nsmtpd_tls_cert_file = \(material.rsaCertificate)\nsmtpd_tls_key_file = \(material.ecKey)\n")
        }
        #expect(wrongKey?.parameter == "smtpd_tls_cert_file")
        #expect(wrongKey?.underlying?.code == .keyMismatch)
        let absent = #expect(throws: TLSConfigurationError.self) {
            try serverSettings("smtpd_tls_security_level = may\nsmtpd_tls_eccert_file = /nonexistent/ec.pem\n")
        }
        #expect(absent?.parameter == "smtpd_tls_eccert_file")
        // smtpd_tls_eckey_file defaults to the same file, which is then read as one combined file.
        #expect(absent?.description == "smtpd_tls_eccert_file: certificate and key file /nonexistent/ec.pem does not exist")
        try material.fixtures.openssl("pkey", "-in", "rsa.key", "-aes256", "-passout", "pass:x", "-out", "encrypted.key")
        let encrypted = #expect(throws: TLSConfigurationError.self) {
            try serverSettings("smtpd_tls_security_level = may\nsmtpd_tls_cert_file = \(material.rsaCertificate)\n"
                + "smtpd_tls_key_file = \(material.fixtures.path("encrypted.key"))\n")
        }
        #expect(encrypted?.underlying?.code == .encryptedPrivateKey)
        #expect(encrypted?.description.contains(material.fixtures.path("encrypted.key")) == true)
    }

    @Test("CA file and path problems name their parameter")
    func trustFiles() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let file = #expect(throws: TLSConfigurationError.self) {
            try serverSettings(material.rsaServer + "smtpd_tls_CAfile = \(material.rsaKey)\n")
        }
        #expect(file?.parameter == "smtpd_tls_CAfile")
        let path = #expect(throws: TLSConfigurationError.self) {
            try serverSettings(material.rsaServer + "smtpd_tls_CApath = \(material.rsaKey)\n")
        }
        #expect(path?.parameter == "smtpd_tls_CApath")
        #expect(path?.underlying?.code == .caPathNotDirectory)
        _ = try TLSServerContextBuilder.makeContext(serverSettings(material.rsaServer + "smtpd_tls_CApath = /etc/ssl/certs\n"))
    }

    @Test("log levels: numbers, Postfix's names and feature lists")
    func logLevels() throws {
        #expect(try TLSLogMask(words: ["0"], parameter: "p") == [])
        #expect(try TLSLogMask(words: ["1"], parameter: "p") == .level1)
        #expect(try TLSLogMask(words: ["debug"], parameter: "p").level == 2)
        #expect(try TLSLogMask(words: ["ssl-expert"], parameter: "p").level == 3)
        #expect(try TLSLogMask(words: ["7"], parameter: "p") == .level4)
        #expect(try TLSLogMask(words: ["routine,", "certmatch"], parameter: "p") == [.summary, .certificateMatch])
        let error = #expect(throws: TLSConfigurationError.self) { try TLSLogMask(words: ["loud"], parameter: "smtpd_tls_loglevel") }
        #expect(error?.code == .invalidLogLevel && error?.parameter == "smtpd_tls_loglevel")
        guard let material = try ContextTestMaterial.shared() else { return }
        #expect(try serverSettings(material.rsaServer + "smtpd_tls_loglevel = 3\n").logLevel == 3)
    }

    @Test("tls_disable_workarounds and tls_ssl_options become SSL_OP_* bits, never the managed ones")
    func sslOptions() throws {
        var warnings: [TLSConfigurationWarning] = []
        let all = TLSSSLOptions(disabledWorkarounds: [], enabledOptions: [], warnings: &warnings).bits
        let noPadding = TLSSSLOptions(disabledWorkarounds: ["tls_block_padding_bug", "0x0"], enabledOptions: [], warnings: &warnings)
        // Retired in OpenSSL 3 (the bit is 0); any tweak also drops the Safari work-around, as in tls_bug_bits().
        #expect(noPadding.bits == all & ~SSLOptions.bit("SAFARI_ECDHE_ECDSA_BUG"))
        let noRollback = TLSSSLOptions(disabledWorkarounds: ["TLS_ROLLBACK_BUG"], enabledOptions: [], warnings: &warnings)
        #expect(noRollback.bits == all & ~SSLOptions.bit("TLS_ROLLBACK_BUG") & ~SSLOptions.bit("SAFARI_ECDHE_ECDSA_BUG"))
        let options = TLSSSLOptions(
            disabledWorkarounds: [], enabledOptions: ["no_ticket", "PRIORITIZE_CHACHA", "bogus", "0x400000"], warnings: &warnings)
        #expect(options.bits == all | SSLOptions.bit("NO_TICKET") | SSLOptions.bit("PRIORITIZE_CHACHA"))
        #expect(warnings == [TLSConfigurationWarning(parameter: "tls_ssl_options", "tls_ssl_options: unknown name \"bogus\"")])

        guard let material = try ContextTestMaterial.shared() else { return }
        // tls_ssl_options = NO_TICKET turns session tickets off, as Postfix documents.
        let context = try serverContext(material.rsaServer + "tls_ssl_options = NO_TICKET\n")
        #expect(context.state.ticketKeys == nil)
    }

    @Test("the fingerprint digest must exist in OpenSSL")
    func digest() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        #expect(try serverSettings(material.rsaServer + "smtpd_tls_fingerprint_digest = sha1\n").fingerprintDigest.name == "sha1")
        let error = #expect(throws: TLSConfigurationError.self) { try TLSFingerprintDigest("sha3-999", parameter: "smtpd_tls_fingerprint_digest") }
        #expect(error?.code == .unknownDigest)
        #expect(error?.reason == "smtpd_tls_fingerprint_digest: Digest algorithm \"sha3-999\" not found")
    }

    @Test("wildcards: a leading * matches several labels only with tls_wildcard_matches_multiple_labels")
    func wildcards() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let certificate = try Certificate.loadPEMFile(material.wildcardCertificate)[0]
        #expect(TLSPeerNames.match(certificate, names: ["mx1.example.net"], wildcardMatchesMultipleLabels: false) == "mx1.example.net")
        #expect(TLSPeerNames.match(certificate, names: ["example.com.mx1.example.net"], wildcardMatchesMultipleLabels: true)
            == "example.com.mx1.example.net")
        #expect(TLSPeerNames.match(certificate, names: ["example.com.mx1.example.net"], wildcardMatchesMultipleLabels: false) == nil)
        #expect(TLSPeerNames.match(certificate, names: ["example.net"], wildcardMatchesMultipleLabels: true) == nil)
        #expect(TLSPeerNames.match(certificate, names: [".example.net"], wildcardMatchesMultipleLabels: false) == ".example.net")
        let server = try Certificate.loadPEMFile(material.rsaCertificate)[0]
        #expect(TLSPeerNames.match(server, names: [".example.com"], wildcardMatchesMultipleLabels: true) == ".example.com")
        #expect(TLSPeerNames.match(server, names: ["example.com"], wildcardMatchesMultipleLabels: true) == nil)
        #expect(TLSPeerNames.expectedNames(strategies: ["nexthop", "dot-nexthop", "hostname", ".", "literal.org"],
                                           nexthop: "example.com", hostname: "mx.example.net")
            == ["example.com", ".example.com", "mx.example.net", "literal.org"])
    }

    @Test("the Received header sanitises names as smtpd's comment_sanitize() does")
    func commentSanitize() {
        #expect(TLSSessionInfo.commentSanitized("a(b") == "a(b)")
        #expect(TLSSessionInfo.commentSanitized("a)b(c)") == "a?b(c)")
        #expect(TLSSessionInfo.commentSanitized("x\\y\u{7}é") == "x?y???")
    }
}
