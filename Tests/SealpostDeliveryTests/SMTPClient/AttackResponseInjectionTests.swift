import Foundation
import NIOCore
import SealpostTLS
import SealpostTestSupport
import Testing

@testable import SealpostDelivery

/// Response injection against our SMTP client: replies that arrive before the command they would
/// answer — slipped in after the 220 to STARTTLS (CVE-2011-0411 turned round), or sent ahead by an
/// out-of-step server — are never taken as answers. Over real sockets against a hostile server
/// with real TLS, and on the state machine directly.
@Suite("Attack: response injection against the SMTP client", .serialized)
struct AttackResponseInjectionTests {
    static let message = "From: sender@client.example.org\r\nTo: b@example.com\r\nSubject: injection\r\n\r\nbody\r\n"

    /// A key and self-signed certificate for the hostile server.
    static func certificate() throws -> (OpenSSLFixtures, String, String) {
        let fixtures = try OpenSSLFixtures()
        let key = try fixtures.rsaKey("server.key")
        let certificate = try fixtures.selfSigned("server.pem", key: "server.key", subject: "/CN=mx.example.com")
        return (fixtures, certificate, key)
    }

    @Test("forged replies in the same write as the 220 to STARTTLS are discarded: the TLS session runs on the server's real replies")
    func injectionInTheSameWriteIsDiscarded() async throws {
        let (fixtures, certificate, key) = try Self.certificate()
        _ = fixtures
        let server = try AttackPythonServer(mode: "inject-same-write", certificate: certificate, key: key)
        defer { server.stop() }
        let log = RecordingLog()
        let agent = try makeAgent("smtp_tls_security_level = encrypt\nsmtp_connection_cache_on_demand = no\n", log: log)
        let message = try await QueuedTestMessage(recipients: ["b@example.com"], content: Self.message)
        let result = try #require(await agent.deliver(try message.request(nexthop: "example.com:\(server.port)")).results.first)
        #expect(result.status == .sent, "\(result)\n\(server.commands)\n\(server.log)")
        #expect(result.text == "250 2.0.0 Ok: queued as ATTACK")
        // Had a forged line been read, EHLO inside TLS would have been skipped or refused.
        #expect(server.commands.map { String($0.drop { $0 != " " }.dropFirst()) }.prefix(8) == [
            "EHLO client.example.org", "STARTTLS", "TLS established", "EHLO client.example.org",
            "MAIL FROM:<sender@client.example.org>", "RCPT TO:<b@example.com>", "DATA", "<end of data>",
        ], "\(server.commands)")
        #expect(!log.messages.contains { $0.contains("injected") }, "\(log.messages)")
    }

    @Test("forged replies sent in plaintext after the 220, where the handshake belongs, fail the handshake: nothing is sent")
    func injectionBeforeTheHandshakeFailsIt() async throws {
        let (fixtures, certificate, key) = try Self.certificate()
        _ = fixtures
        let server = try AttackPythonServer(mode: "inject-later", certificate: certificate, key: key)
        defer { server.stop() }
        let agent = try makeAgent("smtp_tls_security_level = encrypt\nsmtp_connection_cache_on_demand = no\n")
        let message = try await QueuedTestMessage(recipients: ["b@example.com"], content: Self.message)
        let result = try #require(await agent.deliver(try message.request(nexthop: "example.com:\(server.port)")).results.first)
        #expect(result.status == .deferred, "\(result)")
        #expect(result.text == "Cannot start TLS: handshake failure")
        #expect(!server.commands.contains { $0.contains("MAIL FROM") || $0.contains("TLS established") }, "\(server.commands)")
        #expect(server.dataSections.isEmpty)
    }

    @Test("replies to commands not yet sent, in the greeting's write: the session is deferred before MAIL FROM")
    func repliesAheadOfTheirCommands() async throws {
        // The forged EHLO, MAIL, RCPT, DATA and end-of-data replies would carry a whole transaction.
        let server = try await ScriptedSMTPServer(
            greeting: "220 scripted.example ESMTP\r\n250 scripted.example\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n250 2.0.0 Ok: queued as FORGED"
        ) { _, line in ScriptedSMTPServer.standardReply(line, ehlo: ["PIPELINING"]) }
        defer { Task { await server.close() } }
        let agent = try makeAgent("smtp_connection_cache_on_demand = no\n")
        let message = try await QueuedTestMessage(recipients: ["b@example.com"], content: Self.message)
        let result = try #require(await agent.deliver(try message.request(nexthop: "example.com:\(server.port)")).results.first)
        #expect(result.status == .deferred, "\(result)")
        #expect(result.dsn == "4.4.2")
        #expect(result.text == "host mx.example.com[127.0.0.1] sent a premature reply while performing the EHLO handshake")
        #expect(!server.commands.contains { $0.line.hasPrefix("MAIL") }, "\(server.commands.map(\.line))")
        #expect(server.messages.isEmpty)
    }

    @Test("a 250 in the same write as the 354 comes before any content: not a delivery")
    func acceptanceAheadOfTheContent() async throws {
        let server = try await ScriptedSMTPServer { _, line in
            line == "DATA"
                ? "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as FORGED\r\n"
                : ScriptedSMTPServer.standardReply(line, ehlo: ["PIPELINING"])
        }
        defer { Task { await server.close() } }
        let agent = try makeAgent("smtp_connection_cache_on_demand = no\n")
        let message = try await QueuedTestMessage(recipients: ["b@example.com"], content: Self.message)
        let result = try #require(await agent.deliver(try message.request(nexthop: "example.com:\(server.port)")).results.first)
        #expect(result.status == .deferred, "\(result)")
        #expect(result.text == "host mx.example.com[127.0.0.1] sent a premature reply while sending message body")
    }

    @Test("a 250 while the content is still going out is no delivery: deferred, to be sent again")
    func acceptanceInTheMiddleOfTheContent() async throws {
        let server = try AttackPythonServer(mode: "accept-mid-data")
        defer { server.stop() }
        // A client that ignored the reply would wait on the full socket until this timeout.
        let agent = try makeAgent("smtp_tls_security_level = none\nsmtp_connection_cache_on_demand = no\nsmtp_data_xfer_timeout = 20s\n")
        // Bigger than the loopback socket buffers can hold while the server is not reading.
        let body = String(repeating: String(repeating: "x", count: 99) + "\r\n", count: 240_000)
        let message = try await QueuedTestMessage(recipients: ["b@example.com"], content: "Subject: big\r\n\r\n" + body)
        let result = try #require(await agent.deliver(try message.request(nexthop: "example.com:\(server.port)")).results.first)
        server.release()
        #expect(result.status == .deferred, "\(result)")
        #expect(result.dsn == "4.4.2")
        #expect(result.text == "host mx.example.com[127.0.0.1] sent a premature reply while sending message body")
    }

    // MARK: The state machine alone

    static func machine(_ level: TLSClientSecurityLevel = .none) -> SMTPClientStateMachine {
        var machine = SMTPClientStateMachine(
            configuration: SMTPClientSessionConfiguration(
                protocolKind: .smtp, heloName: "client.example", myHostname: "client.example", peerName: "mx.example[192.0.2.1]",
                nexthop: "example.com", tlsLevel: level, credentials: nil),
            transaction: SMTPClientTransaction(sender: "a@example.org", recipients: [.init(index: 0, address: "b@example.com")], size: 10))
        _ = machine.connected()
        return machine
    }

    static func feed(_ machine: inout SMTPClientStateMachine, _ text: String) -> [SMTPClientStateMachine.Action] {
        var buffer = ByteBuffer(string: text)
        return machine.received(&buffer)
    }

    @Test("after the 220 to STARTTLS, the rest of the read — even half a reply — is dropped and the next replies start afresh")
    func stateMachineDropsBytesAfterTheSTARTTLSReply() {
        var machine = Self.machine(.encrypt)
        _ = Self.feed(&machine, "220 mx.example ESMTP\r\n")
        _ = Self.feed(&machine, "250-mx.example\r\n250 STARTTLS\r\n")
        #expect(Self.feed(&machine, "220 2.0.0 Ready\r\n250-forged\r\n250-AUTH PLAIN\r\n550 5.7.1 forged\r\n250-half a rep") == [.startTLS])
        #expect(machine.phase == .tlsHandshake)
        #expect(machine.tlsCompleted(matched: true) == [.send("EHLO client.example\r\n")])
        // The genuine EHLO reply inside TLS, not the forged lines, sets the capabilities.
        let actions = Self.feed(&machine, "250-mx.example\r\n250 PIPELINING\r\n")
        #expect(actions == [.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")])
        #expect(machine.capabilities?.supports("AUTH") == false)
    }

    @Test("a reply in the same read as the one before it, when our next command is not yet out, ends the session")
    func stateMachineRefusesRepliesAheadOfCommands() {
        var machine = Self.machine()
        _ = Self.feed(&machine, "220 mx.example ESMTP\r\n")
        let actions = Self.feed(&machine, "250 mx.example\r\n250 2.1.0 Ok\r\n")
        // MAIL FROM is not sent: the session ends first.
        #expect(!actions.contains { if case .send = $0 { true } else { false } }, "\(actions)")
        guard case .finished(let outcome, let reusable)? = actions.last, case .failed(let failure)? = outcome.recipients[0] else {
            Issue.record("no failure: \(actions)")
            return
        }
        #expect(!reusable)
        #expect(failure.text == "host mx.example[192.0.2.1] sent a premature reply while sending MAIL FROM")
        #expect(machine.phase == .done)
    }

    @Test("pipelined replies that answer commands already sent are still taken together")
    func stateMachineTakesPipelinedRepliesTogether() {
        var machine = Self.machine()
        _ = Self.feed(&machine, "220 mx.example ESMTP\r\n")
        _ = Self.feed(&machine, "250-mx.example\r\n250 PIPELINING\r\n")
        #expect(Self.feed(&machine, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n") == [.sendContent])
        machine.contentSent()
        guard case .finished(let outcome, true)? = Self.feed(&machine, "250 2.0.0 Ok: queued as X\r\n").last,
              case .delivered? = outcome.recipients[0]
        else {
            Issue.record("not delivered")
            return
        }
    }
}

/// Parameter injection through quoted local parts: the queue holds addresses unquoted, so the
/// client must quote them again, or `"a> NOTIFY=NEVER"@example.com` becomes a parameter.
@Suite("Attack: quoted local parts leaving through the SMTP client", .serialized)
struct AttackQuotedLocalPartTests {
    @Test("MAIL FROM and RCPT TO carry the local parts quoted, never as parameters")
    func quotedLocalPartsStayQuoted() async throws {
        let server = try await ScriptedSMTPServer { _, line in ScriptedSMTPServer.standardReply(line, ehlo: ["PIPELINING", "DSN"]) }
        defer { Task { await server.close() } }
        let agent = try makeAgent("smtp_connection_cache_on_demand = no\n")
        let message = try await QueuedTestMessage(
            sender: "quoted sender> RET=FULL@client.example.org", recipients: ["b> NOTIFY=NEVER@example.com", "\"c\\d\"@example.com"],
            content: "Subject: quoted\r\n\r\nbody\r\n")
        let report = await agent.deliver(try message.request(nexthop: "example.com:\(server.port)"))
        #expect(report.results.allSatisfy { $0.status == .sent }, "\(report.results)")
        let lines = server.commands.map(\.line)
        #expect(lines.contains("MAIL FROM:<\"quoted sender> RET=FULL\"@client.example.org>"), "\(lines)")
        #expect(lines.contains("RCPT TO:<\"b> NOTIFY=NEVER\"@example.com>"), "\(lines)")
        #expect(lines.contains("RCPT TO:<\"\\\"c\\\\d\\\"\"@example.com>"), "\(lines)")
    }
}
