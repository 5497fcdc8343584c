import SealpostDNS
import Testing

@Suite("DNS query encoding and names")
struct DNSQueryEncoderTests {
    @Test("an MX query: RD and AD set, one question, an EDNS0 OPT record of 1232 bytes")
    func queryBytes() throws {
        let query = DNSQueryEncoder.query(
            id: 0x1234, question: DNSQuestion(name: try DNSName(parsing: "mail.example.com."), type: .mx))
        let expected: [UInt8] =
            [0x12, 0x34, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 1]
            + [4] + Array("mail".utf8) + [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0]
            + [0, 15, 0, 1]
            + [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0]
        #expect(query == expected)

        let parsed = try DNSMessageParser(query).message()
        #expect(parsed.header.id == 0x1234)
        #expect(!parsed.header.isResponse)
        #expect(parsed.header.isAuthenticated)
        #expect(parsed.questions == [DNSQuestion(name: try DNSName(parsing: "MAIL.Example.com"), type: .mx)])
        #expect(parsed.additional.map(\.data) == [.opt(payloadSize: 1232, options: [])])
    }

    @Test("without EDNS there is no additional record")
    func withoutEDNS() throws {
        let query = DNSQueryEncoder.query(
            id: 1, question: DNSQuestion(name: try DNSName(parsing: "a.example"), type: .a), payloadSize: nil)
        #expect(try DNSMessageParser(query).message().additional.isEmpty)
        #expect(query[11] == 0)
    }

    @Test("names a caller may not ask for", arguments: [
        ("", "empty"), (".", "empty"), ("a..example", "empty label"), (".example", "empty label"),
        (String(repeating: "a", count: 64) + ".example", "longer than 63"),
        (Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: "."), "longer than 255"),
        ("bücher.example", "IDNA"), ("two words.example", "IDNA"),
    ])
    func invalidNames(name: String, reason: String) {
        do {
            let parsed = try DNSName(parsing: name)
            Issue.record("accepted \(parsed)")
        } catch {
            #expect(error.description.contains(reason), "\(error)")
        }
    }

    @Test("the longest names and labels are accepted; comparison ignores ASCII case")
    func validNames() throws {
        let longest = [String(repeating: "a", count: 63), String(repeating: "b", count: 63),
                       String(repeating: "c", count: 63), String(repeating: "d", count: 61)].joined(separator: ".")
        #expect(try DNSName(parsing: longest).wireLength == 255)
        #expect(try DNSName(parsing: "Mail.EXAMPLE.com") == DNSName(parsing: "mail.example.com."))
        #expect(try Set([DNSName(parsing: "A.b"), DNSName(parsing: "a.B")]).count == 1)
        #expect(try DNSName(parsing: "xn--bcher-kva.example").description == "xn--bcher-kva.example")
        #expect(DNSName.root.description == ".")
        #expect(try DNSName(parsing: "mx.example").prepending(["_25", "_tcp"]).description == "_25._tcp.mx.example")
    }

    @Test("a label holding a dot is shown escaped, not as two labels")
    func escapedLabels() throws {
        var message = MessageBytes(id: 1, questions: 1)
        message.bytes += [3, UInt8(ascii: "a"), UInt8(ascii: "."), UInt8(ascii: "b"), 2, 0x20, 0xFF, 0]
        message.word(1)
        message.word(1)
        let name = try #require(try DNSMessageParser(message.bytes).message().questions.first?.name)
        #expect(name.description == "a\\046b.\\032\\255")
        #expect(name.labels.count == 2)
    }
}
