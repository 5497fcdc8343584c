import NIOCore
import Testing
@testable import SMTPCore

@Suite struct ChunkDecoderTests {
    /// Runs BDAT commands and their payload through a framer, parser and chunk decoder, as a server
    /// would, and returns the message content and what the command side saw.
    struct Session {
        var content: [UInt8] = []
        var commands: [SMTPCommandParser.Result] = []
        var chunkEnds: [Bool] = []
        var report: MessageContentReport?
    }

    static func run(_ chunks: [[UInt8]], normalize: Bool = true, limits: SMTPLimits = .postfixDefaults) -> Session {
        var session = Session()
        var framer = SMTPLineFramer(limits: limits)
        var decoder = ChunkDecoder(limits: limits, normalizeLineEndings: normalize)
        var inChunk = false
        var cumulation = ByteBuffer()
        let parser = SMTPCommandParser()
        for chunk in chunks {
            cumulation.writeBytes(chunk)
            progress: while true {
                if inChunk {
                    switch decoder.next(from: &cumulation) {
                    case .content(let piece): session.content += piece.bytes
                    case .needMoreBytes: break progress
                    case .endOfChunk(let last, let report):
                        inChunk = false
                        session.chunkEnds.append(last)
                        if last { session.report = report }
                    }
                } else {
                    guard case .line(let line) = framer.next(from: &cumulation) else { break progress }
                    let result = parser.parse(line)
                    session.commands.append(result)
                    if case .command(.bdat(let size, let last)) = result {
                        decoder.startChunk(size: size, last: last)
                        inChunk = true
                    }
                }
            }
        }
        return session
    }

    static func run(_ text: String, normalize: Bool = true) -> Session { run([Array(text.utf8)], normalize: normalize) }

    @Test func chunksAreExactOctetCounts() throws {
        let session = Self.run("BDAT 7\r\nHello\r\nBDAT 8 LAST\r\n.World\r\nQUIT\r\n")
        #expect(String(decoding: session.content, as: UTF8.self) == "Hello\r\n.World\r\n")
        #expect(session.chunkEnds == [false, true])
        #expect(session.commands.last?.command == .quit)
        let report = try #require(session.report)
        #expect(report.octets == 15)
        #expect(report.hasStrictLineEndings)
    }

    @Test func fewerOctetsThanAnnouncedSwallowTheNextCommand() {
        // RFC 3030: the server counts octets. "RSET\r\n" becomes content; the chunk is still open.
        let session = Self.run("BDAT 20 LAST\r\nHello\r\nRSET\r\n")
        #expect(String(decoding: session.content, as: UTF8.self) == "Hello\r\nRSET\r\n")
        #expect(session.chunkEnds.isEmpty)
        #expect(session.commands.count == 1)
        // When the count runs out inside a command, its tail is read as a command line.
        let completed = Self.run("BDAT 16 LAST\r\nHello\r\nRSET\r\nNOOP\r\nQUIT\r\n")
        #expect(String(decoding: completed.content, as: UTF8.self) == "Hello\r\nRSET\r\nNOO\r\n")
        #expect(completed.report?.addedFinalLineEnding == true)
        #expect(completed.chunkEnds == [true])
        #expect(completed.commands.map(\.command) == [.bdat(size: 16, last: true), .unknown(verb: "P"), .quit])
    }

    @Test func moreOctetsThanAnnouncedBecomeCommands() {
        let session = Self.run("BDAT 5 LAST\r\nHello, world\r\nQUIT\r\n")
        #expect(String(decoding: session.content, as: UTF8.self) == "Hello\r\n")
        #expect(session.report?.addedFinalLineEnding == true)
        #expect(session.commands.count == 3)
        #expect(session.commands[1].command == .unknown(verb: ","))
        #expect(session.commands[2].command == .quit)
    }

    @Test func bareLineFeedsAreNormalizedAndCounted() throws {
        let session = Self.run("BDAT 9 LAST\r\na\nb\r\n.\n\r\n")
        #expect(String(decoding: session.content, as: UTF8.self) == "a\r\nb\r\n.\r\n\r\n")
        let report = try #require(session.report)
        #expect(report.bareLineFeeds == 2)
        let raw = Self.run("BDAT 5 LAST\r\na\nb\r\n", normalize: false)
        #expect(String(decoding: raw.content, as: UTF8.self) == "a\nb\r\n")
        #expect(raw.report?.bareLineFeeds == 1)
    }

    @Test func lineEndingsAreTrackedAcrossChunks() throws {
        let session = Self.run("BDAT 2\r\na\rBDAT 3 LAST\r\n\nb\r")
        #expect(String(decoding: session.content, as: UTF8.self) == "a\r\nb\r\n")
        let report = try #require(session.report)
        #expect(report.bareLineFeeds == 0)
        #expect(report.addedFinalLineEnding)
    }

    @Test func zeroLengthLastChunk() {
        let session = Self.run("BDAT 3\r\nab\nBDAT 0 LAST\r\nQUIT\r\n")
        #expect(session.chunkEnds == [false, true])
        #expect(String(decoding: session.content, as: UTF8.self) == "ab\r\n")
        #expect(session.commands.last?.command == .quit)
    }

    @Test func splitAtEveryByteBoundary() {
        let input = Array("BDAT 10\r\nline\none\r\nBDAT 7 LAST\r\n..dot\nQUIT\r\n".utf8)
        let whole = Self.run([input])
        #expect(whole.chunkEnds == [false, true])
        for cut in 0...input.count {
            let split = Self.run(pieces(input, cuts: [cut]))
            #expect(split.content == whole.content, "cut \(cut)")
            #expect(split.report == whole.report, "cut \(cut)")
            #expect(split.commands == whole.commands, "cut \(cut)")
        }
    }

    @Test func sizeLimitAndDiscard() throws {
        var decoder = ChunkDecoder(limits: SMTPLimits(messageSizeLimit: 10))
        #expect(decoder.wouldExceedSizeLimit(chunkSize: 11))
        #expect(!decoder.wouldExceedSizeLimit(chunkSize: 10))
        var input = buffer("0123456789ABCDEF\r\nrest")
        decoder.startChunk(size: 18, last: true)
        var content: [UInt8] = []
        var report: MessageContentReport?
        loop: while true {
            switch decoder.next(from: &input) {
            case .content(let piece): content += piece.bytes
            case .needMoreBytes: break loop
            case .endOfChunk(_, let final):
                report = final
                break loop
            }
        }
        #expect(content.count <= 10)
        #expect(try #require(report).exceededSizeLimit)
        #expect(input.text == "rest")

        var skipper = ChunkDecoder()
        var payload = buffer("secret stuff NEXT")
        skipper.startChunk(size: 13, last: false, discard: true)
        #expect(skipper.next(from: &payload) == .endOfChunk(last: false, report: MessageContentReport()))
        #expect(payload.text == "NEXT")
    }
}
