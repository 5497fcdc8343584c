import NIOCore
import Testing
@testable import SMTPCore

@Suite struct DataDecoderTests {
    struct Fixture: CustomStringConvertible, Sendable {
        let input: String
        let outcome: Outcome
        let content: String
        let rest: String
        init(_ input: String, _ outcome: Outcome, _ content: String = "", rest: String = "") {
            self.input = input
            self.outcome = outcome
            self.content = content
            self.rest = rest
        }
        var description: String { input.debugDescription }
    }

    static let fixtures: [Fixture] = [
        Fixture(".\r\n", .success, ""),
        Fixture("Subject: x\r\n\r\nbody\r\n.\r\n", .success, "Subject: x\r\n\r\nbody\r\n"),
        Fixture("a\r\n..b\r\n.\r\n", .success, "a\r\n.b\r\n"),
        Fixture("..\r\n.\r\n", .success, ".\r\n"),
        Fixture("...\r\n.\r\n", .success, "..\r\n"),
        Fixture("a\r\n.\r\nQUIT\r\n", .success, "a\r\n", rest: "QUIT\r\n"),
        Fixture("a\r\n.\r\nMAIL FROM:<x@y>\r\n", .success, "a\r\n", rest: "MAIL FROM:<x@y>\r\n"),
        Fixture("a\r\n.x\r\n.\r\n", .success, "a\r\nx\r\n"),
        Fixture("no end\r\n", .incomplete),
        Fixture("a\r\n.", .incomplete),
        Fixture("a\r\n.\r", .incomplete),
        Fixture("", .incomplete),
        // Smuggling forms: none of them ends the data.
        Fixture("a\n.\nMAIL FROM:<x@y>\r\n", .incomplete),
        Fixture("a\n.\r\nMAIL FROM:<x@y>\r\n", .incomplete),
        Fixture("a\r.\nMAIL FROM:<x@y>\r\n", .incomplete),
        Fixture("a\r.\r\nMAIL FROM:<x@y>\r\n", .incomplete),
        Fixture("a\r\n\0.\r\nMAIL FROM:<x@y>\r\n", .incomplete),
        Fixture("a\r\n.\nMAIL FROM:<x@y>\r\n", .incomplete),
        // …and with the real end after them, what was smuggled is content.
        Fixture("a\n.\nMAIL FROM:<x@y>\r\n.\r\n", .success, "a\r\nMAIL FROM:<x@y>\r\n"),
        Fixture("a\n.\r\nMAIL FROM:<x@y>\r\n.\r\n", .success, "a\r\nMAIL FROM:<x@y>\r\n"),
        Fixture("a\r.\nMAIL FROM:<x@y>\r\n.\r\n", .success, "a\r.\r\nMAIL FROM:<x@y>\r\n"),
        Fixture("a\r.\r\nMAIL FROM:<x@y>\r\n.\r\n", .success, "a\r.\r\nMAIL FROM:<x@y>\r\n"),
        Fixture("a\r\n\0.\r\nMAIL FROM:<x@y>\r\n.\r\n", .success, "a\r\n\0.\r\nMAIL FROM:<x@y>\r\n"),
        Fixture("a\r\n.\nMAIL FROM:<x@y>\r\n.\r\n", .success, "a\r\nMAIL FROM:<x@y>\r\n"),
        Fixture(".\nx\r\n.\r\n", .success, "x\r\n"),
        Fixture(".\r\rx\r\n.\r\n", .success, "\r\rx\r\n"),
        Fixture("a\n\r\n.\r\n", .success, "a\r\n\r\n"),
    ]

    @Test(arguments: fixtures)
    func fixture(_ fixture: Fixture) {
        let decoded = decodeData(fixture.input)
        switch fixture.outcome {
        case .success:
            #expect(decoded.report != nil)
            #expect(String(decoding: decoded.content, as: UTF8.self) == fixture.content)
            #expect(String(decoding: decoded.rest, as: UTF8.self) == fixture.rest)
        case .incomplete:
            #expect(decoded.report == nil)
            #expect(decoded.rest.isEmpty, "an unfinished message holds no input")
        case .failure:
            Issue.record("the DATA decoder has no failure outcome: bad content is reported, not refused")
        }
    }

    @Test(arguments: fixtures)
    func splitAtEveryByteBoundary(_ fixture: Fixture) {
        let input = Array(fixture.input.utf8)
        let whole = decodeData([input])
        for cut in 0...input.count {
            let split = decodeData(pieces(input, cuts: [cut]))
            #expect(split.content == whole.content, "cut at \(cut)")
            #expect(split.report == whole.report, "cut at \(cut)")
            #expect(split.rest == whole.rest, "cut at \(cut)")
        }
        let bytewise = decodeData(input.map { [$0] })
        #expect(bytewise.content == whole.content)
        #expect(bytewise.report == whole.report)
    }

    @Test func smugglingFormsAreReported() throws {
        let report = try #require(decodeData("a\n.\nb\n.\r\nc\r.\nd\r.\r\ne\r\n\0.\r\n.\r\n").report)
        #expect(report.bareLineFeeds == 4)
        #expect(report.droppedDotLines == 2)
        #expect(report.bareCarriageReturns == 2)
        #expect(report.nulOctets == 1)
        #expect(!report.hasStrictLineEndings)
        let clean = try #require(decodeData("Subject: ok\r\n\r\nfine\r\n.\r\n").report)
        #expect(clean.hasStrictLineEndings)
        #expect(clean.bareLineFeeds == 0)
        #expect(clean.octets == 21)
    }

    @Test func combinationsOfLineEndingsNeverEndDataEarly() {
        // Every sequence of up to six octets from {CR, LF, ".", NUL, "x"} placed before a marker line:
        // the message ends only at the final CR LF . CR LF, so the marker is always content.
        let alphabet: [UInt8] = [0x0D, 0x0A, 0x2E, 0x00, 0x78]
        func sequences(_ length: Int) -> [[UInt8]] {
            length == 0 ? [[]] : sequences(length - 1).flatMap { prefix in alphabet.map { prefix + [$0] } }
        }
        let marker = Array("RSET\r\n".utf8)
        var checked = 0
        for length in 0...6 {
            for sequence in sequences(length) {
                let input = Array("x".utf8) + sequence + marker + Array("\r\n.\r\nNEXT".utf8)
                let decoded = decodeData([input])
                // A CR LF . CR LF inside the generated part legitimately ends the data earlier.
                let legitimateEnd = containsEndOfData(Array("x".utf8) + sequence + marker)
                if legitimateEnd { continue }
                checked += 1
                #expect(decoded.report != nil, "\(sequence)")
                #expect(decoded.rest == Array("NEXT".utf8), "\(sequence)")
                #expect(String(decoding: decoded.content, as: UTF8.self).contains("RSET"), "\(sequence)")
                #expect(!containsBareLineBreak(decoded.content.filter { _ in true }, allowBareCR: true), "\(sequence)")
            }
        }
        #expect(checked > 15000)
    }

    /// Where a strict RFC 5321 reader would see CR LF . CR LF (the message start counts as after CR LF).
    func containsEndOfData(_ bytes: [UInt8]) -> Bool {
        let withStart = [0x0D, 0x0A] + bytes
        guard withStart.count >= 5 else { return false }
        for index in 0...(withStart.count - 5) where Array(withStart[index..<(index + 5)]) == [0x0D, 0x0A, 0x2E, 0x0D, 0x0A] {
            return true
        }
        return false
    }

    func containsBareLineBreak(_ bytes: [UInt8], allowBareCR: Bool) -> Bool {
        for (index, byte) in bytes.enumerated() {
            if byte == 0x0A && (index == 0 || bytes[index - 1] != 0x0D) { return true }
            if !allowBareCR && byte == 0x0D && (index + 1 == bytes.count || bytes[index + 1] != 0x0A) { return true }
        }
        return false
    }

    @Test func sizeLimitIsReportedButDataIsReadToTheEnd() throws {
        let limits = SMTPLimits(messageSizeLimit: 100)
        var input = ""
        for index in 0..<50 { input += "line \(index)\r\n" }
        input += ".\r\nQUIT\r\n"
        let decoded = decodeData(input, limits: limits)
        let report = try #require(decoded.report)
        #expect(report.exceededSizeLimit)
        #expect(decoded.content.count <= 100)
        #expect(report.octets > 100)
        #expect(decoded.rest == Array("QUIT\r\n".utf8))
        // Exactly at the limit is fine.
        let exact = decodeData(String(repeating: "x", count: 98) + "\r\n.\r\n", limits: limits)
        #expect(exact.report?.exceededSizeLimit == false)
        #expect(exact.content.count == 100)
        // 0 means no limit.
        let unlimited = decodeData(String(repeating: "y", count: 5000) + "\r\n.\r\n", limits: SMTPLimits(messageSizeLimit: 0))
        #expect(unlimited.report?.exceededSizeLimit == false)
    }

    @Test func longLinesPassWholeAndAreCounted() throws {
        let limits = SMTPLimits(lineLengthLimit: 100)
        let long = String(repeating: "z", count: 250)
        let decoded = decodeData(long + "\r\n" + String(repeating: "w", count: 99) + "\r\n" + String(repeating: "v", count: 100) + "\r\n.\r\n", limits: limits)
        let report = try #require(decoded.report)
        #expect(report.longLines == 2)
        #expect(decoded.content.count == 250 + 2 + 99 + 2 + 100 + 2)
        // A long line then "." in the same line is content, not an end.
        let tricky = decodeData([Array((String(repeating: "q", count: 300) + ".\r\nNEXT\r\n").utf8)], limits: limits)
        #expect(tricky.report == nil)
    }

    @Test func largeMessageIsYieldedAsSlicesWithoutBuffering() {
        // 4 MiB in 64 KiB reads: each read comes back as few slices, never accumulated.
        var decoder = DataDecoder(limits: SMTPLimits(messageSizeLimit: 0))
        let line = Array((String(repeating: "m", count: 78) + "\r\n").utf8)
        var read: [UInt8] = []
        while read.count < 65536 - line.count { read += line }
        var cumulation = ByteBuffer()
        var pieces = 0
        var octets = 0
        for _ in 0..<64 {
            cumulation.writeBytes(read)
            while case .content(let piece) = decoder.next(from: &cumulation) {
                pieces += 1
                octets += piece.readableBytes
            }
            #expect(cumulation.readableBytes == 0)
            cumulation.discardReadBytes()
        }
        cumulation.writeString(".\r\n")
        guard case .endOfData(let report) = decoder.next(from: &cumulation) else { Issue.record(); return }
        #expect(octets == read.count * 64)
        #expect(report.octets == octets)
        #expect(pieces <= 64 * 2)
    }

    @Test func afterTheEndNothingMoreIsConsumed() {
        var decoder = DataDecoder()
        var input = buffer(".\r\nQUIT\r\n")
        guard case .endOfData = decoder.next(from: &input) else { Issue.record(); return }
        #expect(decoder.isFinished)
        guard case .endOfData = decoder.next(from: &input) else { Issue.record(); return }
        #expect(input.text == "QUIT\r\n")
    }
}
