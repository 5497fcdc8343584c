import NIOCore
import SMTPCore
import Testing

@testable import SealpostCLI

/// The sink's dialogue as a state machine, without a channel.
@Suite("bench sink session")
struct SinkSessionTests {
    private static func command(_ line: String) -> SMTPCommand {
        guard case .command(let command) = SMTPCommandParser().parse(ByteBuffer(string: line)) else {
            Issue.record("\(line) did not parse")
            return .noop
        }
        return command
    }

    @Test("a transaction counts its recipients and its message")
    func transaction() {
        var session = SinkSession(behavior: SinkBehavior())
        #expect(session.greeting().reply.code == 220)
        #expect(session.handle(Self.command("EHLO client.test")).reply.code == 250)
        #expect(session.handle(Self.command("MAIL FROM:<a@example.test>")).reply.code == 250)
        let first = session.handle(Self.command("RCPT TO:<b@example.test>"))
        #expect(first.reply.code == 250 && first.acceptedRecipients == 1)
        let data = session.handle(Self.command("DATA"))
        #expect(data.reply.code == 354 && data.next == .readMessage)
        let end = session.endOfData(MessageContentReport())
        #expect(end.reply.code == 250 && end.acceptedMessages == 1)
        let quit = session.handle(.quit)
        #expect(quit.reply.code == 221 && quit.next == .close)
    }

    @Test("commands out of order are refused with 503")
    func order() {
        var session = SinkSession(behavior: SinkBehavior())
        #expect(session.handle(Self.command("RCPT TO:<b@example.test>")).reply.code == 503)
        #expect(session.handle(.data).reply.code == 503)
        #expect(session.handle(Self.command("MAIL FROM:<>")).reply.code == 250)
        #expect(session.handle(Self.command("MAIL FROM:<>")).reply.code == 503)
        #expect(session.handle(.data).reply.code == 503)
        #expect(session.handle(.rset).reply.code == 250)
        #expect(session.handle(Self.command("MAIL FROM:<>")).reply.code == 250)
    }

    @Test("EHLO announces PIPELINING, SIZE, 8BITMIME, and STARTTLS only with a certificate and before TLS")
    func capabilities() {
        var plain = SinkSession(behavior: SinkBehavior())
        let lines = plain.handle(.ehlo("client.test")).reply.lines
        #expect(lines.contains("PIPELINING") && lines.contains("8BITMIME") && lines.contains("SIZE 10240000"))
        #expect(!lines.contains("STARTTLS"))
        #expect(plain.handle(.startTLS).reply.code == 502)

        var behavior = SinkBehavior()
        behavior.offersStartTLS = true
        var tls = SinkSession(behavior: behavior)
        #expect(tls.handle(.ehlo("client.test")).reply.lines.contains("STARTTLS"))
        #expect(tls.handle(.startTLS).next == .startTLS)
        #expect(!tls.handle(.ehlo("client.test")).reply.lines.contains("STARTTLS"))
        #expect(tls.handle(.startTLS).reply.code == 554)
    }

    @Test("injected failures replace the reply, delays are attached to it")
    func injected() {
        var behavior = SinkBehavior()
        behavior.failures = ["RCPT": 450, ".": 554, "QUIT": 500, "CONNECT": 421]
        behavior.delays = ["MAIL": 25]
        var session = SinkSession(behavior: behavior)
        #expect(session.greeting().reply.code == 421 && session.greeting().next == .close)
        let mail = session.handle(Self.command("MAIL FROM:<a@example.test>"))
        #expect(mail.reply.code == 250 && mail.delayMilliseconds == 25)
        let rcpt = session.handle(Self.command("RCPT TO:<b@example.test>"))
        #expect(rcpt.reply.description.hasPrefix("450 4.0.0") && rcpt.acceptedRecipients == 0)
        let end = session.endOfData(MessageContentReport())
        #expect(end.reply.code == 554 && end.acceptedMessages == 0)
        let quit = session.handle(.quit)
        #expect(quit.reply.code == 500 && quit.next == .close)
    }

    @Test("--fail and --delay arguments are checked")
    func arguments() throws {
        #expect(try SinkBehavior.assignment("rcpt=450", option: "--fail") == ("RCPT", 450))
        #expect(try SinkBehavior.assignment(".=10", option: "--delay") == (".", 10))
        #expect(throws: SinkArgumentError.self) { try SinkBehavior.assignment("RCPT", option: "--fail") }
        #expect(throws: SinkArgumentError.self) { try SinkBehavior.assignment("XYZZY=450", option: "--fail") }
        #expect(throws: SinkArgumentError.self) { try SinkBehavior.assignment("RCPT=-1", option: "--delay") }
        #expect(try SinkEndpoint("[::1]:25") == SinkEndpoint(host: "::1", port: 25))
        #expect(try SinkEndpoint("inet::2525") == SinkEndpoint(host: "0.0.0.0", port: 2525))
        #expect(throws: SinkArgumentError.self) { try SinkEndpoint("localhost") }
        #expect(throws: SinkArgumentError.self) { try SinkEndpoint("localhost:99999") }
    }
}
