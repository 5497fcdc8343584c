import Foundation
import SealpostDNS
import SealpostTestSupport
import Testing

@testable import SealpostDelivery

/// Relaying to a real Postfix 3.7 over STARTTLS at every level: the Received header Postfix writes
/// names the protocol our client negotiated; verify, secure and fingerprint succeed with the right
/// CA, name and fingerprint and defer otherwise; a 550 for an unknown user bounces with Postfix's
/// text; a man in the middle that strips STARTTLS gets plaintext at `may` and nothing at `encrypt`.
@Suite("SMTP client against a reference Postfix", .serialized)
struct ReferencePostfixTests {
    static let message = "From: sender@client.example.org\r\nTo: demo@example.com\r\nSubject: relay test\r\n\r\nhello over TLS\r\n"

    /// `example.com` → MX `mx` (mail.example.com, the certificate's name, unless told otherwise) at 127.0.0.1.
    static func resolver(mx: String = "mail.example.com") -> FakeResolver {
        FakeResolver(
            exchangers: ["example.com": .found([MailExchanger(preference: 10, host: mx)], authenticated: false)],
            hosts: [mx: .found(["127.0.0.1"], authenticated: false)])
    }

    static func deliver(
        _ postfix: ReferencePostfix, main: String, mx: String = "mail.example.com", recipient: String = "demo@example.com",
        log: RecordingLog = RecordingLog(), port: Int? = nil
    ) async throws -> RecipientResult {
        let agent = try makeAgent("smtp_connection_cache_on_demand = no\nsmtp_tls_loglevel = 1\n" + main, resolver: resolver(mx: mx), log: log)
        let message = try await QueuedTestMessage(recipients: [recipient], content: Self.message)
        let report = await agent.deliver(try message.request(nexthop: "example.com:\(port ?? postfix.port)"))
        return try #require(report.results.first)
    }

    @Test("may and encrypt: delivered over STARTTLS; Postfix's Received header shows our TLS protocol")
    func mayAndEncrypt() async throws {
        guard let postfix = try ReferencePostfix.start() else { return }
        defer { postfix.stop() }
        for (round, level) in ["may", "encrypt"].enumerated() {
            let log = RecordingLog()
            let result = try await Self.deliver(postfix, main: "smtp_tls_security_level = \(level)\n", log: log)
            #expect(result.status == .sent, "\(level): \(result)\n\(postfix.log)")
            #expect(result.text.hasPrefix("250 2.0.0 Ok: queued as "))
            #expect(result.relay == "mail.example.com[127.0.0.1]:\(postfix.port)")
            // Postfix announces DSN, so the DSN action is delivered rather than relayed.
            #expect(result.action == .delivered)
            #expect(log.messages.contains { $0.hasPrefix("info: Untrusted TLS connection established to mail.example.com[127.0.0.1]:\(postfix.port): TLSv1.3 with cipher ") },
                    "\(log.messages)")
            #expect(waitUntil(timeout: 20) { postfix.delivered.count == round + 1 }, "\(postfix.log)")
        }
        for delivered in postfix.delivered {
            #expect(delivered.contains("(using TLSv1.3 with cipher"), "\(delivered)")
            #expect(delivered.contains("hello over TLS"))
        }
    }

    @Test("verify and secure: delivered with the right CA and name, deferred with another name or no CA")
    func verifyAndSecure() async throws {
        guard let postfix = try ReferencePostfix.start() else { return }
        defer { postfix.stop() }
        let ca = "smtp_tls_CAfile = \(postfix.hierarchy.root)\n"
        for level in ["verify", "secure"] {
            let log = RecordingLog()
            let good = try await Self.deliver(postfix, main: "smtp_tls_security_level = \(level)\n" + ca, log: log)
            #expect(good.status == .sent, "\(level): \(good)")
            #expect(log.messages.contains { $0.hasPrefix("info: Verified TLS connection established to mail.example.com[127.0.0.1]") }, "\(log.messages)")
        }
        let wrongName = try await Self.deliver(postfix, main: "smtp_tls_security_level = verify\n" + ca, mx: "mx.other.example")
        #expect(wrongName.status == .deferred)
        #expect(wrongName.dsn == "4.7.5")
        #expect(wrongName.text == "Server certificate not verified")
        let noCA = try await Self.deliver(postfix, main: "smtp_tls_security_level = secure\n")
        #expect(noCA.status == .deferred)
        #expect(noCA.text == "Server certificate not verified")
        #expect(waitUntil(timeout: 20) { postfix.delivered.count == 2 })
    }

    @Test("fingerprint: the leaf's SHA-256 fingerprint delivers (main.cf and policy table); another defers")
    func fingerprint() async throws {
        guard let postfix = try ReferencePostfix.start() else { return }
        defer { postfix.stop() }
        let fingerprint = try postfix.leafFingerprint()
        let good = try await Self.deliver(
            postfix, main: "smtp_tls_security_level = fingerprint\nsmtp_tls_fingerprint_digest = sha256\nsmtp_tls_fingerprint_cert_match = \(fingerprint)\n")
        #expect(good.status == .sent, "\(good)")
        let policy = try await Self.deliver(
            postfix, main: "smtp_tls_fingerprint_digest = sha256\nsmtp_tls_policy_maps = inline:{ { example.com:\(postfix.port) = fingerprint match=\(fingerprint) } }\n")
        #expect(policy.status == .sent, "\(policy)")
        let wrong = String(repeating: "AB:", count: 31) + "AB"
        let bad = try await Self.deliver(
            postfix, main: "smtp_tls_security_level = fingerprint\nsmtp_tls_fingerprint_digest = sha256\nsmtp_tls_fingerprint_cert_match = \(wrong)\n")
        #expect(bad.status == .deferred)
        #expect(bad.text == "Server certificate not verified")
    }

    @Test("smtp_tls_wrappermode: TLS from the first byte to an smtps service (relayhost on 465)")
    func wrapperMode() async throws {
        guard let postfix = try ReferencePostfix.start() else { return }
        defer { postfix.stop() }
        let log = RecordingLog()
        let result = try await Self.deliver(
            postfix, main: "smtp_tls_wrappermode = yes\nsmtp_tls_security_level = encrypt\n", log: log, port: postfix.wrapperPort)
        #expect(result.status == .sent, "\(result)\n\(log.messages)")
        #expect(log.messages.contains { $0.contains("TLS connection established to mail.example.com[127.0.0.1]:\(postfix.wrapperPort)") })
        #expect(waitUntil(timeout: 20) { postfix.delivered.count == 1 })
        #expect(postfix.delivered.first?.contains("(using TLSv1.3 with cipher") == true)
    }

    @Test("the second connection to the same server resumes the TLS session from the client cache")
    func sessionResumption() async throws {
        guard let postfix = try ReferencePostfix.start() else { return }
        defer { postfix.stop() }
        let log = RecordingLog()
        let agent = try makeAgent(
            "smtp_connection_cache_on_demand = no\nsmtp_tls_security_level = encrypt\nsmtp_tls_loglevel = 2\n",
            resolver: Self.resolver(), log: log)
        for _ in 0..<2 {
            let message = try await QueuedTestMessage(recipients: ["demo@example.com"], content: Self.message)
            let result = try #require(await agent.deliver(try message.request(nexthop: "example.com:\(postfix.port)")).results.first)
            #expect(result.status == .sent, "\(result)")
        }
        #expect(agent.tlsContext?.clientSessionCache?.count == 1)
        let resumed = log.messages.filter { $0 == "info: mail.example.com[127.0.0.1]:\(postfix.port): Reusing old session" }
        #expect(resumed.count == 1, "\(log.messages)")
    }

    @Test("policy table protocols= and ciphers=: TLSv1.2 for this destination only, as Postfix's Received header shows")
    func policyProtocols() async throws {
        guard let postfix = try ReferencePostfix.start() else { return }
        defer { postfix.stop() }
        let result = try await Self.deliver(
            postfix, main: "smtp_tls_policy_maps = inline:{ { example.com:\(postfix.port) = encrypt protocols=TLSv1.2 ciphers=high exclude=aNULL } }\n")
        #expect(result.status == .sent, "\(result)")
        #expect(waitUntil(timeout: 20) { postfix.delivered.count == 1 })
        #expect(postfix.delivered.first?.contains("(using TLSv1.2 with cipher") == true, "\(postfix.delivered)")
    }

    @Test("an unknown user: bounced with Postfix's 550 text, in reply to RCPT TO")
    func unknownUser() async throws {
        guard let postfix = try ReferencePostfix.start() else { return }
        defer { postfix.stop() }
        let result = try await Self.deliver(postfix, main: "smtp_tls_security_level = may\n", recipient: "nobody@example.com")
        #expect(result.status == .bounced)
        #expect(result.dsn == "5.1.1")
        #expect(result.text == "host mail.example.com[127.0.0.1] said: 550 5.1.1 <nobody@example.com>: Recipient address rejected: "
            + "User unknown in virtual mailbox table (in reply to RCPT TO command)")
        #expect(result.diagnostic == "smtp; 550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in virtual mailbox table")
        #expect(result.remoteMTA == "dns; mail.example.com")
    }

    @Test("a proxy that strips STARTTLS: may delivers in plaintext, encrypt defers and sends no mail")
    func strippedSTARTTLS() async throws {
        guard let postfix = try ReferencePostfix.start() else { return }
        defer { postfix.stop() }
        let proxy = try await STARTTLSStrippingProxy(upstreamPort: postfix.port)
        let may = try await Self.deliver(postfix, main: "smtp_tls_security_level = may\n", port: proxy.port)
        #expect(may.status == .sent, "\(may)")
        #expect(waitUntil(timeout: 20) { postfix.delivered.count == 1 })
        #expect(postfix.delivered.first.map { !$0.contains("(using TLS") } == true)
        let encrypt = try await Self.deliver(postfix, main: "smtp_tls_security_level = encrypt\n", port: proxy.port)
        #expect(encrypt.status == .deferred)
        #expect(encrypt.text == "TLS is required, but was not offered by host mail.example.com[127.0.0.1]")
        await proxy.close()
        try await Task.sleep(for: .milliseconds(500))
        #expect(postfix.delivered.count == 1)
    }
}
