import NIOCore
import Testing
@testable import SMTPCore

@Suite struct FramerTests {
    struct Fixture: CustomStringConvertible, Sendable {
        let input: String
        let outcome: Outcome
        let lines: [String]
        let endings: [SMTPLineEnding]
        var description: String { input.debugDescription }
    }

    static let fixtures: [Fixture] = [
        Fixture(input: "EHLO a\r\n", outcome: .success, lines: ["EHLO a"], endings: [.crlf]),
        Fixture(input: "EHLO a\r\nMAIL FROM:<>\r\n", outcome: .success, lines: ["EHLO a", "MAIL FROM:<>"], endings: [.crlf, .crlf]),
        Fixture(input: "\r\n", outcome: .success, lines: [""], endings: [.crlf]),
        Fixture(input: "NOOP\n", outcome: .success, lines: ["NOOP"], endings: [.bareLineFeed]),
        Fixture(input: "NOOP\r\r\n", outcome: .success, lines: ["NOOP\r"], endings: [.crlf]),
        Fixture(input: "NO\rOP\r\n", outcome: .success, lines: ["NO\rOP"], endings: [.crlf]),
        Fixture(input: "EHLO a", outcome: .incomplete, lines: [], endings: []),
        Fixture(input: "EHLO a\r", outcome: .incomplete, lines: [], endings: []),
        Fixture(input: "", outcome: .incomplete, lines: [], endings: []),
    ]

    @Test(arguments: fixtures)
    func fixture(_ fixture: Fixture) {
        let (results, _) = frame([Array(fixture.input.utf8)])
        let lines = results.compactMap { result -> SMTPLine? in
            if case .line(let line) = result { return line }
            return nil
        }
        switch fixture.outcome {
        case .success:
            #expect(lines.map(\.bytes.text) == fixture.lines)
            #expect(lines.map(\.ending) == fixture.endings)
        case .incomplete:
            #expect(results.isEmpty)
        case .failure:
            Issue.record("no failure fixtures here")
        }
    }

    @Test func splitAtEveryByteBoundary() {
        let input = Array("EHLO client.example\r\nMAIL FROM:<a@b>\nRCPT TO:<c@d>\r\nDATA\r\n".utf8)
        let expected = frame([input]).results
        #expect(expected.count == 4)
        for cut in 0...input.count {
            #expect(frame(pieces(input, cuts: [cut])).results == expected, "cut at \(cut)")
        }
        // And byte by byte.
        #expect(frame(input.map { [$0] }).results == expected)
    }

    @Test func nulAndBareCRAreReported() {
        let (results, _) = frame([Array("MAIL FROM:<a@b>\0junk\r\n".utf8)])
        guard case .line(let line) = results.first else { Issue.record("no line"); return }
        #expect(line.containsNUL)
        #expect(!line.containsBareCarriageReturn)
        let (crResults, _) = frame([Array("NOOP\rx\r\n".utf8)])
        guard case .line(let crLine) = crResults.first else { Issue.record("no line"); return }
        #expect(crLine.containsBareCarriageReturn)
    }

    @Test func lengthLimitFollowsPostfixArithmetic() {
        // Postfix's smtp_get(): a line fits when its text (without CR LF) is shorter than the limit.
        let limit = 32
        let fits = String(repeating: "a", count: limit - 1)
        let tooLong = String(repeating: "a", count: limit)
        for ending in ["\r\n", "\n"] {
            let (ok, _) = frame([Array((fits + ending).utf8)], limit: limit)
            #expect(ok.count == 1)
            if case .line(let line) = ok.first { #expect(line.bytes.readableBytes == limit - 1) } else { Issue.record("\(ok)") }
            let (long, _) = frame([Array((tooLong + ending).utf8)], limit: limit)
            guard case .lineTooLong(let overlong) = long.first else { Issue.record("\(long)"); continue }
            #expect(overlong.prefix.readableBytes == limit)
            #expect(overlong.discardedOctets == 0)
            #expect(!overlong.inputStopped)
        }
    }

    @Test func overlongLineIsDiscardedUpToItsEndAndFramingResumes() {
        let limit = 64
        let long = String(repeating: "x", count: 100)
        let input = Array(("RCPT TO:<" + long + "@example.com>\r\nQUIT\r\n").utf8)
        for cut in stride(from: 0, through: input.count, by: 7) {
            let (results, leftover) = frame(pieces(input, cuts: [cut]), limit: limit)
            #expect(results.count == 2)
            guard case .lineTooLong(let overlong) = results.first else { Issue.record("\(results)"); return }
            #expect(overlong.prefix.text == String(("RCPT TO:<" + long).prefix(limit)))
            #expect(overlong.discardedOctets == 9 + 100 + 13 - limit)
            #expect(results.last == .line(SMTPLine(bytes: buffer("QUIT"))))
            #expect(leftover == 0)
        }
    }

    @Test func megabyteCommandLineHoldsBoundedMemory() {
        // 1 MB without a line end, sent in 16 KiB reads: the framer reports the line once, stops
        // reading (Postfix disables input when the excess passes the limit too) and never leaves more
        // than the limit in the cumulation buffer.
        var framer = SMTPLineFramer(limits: .postfixDefaults)
        var cumulation = ByteBuffer()
        var results: [SMTPLineFramer.Result] = []
        let read = [UInt8](repeating: UInt8(ascii: "A"), count: 16384)
        var maximumHeld = 0
        for _ in 0..<64 {
            cumulation.writeBytes(read)
            while true {
                let result = framer.next(from: &cumulation)
                maximumHeld = max(maximumHeld, cumulation.readableBytes)
                if result == .needMoreBytes { break }
                results.append(result)
            }
            cumulation.discardReadBytes()
        }
        cumulation.writeBytes(Array("\r\nQUIT\r\n".utf8))
        while framer.next(from: &cumulation) != .needMoreBytes {}
        #expect(results.count == 1)
        guard case .lineTooLong(let overlong) = results.first else { Issue.record("\(results)"); return }
        #expect(overlong.inputStopped)
        #expect(overlong.prefix.readableBytes == 2048)
        #expect(framer.hasStoppedReading)
        #expect(maximumHeld <= 2048 + 1)
        #expect(cumulation.readableBytes == 0)
    }

    @Test func megabyteLineThenCommandWithinExcessAllowance() {
        // Excess below the limit: discarded, and the next command is framed normally.
        let input = Array((String(repeating: "B", count: 4000) + "\r\nNOOP\r\n").utf8)
        let (results, _) = frame([input])
        #expect(results.count == 2)
        if case .lineTooLong(let overlong) = results[0] {
            #expect(!overlong.inputStopped)
            #expect(overlong.discardedOctets == 4000 - 2048)
        } else { Issue.record("\(results)") }
        #expect(results[1] == .line(SMTPLine(bytes: buffer("NOOP"))))
    }

    @Test func tenThousandRecipients() {
        var input: [UInt8] = []
        for index in 0..<10_000 { input += Array("RCPT TO:<user\(index)@example.com>\r\n".utf8) }
        var framer = SMTPLineFramer()
        var cumulation = ByteBuffer()
        let parser = SMTPCommandParser()
        var recipients = 0
        for start in stride(from: 0, to: input.count, by: 4096) {
            cumulation.writeBytes(input[start..<min(start + 4096, input.count)])
            while case .line(let line) = framer.next(from: &cumulation) {
                if case .command(.rcpt(let path, _)) = parser.parse(line) {
                    #expect(path.address == "user\(recipients)@example.com")
                    recipients += 1
                }
            }
            cumulation.discardReadBytes()
        }
        #expect(recipients == 10_000)
    }

    @Test func limitCanBeRaisedForSASLResponses() {
        var framer = SMTPLineFramer(limits: .postfixDefaults)
        framer.lineLengthLimit = SMTPLimits.postfixDefaults.saslResponseLimit
        var cumulation = buffer(String(repeating: "Q", count: 10000) + "\r\n")
        guard case .line(let line) = framer.next(from: &cumulation) else { Issue.record("not a line"); return }
        #expect(line.bytes.readableBytes == 10000)
    }

    @Test func linesDoNotShowTheirContent() {
        let line = SMTPLine(bytes: buffer("AHVzZXIAc2VjcmV0"))
        #expect(line.description == "SMTPLine(16 octets, CR LF)")
        #expect(!"\(SMTPLineFramer.Result.line(line))".contains("AHVz"))
    }

    @Test func resetForgetsAnOverlongLineInProgress() {
        var framer = SMTPLineFramer(lineLengthLimit: 16)
        var input = buffer(String(repeating: "x", count: 20))
        #expect(framer.next(from: &input) == .needMoreBytes)
        framer.reset()
        var fresh = buffer("EHLO a\r\n")
        #expect(framer.next(from: &fresh) == .line(SMTPLine(bytes: buffer("EHLO a"))))
    }
}
