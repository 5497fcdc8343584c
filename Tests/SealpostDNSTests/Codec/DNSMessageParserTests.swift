import SealpostDNS
import SealpostTestSupport
import Testing

@Suite("DNS message parsing")
struct DNSMessageParserTests {
    /// example.com MX: two answers whose owners point at the question and whose exchanges share
    /// the domain through pointers, and an A record in the additional section.
    static var compressedMXReply: [UInt8] {
        var message = MessageBytes(id: 0xBEEF, answers: 2, additional: 1)
        message.question("example.com", type: 15)  // the name starts at offset 12
        message.pointer(12)
        message.recordHeader(type: 15, length: 2 + 4 + 2)
        message.word(10)
        message.bytes += [3] + Array("mx1".utf8)
        message.pointer(12)
        let secondExchange = message.bytes.count + 2 + 10 + 2
        message.pointer(12)
        message.recordHeader(type: 15, length: 2 + 4 + 2)
        message.word(20)
        message.bytes += [3] + Array("mx2".utf8)
        message.pointer(12)
        message.pointer(secondExchange)  // mx2.example.com, a pointer to a name that ends in a pointer
        message.recordHeader(type: 1, length: 4)
        message.bytes += [192, 0, 2, 25]
        return message.bytes
    }

    @Test("compressed names in owners and MX data")
    func compression() throws {
        let message = try DNSMessageParser(Self.compressedMXReply).message()
        #expect(message.header.id == 0xBEEF)
        #expect(message.header.isResponse)
        #expect(message.header.responseCode == .noError)
        #expect(message.questions == [DNSQuestion(name: try DNSName(parsing: "example.com"), type: .mx)])
        #expect(message.answers.map(\.name) == [try DNSName(parsing: "example.com"), try DNSName(parsing: "example.com")])
        #expect(message.answers.map(\.data) == [
            .mx(preference: 10, exchange: try DNSName(parsing: "mx1.example.com")),
            .mx(preference: 20, exchange: try DNSName(parsing: "mx2.example.com")),
        ])
        #expect(message.answers.map(\.ttl) == [300, 300])
        #expect(message.additional.map(\.name) == [try DNSName(parsing: "mx2.example.com")])
        #expect(message.additional.map(\.data) == [.a([192, 0, 2, 25])])
    }

    @Test("every truncation of a valid reply is a clear error")
    func truncatedAtEveryByte() {
        let bytes = Self.compressedMXReply
        for length in 0..<bytes.count {
            #expect(throws: DNSMessageError.self, "cut at \(length)") {
                try DNSMessageParser(Array(bytes[0..<length])).message()
            }
        }
        #expect(throws: Never.self) { try DNSMessageParser(bytes).message() }
    }

    @Test("a pointer to itself is a loop")
    func pointerToItself() {
        var message = MessageBytes(id: 1)
        message.pointer(12)
        message.word(1)
        message.word(1)
        expectMalformed(message.bytes, mentioning: "loops")
    }

    @Test("two pointers pointing at each other")
    func pointerCycle() {
        var message = MessageBytes(id: 1, answers: 1)
        message.question("a.example", type: 1)
        let first = message.bytes.count
        message.pointer(first + 12)  // the owner of the answer points at the name in its own data
        message.recordHeader(type: 5, length: 2)
        message.pointer(first)
        expectMalformed(message.bytes, mentioning: "points forward")
    }

    @Test("a pointer past the end or cut off")
    func pointerPastTheEnd() {
        var message = MessageBytes(id: 1)
        message.bytes += [0xC0, 0xFF]
        message.word(1)
        message.word(1)
        expectMalformed(message.bytes, mentioning: "points forward")

        var cut = MessageBytes(id: 1)
        cut.bytes += [0xC0]
        expectMalformed(cut.bytes, mentioning: "cut off")
    }

    @Test("names longer than 255 bytes through pointers")
    func overlongName() {
        // Four 63-byte labels (256 bytes with length bytes and root) reached through a pointer chain.
        var message = MessageBytes(id: 1, questions: 2)
        let label = String(repeating: "a", count: 63)
        message.question("\(label).\(label).\(label)", type: 1)
        message.bytes += [63] + Array(label.utf8)
        message.pointer(12)
        message.word(1)
        message.word(1)
        expectMalformed(message.bytes, mentioning: "longer than 255")
    }

    @Test("label types 0x40 and 0x80 are rejected")
    func extendedLabelTypes() {
        for type: UInt8 in [0x40, 0x80] {
            var message = MessageBytes(id: 1)
            message.bytes += [type | 1, 0x41, 0]
            message.word(1)
            message.word(1)
            expectMalformed(message.bytes, mentioning: "label type")
        }
    }

    @Test("counts that promise more records than there are")
    func wrongCounts() throws {
        var bytes = Self.compressedMXReply
        bytes[7] = 3  // answers: 3 of which only 2 exist (then the A record is read as an answer)
        expectMalformed(bytes, mentioning: "additional record 1")
        var more = Self.compressedMXReply
        more[5] = 2  // two questions
        #expect(throws: DNSMessageError.self) { try DNSMessageParser(more).message() }
        var fewer = Self.compressedMXReply
        fewer[11] = 0  // the additional record left over: ignored as trailing bytes
        #expect(try DNSMessageParser(fewer).message().additional.isEmpty)
    }

    @Test("record data of the wrong length")
    func wrongDataLengths() {
        var a = MessageBytes(id: 1, questions: 0, answers: 1)
        a.name("host.example")
        a.recordHeader(type: 1, length: 5)
        a.bytes += [192, 0, 2, 1, 7]
        expectMalformed(a.bytes, mentioning: "instead of 4")

        var aaaa = MessageBytes(id: 1, questions: 0, answers: 1)
        aaaa.name("host.example")
        aaaa.recordHeader(type: 28, length: 4)
        aaaa.bytes += [192, 0, 2, 1]
        expectMalformed(aaaa.bytes, mentioning: "instead of 16")

        var mx = MessageBytes(id: 1, questions: 0, answers: 1)
        mx.name("example")
        mx.recordHeader(type: 15, length: 2 + 6 + 1)
        mx.word(10)
        mx.name("mx.a")
        mx.bytes += [0]  // one byte more than the exchange
        expectMalformed(mx.bytes, mentioning: "does not end with its data")

        var longer = MessageBytes(id: 1, questions: 0, answers: 1)
        longer.name("example")
        longer.recordHeader(type: 16, length: 200)
        longer.bytes += [1, 2, 3]
        expectMalformed(longer.bytes, mentioning: "runs past the end")
    }

    @Test("AAAA, CNAME, TLSA, OPT and other types")
    func recordTypes() throws {
        var message = MessageBytes(id: 7, answers: 3, additional: 1)
        message.question("_25._tcp.mx.example", type: 52)
        message.name("alias.example")
        message.recordHeader(type: 5, length: 12)
        message.name("mx.example")
        message.pointer(12)
        message.recordHeader(type: 52, length: 3 + 4)
        message.bytes += [3, 1, 1, 0xDE, 0xAD, 0xBE, 0xEF]
        message.name("mx.example")
        message.recordHeader(type: 28, length: 16)
        message.bytes += [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1]
        message.name("")
        message.word(41)
        message.word(1232)
        message.long(0)
        message.word(0)
        let parsed = try DNSMessageParser(message.bytes).message()
        #expect(parsed.answers.map(\.data) == [
            .cname(try DNSName(parsing: "mx.example")),
            .tlsa(DNSTLSARecord(usage: 3, selector: 1, matchingType: 1, data: [0xDE, 0xAD, 0xBE, 0xEF])),
            .aaaa([0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1]),
        ])
        #expect(parsed.additional.map(\.data) == [.opt(payloadSize: 1232, options: [])])
        #expect(parsed.additional.first?.name.isRoot == true)
    }

    @Test("flags: truncated, authenticated, response code")
    func flags() throws {
        let header = try DNSMessageParser(MessageBytes(id: 9, flags: 0x0220, responseCode: 3, questions: 0).bytes).header()
        #expect(header.isTruncated)
        #expect(header.isAuthenticated)
        #expect(header.responseCode == .nameError)
        #expect(header.opcode == 0)
    }

    @Test("random bytes never crash the parser")
    func randomBytes() {
        var generator = SeededGenerator(seed: 0x5EA1_D0C5)
        var parsed = 0
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...300, using: &generator)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Small counts make the parser reach the records more often than fully random headers would.
            if bytes.count >= 12 {
                for index in [4, 6, 8, 10] { bytes[index] = 0 }
                bytes[5] = UInt8.random(in: 0...2, using: &generator)
                bytes[7] = UInt8.random(in: 0...3, using: &generator)
            }
            if (try? DNSMessageParser(bytes).message()) != nil { parsed += 1 }
        }
        // Mutations of a valid reply reach deep into names and record data.
        let valid = Self.compressedMXReply
        for _ in 0..<20_000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if (try? DNSMessageParser(bytes).message()) != nil { parsed += 1 }
        }
        #expect(parsed > 0)
    }

    private func expectMalformed(_ bytes: [UInt8], mentioning text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let message = try DNSMessageParser(bytes).message()
            Issue.record("parsed a malformed message: \(message)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.description.contains(text), "\(error)", sourceLocation: sourceLocation)
        }
    }
}
