import NIOCore
import Testing
@testable import SMTPCore
import SealpostTestSupport

/// Random input at every parser and decoder: nothing crashes, every call makes progress or asks for
/// more, and output never exceeds input.
@Suite struct PropertyTests {
    static let alphabet: [UInt8] = Array("\r\n.\0 <>@:\"\\[]=+,;%!-abcMAILFROMRCPTTOBDAT0123456789".utf8) + [0xC3, 0xA9, 0xFF]

    static func randomBytes(_ generator: inout SeededGenerator, maximumLength: Int) -> [UInt8] {
        let length = Int.random(in: 0...maximumLength, using: &generator)
        let fullRange = Bool.random(using: &generator)
        return (0..<length).map { _ in
            fullRange ? UInt8.random(in: 0...255, using: &generator) : alphabet.randomElement(using: &generator)!
        }
    }

    static func randomCuts(_ generator: inout SeededGenerator, count: Int) -> [Int] {
        (0..<Int.random(in: 0...4, using: &generator)).map { _ in Int.random(in: 0...max(count, 1), using: &generator) }
    }

    @Test func framerAndParser() {
        var generator = SeededGenerator(seed: 1)
        let parser = SMTPCommandParser()
        for _ in 0..<5000 {
            let input = Self.randomBytes(&generator, maximumLength: 300)
            var framer = SMTPLineFramer(lineLengthLimit: 64)
            var cumulation = ByteBuffer()
            var output = 0
            for piece in pieces(input, cuts: Self.randomCuts(&generator, count: input.count)) {
                cumulation.writeBytes(piece)
                var guardCount = 0
                while true {
                    guardCount += 1
                    #expect(guardCount < 1000)
                    let result = framer.next(from: &cumulation)
                    switch result {
                    case .needMoreBytes:
                        #expect(cumulation.readableBytes <= 64)
                    case .line(let line):
                        output += line.bytes.readableBytes
                        _ = parser.parse(line)
                        _ = parser.parse(line, mailTransactionSMTPUTF8: true)
                        continue
                    case .lineTooLong(let overlong):
                        #expect(overlong.prefix.readableBytes == 64)
                        output += 64
                        _ = parser.parse(overlong.prefix)
                        continue
                    }
                    break
                }
            }
            #expect(output <= input.count)
        }
    }

    @Test func parserOnRawLines() {
        var generator = SeededGenerator(seed: 2)
        var options = SMTPCommandParser.Options()
        for _ in 0..<5000 {
            options.address.strictRFC821Envelopes = Bool.random(using: &generator)
            options.strictSMTPUTF8 = Bool.random(using: &generator)
            let parser = SMTPCommandParser(options: options)
            let verbs = ["MAIL FROM:", "RCPT TO:", "VRFY ", "ETRN ", "BDAT ", "EHLO ", "AUTH ", ""]
            let line = Array(verbs.randomElement(using: &generator)!.utf8) + Self.randomBytes(&generator, maximumLength: 120)
            switch parser.parse(buffer(line)) {
            case .command(let command):
                // Whatever parsed can be encoded without a line break inside, or is refused.
                if let wire = try? command.encoded() {
                    #expect(wire.readableBytesView.dropLast(2).allSatisfy { $0 != 0x0A && $0 != 0x0D })
                }
            case .syntaxError(let error):
                #expect(error.reply.code >= 500)
            }
        }
    }

    @Test func addressGrammar() {
        var generator = SeededGenerator(seed: 3)
        let grammar = AddressGrammar()
        for _ in 0..<10000 {
            let bytes = Self.randomBytes(&generator, maximumLength: 80)
            let text = String(decoding: bytes, as: UTF8.self)
            if case .success(let path) = grammar.parsePath(text, allowNull: true, smtputf8: Bool.random(using: &generator)) {
                // A parsed path parses again from its canonical form to the same mailbox.
                // (Quoting may lengthen the path beyond its limit; everything else must hold.)
                let again = AddressGrammar(limits: SMTPLimits(maximumPathLength: 1 << 16))
                    .parsePath(path.canonicalForm, allowNull: true, smtputf8: true)
                #expect((try? again.get().mailbox?.internalForm) == path.mailbox?.internalForm, "\(text.debugDescription)")
            }
        }
    }

    @Test func dataDecoder() {
        var generator = SeededGenerator(seed: 4)
        for _ in 0..<5000 {
            let input = Self.randomBytes(&generator, maximumLength: 400)
            let limits = SMTPLimits(lineLengthLimit: 32, messageSizeLimit: Int.random(in: 0...300, using: &generator))
            let whole = decodeData([input], limits: limits)
            let split = decodeData(pieces(input, cuts: Self.randomCuts(&generator, count: input.count)), limits: limits)
            // Once the size limit is passed, how much was yielded before depends on how the input
            // arrived; the report does not.
            if !whole.seen.exceededSizeLimit {
                #expect(whole.content == split.content)
            }
            #expect(whole.report == split.report)
            #expect(whole.seen == split.seen)
            #expect(whole.rest == split.rest)
            // Output is at most input plus one CR per bare LF.
            #expect(whole.content.count <= input.count * 2)
            if limits.messageSizeLimit > 0 { #expect(whole.content.count <= limits.messageSizeLimit) }
            if whole.report == nil { #expect(whole.rest.isEmpty) }
            #expect(!whole.content.enumerated().contains { $0.element == 0x0A && ($0.offset == 0 || whole.content[$0.offset - 1] != 0x0D) })
        }
    }

    @Test func chunkDecoder() {
        var generator = SeededGenerator(seed: 5)
        for _ in 0..<5000 {
            let input = Self.randomBytes(&generator, maximumLength: 300)
            let size = Int.random(in: 0...350, using: &generator)
            let normalize = Bool.random(using: &generator)
            var decoder = ChunkDecoder(limits: SMTPLimits(messageSizeLimit: 200), normalizeLineEndings: normalize)
            decoder.startChunk(size: size, last: Bool.random(using: &generator))
            var cumulation = ByteBuffer()
            var output = 0
            var ended = false
            for piece in pieces(input, cuts: Self.randomCuts(&generator, count: input.count)) {
                cumulation.writeBytes(piece)
                loop: while !ended {
                    switch decoder.next(from: &cumulation) {
                    case .content(let content): output += content.readableBytes
                    case .needMoreBytes: break loop
                    case .endOfChunk: ended = true
                    }
                }
            }
            #expect(ended == (size <= input.count))
            #expect(output <= 200)
            if ended { #expect(cumulation.readableBytes == input.count - size) }
        }
    }

    @Test func replyParser() {
        var generator = SeededGenerator(seed: 6)
        let limits = SMTPLimits(maximumReplyLineLength: 64, maximumReplyLength: 256, maximumReplyLines: 8)
        for _ in 0..<5000 {
            var input = Self.randomBytes(&generator, maximumLength: 300)
            if Bool.random(using: &generator) { input = Array("250-".utf8) + input }
            var parser = SMTPReplyParser(limits: limits)
            var cumulation = ByteBuffer()
            for piece in pieces(input, cuts: Self.randomCuts(&generator, count: input.count)) {
                cumulation.writeBytes(piece)
                while true {
                    do {
                        guard case .reply(let reply) = try parser.next(from: &cumulation) else { break }
                        #expect(reply.lines.count <= 8)
                        #expect((200...599).contains(reply.code))
                    } catch {
                        continue
                    }
                }
                #expect(cumulation.readableBytes <= 66)
            }
        }
    }
}
