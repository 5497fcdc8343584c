import Foundation
import SealpostTestSupport
import Testing

/// `sealpost tls status` through the built binary.
@Suite struct TLSStatusTests {
    /// A directory whose smtp service uses main.cf's certificate and whose submission service overrides it.
    static func twoServices(_ directory: TLSConfigDirectory, submissionCertificate: String, submissionKey: String) throws {
        try directory.fixtures.write("master.cf", """
            smtp inet n - n - - smtpd
            submission inet n - n - - smtpd
              -o smtpd_tls_cert_file=\(directory.path)/\(submissionCertificate)
              -o smtpd_tls_key_file=\(directory.path)/\(submissionKey)

            """, mode: 0o644)
    }

    @Test func everyServiceShowsItsCertificateAndExpiryDecidesTheExitStatus() throws {
        let directory = try TLSConfigDirectory()
        #expect(try directory.tls("enable-server", "mx.example.test", "smtp.example.test").status == 0)
        let certificate = try directory.onlyFile("cert-[0-9]{8}-[0-9]{6}\\.pem")
        try directory.fixtures.rsaKey("soon.key")
        try directory.fixtures.selfSigned("soon.pem", key: "soon.key", subject: "/CN=soon.example.test", subjectAltName: "DNS:soon.example.test", days: 10)
        try Self.twoServices(directory, submissionCertificate: "soon.pem", submissionKey: "soon.key")

        let result = try directory.tls("status")
        #expect(result.status == 1, "expires within 30 days")
        #expect(result.standardError.contains("CN=soon.example.test in \(directory.path)/soon.pem expires within 30 days"))
        let text = result.standardOutput
        let smtp = try #require(text.range(of: "service smtp/inet:\n"))
        let submission = try #require(text.range(of: "service submission/inet:\n"))
        let smtpPart = String(text[smtp.upperBound..<submission.lowerBound])
        let submissionPart = String(text[submission.upperBound...])

        #expect(smtpPart.contains("  certificate \(directory.path)/\(certificate)"))
        #expect(smtpPart.contains("    subject: CN=mx.example.test\n"))
        #expect(smtpPart.contains("    names: mx.example.test, smtp.example.test\n"))
        #expect(smtpPart.contains("    issuer: CN=mx.example.test (self-signed)\n"))
        #expect(smtpPart.contains("    key: RSA 2048\n"))
        #expect(smtpPart.contains("    chain: complete, 1 certificate, ends at self-signed CN=mx.example.test\n"))
        #expect(smtpPart.contains("    myhostname mx.example.test: covered\n"))
        let smtpDigest = try directory.openSSLSPKIDigest(certificate: certificate)
        #expect(smtpPart.contains("    TLSA: _25._tcp.mx.example.test. IN TLSA 3 1 1 \(smtpDigest)\n"))
        #expect(!smtpPart.contains("renew"))

        #expect(submissionPart.contains("    subject: CN=soon.example.test\n"))
        #expect(submissionPart.contains("days left) *** renew: within 30 days\n"))
        #expect(submissionPart.contains("    myhostname mx.example.test: NOT covered\n"))
        let soonDigest = try directory.openSSLSPKIDigest(certificate: "soon.pem")
        #expect(submissionPart.contains("    TLSA: _587._tcp.mx.example.test. IN TLSA 3 1 1 \(soonDigest)\n"))

        #expect(try directory.tls("status", "-w", "5").status == 0, "10 days left is outside a 5-day window")
        #expect(try directory.tls("status", "-w", "10").status == 1, "under 10 days left")
        #expect(try directory.tls("status", "-w", "-1").status != 0, "a negative window is an argument error")
    }

    @Test func anExpiredCertificateFailsEvenWithANoWindow() throws {
        let directory = try TLSConfigDirectory()
        try directory.fixtures.datedCertificate("expired.pem", start: "20200101000000Z", end: "20210101000000Z")
        try directory.fixtures.write("main.cf", """
            myhostname = dated.example.com
            smtpd_tls_cert_file = \(directory.path)/expired.pem
            smtpd_tls_key_file = \(directory.path)/expired.pem.key

            """, mode: 0o644)
        let result = try directory.tls("status", "-w", "0")
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("(EXPIRED "), "\(result.standardOutput)")
        #expect(result.standardOutput.contains("myhostname dated.example.com: covered"), "CN is used without subjectAltName")
    }

    @Test func chainsAreCheckedForOrderAndCompleteness() throws {
        let directory = try TLSConfigDirectory()
        let hierarchy = try directory.fixtures.hierarchy()
        try directory.fixtures.concatenate(["intermediate.pem", "leaf.pem"], into: "reversed.pem")
        try directory.fixtures.write("master.cf", """
            smtp inet n - n - - smtpd
            127.0.0.1:2525 inet n - n - - smtpd -o smtpd_tls_cert_file=\(hierarchy.leaf) -o smtpd_tls_key_file=\(hierarchy.leafKey)
            127.0.0.1:2526 inet n - n - - smtpd -o smtpd_tls_chain_files=\(hierarchy.leafKey),\(hierarchy.fullchain)
            127.0.0.1:2527 inet n - n - - smtpd -o smtpd_tls_cert_file=\(directory.path)/reversed.pem -o smtpd_tls_key_file=\(hierarchy.leafKey)

            """, mode: 0o644)
        let result = try directory.tls("status", "-w", "0")
        let text = result.standardOutput
        #expect(text.contains("service smtp/inet:\n  no server certificate configured\n"))
        #expect(text.contains("    chain: INCOMPLETE: leaf only; add the intermediate certificates of CN=Sealpost Test Intermediate\n"), "\(text)")
        #expect(text.contains("    chain: complete, 2 certificates, ends at an intermediate issued by CN=Sealpost Test Root\n"))
        #expect(text.contains("    myhostname mx.example.test: NOT covered\n"))
        // A reversed chain has the wrong leaf: the key does not match the first certificate.
        #expect(text.contains("reversed.pem") && text.contains("unusable"), "\(text)")
        #expect(result.status == 1, "an unusable certificate fails the status")
    }
}
