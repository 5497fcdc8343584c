import NIOCore
import Testing
@testable import SMTPCore

@Suite struct CommandParserTests {
    /// A command line and what the parser must answer: `nil` reply for success.
    struct Fixture: CustomStringConvertible, Sendable {
        let line: String
        let outcome: Outcome
        let reply: String?
        init(_ line: String, _ outcome: Outcome, _ reply: String? = nil) {
            self.line = line
            self.outcome = outcome
            self.reply = reply
        }
        var description: String { line.debugDescription }
    }

    static let fixtures: [Fixture] = [
        // The command loop.
        Fixture("", .failure, "500 5.5.2 Error: bad syntax"),
        Fixture("   ", .failure, "500 5.5.2 Error: bad syntax"),
        Fixture("MAIL FROM:<a@b>\0", .failure, "500 5.5.2 Error: bad syntax"),
        Fixture("NOOP\r", .failure, "500 5.5.2 Error: bad syntax"),
        Fixture("HELO \u{1B}x", .failure, "500 5.5.2 Error: bad syntax"),
        // HELO / EHLO.
        Fixture("EHLO client.example", .success),
        Fixture("ehlo client.example", .success),
        Fixture("EHLO", .failure, "501 Syntax: EHLO hostname"),
        Fixture("HELO", .failure, "501 Syntax: HELO hostname"),
        Fixture("HELO two words", .success),
        // MAIL.
        Fixture("MAIL FROM:<a@example.com>", .success),
        Fixture("mail from:<a@example.com>", .success),
        Fixture("MAIL FROM: <a@example.com>", .success),
        Fixture("MAIL  FROM:<a@example.com>", .success),
        Fixture("MAIL FROM:<>", .success),
        Fixture("MAIL FROM:a@example.com", .success),
        Fixture("MAIL FROM:<a@example.com", .failure, "501 5.1.7 Bad sender address syntax"),
        Fixture("MAIL FROM:", .failure, "501 5.5.4 Syntax: MAIL FROM:<address>"),
        Fixture("MAIL", .failure, "501 5.5.4 Syntax: MAIL FROM:<address>"),
        Fixture("MAIL TO:<a@example.com>", .failure, "501 5.5.4 Syntax: MAIL FROM:<address>"),
        Fixture("MAIL FROM :<a@example.com>", .failure, "501 5.5.4 Syntax: MAIL FROM:<address>"),
        Fixture("MAIL FROM:<a@@example.com>", .failure, "501 5.1.7 Bad sender address syntax"),
        Fixture("MAIL FROM:<a@example.com>junk", .failure, "501 5.1.7 Bad sender address syntax"),
        Fixture("MAIL FROM:<a@ex ample.com>", .failure, "501 5.1.7 Bad sender address syntax"),
        Fixture("MAIL FROM:<a@example.com> FOO", .failure, "555 5.5.4 Unsupported option: FOO"),
        Fixture("MAIL FROM:<a@example.com> BODY=FOO", .failure, "555 5.5.4 Unsupported option: BODY=FOO"),
        Fixture("MAIL FROM:<a@example.com> BODY=BINARYMIME", .failure, "555 5.5.4 Unsupported option: BODY=BINARYMIME"),
        Fixture("MAIL FROM:<a@example.com> REQUIRETLS", .failure, "555 5.5.4 Unsupported option: REQUIRETLS"),
        Fixture("MAIL FROM:<a@example.com> SIZE=", .failure, "501 5.5.4 Bad message size syntax"),
        Fixture("MAIL FROM:<a@example.com> SIZE=12k", .failure, "501 5.5.4 Bad message size syntax"),
        Fixture("MAIL FROM:<a@example.com> SIZE=99999999999999999999999", .failure,
                "552 5.3.4 Message size exceeds file system imposed limit"),
        Fixture("MAIL FROM:<a@example.com> SIZE=1000 BODY=8BITMIME", .success),
        Fixture("MAIL FROM:<a@example.com> RET=FULL RET=HDRS", .failure, "501 5.5.4 Bad RET parameter syntax"),
        Fixture("MAIL FROM:<a@example.com> RET=ALL", .failure, "501 5.5.4 Bad RET parameter syntax"),
        Fixture("MAIL FROM:<a@example.com> ENVID=abc ENVID=def", .failure, "501 5.5.4 Bad ENVID parameter syntax"),
        Fixture("MAIL FROM:<a@example.com> ENVID=a+2", .failure, "501 5.5.4 Bad ENVID parameter syntax"),
        Fixture("MAIL FROM:<a@example.com> ENVID=a+0A", .failure, "501 5.5.4 Bad ENVID parameter syntax"),
        Fixture("MAIL FROM:<a@example.com> AUTH=<> AUTH=<>", .failure, "503 5.5.4 Error: multiple AUTH= options"),
        Fixture("MAIL FROM:<a@example.com> SMTPUTF8=yes", .failure, "555 5.5.4 Unsupported option: SMTPUTF8=yes"),
        Fixture("MAIL FROM:<-option@example.com>", .failure, "501 5.1.7 Bad sender address syntax"),
        // Non-ASCII: a UTF-8 domain needs SMTPUTF8; a UTF-8 local part is accepted (Postfix compatibility).
        Fixture("MAIL FROM:<a@bücher.example>", .failure, "501 5.1.7 Bad sender address syntax"),
        Fixture("MAIL FROM:<a@bücher.example> SMTPUTF8", .success),
        Fixture("MAIL FROM:<jürgen@example.com>", .success),
        // RCPT.
        Fixture("RCPT TO:<b@example.com>", .success),
        Fixture("RCPT TO: <b@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.com", .success),
        Fixture("RCPT TO:<postmaster>", .success),
        Fixture("RCPT TO:<>", .failure, "501 5.1.3 Bad recipient address syntax"),
        Fixture("RCPT TO:", .failure, "501 5.5.4 Syntax: RCPT TO:<address>"),
        Fixture("RCPT FROM:<b@example.com>", .failure, "501 5.5.4 Syntax: RCPT TO:<address>"),
        Fixture("RCPT TO:<b@example.com", .failure, "501 5.1.3 Bad recipient address syntax"),
        Fixture("RCPT TO:<b@bücher.example>", .failure, "501 5.1.3 Bad recipient address syntax"),
        Fixture("RCPT TO:<b@example.com> NOTIFY=NEVER,SUCCESS", .failure, "501 5.5.4 Error: Bad NOTIFY parameter syntax"),
        Fixture("RCPT TO:<b@example.com> NOTIFY=", .failure, "501 5.5.4 Error: Bad NOTIFY parameter syntax"),
        Fixture("RCPT TO:<b@example.com> NOTIFY=SOMETIMES", .failure, "501 5.5.4 Error: Bad NOTIFY parameter syntax"),
        Fixture("RCPT TO:<b@example.com> NOTIFY=DELAY NOTIFY=DELAY", .failure, "501 5.5.4 Error: Bad NOTIFY parameter syntax"),
        Fixture("RCPT TO:<b@example.com> ORCPT=rfc822", .failure, "501 5.5.4 Error: Bad ORCPT parameter syntax"),
        Fixture("RCPT TO:<b@example.com> ORCPT=;b@example.com", .failure, "501 5.5.4 Error: Bad ORCPT parameter syntax"),
        Fixture("RCPT TO:<b@example.com> ORCPT=rfc822;b+4@example.com", .failure, "501 5.5.4 Error: Bad ORCPT parameter syntax"),
        Fixture("RCPT TO:<b@example.com> ORCPT=rfc822;a@b ORCPT=rfc822;a@b", .failure,
                "501 5.5.4 Error: Bad ORCPT parameter syntax"),
        Fixture("RCPT TO:<b@example.com> SIZE=10", .failure, "555 5.5.4 Unsupported option: SIZE=10"),
        // DATA, BDAT, RSET, STARTTLS, AUTH, QUIT, NOOP.
        Fixture("DATA", .success),
        Fixture("DATA now", .failure, "501 5.5.4 Syntax: DATA"),
        Fixture("BDAT 100", .success),
        Fixture("BDAT 100 LAST", .success),
        Fixture("bdat 0 last", .success),
        Fixture("BDAT", .failure, "521 5.5.4 Syntax: BDAT count [LAST]"),
        Fixture("BDAT -1", .failure, "521 5.5.4 Syntax: BDAT count [LAST]"),
        Fixture("BDAT 10 FIRST", .failure, "521 5.5.4 Syntax: BDAT count [LAST]"),
        Fixture("BDAT 10 LAST more", .failure, "521 5.5.4 Syntax: BDAT count [LAST]"),
        Fixture("BDAT 99999999999999999999999", .failure, "521 5.5.4 Syntax: BDAT count [LAST]"),
        Fixture("RSET", .success),
        Fixture("RSET now", .failure, "501 5.5.4 Syntax: RSET"),
        Fixture("STARTTLS", .success),
        Fixture("STARTTLS now", .failure, "501 5.5.4 Syntax: STARTTLS"),
        Fixture("AUTH PLAIN", .success),
        Fixture("AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=", .success),
        Fixture("AUTH", .failure, "501 5.5.4 Syntax: AUTH mechanism"),
        Fixture("AUTH PLAIN a b", .failure, "501 5.5.4 Syntax: AUTH mechanism"),
        Fixture("QUIT", .success),
        Fixture("QUIT now", .success),
        Fixture("NOOP", .success),
        Fixture("NOOP anything at all", .success),
        // VRFY, EXPN, HELP, ETRN.
        Fixture("VRFY postmaster", .success),
        Fixture("VRFY <user@example.com>", .success),
        Fixture("VRFY user@bücher.example SMTPUTF8", .success),
        Fixture("VRFY", .failure, "501 5.5.4 Syntax: VRFY address [SMTPUTF8]"),
        Fixture("VRFY <>", .failure, "501 5.1.3 Bad recipient address syntax"),
        Fixture("EXPN staff", .success),
        Fixture("HELP", .success),
        Fixture("ETRN example.com", .success),
        Fixture("ETRN @example.com", .success),
        Fixture("ETRN #example.com", .success),
        Fixture("ETRN [192.0.2.1]", .success),
        Fixture("ETRN", .failure, "500 Syntax: ETRN domain"),
        Fixture("ETRN a b", .failure, "500 Syntax: ETRN domain"),
        Fixture("ETRN exa_mple..com", .failure, "501 Error: invalid parameter syntax"),
        // Unknown verbs.
        Fixture("XCLIENT NAME=x", .success),
        Fixture("Subject: hello", .success),
    ]

    @Test(arguments: fixtures)
    func fixture(_ fixture: Fixture) {
        let result = parse(fixture.line)
        switch fixture.outcome {
        case .success: #expect(result.command != nil, "\(result)")
        case .failure: #expect(result.replyText == fixture.reply)
        case .incomplete: Issue.record("a parser of complete lines has no incomplete outcome")
        }
    }

    @Test func mailFromSpaceAfterColonGivesTheSamePath() {
        #expect(parse("MAIL FROM:<a@example.com>").command == parse("MAIL FROM: <a@example.com>").command.map {
            guard case .mail(var path, let parameters) = $0 else { return $0 }
            path.raw = "<a@example.com>"
            return .mail(path, parameters)
        })
        guard case .mail(let path, _) = parse("mail from: <A@Example.COM>").command else { Issue.record(); return }
        #expect(path.address == "A@Example.COM")
        #expect(path.mailbox?.domain?.normalizedName == "example.com")
    }

    @Test func strictRFC821EnvelopesRequireAngleBrackets() {
        var options = SMTPCommandParser.Options()
        options.address.strictRFC821Envelopes = true
        #expect(parse("MAIL FROM:a@example.com", options: options).replyText == "501 5.1.7 Bad sender address syntax")
        #expect(parse("RCPT TO:b@example.com", options: options).replyText == "501 5.1.3 Bad recipient address syntax")
        #expect(parse("MAIL FROM:<a@example.com>", options: options).command != nil)
        #expect(parse("MAIL FROM: <a@example.com>", options: options).command != nil)
        #expect(parse("VRFY user", options: options).command != nil)
    }

    @Test func mailParametersAreParsed() {
        let line = "MAIL FROM:<a@example.com> SIZE=12345 BODY=8BITMIME RET=HDRS ENVID=QQ+2B314 AUTH=a+2Bb@example.com SMTPUTF8"
        guard case .mail(let path, let parameters) = parse(line).command else { Issue.record(); return }
        #expect(path.address == "a@example.com")
        #expect(parameters.size == 12345)
        #expect(parameters.body == .eightBitMIME)
        #expect(parameters.returnContent == .headers)
        #expect(parameters.envelopeID == "QQ+314")
        #expect(parameters.authenticatedSender == .mailbox("a+b@example.com"))
        #expect(parameters.smtpUTF8)
        guard case .mail(_, let nullAuth) = parse("MAIL FROM:<> AUTH=<>").command else { Issue.record(); return }
        #expect(nullAuth.authenticatedSender == .unknown)
    }

    @Test func optionalExtensionsFollowTheOptions() {
        var options = SMTPCommandParser.Options()
        options.binaryMIMEEnabled = true
        options.requireTLSEnabled = true
        guard case .mail(_, let parameters) = parse("MAIL FROM:<a@b.example> BODY=BINARYMIME REQUIRETLS", options: options).command
        else { Issue.record(); return }
        #expect(parameters.body == .binaryMIME)
        #expect(parameters.requireTLS)

        options.dsnEnabled = false
        for line in ["MAIL FROM:<> RET=FULL", "MAIL FROM:<> ENVID=x", "RCPT TO:<a@b.example> NOTIFY=NEVER", "RCPT TO:<a@b.example> ORCPT=rfc822;a@b"] {
            #expect(parse(line, options: options).replyText == "501 5.7.1 DSN support is disabled")
        }

        options.smtpUTF8Enabled = false
        #expect(parse("MAIL FROM:<> SMTPUTF8", options: options).replyText == "555 5.5.4 Unsupported option: SMTPUTF8")
        #expect(parse("VRFY", options: options).replyText == "501 5.5.4 Syntax: VRFY address")
    }

    @Test func strictSMTPUTF8RefusesUndeclaredUnicode() {
        var options = SMTPCommandParser.Options()
        options.strictSMTPUTF8 = true
        let reply = "553 5.6.7 Must declare SMTPUTF8 to send unicode address"
        #expect(parse("MAIL FROM:<jürgen@example.com>", options: options).replyText == reply)
        #expect(parse("MAIL FROM:<jürgen@example.com> SMTPUTF8", options: options).command != nil)
        #expect(parse("RCPT TO:<jürgen@example.com>", options: options).replyText == reply)
        #expect(parse("RCPT TO:<jürgen@bücher.example>", options: options, smtputf8: true).command != nil)
        #expect(parse("VRFY jürgen@example.com", options: options).replyText == reply)
    }

    @Test func recipientDomainMayBeUTF8InASMTPUTF8Transaction() {
        guard case .rcpt(let path, _) = parse("RCPT TO:<χρήστης@παράδειγμα.δοκιμή>", smtputf8: true).command else {
            Issue.record(); return
        }
        #expect(path.mailbox?.localPart == "χρήστης")
        #expect(path.mailbox?.domain?.text == "παράδειγμα.δοκιμή")
        #expect(path.mailbox?.isASCII == false)
    }

    @Test func invalidUTF8IsRefused() {
        let result = SMTPCommandParser().parse(buffer([0x4D, 0x41, 0x49, 0x4C, 0x20, 0xC3, 0x28]))
        #expect(result.replyText == "500 5.5.2 Error: bad UTF-8 syntax")
        #expect(result.error?.kind == .badUTF8)
    }

    @Test func recipientParameters() {
        let line = "RCPT TO:<b@example.com> NOTIFY=success,Delay ORCPT=utf-8;\\x{3C7}@example.com"
        guard case .rcpt(_, let parameters) = parse(line).command else { Issue.record(); return }
        #expect(parameters.notify == [.success, .delay])
        #expect(parameters.originalRecipient == .init(addressType: "utf-8", address: "χ@example.com"))
        guard case .rcpt(_, let never) = parse("RCPT TO:<b@example.com> NOTIFY=NEVER ORCPT=rfc822;b+2Bx@example.com").command
        else { Issue.record(); return }
        #expect(never.notify == .never)
        #expect(never.originalRecipient?.address == "b+x@example.com")
    }

    @Test func commandsKeepTheirArguments() {
        #expect(parse("EHLO  mail.example.com ").command == .ehlo("mail.example.com"))
        #expect(parse("HELO two  words").command == .helo("two words"))
        #expect(parse("BDAT 4096 LAST").command == .bdat(size: 4096, last: true))
        #expect(parse("bdat 0").command == .bdat(size: 0, last: false))
        #expect(parse("AUTH LOGIN").command == .auth(mechanism: "LOGIN", initialResponse: nil))
        #expect(parse("ETRN #queue.example").command == .etrn("#queue.example"))
        #expect(parse("help me").command == .help("me"))
        #expect(parse("XFORWARD NAME=x").command == .unknown(verb: "XFORWARD"))
        guard case .vrfy(let request) = parse("VRFY <user@example.com>").command else { Issue.record(); return }
        #expect(request.argument == "<user@example.com>")
        #expect(request.mailbox.internalForm == "user@example.com")
    }

    @Test func headerLikeVerbs() {
        #expect(SMTPCommandParser.looksLikeHeader("Subject:"))
        #expect(SMTPCommandParser.looksLikeHeader("From:"))
        #expect(SMTPCommandParser.looksLikeHeader("X-Spam:yes"))
        #expect(!SMTPCommandParser.looksLikeHeader("MAIL"))
        #expect(!SMTPCommandParser.looksLikeHeader(":x"))
        guard case .unknown(let verb) = parse("Subject: smuggled").command else { Issue.record(); return }
        #expect(SMTPCommandParser.looksLikeHeader(verb))
    }

    @Test func authDescriptionHidesTheCredential() {
        let command = SMTPCommand.auth(mechanism: "PLAIN", initialResponse: "AHVzZXIAc2VjcmV0")
        #expect(!command.description.contains("AHVzZXIAc2VjcmV0"))
        #expect(command.description == "AUTH PLAIN <redacted>")
        let error = parse("AUTH PLAIN secret extra").error
        #expect(error.map { !$0.description.contains("secret") } == true)
    }
}
