import Testing
@testable import SMTPCore
import SealpostTestSupport

@Suite struct ParameterTests {
    @Test(arguments: [
        ("abc", Outcome.success, "abc"), ("a+2Bb", .success, "a+b"), ("+3D", .success, "="), ("a+2bb", .success, "a+b"),
        ("", .success, ""), ("a+2", .failure, ""), ("a+", .failure, ""), ("a+zz", .failure, ""), ("a b", .failure, ""),
        ("a\u{7F}", .failure, ""), ("ü", .failure, ""),
    ])
    func xtextDecoding(_ text: String, _ outcome: Outcome, _ decoded: String) {
        let result = XText.decode(text)
        switch outcome {
        case .success: #expect(result.map { String(decoding: $0, as: UTF8.self) } == decoded)
        default: #expect(result == nil)
        }
    }

    @Test func xtextRoundTrips() {
        var generator = SeededGenerator(seed: 0x5EA1_0057)
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let encoded = XText.encode(bytes)
            #expect(encoded.utf8.allSatisfy { $0 > 32 && $0 < 127 && !Array("=<>\"\\".utf8).contains($0) })
            #expect(XText.decode(encoded) == bytes)
        }
        #expect(XText.encode("a+b=c d") == "a+2Bb+3Dc+20d")
    }

    @Test func unitextRoundTrips() {
        #expect(UniText.encode("χ@example.com") == "\\x{3C7}@example.com")
        #expect(UniText.decode("\\x{3C7}@example.com") == "χ@example.com")
        #expect(UniText.decode("\\x{110000}") == nil)
        #expect(UniText.decode("\\x{D800}") == nil)
        #expect(UniText.decode("\\x{}") == nil)
        #expect(UniText.decode("\\x{41") == nil)
        #expect(UniText.decode("a b") == nil)
        var generator = SeededGenerator(seed: 6533)
        for _ in 0..<1000 {
            var text = ""
            for _ in 0..<Int.random(in: 0...20, using: &generator) {
                let value = UInt32.random(in: 0...0x10FFFF, using: &generator)
                if let scalar = Unicode.Scalar(value) { text.unicodeScalars.append(scalar) }
            }
            let encoded = UniText.encode(text)
            #expect(encoded.utf8.allSatisfy { $0 > 32 && $0 < 127 })
            #expect(UniText.decode(encoded) == text)
        }
    }

    @Test func parametersEncodeAndParseBack() throws {
        let parameters = MailParameters(
            size: 4096, body: .eightBitMIME, smtpUTF8: true, returnContent: .full, envelopeID: "id=1 +x",
            authenticatedSender: .mailbox("user+tag@example.com"))
        let path = SMTPPath(mailbox: Mailbox(localPart: "a", domain: MailDomain(text: "b.example")))
        let line = try SMTPCommand.mail(path, parameters).encoded()
        #expect(line.text == "MAIL FROM:<a@b.example> SIZE=4096 BODY=8BITMIME SMTPUTF8 RET=FULL ENVID=id+3D1+20+2Bx AUTH=user+2Btag@example.com\r\n")
        guard case .mail(let parsedPath, let parsed) = SMTPCommandParser().parse(line.getSlice(at: line.readerIndex, length: line.readableBytes - 2)!).command
        else { Issue.record(); return }
        #expect(parsed == parameters)
        #expect(parsedPath.canonicalForm == path.canonicalForm)

        let recipient = RecipientParameters(
            notify: [.success, .failure, .delay],
            originalRecipient: .init(addressType: "rfc822", address: "Jo+Bo=x@example.com"))
        let rcpt = try SMTPCommand.rcpt(path, recipient).encoded()
        #expect(rcpt.text == "RCPT TO:<a@b.example> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;Jo+2BBo+3Dx@example.com\r\n")
        guard case .rcpt(_, let parsedRecipient) = SMTPCommandParser().parse(rcpt.getSlice(at: rcpt.readerIndex, length: rcpt.readableBytes - 2)!).command
        else { Issue.record(); return }
        #expect(parsedRecipient == recipient)
    }

    /// Fuzzing found this: an ENVID holding `<` was sent as it is, and the tokenizer on the other side
    /// took the `<` as an opening bracket that swallowed the next parameter.
    @Test func xtextValuesCannotSwallowTheNextParameter() throws {
        let parameters = MailParameters(envelopeID: "id<MIME}};", authenticatedSender: .mailbox("<>qqqq"))
        let line = try SMTPCommand.mail(.null, parameters).encoded()
        #expect(line.text == "MAIL FROM:<> ENVID=id+3CMIME}}; AUTH=+3C+3Eqqqq\r\n")
        guard case .mail(_, let parsed) = SMTPCommandParser().parse(line.getSlice(at: line.readerIndex, length: line.readableBytes - 2)!).command
        else { Issue.record(); return }
        #expect(parsed == parameters)
    }

    @Test func notifyValidity() {
        #expect(RecipientParameters.Notify.never.isValid)
        #expect(RecipientParameters.Notify([.success, .delay]).isValid)
        #expect(!RecipientParameters.Notify([.never, .delay]).isValid)
        #expect(!RecipientParameters.Notify([]).isValid)
    }
}
