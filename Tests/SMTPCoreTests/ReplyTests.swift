import NIOCore
import Testing
@testable import SMTPCore

@Suite struct ReplyTests {
    @Test func encoderWritesContinuationLines() {
        let reply = SMTPReply(code: 250, lines: ["mail.example.com", "PIPELINING", "SIZE 10240000", "8BITMIME"])
        #expect(reply.encoded.text == "250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n")
        let status = SMTPReply(code: 550, enhancedStatus: EnhancedStatusCode("5.1.1"), lines: ["first", "second"])
        #expect(status.encoded.text == "550-5.1.1 first\r\n550 5.1.1 second\r\n")
        #expect(SMTPReply("250 2.0.0 Ok").encoded.text == "250 2.0.0 Ok\r\n")
        #expect(SMTPReply("221 2.0.0 Bye").enhancedStatus == EnhancedStatusCode("2.0.0"))
    }

    @Test func encoderNeverEmitsBareLineBreaksFromText() {
        let hostile = SMTPReply(code: 250, lines: ["ok\r\n250 forged", "a\rb\nc\0d"])
        let wire = hostile.encoded.text
        #expect(wire == "250-ok??250 forged\r\n250 a?b?c?d\r\n")
        // Exactly one CR LF per line and nothing else.
        #expect(wire.utf8.filter { $0 == 0x0A }.count == 2)
        #expect(wire.utf8.filter { $0 == 0x0D }.count == 2)
    }

    @Test func postfixReplyTexts() {
        #expect(SMTPReply.badSenderAddress.wireLines == ["501 5.1.7 Bad sender address syntax"])
        #expect(SMTPReply.ehloSyntax.wireLines == ["501 Syntax: EHLO hostname"])
        #expect(SMTPReply.ehloSyntax.enhancedStatus == nil)
        #expect(SMTPReply.etrnSyntax.wireLines == ["500 Syntax: ETRN domain"])
        #expect(SMTPReply.bareLineFeedReceived(myHostname: "mx.example").wireLines == ["550 5.5.2 mx.example Error: bare <LF> received"])
        #expect(SMTPReply.bareLineFeedReceived(myHostname: "mx", code: 521).code == 521)
        #expect(SMTPReply.unsupportedOption("X=1").wireLines == ["555 5.5.4 Unsupported option: X=1"])
        #expect(SMTPReply.startMailInput.wireLines == ["354 End data with <CR><LF>.<CR><LF>"])
        #expect(SMTPReply.bdatSyntax.closesConnection)
    }

    struct Fixture: CustomStringConvertible, Sendable {
        let input: String
        let outcome: Outcome
        let code: Int?
        let lines: [String]
        init(_ input: String, _ outcome: Outcome, _ code: Int? = nil, _ lines: [String] = []) {
            self.input = input
            self.outcome = outcome
            self.code = code
            self.lines = lines
        }
        var description: String { input.debugDescription }
    }

    static let fixtures: [Fixture] = [
        Fixture("250 ok\r\n", .success, 250, ["ok"]),
        Fixture("250-a\r\n250 b\r\n", .success, 250, ["a", "b"]),
        Fixture("250\r\n", .success, 250, [""]),
        Fixture("250-\r\n250 \r\n", .success, 250, ["", ""]),
        Fixture("220 mail.example.com ESMTP\n", .success, 220, ["mail.example.com ESMTP"]),
        Fixture("550 5.1.1 <x@y>: Recipient address rejected\r\n", .success, 550, ["<x@y>: Recipient address rejected"]),
        Fixture("354 End data with <CR><LF>.<CR><LF>\r\n", .success, 354, ["End data with <CR><LF>.<CR><LF>"]),
        Fixture("250-a\r\n", .incomplete),
        Fixture("250 ok", .incomplete),
        Fixture("25", .incomplete),
        Fixture("", .incomplete),
        Fixture("250-a\r\n251 b\r\n", .failure),
        Fixture("abc\r\n", .failure),
        Fixture("25 x\r\n", .failure),
        Fixture("250x\r\n", .failure),
        Fixture("650 nope\r\n", .failure),
        Fixture("150 nope\r\n", .failure),
        Fixture("\r\n", .failure),
    ]

    @Test(arguments: fixtures)
    func fixture(_ fixture: Fixture) {
        var parser = SMTPReplyParser()
        var input = buffer(fixture.input)
        do {
            let result = try parser.next(from: &input)
            switch (fixture.outcome, result) {
            case (.success, .reply(let reply)):
                #expect(reply.code == fixture.code)
                #expect(reply.lines == fixture.lines)
            case (.incomplete, .needMoreBytes):
                break
            default:
                Issue.record("expected \(fixture.outcome), got \(result)")
            }
        } catch {
            #expect(fixture.outcome == .failure, "\(error)")
        }
    }

    @Test func enhancedStatusCodesAreSeparated() throws {
        var parser = SMTPReplyParser()
        var input = buffer("550-5.7.1 first\r\n550 5.7.1 second\r\n")
        guard case .reply(let reply) = try parser.next(from: &input) else { Issue.record(); return }
        #expect(reply.enhancedStatus == EnhancedStatusCode("5.7.1"))
        #expect(reply.lines == ["first", "second"])
        // A class that does not match the code is text (Postfix's smtp_chat_resp()).
        var mismatch = buffer("250 5.0.0 odd\r\n")
        guard case .reply(let odd) = try parser.next(from: &mismatch) else { Issue.record(); return }
        #expect(odd.enhancedStatus == nil)
        #expect(odd.lines == ["5.0.0 odd"])
    }

    @Test func splitAtEveryByteBoundary() throws {
        let input = Array("220 mx.example ESMTP\r\n250-mx.example\r\n250-PIPELINING\r\n250 CHUNKING\r\n354 go\r\n".utf8)
        func parseAll(_ chunks: [[UInt8]]) throws -> [SMTPReply] {
            var parser = SMTPReplyParser()
            var cumulation = ByteBuffer()
            var replies: [SMTPReply] = []
            for chunk in chunks {
                cumulation.writeBytes(chunk)
                while case .reply(let reply) = try parser.next(from: &cumulation) { replies.append(reply) }
            }
            return replies
        }
        let expected = try parseAll([input])
        #expect(expected.map(\.code) == [220, 250, 354])
        for cut in 0...input.count {
            #expect(try parseAll(pieces(input, cuts: [cut])) == expected)
        }
        #expect(try parseAll(input.map { [$0] }) == expected)
    }

    @Test func encodeParseRoundTrip() throws {
        let replies = [
            SMTPReply(code: 250, lines: ["mx.example", "PIPELINING", "SIZE 10240000", "STARTTLS"]),
            SMTPReply("501 5.1.7 Bad sender address syntax"),
            SMTPReply(code: 421, enhancedStatus: EnhancedStatusCode("4.7.0"), lines: ["mx Error: too many errors"]),
            SMTPReply(code: 220, lines: [""]),
        ]
        for reply in replies {
            var parser = SMTPReplyParser()
            var wire = reply.encoded
            #expect(try parser.next(from: &wire) == .reply(reply))
            #expect(wire.readableBytes == 0)
        }
    }

    @Test func replySizeIsBounded() throws {
        var parser = SMTPReplyParser(limits: SMTPLimits(maximumReplyLineLength: 100, maximumReplyLength: 1000))
        var endless = ByteBuffer()
        for _ in 0..<100 { endless.writeString("250-" + String(repeating: "x", count: 50) + "\r\n") }
        #expect(throws: SMTPReplyParserError.replyTooLong) { _ = try parser.next(from: &endless) }
        var longLine = buffer("250 " + String(repeating: "y", count: 500))
        #expect(throws: SMTPReplyParserError.lineTooLong) { _ = try parser.next(from: &longLine) }
        #expect(longLine.readableBytes == 0)
        // The rest of the long line is skipped when it arrives, then parsing goes on.
        var rest = buffer(String(repeating: "y", count: 50) + "\r\n250 fine\r\n")
        #expect(try parser.next(from: &rest) == .reply(SMTPReply(code: 250, lines: ["fine"])))
        var fresh = SMTPReplyParser()
        var mixed = buffer("250-a\r\n550 b\r\n")
        #expect(throws: SMTPReplyParserError.mixedCodes(first: 250, then: 550)) { _ = try fresh.next(from: &mixed) }
    }

    /// Fuzzing found this: an over-long line used to take the complete lines after it in the same read
    /// with it, so the outcome depended on how the input was split.
    @Test func overlongLineSkipsOnlyItself() throws {
        let input = Array(("250-" + String(repeating: "x", count: 100) + "\n\rb\r\n251 ok\r\n").utf8)
        func outcomes(_ chunks: [[UInt8]]) -> [String] {
            var parser = SMTPReplyParser(limits: SMTPLimits(maximumReplyLineLength: 64))
            var cumulation = ByteBuffer()
            var events: [String] = []
            for chunk in chunks {
                cumulation.writeBytes(chunk)
                while true {
                    do {
                        guard case .reply(let reply) = try parser.next(from: &cumulation) else { break }
                        events.append(reply.description)
                    } catch {
                        events.append("\(error)")
                    }
                }
            }
            return events
        }
        let whole = outcomes([input])
        #expect(whole == ["reply line too long", "malformed reply line: ?b", "251 ok"])
        for cut in 0...input.count {
            #expect(outcomes(pieces(input, cuts: [cut])) == whole, "cut \(cut)")
        }
    }

    @Test func ehloCapabilities() throws {
        let reply = SMTPReply(code: 250, lines: [
            "mx.example", "PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "STARTTLS", "AUTH PLAIN LOGIN", "AUTH=PLAIN LOGIN",
            "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING", "b@d keyword",
        ])
        let capabilities = try #require(EHLOCapabilities(reply: reply))
        #expect(capabilities.greeting == "mx.example")
        #expect(capabilities.pipelining && capabilities.startTLS && capabilities.eightBitMIME && capabilities.smtpUTF8)
        #expect(capabilities.dsn && capabilities.chunking && capabilities.enhancedStatusCodes)
        #expect(!capabilities.binaryMIME && !capabilities.requireTLS)
        #expect(capabilities.size == .some(10_240_000))
        #expect(capabilities.authMechanisms == ["PLAIN", "LOGIN"])
        #expect(capabilities.supports("etrn"))
        #expect(!capabilities.supports("B@D"))
        #expect(EHLOCapabilities(reply: SMTPReply(code: 250, lines: ["x", "SIZE"]))?.size == .some(nil))
        #expect(EHLOCapabilities(reply: SMTPReply(code: 250, lines: ["x"]))?.size == nil)
        #expect(EHLOCapabilities(reply: SMTPReply("502 5.5.2 Error: command not recognized")) == nil)
        // Parse from the wire.
        var parser = SMTPReplyParser()
        var wire = capabilities.reply.encoded
        guard case .reply(let parsed) = try parser.next(from: &wire) else { Issue.record(); return }
        #expect(EHLOCapabilities(reply: parsed)?.authMechanisms == ["PLAIN", "LOGIN"])
    }

    @Test func enhancedStatusCodeSyntax() {
        #expect(EnhancedStatusCode("2.0.0") != nil)
        #expect(EnhancedStatusCode("5.123.999") != nil)
        #expect(EnhancedStatusCode("3.0.0") == nil)
        #expect(EnhancedStatusCode("5.1234.0") == nil)
        #expect(EnhancedStatusCode("5.1") == nil)
        #expect(EnhancedStatusCode("5.1.1x") == nil)
    }
}
