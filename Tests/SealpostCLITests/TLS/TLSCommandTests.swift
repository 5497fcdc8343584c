import Foundation
import SealpostTestSupport
import Testing

/// `sealpost tls` through the built binary, with openssl checking everything it writes.
@Suite struct TLSCommandTests {
    static let stamp = "[0-9]{8}-[0-9]{6}"

    @Test func newServerKeyWritesAnRSAPairUnderPostfixsNamesAndLeavesMainCfAlone() throws {
        let directory = try TLSConfigDirectory()
        let before = try directory.mainCf()
        let result = try directory.tls("new-server-key", "mx.example.test", "mail.example.test")
        #expect(result.status == 0, "\(result.standardError)")
        let key = try directory.onlyFile("key-\(Self.stamp)\\.pem")
        let certificate = try directory.onlyFile("cert-\(Self.stamp)\\.pem")
        #expect(key.dropFirst(4) == certificate.dropFirst(5), "one stamp for both")
        try directory.expectServerPair(key: key, certificate: certificate, names: ["mx.example.test", "mail.example.test"])
        #expect(try directory.fixtures.openssl("pkey", "-in", key, "-noout", "-text").contains("Private-Key: (2048 bit"))
        #expect(result.standardOutput.contains("deploy-server-cert \(directory.path)/\(certificate) \(directory.path)/\(key)"))
        #expect(try directory.mainCf() == before)
    }

    @Test func newServerKeyECDSADefaultsToMyhostnameAndP256() throws {
        let directory = try TLSConfigDirectory()
        let result = try directory.tls("new-server-key", "-a", "ecdsa")
        #expect(result.status == 0, "\(result.standardError)")
        let key = try directory.onlyFile("eckey-\(Self.stamp)\\.pem")
        let certificate = try directory.onlyFile("eccert-\(Self.stamp)\\.pem")
        try directory.expectServerPair(key: key, certificate: certificate, names: [TLSConfigDirectory.hostname])
        #expect(try directory.fixtures.openssl("pkey", "-in", key, "-noout", "-text").contains("NIST CURVE: P-256"))

        let other = try TLSConfigDirectory()
        let p384 = try other.tls("new-server-key", "-a", "ecdsa", "-b", "secp384r1", "other.example.test")
        #expect(p384.status == 0, "\(p384.standardError)")
        let p384Key = try other.onlyFile("eckey-\(Self.stamp)\\.pem")
        #expect(try other.fixtures.openssl("pkey", "-in", p384Key, "-noout", "-text").contains("NIST CURVE: P-384"))
    }

    @Test func badArgumentsChangeNothing() throws {
        let directory = try TLSConfigDirectory()
        for arguments in [["new-server-key", "-a", "dsa"], ["new-server-key", "-b", "many"], ["new-server-key", "bad name"],
                          ["new-server-key", "-b", "1024"], ["new-server-key", "-a", "ecdsa", "-b", "nocurve"]] {
            let result = try SealpostBinary.run(["tls", "-c", directory.path] + arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(!result.standardError.isEmpty)
        }
        #expect(try directory.files(matching: ".*key.*|.*cert.*").isEmpty)
    }

    @Test func newServerCertKeepsTheDeployedKey() throws {
        let directory = try TLSConfigDirectory()
        try directory.fixtures.rsaKey("deployed.key")
        try directory.fixtures.selfSigned("deployed.pem", key: "deployed.key", subject: "/CN=old.example.test")
        let configured = "smtpd_tls_cert_file = \(directory.path)/deployed.pem\nsmtpd_tls_key_file = \(directory.path)/deployed.key\n"
        try directory.fixtures.write("main.cf", "myhostname = \(TLSConfigDirectory.hostname)\n" + configured, mode: 0o644)

        let result = try directory.tls("new-server-cert", "mx.example.test", "mx2.example.test")
        #expect(result.status == 0, "\(result.standardError)")
        let key = try directory.onlyFile("key-\(Self.stamp)\\.pem")
        let certificate = try directory.onlyFile("cert-\(Self.stamp)\\.pem")
        try directory.expectServerPair(key: key, certificate: certificate, names: ["mx.example.test", "mx2.example.test"])
        #expect(try directory.openSSLKeyDigest(key: key) == (try directory.openSSLKeyDigest(key: "deployed.key")))
        #expect(!result.standardOutput.contains("stale RRs"), "a kept key needs no DNS update")

        // The ECDSA key is not deployed: a new one is made.
        let ecdsa = try directory.tls("new-server-cert", "-a", "ecdsa")
        #expect(ecdsa.status == 0, "\(ecdsa.standardError)")
        let ecKey = try directory.onlyFile("eckey-\(Self.stamp)\\.pem")
        try directory.expectServerPair(key: ecKey, certificate: try directory.onlyFile("eccert-\(Self.stamp)\\.pem"), names: [TLSConfigDirectory.hostname])
    }

    @Test func newServerCertRefusesAKeyOfTheOtherAlgorithm() throws {
        let directory = try TLSConfigDirectory(mainCf: "")
        try directory.fixtures.ecKey("ec.key")
        try directory.fixtures.write("main.cf", "myhostname = mx.example.test\nsmtpd_tls_key_file = \(directory.path)/ec.key\n", mode: 0o644)
        let result = try directory.tls("new-server-cert")
        #expect(result.status == 1)
        #expect(result.standardError.contains("is not 'rsa'"), "\(result.standardError)")
        #expect(try directory.files(matching: "key-.*|cert-.*").isEmpty)
    }

    @Test func theCSRVerifiesAndRequestsTheNames() throws {
        let directory = try TLSConfigDirectory()
        try directory.fixtures.rsaKey("server.key")
        let result = try directory.tls("output-server-csr", "-k", "server.key", "mx.example.test", "smtp.example.test")
        #expect(result.status == 0, "\(result.standardError)")
        try directory.fixtures.write("request.pem", result.standardOutput)
        try directory.fixtures.openssl("req", "-in", "request.pem", "-verify", "-noout")
        let text = try directory.fixtures.openssl("req", "-in", "request.pem", "-noout", "-text")
        #expect(text.contains("DNS:mx.example.test, DNS:smtp.example.test"))
        #expect(try directory.fixtures.openssl("req", "-in", "request.pem", "-noout", "-pubkey")
            == (try directory.fixtures.openssl("pkey", "-in", "server.key", "-pubout")))

        // Default: the deployed RSA key and $myhostname.
        try directory.fixtures.write("main.cf", "myhostname = mx.example.test\nsmtpd_tls_key_file = \(directory.path)/server.key\n", mode: 0o644)
        let deployed = try directory.tls("output-server-csr")
        #expect(deployed.status == 0, "\(deployed.standardError)")
        try directory.fixtures.write("deployed.pem", deployed.standardOutput)
        #expect(try directory.fixtures.openssl("req", "-in", "deployed.pem", "-noout", "-text").contains("DNS:mx.example.test\n"))
    }

    @Test func theCSRNeedsAKey() throws {
        let directory = try TLSConfigDirectory()
        let result = try directory.tls("output-server-csr")
        #expect(result.status == 1)
        #expect(result.standardError == "sealpost: fatal: No usable keyfile specified or configured\n")
        #expect(result.standardOutput.isEmpty)
    }

    @Test func tlsaRecordsCarryOpenSSLsDigests() throws {
        let directory = try TLSConfigDirectory()
        try directory.fixtures.rsaKey("rsa.key")
        try directory.fixtures.selfSigned("rsa.pem", key: "rsa.key")
        try directory.fixtures.ecKey("ec.key")
        try directory.fixtures.write(
            "main.cf",
            "myhostname = mx.example.test\nsmtpd_tls_key_file = \(directory.path)/rsa.key\nsmtpd_tls_eckey_file = \(directory.path)/ec.key\n",
            mode: 0o644)
        let rsaDigest = try directory.openSSLSPKIDigest(certificate: "rsa.pem")
        #expect(rsaDigest == (try directory.openSSLKeyDigest(key: "rsa.key")))
        let ecDigest = try directory.openSSLKeyDigest(key: "ec.key")

        let both = try directory.tls("output-server-tlsa")
        #expect(both.status == 0, "\(both.standardError)")
        #expect(both.standardOutput == """
            ; \(directory.path)/rsa.key
            _25._tcp.mx.example.test. IN TLSA 3 1 1 \(rsaDigest)
            ; \(directory.path)/ec.key
            _25._tcp.mx.example.test. IN TLSA 3 1 1 \(ecDigest)

            """)

        let named = try directory.tls("output-server-tlsa", "-h", "mail.example.org", "ec.key")
        #expect(named.standardOutput == "; \(directory.path)/ec.key\n_25._tcp.mail.example.org. IN TLSA 3 1 1 \(ecDigest)\n")

        let missing = try directory.tls("output-server-tlsa", "none")
        #expect(missing.status == 1)
        #expect(missing.standardError.contains("No usable keyfiles specified or configured"))
        let notAKey = try directory.tls("output-server-tlsa", "rsa.pem")
        #expect(notAKey.status == 1)
        #expect(notAKey.standardError.contains("no private key found in file"))
    }

    @Test func deployRefusesAMismatchedPairAndLeavesMainCfByteIdentical() throws {
        let directory = try TLSConfigDirectory(mainCf: "smtpd_tls_loglevel = 1   \n# a comment\r\n")
        try directory.fixtures.rsaKey("one.key")
        try directory.fixtures.rsaKey("two.key")
        try directory.fixtures.selfSigned("one.pem", key: "one.key")
        let before = try directory.mainCf()
        let result = try directory.tls("deploy-server-cert", "one.pem", "two.key")
        #expect(result.status == 1)
        #expect(result.standardError.contains("does not match"), "\(result.standardError)")
        #expect(try directory.mainCf() == before)

        let missing = try directory.tls("deploy-server-cert", "one.pem", "absent.key")
        #expect(missing.status == 1)
        #expect(try directory.mainCf() == before)

        try directory.fixtures.openssl("genpkey", "-algorithm", "RSA", "-aes256", "-pass", "pass:secret", "-out", "locked.key")
        try directory.fixtures.openssl("req", "-x509", "-new", "-key", "locked.key", "-passin", "pass:secret", "-subj", "/CN=x", "-out", "locked.pem")
        let encrypted = try directory.tls("deploy-server-cert", "locked.pem", "locked.key")
        #expect(encrypted.status == 1)
        #expect(try directory.mainCf() == before)
    }

    @Test func deploySetsTheParametersOfTheKeysAlgorithm() throws {
        let directory = try TLSConfigDirectory()
        try directory.fixtures.rsaKey("rsa.key")
        try directory.fixtures.selfSigned("rsa.pem", key: "rsa.key")
        try directory.fixtures.ecKey("ec.key")
        try directory.fixtures.selfSigned("ec.pem", key: "ec.key")

        let rsa = try directory.tls("deploy-server-cert", "rsa.pem", "rsa.key")
        #expect(rsa.status == 0, "\(rsa.standardError)")
        #expect(rsa.standardOutput.contains("New TLS private key and certificate deployed."))
        let ec = try directory.tls("deploy-server-cert", directory.path + "/ec.pem", directory.path + "/ec.key")
        #expect(ec.status == 0, "\(ec.standardError)")
        #expect(try directory.mainCfValue("smtpd_tls_cert_file") == directory.path + "/rsa.pem")
        #expect(try directory.mainCfValue("smtpd_tls_key_file") == directory.path + "/rsa.key")
        #expect(try directory.mainCfValue("smtpd_tls_eccert_file") == directory.path + "/ec.pem")
        #expect(try directory.mainCfValue("smtpd_tls_eckey_file") == directory.path + "/ec.key")
        #expect(try directory.mainCfValue("smtpd_tls_security_level") == nil)
        #expect(String(decoding: try directory.mainCf(), as: UTF8.self).hasPrefix("# test\nmyhostname = mx.example.test\n"))

        let check = try SealpostBinary.run(["check", "-c", directory.path])
        #expect(!check.standardError.contains("smtpd_tls"), "\(check.standardError)")
    }

    @Test func enableServerActsOnlyWhenEveryServerSettingIsDefault() throws {
        let directory = try TLSConfigDirectory()
        #expect(try directory.tls("all-default-server").status == 0)
        let result = try directory.tls("enable-server", "-a", "ecdsa")
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.hasPrefix("Enabled opportunistic TLS in the Sealpost SMTP server\n"))
        let key = try directory.onlyFile("eckey-\(Self.stamp)\\.pem")
        let certificate = try directory.onlyFile("eccert-\(Self.stamp)\\.pem")
        try directory.expectServerPair(key: key, certificate: certificate, names: [TLSConfigDirectory.hostname])
        #expect(try directory.mainCfValue("smtpd_tls_eckey_file") == "\(directory.path)/\(key)")
        #expect(try directory.mainCfValue("smtpd_tls_eccert_file") == "\(directory.path)/\(certificate)")
        #expect(try directory.mainCfValue("smtpd_tls_security_level") == "may")
        #expect(try directory.mainCfValue("smtpd_tls_received_header") == "yes")
        #expect(try directory.mainCfValue("smtpd_tls_loglevel") == "1")
        #expect(try directory.tls("all-default-server").status == 1)

        // Now that settings are not at their defaults, a second run only advises.
        let before = try directory.mainCf()
        let again = try directory.tls("enable-server")
        #expect(again.status == 0)
        #expect(again.standardOutput.hasPrefix("*** Non-default SMTP server TLS settings detected, no changes made.\n"))
        #expect(try directory.mainCf() == before)
        #expect(try directory.files(matching: "key-.*|cert-.*").isEmpty)
    }

    @Test func anEmptySettingCountsAsDefault() throws {
        let directory = try TLSConfigDirectory(mainCf: "smtpd_tls_security_level =\nsmtp_tls_security_level =\n")
        #expect(try directory.tls("all-default-server").status == 0)
        #expect(try directory.tls("all-default-client").status == 0)
        let chain = try TLSConfigDirectory(mainCf: "smtpd_tls_chain_files = /etc/ssl/chain.pem\n")
        #expect(try chain.tls("all-default-server").status == 1)
    }

    @Test func enableClientActsOnlyWhenEveryClientSettingIsDefault() throws {
        let directory = try TLSConfigDirectory()
        #expect(try directory.tls("all-default-client").status == 0)
        let result = try directory.tls("enable-client")
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.hasPrefix("Enabled opportunistic TLS in the Sealpost SMTP client.\n"))
        #expect(try directory.mainCfValue("smtp_tls_security_level") == "may")
        #expect(try directory.mainCfValue("smtp_tls_loglevel") == "1")
        #expect(try directory.tls("all-default-client").status == 1)

        let before = try directory.mainCf()
        let again = try directory.tls("enable-client")
        #expect(again.standardOutput.hasPrefix("*** Non-default SMTP client TLS settings detected, no changes made.\n"))
        #expect(try directory.mainCf() == before)
    }
}

/// `sealpost tls dhparam`, checked by openssl.
@Suite struct TLSDHParamTests {
    @Test func writesParametersOpenSSLAccepts() throws {
        let directory = try TLSConfigDirectory()
        let before = try directory.mainCf()
        let result = try directory.tls("dhparam", "1024")
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("weak"))
        #expect(result.standardOutput.contains("smtpd_tls_dh1024_param_file=\(directory.path)/dh1024.pem"))
        #expect(try directory.fixtures.mode("dh1024.pem") == 0o644)
        #expect(try directory.fixtures.read("dh1024.pem").hasPrefix("-----BEGIN DH PARAMETERS-----\n"))
        #expect(try directory.fixtures.openssl("pkeyparam", "-in", "dh1024.pem", "-check", "-noout") == "Parameters are valid\n")
        #expect(try directory.fixtures.openssl("pkeyparam", "-in", "dh1024.pem", "-noout", "-text").contains("(1024 bit)"))
        #expect(try directory.mainCf() == before)

        let named = try directory.tls("dhparam", "-o", "custom/dh.pem", "1024")
        #expect(named.status == 1, "the directory custom/ does not exist")
        #expect(named.standardError.hasPrefix("sealpost: warning:"))
        #expect(named.standardError.contains("sealpost: fatal: "))
        #expect(try directory.tls("dhparam", "512").status != 0)
    }
}
