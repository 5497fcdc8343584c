import Foundation
import SealpostTestSupport
import Testing

/// The open-relay battery: the classic tricks for getting a server to relay (percent hack, source
/// routes, bang paths, quoted local parts, address literals, trailing dots, case, the null sender)
/// against the daemon with the seed configuration, from a client outside mynetworks. None may
/// relay, and each answer is the one a Postfix 3.7 configured alike gives, asked side by side.
@Suite("Attack: open relay battery", .serialized)
struct OpenRelayAttackTests {
    /// Each probe: the sender, then the recipient; `OURS` is the local virtual domain.
    static let probes: [(sender: String, recipient: String)] = [
        ("probe@remote.example", "victim@remote.example"),
        ("probe@remote.example", "victim%remote.example@OURS"),
        ("probe@remote.example", "\"victim%remote.example\"@OURS"),
        ("probe@remote.example", "@OURS:victim@remote.example"),
        ("probe@remote.example", "@OURS,@relay.example:victim@remote.example"),
        ("probe@remote.example", "victim@remote.example@OURS"),
        ("probe@remote.example", "\"victim@remote.example\"@OURS"),
        ("probe@remote.example", "remote.example!victim@OURS"),
        ("probe@remote.example", "remote.example!victim"),
        ("probe@remote.example", "victim@[203.0.113.9]"),
        ("probe@remote.example", "victim@[127.0.0.1]"),
        ("probe@remote.example", "victim%remote.example@[127.0.0.1]"),
        ("probe@remote.example", "victim@remote.example."),
        ("probe@remote.example", "victim@remote.example.."),
        ("probe@remote.example", "VICTIM@REMOTE.EXAMPLE"),
        ("probe@remote.example", "victim@OURS.remote.example"),
        ("probe@remote.example", "victim@remote.example%OURS"),
        ("", "victim@remote.example"),
        ("", "victim%remote.example@OURS"),
        ("demo@OURS", "victim@remote.example"),
        ("probe@remote.example", "victim"),
    ]

    /// Where Sealpost answers otherwise than Postfix, and why that is no weaker: Sealpost's answer
    /// and Postfix's.
    static let knownDifferences = [
        // Two unquoted @: RFC 5321 has no such mailbox, and Sealpost's parser refuses it outright;
        // Postfix takes the last @ as the domain's and then refuses to relay.
        "probe@remote.example|victim@remote.example@example.test|501 5.1.3 Bad recipient address syntax":
            "probe@remote.example|victim@remote.example@example.test|454 4.7.1 <victim@remote.example@example.test>: Relay access denied",
    ]

    /// The battery against one server: one session per probe, `sender|recipient|reply` lines.
    static func battery(port: Int, ours: String) throws -> [String] {
        let cases = probes.map { "(\(pythonBytes($0.sender.replacingOccurrences(of: "OURS", with: ours))), \(pythonBytes($0.recipient.replacingOccurrences(of: "OURS", with: ours))))" }
        let output = try python("""
            import socket
            def reply(f):
                line = f.readline()
                while line[3:4] == b'-': line = f.readline()
                return line.decode('latin-1').strip()
            for sender, recipient in [\(cases.joined(separator: ", "))]:
                s = socket.create_connection(('127.0.0.1', \(port)))
                s.settimeout(60)
                f = s.makefile('rb')
                reply(f)
                s.sendall(b'EHLO relay-test.example\\r\\n'); reply(f)
                s.sendall(b'MAIL FROM:<' + sender + b'>\\r\\n'); mail = reply(f)
                s.sendall(b'RCPT TO:<' + recipient + b'>\\r\\n'); rcpt = reply(f)
                s.sendall(b'QUIT\\r\\n'); reply(f)
                s.close()
                print('%s|%s|%s' % (sender.decode(), recipient.decode(), mail if not mail.startswith('250') else rcpt))
            """)
        return output.split(separator: "\n").map(String.init)
    }

    static func pythonBytes(_ text: String) -> String {
        "b'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    @Test("no probe relays: each is refused with the reply Postfix 3.7 gives")
    func noProbeRelaysAndPostfixAgrees() throws {
        let instance = try MailInstance()
        try instance.start()
        let ours = try Self.battery(port: instance.smtpPort, ours: "example.test")
        try #require(ours.count == Self.probes.count, "\(ours)")
        for line in ours {
            let reply = line.split(separator: "|", omittingEmptySubsequences: false).last.map(String.init) ?? ""
            #expect(reply.hasPrefix("4") || reply.hasPrefix("5"), "relayed or accepted: \(line)")
        }
        #expect(instance.mailbox("demo").isEmpty)

        // Postfix with the same names and networks: the client (127.0.0.1) is not in mynetworks.
        guard let postfix = try AttackConversation.referencePostfix()
        else { return }
        defer { postfix.stop() }
        let reference = try Self.battery(port: postfix.port, ours: "example.test")
        try #require(reference.count == Self.probes.count, "\(reference)")
        for (mine, theirs) in zip(ours, reference) {
            if let known = Self.knownDifferences[mine] {
                #expect(theirs == known, "Postfix's answer changed: \(theirs)")
                continue
            }
            #expect(mine == theirs, "Sealpost: \(mine)\nPostfix:  \(theirs)")
        }
    }
}
