import NIOCore
import SMTPCore
import SealpostQueue
import SealpostTLS
import SealpostTestSupport
import Testing

@testable import SealpostDelivery

/// The client dialogue without sockets: replies in pieces, multi-line replies, PIPELINING batches,
/// STARTTLS per level, and servers that send junk, hang up or say nothing.
@Suite("SMTP client state machine")
struct SMTPClientStateMachineTests {
    typealias Action = SMTPClientStateMachine.Action

    static func configuration(
        _ level: TLSClientSecurityLevel = .none, protocolKind: MailClientProtocol = .smtp, credentials: SASLCredentials? = nil
    ) -> SMTPClientSessionConfiguration {
        SMTPClientSessionConfiguration(
            protocolKind: protocolKind, heloName: "client.example", myHostname: "client.example", peerName: "mx.example[192.0.2.1]",
            nexthop: "example.com", tlsLevel: level, credentials: credentials)
    }

    static let transaction = SMTPClientTransaction(
        sender: "a@example.org",
        recipients: [
            .init(index: 0, address: "b@example.com", notify: [.success, .failure], originalRecipient: "rfc822;B+x@example.com"),
            .init(index: 1, address: "c@example.com"),
        ],
        size: 1234, bodyType: .eightBitMIME, envelopeID: "id 1", returnContent: .headers)

    static func machine(_ level: TLSClientSecurityLevel = .none, protocolKind: MailClientProtocol = .smtp, credentials: SASLCredentials? = nil) -> SMTPClientStateMachine {
        var machine = SMTPClientStateMachine(
            configuration: configuration(level, protocolKind: protocolKind, credentials: credentials), transaction: transaction)
        _ = machine.connected()
        return machine
    }

    /// A session at `level` that has had the 220 to STARTTLS: TLS is starting.
    static func startingTLS(_ level: TLSClientSecurityLevel) -> SMTPClientStateMachine {
        var machine = machine(level)
        _ = feed(&machine, "220 mx.example ESMTP\r\n")
        _ = feed(&machine, "250-mx.example\r\n250 STARTTLS\r\n")
        _ = feed(&machine, "220 2.0.0 Ready\r\n")
        return machine
    }

    static func feed(_ machine: inout SMTPClientStateMachine, _ text: String) -> [Action] {
        var buffer = ByteBuffer(string: text)
        return machine.received(&buffer)
    }

    static func sent(_ actions: [Action]) -> String {
        actions.compactMap { if case .send(let text) = $0 { text } else { nil } }.joined()
    }

    static func finished(_ actions: [Action]) -> (SMTPTransactionOutcome, Bool)? {
        for action in actions { if case .finished(let outcome, let reusable) = action { return (outcome, reusable) } }
        return nil
    }

    static func failure(_ outcome: SMTPTransactionOutcome, _ index: Int = 0) -> SMTPSessionFailure? {
        if case .failed(let failure)? = outcome.recipients[index] { return failure }
        return nil
    }

    @Test("a whole transaction without PIPELINING, one command at a time, and the session stays reusable")
    func plainTransaction() throws {
        var machine = Self.machine()
        #expect(Self.sent(Self.feed(&machine, "220 mx.example ESMTP\r\n")) == "EHLO client.example\r\n")
        #expect(Self.sent(Self.feed(&machine, "250-mx.example\r\n250-SIZE 1000000\r\n250 8BITMIME\r\n")) == "MAIL FROM:<a@example.org> SIZE=1234 BODY=8BITMIME\r\n")
        #expect(machine.replyTimeout == 300)
        #expect(Self.sent(Self.feed(&machine, "250 2.1.0 Ok\r\n")) == "RCPT TO:<b@example.com>\r\n")
        #expect(Self.sent(Self.feed(&machine, "250 2.1.5 Ok\r\n")) == "RCPT TO:<c@example.com>\r\n")
        #expect(Self.sent(Self.feed(&machine, "550 5.1.1 <c@example.com>: Recipient address rejected: User unknown\r\n")) == "DATA\r\n")
        #expect(machine.replyTimeout == 120)
        #expect(Self.feed(&machine, "354 End data with <CR><LF>.<CR><LF>\r\n") == [.sendContent])
        machine.contentSent()
        #expect(machine.replyTimeout == 600)
        let (outcome, reusable) = try #require(Self.finished(Self.feed(&machine, "250 2.0.0 Ok: queued as 4XyZ\r\n")))
        #expect(reusable)
        #expect(outcome.recipients[0] == .delivered(SMTPClientReplyText(code: 250, dsn: "2.0.0", text: "250 2.0.0 Ok: queued as 4XyZ")))
        #expect(outcome.recipients[1] == .refused(
            SMTPClientReplyText(code: 550, dsn: "5.1.1", text: "550 5.1.1 <c@example.com>: Recipient address rejected: User unknown"),
            inReplyTo: "RCPT TO command"))
        #expect(!outcome.serverSupportsDSN)
        #expect(machine.phase == .idle)
        // The next transaction on the same session starts with an RSET probe.
        #expect(Self.sent(machine.beginTransaction(Self.transaction)) == "RSET\r\n")
        #expect(Self.sent(Self.feed(&machine, "250 2.0.0 Ok\r\n")).hasPrefix("MAIL FROM:<a@example.org>"))
    }

    @Test("replies split at every byte boundary give the same dialogue")
    func repliesInPieces() {
        let server = "220-mx.example ESMTP\r\n220 hello\r\n"
        for split in 0...server.utf8.count {
            var machine = Self.machine()
            let bytes = Array(server.utf8)
            var first = ByteBuffer(bytes: bytes[..<split])
            var actions = machine.received(&first)
            var rest = ByteBuffer(bytes: bytes[split...])
            first.writeBuffer(&rest)
            actions += machine.received(&first)
            #expect(Self.sent(actions) == "EHLO client.example\r\n", "split at \(split)")
        }
    }

    @Test("PIPELINING: MAIL, every RCPT and DATA go in one write, with DSN parameters the server announced")
    func pipelinedBatch() throws {
        var machine = Self.machine()
        _ = Self.feed(&machine, "220 mx.example ESMTP\r\n")
        let batch = Self.sent(Self.feed(&machine, "250-mx.example\r\n250-PIPELINING\r\n250-DSN\r\n250 8BITMIME\r\n"))
        #expect(batch == "MAIL FROM:<a@example.org> BODY=8BITMIME RET=HDRS ENVID=id+201\r\n"
            + "RCPT TO:<b@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;B+2Bx@example.com\r\n"
            + "RCPT TO:<c@example.com>\r\nDATA\r\n")
        let actions = Self.feed(&machine, "250 2.1.0 Ok\r\n450 4.2.0 <b@example.com>: Recipient address rejected: Greylisted\r\n250 2.1.5 Ok\r\n354 go\r\n")
        #expect(actions == [.sendContent])
        machine.contentSent()
        let (outcome, _) = try #require(Self.finished(Self.feed(&machine, "250 2.0.0 Ok: queued as A\r\n")))
        #expect(outcome.serverSupportsDSN)
        #expect(outcome.recipients[1] == .delivered(SMTPClientReplyText(code: 250, dsn: "2.0.0", text: "250 2.0.0 Ok: queued as A")))
        guard case .refused(let reply, "RCPT TO command")? = outcome.recipients[0] else {
            Issue.record("recipient 0: \(String(describing: outcome.recipients[0]))")
            return
        }
        #expect(reply.dsn == "4.2.0")
    }

    @Test("PIPELINING: a refused MAIL FROM refuses every recipient and no content is sent")
    func pipelinedMailRefused() throws {
        var machine = Self.machine()
        _ = Self.feed(&machine, "220 mx.example ESMTP\r\n")
        _ = Self.feed(&machine, "250-mx.example\r\n250 PIPELINING\r\n")
        let actions = Self.feed(&machine, "553 5.7.1 <a@example.org>: Sender address rejected\r\n503 5.5.1 Error: need MAIL command\r\n503 5.5.1 Error: need MAIL command\r\n554 5.5.1 Error: no valid recipients\r\n")
        #expect(!actions.contains(.sendContent))
        let (outcome, reusable) = try #require(Self.finished(actions))
        #expect(reusable)
        for index in [0, 1] {
            guard case .refused(let reply, "MAIL FROM command")? = outcome.recipients[index] else {
                Issue.record("recipient \(index): \(String(describing: outcome.recipients[index]))")
                continue
            }
            #expect(reply.text == "553 5.7.1 <a@example.org>: Sender address rejected")
        }
    }

    @Test("SMTPUTF8: passed on when announced; a UTF-8 address for a server without it bounces 5.6.7")
    func smtputf8() throws {
        let utf8 = SMTPClientTransaction(sender: "a@example.org", recipients: [.init(index: 0, address: "dörte@example.com")], size: 10, smtputf8: true)
        var announced = SMTPClientStateMachine(configuration: Self.configuration(), transaction: utf8)
        _ = announced.connected()
        _ = Self.feed(&announced, "220 mx.example ESMTP\r\n")
        #expect(Self.sent(Self.feed(&announced, "250-mx.example\r\n250 SMTPUTF8\r\n")) == "MAIL FROM:<a@example.org> SMTPUTF8\r\n")

        var missing = SMTPClientStateMachine(configuration: Self.configuration(), transaction: utf8)
        _ = missing.connected()
        _ = Self.feed(&missing, "220 mx.example ESMTP\r\n")
        let (outcome, _) = try #require(Self.finished(Self.feed(&missing, "250 mx.example\r\n")))
        #expect(Self.failure(outcome) == SMTPSessionFailure(dsn: "5.6.7", text: "SMTPUTF8 is required, but was not offered by host mx.example[192.0.2.1]"))
    }

    @Test("multi-line replies are quoted with their lines joined by spaces")
    func multiLineReply() throws {
        var machine = Self.machine()
        _ = Self.feed(&machine, "220 mx.example ESMTP\r\n")
        _ = Self.feed(&machine, "250 mx.example\r\n")
        let (outcome, _) = try #require(Self.finished(Self.feed(&machine, "550-5.7.1 first line\r\n550 5.7.1 second line\r\n")))
        guard case .refused(let reply, _)? = outcome.recipients[0] else { Issue.record("not refused"); return }
        #expect(reply.text == "550-5.7.1 first line 550 5.7.1 second line")
    }

    @Test("encrypt without STARTTLS offered: QUIT and Postfix's 4.7.4 reason, nothing else sent")
    func encryptWithoutOffer() throws {
        var machine = Self.machine(.encrypt)
        _ = Self.feed(&machine, "220 mx.example ESMTP\r\n")
        let actions = Self.feed(&machine, "250-mx.example\r\n250 PIPELINING\r\n")
        #expect(Self.sent(actions) == "QUIT\r\n")
        let (outcome, reusable) = try #require(Self.finished(actions))
        #expect(!reusable)
        #expect(Self.failure(outcome) == SMTPSessionFailure(dsn: "4.7.4", text: "TLS is required, but was not offered by host mx.example[192.0.2.1]"))
    }

    @Test("may without STARTTLS offered carries on in plaintext")
    func mayWithoutOffer() {
        var machine = Self.machine(.may)
        _ = Self.feed(&machine, "220 mx.example ESMTP\r\n")
        #expect(Self.sent(Self.feed(&machine, "250 mx.example\r\n")).hasPrefix("MAIL FROM:"))
        #expect(!machine.tlsActive)
    }

    @Test("smtp_tls_note_starttls_offer at level none: Postfix's note, and no STARTTLS")
    func noteStartTLSOffer() {
        var machine = SMTPClientStateMachine(
            configuration: SMTPClientSessionConfiguration(
                heloName: "client.example", myHostname: "client.example", peerName: "mx.example[192.0.2.1]", nexthop: "example.com",
                noteStartTLSOffer: true),
            transaction: Self.transaction)
        _ = machine.connected()
        _ = Self.feed(&machine, "220 mx.example ESMTP\r\n")
        let actions = Self.feed(&machine, "250-mx.example\r\n250 STARTTLS\r\n")
        #expect(actions.first == .note("Host offered STARTTLS: [mx.example]"))
        #expect(Self.sent(actions).hasPrefix("MAIL FROM:"))
    }

    @Test("STARTTLS at verify: an unmatched certificate defers with \"Server certificate not verified\"")
    func verifyMismatch() throws {
        var machine = Self.machine(.verify)
        _ = Self.feed(&machine, "220 mx.example ESMTP\r\n")
        #expect(Self.sent(Self.feed(&machine, "250-mx.example\r\n250 STARTTLS\r\n")) == "STARTTLS\r\n")
        // A reply injected behind the 220 is never taken as the server's.
        #expect(Self.feed(&machine, "220 2.0.0 Ready to start TLS\r\n250 injected\r\n") == [.startTLS])
        let actions = machine.tlsCompleted(matched: false)
        #expect(Self.sent(actions) == "QUIT\r\n")
        let (outcome, _) = try #require(Self.finished(actions))
        #expect(Self.failure(outcome) == SMTPSessionFailure(dsn: "4.7.5", text: "Server certificate not verified"))
    }

    @Test("STARTTLS at may: EHLO again after the handshake; a failed handshake asks for a plaintext retry")
    func mayHandshake() throws {
        var machine = Self.machine(.may)
        _ = Self.feed(&machine, "220 mx.example ESMTP\r\n")
        _ = Self.feed(&machine, "250-mx.example\r\n250 STARTTLS\r\n")
        _ = Self.feed(&machine, "220 2.0.0 Ready\r\n")
        #expect(Self.sent(machine.tlsCompleted(matched: false)) == "EHLO client.example\r\n")
        // STARTTLS is not offered twice; after TLS the level is satisfied.
        #expect(Self.sent(Self.feed(&machine, "250-mx.example\r\n250 SIZE\r\n")).hasPrefix("MAIL FROM:<a@example.org> SIZE=1234"))

        var failing = Self.startingTLS(.may)
        let (outcome, reusable) = try #require(Self.finished(failing.tlsFailed("handshake failure")))
        #expect(!reusable)
        #expect(Self.failure(outcome)?.retryInPlaintext == true)
        #expect(Self.failure(outcome)?.text == "Cannot start TLS: handshake failure")

        // The server hanging up during the handshake is a failed handshake too.
        var hungUp = Self.startingTLS(.may)
        let (hungUpOutcome, _) = try #require(Self.finished(hungUp.connectionClosed()))
        #expect(Self.failure(hungUpOutcome)?.text == "Cannot start TLS: handshake failure")
        #expect(Self.failure(hungUpOutcome)?.retryInPlaintext == true)

        var encrypt = Self.startingTLS(.encrypt)
        let (encryptOutcome, _) = try #require(Self.finished(encrypt.tlsFailed("handshake failure")))
        #expect(Self.failure(encryptOutcome)?.retryInPlaintext == false)
    }

    @Test("a refused STARTTLS: plaintext at may, a deferral naming the reply at encrypt")
    func startTLSRefused() throws {
        var may = Self.machine(.may)
        _ = Self.feed(&may, "220 mx.example ESMTP\r\n")
        _ = Self.feed(&may, "250-mx.example\r\n250 STARTTLS\r\n")
        #expect(Self.sent(Self.feed(&may, "454 4.7.0 TLS not available due to local problem\r\n")).hasPrefix("MAIL FROM:"))

        var encrypt = Self.machine(.encrypt)
        _ = Self.feed(&encrypt, "220 mx.example ESMTP\r\n")
        _ = Self.feed(&encrypt, "250-mx.example\r\n250 STARTTLS\r\n")
        let (outcome, _) = try #require(Self.finished(Self.feed(&encrypt, "454 4.7.0 TLS not available due to local problem\r\n")))
        #expect(Self.failure(outcome)?.text
            == "TLS is required, but host mx.example[192.0.2.1] refused to start TLS: 454 4.7.0 TLS not available due to local problem")
    }

    @Test("junk instead of a reply ends the session with a clear reason")
    func junk() throws {
        var machine = Self.machine()
        let (outcome, reusable) = try #require(Self.finished(Self.feed(&machine, "HTTP/1.1 400 Bad Request\r\n")))
        #expect(!reusable)
        let failure = try #require(Self.failure(outcome))
        #expect(failure.dsn == "4.4.2")
        #expect(failure.text.hasPrefix("host mx.example[192.0.2.1] sent a malformed reply while receiving the initial server greeting"))
        // Nothing more is taken from the connection.
        #expect(Self.feed(&machine, "220 late\r\n").isEmpty)
    }

    @Test("a server that hangs up mid-reply or never answers: Postfix's lost-connection and timeout texts")
    func closedAndTimedOut() throws {
        var closed = Self.machine()
        _ = Self.feed(&closed, "220 mx.example ESMTP\r\n")
        #expect(Self.feed(&closed, "250-mx.example\r\n250-PIPEL").isEmpty)
        let (outcome, _) = try #require(Self.finished(closed.connectionClosed()))
        #expect(Self.failure(outcome)?.text == "lost connection with mx.example[192.0.2.1] while performing the EHLO handshake")

        var silent = Self.machine()
        #expect(silent.replyTimeout == 300)
        let (silentOutcome, _) = try #require(Self.finished(silent.timedOut()))
        #expect(Self.failure(silentOutcome)?.text == "conversation with mx.example[192.0.2.1] timed out while receiving the initial server greeting")
    }

    @Test("a 5xx greeting is skipped as a 4xx (smtp_skip_5xx_greeting); a rejected EHLO falls back to HELO")
    func greetingAndHELO() throws {
        var refused = Self.machine()
        let (outcome, _) = try #require(Self.finished(Self.feed(&refused, "554 5.7.1 go away\r\n")))
        #expect(Self.failure(outcome) == SMTPSessionFailure(
            dsn: "4.7.1", text: "host mx.example[192.0.2.1] refused to talk to me: 554 5.7.1 go away",
            reply: SMTPClientReplyText(code: 554, dsn: "4.7.1", text: "554 5.7.1 go away"), byRemoteServer: true))

        var old = Self.machine()
        _ = Self.feed(&old, "220 mx.example\r\n")
        #expect(Self.sent(Self.feed(&old, "502 5.5.2 Error: command not recognized\r\n")) == "HELO client.example\r\n")
        // No extensions after HELO: no SIZE, BODY or DSN parameters.
        #expect(Self.sent(Self.feed(&old, "250 mx.example\r\n")) == "MAIL FROM:<a@example.org>\r\n")
    }

    @Test("a server that greets us with our own name is a mail loop")
    func loop() throws {
        var machine = Self.machine()
        _ = Self.feed(&machine, "220 client.example ESMTP\r\n")
        let (outcome, _) = try #require(Self.finished(Self.feed(&machine, "250 client.example\r\n")))
        #expect(Self.failure(outcome) == SMTPSessionFailure(dsn: "5.4.6", text: "mail for example.com loops back to myself"))
    }

    @Test("AUTH PLAIN after TLS, never over plaintext with noplaintext; LOGIN answers both challenges")
    func auth() throws {
        let credentials = SASLCredentials(username: "user", password: "secret")
        var machine = Self.machine(.encrypt, credentials: credentials)
        _ = Self.feed(&machine, "220 mx.example ESMTP\r\n")
        _ = Self.feed(&machine, "250-mx.example\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n")
        _ = Self.feed(&machine, "220 go\r\n")
        _ = machine.tlsCompleted(matched: false)
        #expect(Self.sent(Self.feed(&machine, "250-mx.example\r\n250 AUTH PLAIN LOGIN\r\n")) == "AUTH PLAIN AHVzZXIAc2VjcmV0\r\n")
        #expect(Self.sent(Self.feed(&machine, "235 2.7.0 Authentication successful\r\n")).hasPrefix("MAIL FROM:"))

        var plaintext = Self.machine(.none, credentials: credentials)
        _ = Self.feed(&plaintext, "220 mx.example ESMTP\r\n")
        let (outcome, _) = try #require(Self.finished(Self.feed(&plaintext, "250-mx.example\r\n250 AUTH PLAIN LOGIN\r\n")))
        #expect(Self.failure(outcome)?.text
            == "SASL authentication failed: server mx.example[192.0.2.1] offered no compatible authentication mechanisms for this type of connection security")

        var login = SMTPClientStateMachine(
            configuration: SMTPClientSessionConfiguration(
                heloName: "client.example", myHostname: "client.example", peerName: "mx.example[192.0.2.1]", nexthop: "example.com",
                credentials: credentials, saslPlaintextOptions: [], saslMechanismFilter: ["login"]),
            transaction: Self.transaction)
        _ = login.connected()
        _ = Self.feed(&login, "220 mx.example ESMTP\r\n")
        #expect(Self.sent(Self.feed(&login, "250-mx.example\r\n250 AUTH PLAIN LOGIN\r\n")) == "AUTH LOGIN\r\n")
        #expect(Self.sent(Self.feed(&login, "334 VXNlcm5hbWU6\r\n")) == "dXNlcg==\r\n")
        #expect(Self.sent(Self.feed(&login, "334 UGFzc3dvcmQ6\r\n")) == "c2VjcmV0\r\n")
        let (failed, _) = try #require(Self.finished(Self.feed(&login, "535 5.7.8 Error: authentication failed\r\n")))
        // smtp_sasl_auth_soft_bounce: a rejected login defers.
        #expect(Self.failure(failed)?.dsn == "4.7.8")
        #expect(Self.failure(failed)?.text == "SASL authentication failed; server mx.example[192.0.2.1] said: 535 5.7.8 Error: authentication failed")
    }

    @Test("LMTP: LHLO, and one reply per accepted recipient after the dot")
    func lmtp() throws {
        var machine = Self.machine(protocolKind: .lmtp)
        #expect(Self.sent(Self.feed(&machine, "220 dovecot ready\r\n")) == "LHLO client.example\r\n")
        let batch = Self.sent(Self.feed(&machine, "250-dovecot\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n"))
        #expect(batch.hasSuffix("DATA\r\n"))
        #expect(Self.feed(&machine, "250 2.1.0 OK\r\n250 2.1.5 OK\r\n250 2.1.5 OK\r\n354 OK\r\n") == [.sendContent])
        machine.contentSent()
        #expect(Self.finished(Self.feed(&machine, "250 2.0.0 <b@example.com> Saved\r\n")) == nil)
        let (outcome, _) = try #require(Self.finished(Self.feed(&machine, "552 5.2.2 <c@example.com> Quota exceeded\r\n")))
        #expect(outcome.recipients[0] == .delivered(SMTPClientReplyText(code: 250, dsn: "2.0.0", text: "250 2.0.0 <b@example.com> Saved")))
        #expect(outcome.recipients[1] == .refused(
            SMTPClientReplyText(code: 552, dsn: "5.2.2", text: "552 5.2.2 <c@example.com> Quota exceeded"), inReplyTo: "end of DATA command"))
    }

    @Test("a rejection while the content is still going out ends the session: the server's word, no reuse")
    func earlyDataRejection() throws {
        var machine = Self.machine()
        _ = Self.feed(&machine, "220 mx.example ESMTP\r\n")
        _ = Self.feed(&machine, "250-mx.example\r\n250 PIPELINING\r\n")
        #expect(Self.feed(&machine, "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n") == [.sendContent])
        let (outcome, reusable) = try #require(Self.finished(Self.feed(&machine, "552 5.3.4 Message size exceeds fixed limit\r\n")))
        #expect(!reusable)
        #expect(machine.phase == .done)
        #expect(outcome.recipients[0] == .refused(
            SMTPClientReplyText(code: 552, dsn: "5.3.4", text: "552 5.3.4 Message size exceeds fixed limit"), inReplyTo: "end of DATA command"))
    }

    @Test("a 421 in the middle of the envelope ends the session without QUIT")
    func serviceClosing() throws {
        var machine = Self.machine()
        _ = Self.feed(&machine, "220 mx.example ESMTP\r\n")
        _ = Self.feed(&machine, "250 mx.example\r\n")
        let actions = Self.feed(&machine, "421 4.3.2 Service shutting down\r\n")
        #expect(Self.sent(actions).isEmpty)
        let (outcome, reusable) = try #require(Self.finished(actions))
        #expect(!reusable)
        #expect(Self.failure(outcome)?.text == "host mx.example[192.0.2.1] said: 421 4.3.2 Service shutting down (in reply to MAIL FROM command)")
    }

    @Test("random server bytes, plausible and not, in random pieces: never a crash, always an end or a wait")
    func fuzzedReplies() {
        var random = SeededGenerator(seed: 0x5EA1_9057)
        let pieces = [
            "220 mx ESMTP\r\n", "250-mx\r\n", "250-PIPELINING\r\n", "250-STARTTLS\r\n", "250 DSN\r\n", "250 ok\r\n",
            "354 go\r\n", "421 bye\r\n", "550 no\r\n", "334 VXNlcg==\r\n", "235 ok\r\n", "\r\n", "2", "5", "0-", "\n", "\u{0}",
            String(repeating: "9", count: 3000),
        ]
        for round in 0..<2000 {
            var machine = SMTPClientStateMachine(
                configuration: Self.configuration(round % 3 == 0 ? .may : .none, protocolKind: round % 2 == 0 ? .smtp : .lmtp,
                                                  credentials: round % 5 == 0 ? SASLCredentials(username: "u", password: "p") : nil),
                transaction: Self.transaction)
            _ = machine.connected()
            for _ in 0..<Int.random(in: 1...40, using: &random) {
                var bytes = ByteBuffer()
                if Bool.random(using: &random) {
                    bytes.writeString(pieces.randomElement(using: &random)!)
                } else {
                    bytes.writeBytes((0..<Int.random(in: 1...64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
                }
                for action in machine.received(&bytes) {
                    switch action {
                    case .startTLS: _ = machine.tlsCompleted(matched: Bool.random(using: &random))
                    case .sendContent: machine.contentSent()
                    default: break
                    }
                }
                #expect(bytes.readableBytes < 4096)
            }
            _ = machine.connectionClosed()
            #expect(machine.phase == .done || machine.phase == .idle)
        }
    }

    @Test("content: dot-stuffing, CR LF everywhere, long lines folded with CR LF SPACE")
    func contentEncoding() {
        var encoder = SMTPContentEncoder(lineLengthLimit: 10)
        var output = ByteBuffer()
        encoder.encode(Array(".start\r\n.\r\nbare\nlf\r\n0123456789abc\r\n".utf8), into: &output)
        encoder.finish(into: &output)
        #expect(String(buffer: output) == "..start\r\n..\r\nbare\r\nlf\r\n0123456789\r\n abc\r\n.\r\n")
    }
}
