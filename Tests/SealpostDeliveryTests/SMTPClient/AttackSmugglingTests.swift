import Foundation
import SealpostTestSupport
import Testing

@testable import SealpostDelivery

/// SMTP smuggling outbound: whatever a queued message holds — the end-of-data look-alikes of the
/// smuggling papers, bare CR and LF in any order — what our client puts on the wire, read back by a
/// server that keeps the raw bytes, has exactly one end of data (the final CR LF . CR LF), no
/// bare CR or LF, and every dot line stuffed. As in Postfix's smtp client a bare LF becomes CR LF;
/// a bare CR ends a line too (Postfix 3.7's cleanup would have made it a space on the way in).
@Suite("Attack: SMTP smuggling through our client", .serialized)
struct AttackSmugglingTests {
    static let forms = [
        "\n.\n", "\r.\n", "\n.\r\n", "\r.\r\n", "\r\n.\r", "\r\n.\n", "\n\r.\r\n", "\r\n\r.\r\n", "\r\r\n.\r\n", "\n\n.\n\n",
        "\r\n.\r\n", "\r\n..\r\n", "\r\n\u{0}.\r\n", "\r\r\r", "\n\n\n",
    ]

    @Test("every smuggling form in the body leaves the client as one message with one end of data")
    func smugglingFormsLeaveAsOneMessage() async throws {
        let server = try AttackPythonServer(mode: "plain")
        defer { server.stop() }
        let agent = try makeAgent("smtp_tls_security_level = none\nsmtp_connection_cache_on_demand = no\n")
        var contents: [String] = []
        for form in Self.forms {
            let content = "Subject: smuggle\r\n\r\nbefore" + form
                + "MAIL FROM:<evil@evil.example>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nSubject: smuggled\r\n\r\nowned" + form + "after"
            contents.append(content)
            let message = try await QueuedTestMessage(recipients: ["b@example.com"], content: content)
            let result = try #require(await agent.deliver(try message.request(nexthop: "example.com:\(server.port)")).results.first)
            #expect(result.status == .sent, "\(Self.escaped(form)): \(result)")
        }
        let sections = server.dataSections
        try #require(sections.count == Self.forms.count, "\(server.commands)")
        for (index, data) in sections.enumerated() {
            let form = Self.escaped(Self.forms[index])
            #expect(Self.wireProblems(data).isEmpty, "\(form): \(Self.wireProblems(data))")
            #expect(Self.unstuffed(data) == Self.expected(contents[index]), "\(form): \(Self.escaped(String(decoding: data, as: UTF8.self)))")
        }
        // The smuggled commands never reached the command channel.
        #expect(!server.commands.contains { $0.contains("evil@evil.example") || $0.contains("victim@example.com") }, "\(server.commands)")
        #expect(server.commands.filter { $0.hasSuffix(" DATA") }.count == Self.forms.count)
    }

    @Test("a message that ends in a bare CR, a lone dot or nothing at all still ends cleanly")
    func awkwardEndings() async throws {
        let server = try AttackPythonServer(mode: "plain")
        defer { server.stop() }
        let agent = try makeAgent("smtp_tls_security_level = none\nsmtp_connection_cache_on_demand = no\n")
        let endings = ["Subject: a\r\n\r\nbody\r", "Subject: a\r\n\r\nbody\r\n.", "Subject: a\r\n\r\n.", "Subject: a\r\n\r\nno end", "Subject: a\n\n.\n"]
        for content in endings {
            let message = try await QueuedTestMessage(recipients: ["b@example.com"], content: content)
            let result = try #require(await agent.deliver(try message.request(nexthop: "example.com:\(server.port)")).results.first)
            #expect(result.status == .sent, "\(Self.escaped(content)): \(result)")
        }
        let sections = server.dataSections
        try #require(sections.count == endings.count)
        for (data, content) in zip(sections, endings) {
            #expect(Self.wireProblems(data).isEmpty, "\(Self.escaped(content)): \(Self.wireProblems(data))")
            #expect(Self.unstuffed(data) == Self.expected(content), "\(Self.escaped(content))")
        }
    }

    // MARK: Reading the wire

    /// What is wrong with a DATA section as sent: a bare CR or LF, an end of data before the last,
    /// or a dot line left unstuffed.
    static func wireProblems(_ data: [UInt8]) -> [String] {
        var problems: [String] = []
        for (index, byte) in data.enumerated() {
            if byte == 0x0A && (index == 0 || data[index - 1] != 0x0D) { problems.append("bare LF at \(index)") }
            if byte == 0x0D && (index + 1 == data.count || data[index + 1] != 0x0A) { problems.append("bare CR at \(index)") }
        }
        let end: [UInt8] = Array("\r\n.\r\n".utf8)
        if !(data.count >= end.count && Array(data.suffix(end.count)) == end) && data != Array(".\r\n".utf8) {
            problems.append("no final CR LF . CR LF")
        }
        let lines = Self.lines(data)
        for (number, line) in lines.dropLast().enumerated() {
            if line == [0x2E] { problems.append("end of data at line \(number)") }
        }
        return problems
    }

    static func lines(_ data: [UInt8]) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        var index = 0
        while index < data.count {
            if data[index] == 0x0D, index + 1 < data.count, data[index + 1] == 0x0A {
                lines.append(current)
                current = []
                index += 2
                continue
            }
            current.append(data[index])
            index += 1
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// The message a receiver takes from the DATA section: dots unstuffed, lines joined by CR LF.
    static func unstuffed(_ data: [UInt8]) -> String {
        let body = Self.lines(data).dropLast().map { $0.first == 0x2E ? Array($0.dropFirst()) : $0 }
        return body.map { String(decoding: $0, as: UTF8.self) + "\r\n" }.joined()
    }

    /// The content with every line ending — CR LF, bare LF, bare CR — made CR LF, and a final one.
    static func expected(_ content: String) -> String {
        var text = Array(content.utf8)
        var output: [UInt8] = []
        var index = 0
        while index < text.count {
            if text[index] == 0x0D {
                output += [0x0D, 0x0A]
                index += index + 1 < text.count && text[index + 1] == 0x0A ? 2 : 1
            } else if text[index] == 0x0A {
                output += [0x0D, 0x0A]
                index += 1
            } else {
                output.append(text[index])
                index += 1
            }
        }
        if output.suffix(2) != [0x0D, 0x0A] { output += [0x0D, 0x0A] }
        text = output
        return String(decoding: text, as: UTF8.self)
    }

    static func escaped(_ text: String) -> String {
        text.unicodeScalars.map { $0.value < 0x20 ? String(format: "\\x%02x", $0.value) : String($0) }.joined()
    }
}
