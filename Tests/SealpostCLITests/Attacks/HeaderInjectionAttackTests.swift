import Foundation
import SealpostTestSupport
import Testing

/// Header injection through envelope addresses and parameters: CR, LF, NUL or quoted strings in
/// MAIL FROM and RCPT TO (and xtext-encoded line ends in ORCPT and ENVID) that would start new
/// header lines in Return-Path, Delivered-To or Received. Each is refused, and no delivered
/// message carries an injected header.
@Suite("Attack: header injection through addresses", .serialized)
struct HeaderInjectionAttackTests {
    /// One transaction per attempt; every recipient that is accepted gets the message.
    static let steps: [String] = [
        #"b'EHLO inject.example\r\n'"#,
        // A bare CR inside the sender and the recipient.
        #"b'MAIL FROM:<evil\rX-Injected: sender-cr@remote.example>\r\n'"#,
        #"b'RSET\r\n'"#,
        #"b'MAIL FROM:<sender@remote.example>\r\n'"#,
        #"b'RCPT TO:<demo\rX-Injected: rcpt-cr@example.test>\r\n'"#,
        #"b'RSET\r\n'"#,
        // Quoted local parts holding CR, a closing bracket, header-like text.
        #"b'MAIL FROM:<"evil\rX-Injected: quoted-cr"@remote.example>\r\n'"#,
        #"b'RSET\r\n'"#,
        #"b'MAIL FROM:<"a>\rX-Injected: bracket"@remote.example>\r\n'"#,
        #"b'RSET\r\n'"#,
        #"b'MAIL FROM:<sender@remote.example>\r\n'"#,
        #"b'RCPT TO:<"demo\rX-Injected: quoted-rcpt"@example.test>\r\n'"#,
        #"b'RSET\r\n'"#,
        // NUL in the sender.
        #"b'MAIL FROM:<evil\x00X-Injected: nul@remote.example>\r\n'"#,
        #"b'RSET\r\n'"#,
        // xtext line ends in ENVID and ORCPT end up in DSN reports.
        #"b'MAIL FROM:<sender@remote.example> ENVID=abc+0D+0AX-Injected:+20envid\r\n'"#,
        #"b'RSET\r\n'"#,
        #"b'MAIL FROM:<sender@remote.example>\r\n'"#,
        #"b'RCPT TO:<demo@example.test> ORCPT=rfc822;demo+0D+0AX-Injected:+20orcpt@example.test\r\n'"#,
        #"b'RSET\r\n'"#,
        // A HELO name with a CR goes into Received.
        #"b'EHLO inject.example\rX-Injected: helo\r\n'"#,
        #"b'MAIL FROM:<"quoted sender"@remote.example>\r\n'"#,
        #"b'RCPT TO:<demo@example.test>\r\n'"#,
        #"b'DATA\r\n'"#,
        #"b'Subject: carrier\r\n\r\nbody\r\n.\r\n'"#,
        // A bare LF: Postfix 3.7 ends the line there, so the rest is a command of its own — one
        // that looks like a header, which Postfix (and Sealpost) answer by hanging up.
        #"2*b'MAIL FROM:<evil\nX-Injected: sender-lf@remote.example>\r\n'"#,
    ]

    /// The answers: a CR or NUL anywhere in a command line is a syntax error (Postfix's text;
    /// Sealpost refuses the line before parsing, where Postfix's address parser decides); ENVID and
    /// ORCPT with encoded line ends get Postfix's 501 5.5.4 replies (Postfix 3.7 checks only ENVID
    /// for unprintable octets, Sealpost both); a header-like command after a bare LF ends the
    /// session as Postfix's is_header() check does.
    static let expected = [
        "250 CHUNKING",
        "500 5.5.2 Error: bad syntax", "250 2.0.0 Ok",
        "250 2.1.0 Ok", "500 5.5.2 Error: bad syntax", "250 2.0.0 Ok",
        "500 5.5.2 Error: bad syntax", "250 2.0.0 Ok",
        "500 5.5.2 Error: bad syntax", "250 2.0.0 Ok",
        "250 2.1.0 Ok", "500 5.5.2 Error: bad syntax", "250 2.0.0 Ok",
        "500 5.5.2 Error: bad syntax", "250 2.0.0 Ok",
        "501 5.5.4 Bad ENVID parameter syntax", "250 2.0.0 Ok",
        "250 2.1.0 Ok", "501 5.5.4 Error: Bad ORCPT parameter syntax", "250 2.0.0 Ok",
        "500 5.5.2 Error: bad syntax",
        "250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>", "250 2.0.0 Ok: queued as ID",
        "501 5.1.7 Bad sender address syntax", "221 2.7.0 Error: I can break rules, too. Goodbye.",
    ]

    @Test("every attempt is refused, and the delivered message holds no injected header")
    func addressesCannotInjectHeaders() throws {
        let instance = try MailInstance()
        try instance.start()
        let replies = try AttackConversation.replies(port: instance.smtpPort, steps: Self.steps)
        #expect(replies == Self.expected, "\(replies)")
        #expect(instance.waitForLog("status=sent"))
        #expect(instance.waitForLog("non-SMTP command from localhost[127.0.0.1]: X-Injected: sender-lf@remote.example>"))
        usleep(300_000)
        let messages = instance.mailbox("demo")
        #expect(messages.count == 1)
        for message in messages {
            let headers = AttackConversation.headerLines(message)
            #expect(!headers.contains { $0.lowercased().hasPrefix("x-injected") }, "\(message)")
            #expect(headers.first == "Return-Path: <\"quoted sender\"@remote.example>", "\(headers)")
            #expect(headers.contains("Delivered-To: demo@example.test"))
            #expect(headers.contains("Received: from inject.example (localhost [127.0.0.1])"), "\(headers)")
        }
    }
}
