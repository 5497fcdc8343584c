import Foundation
import SealpostTestSupport
import Testing

/// NUL bytes and invalid UTF-8 in commands, in addresses with and without SMTPUTF8, and in DATA:
/// clear SMTP errors with Postfix 3.7's texts, the content kept octet for octet (Postfix's
/// cleanup keeps NUL and 8-bit octets too), and the server unharmed.
@Suite("Attack: NUL and invalid UTF-8", .serialized)
struct NULAndUTF8AttackTests {
    static let steps: [String] = [
        #"b'EHLO nul\x00.example\r\n'"#,
        #"b'NOOP\x00\r\n'"#,
        #"b'\x00\r\n'"#,
        #"b'EHLO bad\xff\xfe.example\r\n'"#,
        #"b'EHLO utf8.example\r\n'"#,
        #"b'MAIL FROM:<j\xc3\xb6rg@remote.example>\r\n'"#,
        #"b'RSET\r\n'"#,
        #"b'MAIL FROM:<bad\xff@remote.example>\r\n'"#,
        #"b'MAIL FROM:<bad\xff@remote.example> SMTPUTF8\r\n'"#,
        #"b'MAIL FROM:<overlong\xc0\x80@remote.example> SMTPUTF8\r\n'"#,
        #"b'MAIL FROM:<surrogate\xed\xa0\x80@remote.example> SMTPUTF8\r\n'"#,
        #"b'MAIL FROM:<j\xc3\xb6rg@r\xc3\xa9mote.example> SMTPUTF8\r\n'"#,
        #"b'RCPT TO:<d\xc3\xa9mo@example.test>\r\n'"#,
        #"b'RCPT TO:<demo\x00@example.test>\r\n'"#,
        #"b'RCPT TO:<demo@example.test\xff>\r\n'"#,
        #"b'RCPT TO:<demo@example.test> NOTIFY=SUCCESS\xff\r\n'"#,
        #"b'RCPT TO:<demo@example.test>\r\n'"#,
        #"b'DATA\r\n'"#,
        #"b'Subject: nul \x00 and \xff\xfe\r\nX-Bad: \xc0\x80\xed\xa0\x80\r\n\r\nbody \x00 \xff\r\n\x00.\r\n.\x00\r\n.\r\n'"#,
        #"b'BDAT 5\r\n\x00\xff\x00\r\n'"#,
        #"b'QUIT\r\n'"#,
    ]

    /// The answers, Postfix 3.7's texts: NUL in a command is bad syntax; invalid UTF-8 (also
    /// overlong forms and surrogates) is `bad UTF-8 syntax` with or without SMTPUTF8, as Postfix's
    /// smtputf8_enable check gives it; valid UTF-8 addresses pass without SMTPUTF8 (strict_smtputf8
    /// is off); BDAT without a transaction is skipped with 503.
    static let expected = [
        "500 5.5.2 Error: bad syntax", "500 5.5.2 Error: bad syntax", "500 5.5.2 Error: bad syntax",
        "500 5.5.2 Error: bad UTF-8 syntax",
        "250 CHUNKING",
        "250 2.1.0 Ok", "250 2.0.0 Ok",
        "500 5.5.2 Error: bad UTF-8 syntax", "500 5.5.2 Error: bad UTF-8 syntax", "500 5.5.2 Error: bad UTF-8 syntax",
        "500 5.5.2 Error: bad UTF-8 syntax",
        "250 2.1.0 Ok",
        "550 5.1.1 <d\u{C3}\u{A9}mo@example.test>: Recipient address rejected: User unknown in virtual mailbox table",
        "500 5.5.2 Error: bad syntax", "500 5.5.2 Error: bad UTF-8 syntax", "500 5.5.2 Error: bad UTF-8 syntax",
        "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>", "250 2.0.0 Ok: queued as ID",
        "503 5.5.1 Error: need RCPT command",
        "221 2.0.0 Bye",
    ]

    @Test("clear errors for commands and addresses; the content delivered octet for octet")
    func nulAndInvalidUTF8() throws {
        let instance = try MailInstance()
        try instance.start()
        let replies = try AttackConversation.replies(port: instance.smtpPort, steps: Self.steps)
        #expect(replies == Self.expected, "\(replies)")
        #expect(instance.waitForLog("status=sent"))
        usleep(300_000)
        let path = instance.directory + "/mail/example.test/demo/new"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        try #require(names.count == 1)
        let message = try #require(FileManager.default.contents(atPath: path + "/" + names[0])).map { $0 }
        let content: [UInt8] = Array("Subject: nul ".utf8) + [0x00] + Array(" and ".utf8) + [0xFF, 0xFE, 0x0A]
            + Array("X-Bad: ".utf8) + [0xC0, 0x80, 0xED, 0xA0, 0x80, 0x0A, 0x0A]
            + Array("body ".utf8) + [0x00, 0x20, 0xFF, 0x0A, 0x00, 0x2E, 0x0A]
            + [0x00, 0x0A]  // `.` NUL: the leading dot is the client's stuffing
        #expect(message.count >= content.count && Array(message.suffix(content.count)) == content,
                "\(String(decoding: message, as: UTF8.self).debugDescription)")
        #expect(try OversizeAttackTests.stillServes(instance))
    }
}
