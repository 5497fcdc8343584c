import Foundation
import SealpostTestSupport
import Testing

/// `sealpost bench source` against a running Sealpost: STARTTLS and AUTH on the submission port, the messages
/// in the mailbox, the TLS summary in the report.
@Suite("bench source against Sealpost", .serialized)
struct BenchSourceSealpostTests {
    @Test("--starttls --auth: every message accepted and delivered, the TLS protocol and cipher reported")
    func startTLSAndAuth() throws {
        let instance = try MailInstance()
        try instance.start()
        defer { _ = instance.stop() }
        let result = try SealpostBinary.run([
            "bench", "source", "-s", "2", "-m", "4", "--reuse", "2", "-l", "2048", "--starttls", "--insecure",
            "--auth", "demo@example.test:secret", "-f", "demo@example.test", "-t", "demo@example.test",
            "127.0.0.1:\(instance.submissionPort)",
        ])
        #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)\n\(instance.log)")
        #expect(result.standardOutput.contains("messages: 4 sent, 4 accepted, 0 failed"), "\(result.standardOutput)")
        #expect(result.standardOutput.contains("TLS: TLSv1.3 TLS_"), "\(result.standardOutput)")
        #expect(waitUntil(timeout: 20) { instance.mailbox("demo").count == 4 }, "\(instance.log)")
    }

    @Test("a wrong password: every message fails with 535 after AUTH, exit status 1")
    func wrongPassword() throws {
        let instance = try MailInstance()
        try instance.start()
        defer { _ = instance.stop() }
        let result = try SealpostBinary.run([
            "bench", "source", "-m", "2", "--starttls", "--insecure", "--auth", "demo@example.test:wrong",
            "-f", "demo@example.test", "-t", "demo@example.test", "127.0.0.1:\(instance.submissionPort)",
        ])
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("error: 535 after AUTH: 2"), "\(result.standardOutput)")
        #expect(!result.standardOutput.contains("wrong"), "the password never appears in the report")
    }

    @Test("without --insecure, a certificate no trust anchor vouches for fails the TLS handshake")
    func untrustedCertificateFails() throws {
        let instance = try MailInstance()
        try instance.start()
        defer { _ = instance.stop() }
        // Trust something, but not the server's self-signed certificate.
        let fixtures = try OpenSSLFixtures()
        try fixtures.rsaKey("other.key")
        try fixtures.selfSigned("other.pem", key: "other.key", subject: "/CN=other.test", subjectAltName: "DNS:other.test", days: 30)
        let result = try SealpostBinary.run([
            "bench", "source", "-m", "1", "--starttls", "--CAfile", fixtures.path("other.pem"),
            "127.0.0.1:\(instance.submissionPort)",
        ])
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("error: TLS: certificate verification failed for 127.0.0.1[127.0.0.1]:\(instance.submissionPort): self-signed certificate"), "\(result.standardOutput)")
    }

    @Test("without --insecure, the server's own certificate as trust anchor and a name it carries: verified TLS")
    func trustedCertificateVerifies() throws {
        let instance = try MailInstance()
        try instance.start()
        defer { _ = instance.stop() }
        let result = try SealpostBinary.run([
            "bench", "source", "-m", "1", "--starttls", "--CAfile", instance.fixtures.path("cert.pem"),
            "--auth", "demo@example.test:secret", "-f", "demo@example.test", "-t", "demo@example.test",
            "localhost:\(instance.submissionPort)",
        ])
        #expect(result.status == 0, "\(result.standardOutput)")
        #expect(result.standardOutput.contains("messages: 1 sent, 1 accepted, 0 failed"), "\(result.standardOutput)")
    }

    @Test("--wrapper on the SMTPS port: TLS before the greeting, one connection reused for three messages")
    func wrapperMode() throws {
        let instance = try MailInstance()
        try instance.start()
        defer { _ = instance.stop() }
        let result = try SealpostBinary.run([
            "bench", "source", "-m", "3", "--reuse", "3", "--wrapper", "--insecure", "--pipelining",
            "--auth", "demo@example.test:secret", "-f", "demo@example.test", "-t", "demo@example.test",
            "127.0.0.1:\(instance.smtpsPort)",
        ])
        #expect(result.status == 0, "\(result.standardOutput)\n\(instance.log)")
        #expect(result.standardOutput.contains("sessions: 1, connections: 1"), "\(result.standardOutput)")
        #expect(result.standardOutput.contains("TLS: TLSv1.3 TLS_"), "\(result.standardOutput)")
        #expect(result.standardOutput.contains("(1 connection)"), "\(result.standardOutput)")
        #expect(waitUntil(timeout: 20) { instance.mailbox("demo").count == 3 }, "\(instance.log)")
    }
}
