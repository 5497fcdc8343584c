import NIOCore
import Testing
@testable import SMTPCore

@Suite struct CommandEncoderTests {
    static let mailbox = Mailbox(localPart: "john doe", domain: MailDomain(text: "example.com"))

    static let commands: [SMTPCommand] = [
        .ehlo("client.example"), .helo("client.example"),
        .mail(.null, MailParameters()),
        .mail(SMTPPath(mailbox: mailbox), MailParameters(size: 10, body: .sevenBit)),
        .rcpt(SMTPPath(mailbox: Mailbox(localPart: "postmaster", domain: nil)), RecipientParameters()),
        .rcpt(SMTPPath(mailbox: mailbox), RecipientParameters(notify: .never)),
        .data, .bdat(size: 512, last: false), .bdat(size: 0, last: true), .rset, .noop, .quit, .startTLS,
        .auth(mechanism: "PLAIN", initialResponse: "AGEAYg=="), .auth(mechanism: "LOGIN", initialResponse: nil),
        .etrn("example.com"), .expn("list"), .help(nil),
        .vrfy(.init(argument: "<john@example.com>", mailbox: Mailbox(localPart: "john", domain: MailDomain(text: "example.com")))),
    ]

    @Test(arguments: commands)
    func encodeParseRoundTrip(_ command: SMTPCommand) throws {
        let wire = try command.encoded()
        #expect(wire.text.hasSuffix("\r\n"))
        #expect(wire.readableBytesView.dropLast(2).allSatisfy { $0 != 0x0D && $0 != 0x0A })
        var framer = SMTPLineFramer()
        var input = wire
        guard case .line(let line) = framer.next(from: &input) else { Issue.record(); return }
        #expect(line.ending == .crlf)
        var parsed = try #require(SMTPCommandParser().parse(line).command)
        // The raw form of a path is what was sent; compare the rest.
        if case .mail(var path, let parameters) = parsed, case .mail(let original, _) = command {
            path.raw = original.raw
            parsed = .mail(path, parameters)
        }
        if case .rcpt(var path, let parameters) = parsed, case .rcpt(let original, _) = command {
            path.raw = original.raw
            parsed = .rcpt(path, parameters)
        }
        #expect(parsed == command)
    }

    @Test func encoderRefusesInjection() {
        #expect(throws: SMTPEncodingError.self) { try SMTPCommand.ehlo("x\r\nRCPT TO:<victim@example.com>").encoded() }
        #expect(throws: SMTPEncodingError.self) { try SMTPCommand.helo("two words").encoded() }
        #expect(throws: SMTPEncodingError.self) { try SMTPCommand.auth(mechanism: "PLAIN", initialResponse: "a\nb").encoded() }
        #expect(throws: SMTPEncodingError.self) { try SMTPCommand.etrn("").encoded() }
        // A local part with a line break is quoted, but a control character can never be sent.
        let evil = Mailbox(localPart: "a\r\nDATA", domain: MailDomain(text: "example.com"))
        #expect(throws: SMTPEncodingError.self) { try SMTPCommand.rcpt(SMTPPath(mailbox: evil), .init()).encoded() }
    }
}
