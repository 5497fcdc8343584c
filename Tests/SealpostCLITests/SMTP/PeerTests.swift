import Foundation
import SealpostTestSupport
import Testing

/// Independent software on both ends of the log and the TLS handshake: GnuTLS's client (a TLS
/// stack other than our OpenSSL) and pflogsumm, which must read Sealpost's log as Postfix's.
@Suite(.serialized) struct PeerTests {
    @Test func gnutlsClientUsesStartTLSAndSMTPS() throws {
        guard Peer.available("gnutls-cli") else { return }
        let instance = try MailInstance()
        try instance.start()
        let startTLS = try Peer.converse(
            "/usr/bin/gnutls-cli", ["--insecure", "--starttls-proto=smtp", "-p", String(instance.smtpPort), "127.0.0.1"],
            input: ["EHLO gnutls.example", "MAIL FROM:<g@remote.example>", "RCPT TO:<demo@example.test>", "DATA",
                    "Subject: gnutls\r\n\r\nvia GnuTLS\r\n.", "QUIT"])
        #expect(startTLS.contains("- Description: (TLS1.3"), "\(startTLS)")
        #expect(startTLS.contains("250 2.0.0 Ok: queued as"), "\(startTLS)")
        let smtps = try Peer.converse(
            "/usr/bin/gnutls-cli", ["--insecure", "-p", String(instance.smtpsPort), "127.0.0.1"],
            input: ["EHLO gnutls.example", "QUIT"])
        #expect(smtps.contains("220 mx.example.test ESMTP"), "\(smtps)")
        #expect(smtps.contains("250-AUTH PLAIN LOGIN"), "\(smtps)")
        #expect(instance.waitForLog("status=sent"))
        #expect(instance.mailbox("demo").first?.contains("via GnuTLS") == true)
    }

    @Test func pflogsummCountsSealpostsLog() throws {
        guard Peer.available("pflogsumm") else { return }
        let instance = try MailInstance()
        try instance.start()
        _ = try python("""
            import smtplib, time
            for n in range(3):
                s = smtplib.SMTP('127.0.0.1', \(instance.smtpPort))
                s.ehlo('client.example')
                s.mail('sender@remote.example')
                s.rcpt('demo@example.test')
                try: s.rcpt('nosuchuser@example.test')
                except smtplib.SMTPRecipientsRefused: pass
                s.data(b'Subject: count\\r\\n\\r\\nbody\\r\\n')
                s.quit()
                # pflogsumm pairs connect and disconnect lines by process ID, and Sealpost serves every
                # session in one process: let each session's lines be written before the next begins.
                time.sleep(0.3)
            """)
        #expect(instance.waitForLog("removed"))
        #expect(waitUntil { instance.log.components(separatedBy: ": removed").count == 4 })
        // Delivery can be done before the last session has logged its disconnect.
        #expect(waitUntil { instance.log.components(separatedBy: "disconnect from").count == 4 })
        let report = try Peer.run("pflogsumm", ["--smtpd-stats", instance.directory + "/maillog"])
        func count(_ label: String) -> Int? {
            report.split(separator: "\n").first { $0.hasSuffix(label) || $0.contains(label + " (") }
                .flatMap { Int($0.split(separator: " ").first ?? "") }
        }
        #expect(count("received") == 3, "\(report)")
        #expect(count("delivered") == 3, "\(report)")
        #expect(count("rejected") == 3, "\(report)")
        #expect(report.contains("3   connections"), "\(report)")
    }
}
