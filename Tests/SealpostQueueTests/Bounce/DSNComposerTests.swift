import Foundation
import SealpostConfig
import Testing

@testable import SealpostQueue

@Suite struct DSNComposerTests {
    static let id = QueueID(seconds: 1_764_400_000, microseconds: 123_456, inode: 4242)
    static let arrival = QueueTimestamp(seconds: 1_764_400_000)
    static let now = QueueTimestamp(seconds: 1_764_403_600)

    static let content = """
        Received: from client.example (client.example [192.0.2.7])\r
        \tby mx.example.test (Sealpost) with ESMTP id X\r
        From: Sender <sender@example.org>\r
        To: a@example.net\r
        Subject: hello\r
        Message-Id: <m1@example.org>\r
        \r
        first body line\r
        second body line\r

        """

    static let settings = BounceSettings(
        hostname: "mx.example.test", mailName: "Postfix", sizeLimit: 50000, delayWarningTime: 4 * 3600,
        maximalQueueLifetime: 5 * 86400)

    static func snapshot(
        sender: String = "sender@example.org", recipients: [QueueRecipient]? = nil, states: [RecipientState]? = nil,
        content: String = content, envid: String? = nil, ret: DSNReturn? = nil, smtputf8: Bool = false, body: BodyType? = nil
    ) -> MessageSnapshot {
        let recipients =
            recipients ?? [
                QueueRecipient(address: "a@example.net"),
                QueueRecipient(address: "b@example.net", notify: [.success]),
            ]
        let states =
            states
            ?? recipients.map { _ in
                RecipientState(
                    status: .bounced, attempts: 1, dsnStatus: "5.1.1",
                    reason: "host mx.example.net[192.0.2.1] said: 550 5.1.1 <a@example.net>: Recipient address rejected: User unknown (in reply to RCPT TO command)",
                    remoteMTA: "mx.example.net")
            }
        let envelope = QueueEnvelope(
            sender: sender, recipients: recipients, arrival: arrival, envelopeID: envid, returnContent: ret, bodyType: body,
            smtputf8: smtputf8)
        return MessageSnapshot(
            id: id, queue: .active, envelope: envelope, arrival: arrival, contentLength: content.utf8.count,
            recipients: states)
    }

    static func chunks(_ text: String, size: Int = 7) -> () throws -> [UInt8]? {
        var remaining = Array(text.utf8)[...]
        return {
            guard !remaining.isEmpty else { return nil }
            defer { remaining = remaining.dropFirst(size) }
            return Array(remaining.prefix(size))
        }
    }

    static func notice(
        _ kind: NoticeKind, _ snapshot: MessageSnapshot, settings: BounceSettings = settings, audience: Int = 0,
        recipients: [Int]? = nil, content: String = content
    ) throws -> DeliveryStatusNotice? {
        let plan = NoticePlanner.plan(
            kind, sender: snapshot.envelope.sender, requestedReturn: snapshot.envelope.returnContent, settings: settings)
        let planned = try #require(plan.notices.indices.contains(audience) ? plan.notices[audience] : nil)
        return try DSNComposer.compose(
            planned, about: snapshot, recipients: recipients ?? Array(snapshot.recipients.indices), settings: settings,
            now: now, utcOffset: 0, content: chunks(content))
    }

    // MARK: - Structure

    @Test func failureNoticeHasPostfixsHeadersAndThreeParts() throws {
        let dsn = try #require(try Self.notice(.failure, Self.snapshot()))
        #expect(dsn.sender == "")
        #expect(dsn.recipients == ["sender@example.org"])
        #expect(dsn.reported == [0], "b asked for NOTIFY=SUCCESS only")
        let message = try ParsedMessage(dsn.content)
        #expect(message.value("From") == "Mail Delivery System <MAILER-DAEMON@mx.example.test>")
        #expect(message.value("To") == "sender@example.org")
        #expect(message.value("Subject") == "Undelivered Mail Returned to Sender")
        #expect(message.value("Auto-Submitted") == "auto-replied")
        #expect(message.value("MIME-Version") == "1.0")
        #expect(message.value("Date") == "Sat, 29 Nov 2025 08:06:40 +0000 (UTC)")
        #expect(message.value("Content-Transfer-Encoding") == "7bit")
        let messageID = try #require(message.value("Message-Id"))
        #expect(messageID.contains(#/^<20251129080640\.[^@ ]+@mx\.example\.test>$/#), "\(messageID)")
        let contentType = try #require(message.value("Content-Type"))
        #expect(contentType.hasPrefix("multipart/report; report-type=delivery-status;\tboundary=\""))
        #expect(message.boundary == "\(Self.id).1764403600/mx.example.test")
        #expect(message.rawHeaderLines.contains("\tboundary=\"\(Self.id).1764403600/mx.example.test\""))

        let parts = try message.parts()
        #expect(parts.count == 3)
        #expect(parts[0].value("Content-Type") == "text/plain; charset=us-ascii")
        #expect(parts[0].value("Content-Description") == "Notification")
        #expect(parts[1].value("Content-Type") == "message/delivery-status")
        #expect(parts[1].value("Content-Description") == "Delivery report")
        #expect(parts[2].value("Content-Type") == "message/rfc822")
        #expect(parts[2].value("Content-Description") == "Undelivered Message")

        let quoted = parts[2].bodyText
        #expect(quoted.hasPrefix("Return-Path: <sender@example.org>\r\nReceived: from client.example"))
        #expect(quoted.contains("\r\n\r\nfirst body line\r\nsecond body line\r\n"))
    }

    @Test func deliveryStatusFieldsPerMessageAndPerRecipient() throws {
        let recipients = [
            // ORCPT=rfc822;Alias+2Btag@example.org as the server stored it, xtext-decoded: the
            // report carries the decoded form (RFC 3464 section 2.3.2).
            QueueRecipient(address: "a@example.net", originalAddress: "alias@example.org", originalRecipient: "rfc822;Alias+tag@example.org"),
            QueueRecipient(address: "b@example.net", originalAddress: "list@example.org"),
        ]
        let states = [
            RecipientState(status: .bounced, dsnStatus: "5.1.1", reason: "host mx.example.net[192.0.2.1] said: 550 5.1.1 no such user (in reply to RCPT TO command)", remoteMTA: "mx.example.net"),
            RecipientState(status: .bounced, dsnStatus: "5.4.6", reason: "mail forwarding loop for b@example.net"),
        ]
        let snapshot = Self.snapshot(recipients: recipients, states: states, envid: "QQ314159+x")
        let dsn = try #require(try Self.notice(.failure, snapshot))
        let parts = try ParsedMessage(dsn.content).parts()
        let report = parts[1].bodyText.components(separatedBy: "\r\n")
        #expect(
            Array(report.prefix(6)) == [
                "Reporting-MTA: dns; mx.example.test",
                "Original-Envelope-Id: QQ314159+x",
                "X-Postfix-Queue-ID: \(Self.id)",
                "X-Postfix-Sender: rfc822; sender@example.org",
                "Arrival-Date: Sat, 29 Nov 2025 07:06:40 +0000 (UTC)",
                "",
            ])
        #expect(
            Array(report.dropFirst(6).prefix(7)) == [
                "Final-Recipient: rfc822; a@example.net",
                "Original-Recipient: rfc822;Alias+tag@example.org",
                "Action: failed",
                "Status: 5.1.1",
                "Remote-MTA: dns; mx.example.net",
                "Diagnostic-Code: smtp; 550 5.1.1 no such user",
                "",
            ])
        #expect(
            Array(report.dropFirst(13).prefix(5)) == [
                "Final-Recipient: rfc822; b@example.net",
                "Original-Recipient: rfc822; list@example.org",
                "Action: failed",
                "Status: 5.4.6",
                "Diagnostic-Code: X-Postfix; mail forwarding loop for b@example.net",
            ])
        let text = parts[0].bodyText
        #expect(text.contains("\r\n\r\n<a@example.net> (expanded from <alias@example.org>): host\r\n    mx.example.net[192.0.2.1] said: 550 5.1.1 no such user (in reply to RCPT TO\r\n    command)\r\n"))
        #expect(text.contains("<b@example.net> (expanded from <list@example.org>): mail forwarding loop for\r\n    b@example.net"))
    }

    @Test func textPartMatchesPostconfB() throws {
        let main = "myhostname = mx.example.test\ndelay_warning_time = 4h\nmaximal_queue_lifetime = 5d\n"
        guard let postfix = try PostfixTools.templateTexts(main: main) else { return }
        for (kind, name) in [(NoticeKind.failure, "failure"), (.delay, "delay"), (.success, "success")] {
            let expected = try #require(postfix[name])
            #expect(expected.first == "This is the mail system at host mx.example.test.")
            var snapshot = Self.snapshot(recipients: [QueueRecipient(address: "a@example.net", notify: [.success, .failure, .delay])])
            if kind == .success { snapshot.recipients[0] = RecipientState(status: .delivered, reason: "delivered to maildir", action: .delivered) }
            let dsn = try #require(try Self.notice(kind, snapshot))
            let text = try ParsedMessage(dsn.content).parts()[0].bodyText.components(separatedBy: "\r\n")
            #expect(Array(text.prefix(expected.count)) == expected, "\(kind)")
        }
    }

    // MARK: - Kinds

    @Test func delayNoticeQuotesHeadersAndSaysUntilWhen() throws {
        let states = [
            RecipientState(status: .deferred, dsnStatus: "4.4.1", reason: "connect to mx.example.net[192.0.2.1]:25: Connection refused"),
            RecipientState(status: .deferred, dsnStatus: "4.4.1", reason: "connect to mx.example.net[192.0.2.1]:25: Connection refused"),
        ]
        let recipients = [QueueRecipient(address: "a@example.net"), QueueRecipient(address: "b@example.net", notify: [.failure])]
        let dsn = try #require(try Self.notice(.delay, Self.snapshot(recipients: recipients, states: states)))
        #expect(dsn.reported == [0], "NOTIFY=FAILURE only: no delay notice for b")
        let message = try ParsedMessage(dsn.content)
        #expect(message.value("Subject") == "Delayed Mail (still being retried)")
        let parts = try message.parts()
        let report = parts[1].bodyText
        #expect(report.contains("Action: delayed\r\nStatus: 4.4.1\r\n"))
        #expect(report.contains("Diagnostic-Code: X-Postfix; connect to mx.example.net[192.0.2.1]:25: Connection\r\n    refused\r\n"))
        #expect(report.contains("Will-Retry-Until: Thu,  4 Dec 2025 07:06:40 +0000 (UTC)\r\n"))
        #expect(!report.contains("b@example.net"))
        #expect(parts[2].value("Content-Type") == "text/rfc822-headers")
        #expect(parts[2].value("Content-Description") == "Undelivered Message Headers")
        #expect(parts[2].bodyText.hasSuffix("Message-Id: <m1@example.org>\r\n"))
        #expect(!parts[2].bodyText.contains("body line"))
    }

    @Test func successNoticeOnlyForNotifySuccessWithTheDeliveryAction() throws {
        let recipients = [
            QueueRecipient(address: "a@example.net"),
            QueueRecipient(address: "b@example.net", notify: [.success]),
            QueueRecipient(address: "c@example.net", notify: [.success, .failure]),
        ]
        let states = [
            RecipientState(status: .delivered, dsnStatus: "2.0.0", reason: "delivered to maildir", action: .delivered),
            RecipientState(status: .delivered, dsnStatus: "2.0.0", reason: "host mx said: 250 ok", remoteMTA: "dns; mx.example.net", action: .relayed),
            RecipientState(status: .delivered, dsnStatus: "2.0.0", reason: "delivered to maildir", action: .expanded),
        ]
        let dsn = try #require(try Self.notice(.success, Self.snapshot(recipients: recipients, states: states)))
        #expect(dsn.reported == [1, 2])
        let message = try ParsedMessage(dsn.content)
        #expect(message.value("Subject") == "Successful Mail Delivery Report")
        let parts = try message.parts()
        #expect(parts[1].bodyText.contains("Final-Recipient: rfc822; b@example.net\r\nAction: relayed\r\nStatus: 2.0.0\r\nRemote-MTA: dns; mx.example.net\r\nDiagnostic-Code: smtp; 250 ok\r\n"))
        #expect(parts[1].bodyText.contains("Final-Recipient: rfc822; c@example.net\r\nAction: expanded\r\n"))
        #expect(parts[2].value("Content-Description") == "Message Headers")
        #expect(parts[2].value("Content-Type") == "text/rfc822-headers")

        let nobody = Self.snapshot(recipients: [QueueRecipient(address: "a@example.net", notify: [.never])], states: [states[0]])
        #expect(try Self.notice(.success, nobody) == nil)
        #expect(try Self.notice(.failure, nobody) == nil, "NOTIFY=NEVER cancels the notice")
    }

    // MARK: - What is quoted

    @Test func retHeadersQuotesHeadersOnlyAndRetFullTheWholeMessage() throws {
        let headers = try #require(try Self.notice(.failure, Self.snapshot(ret: .headers)))
        let headerPart = try ParsedMessage(headers.content).parts()[2]
        #expect(headerPart.value("Content-Type") == "text/rfc822-headers")
        #expect(headerPart.value("Content-Description") == "Undelivered Message Headers")
        #expect(!headerPart.bodyText.contains("first body line"))
        #expect(headerPart.bodyText.hasSuffix("Subject: hello\r\nMessage-Id: <m1@example.org>\r\n"))
        #expect(headerPart.bodyText.contains("Received: from client.example (client.example [192.0.2.7])\r\n\tby mx.example.test"))

        let full = try #require(try Self.notice(.failure, Self.snapshot(ret: .full)))
        let fullPart = try ParsedMessage(full.content).parts()[2]
        #expect(fullPart.value("Content-Type") == "message/rfc822")
        #expect(fullPart.bodyText == "Return-Path: <sender@example.org>\r\n" + Self.content)
    }

    @Test func messagesOverBounceSizeLimitAreReturnedAsHeaders() throws {
        let big = Self.content + String(repeating: "0123456789abcdef\r\n", count: 4000)
        var settings = Self.settings
        settings.sizeLimit = 50000
        let snapshot = Self.snapshot(content: big, ret: .full)
        let dsn = try #require(try Self.notice(.failure, snapshot, settings: settings, content: big))
        let part = try ParsedMessage(dsn.content).parts()[2]
        #expect(part.value("Content-Type") == "text/rfc822-headers")
        #expect(!part.bodyText.contains("0123456789abcdef"))
        #expect(dsn.content.count < 5000)

        // Only the header is read from the queue.
        var chunksRead = 0
        let source = Self.chunks(big, size: 512)
        let planned = try #require(NoticePlanner.plan(.failure, sender: "sender@example.org", requestedReturn: .full, settings: settings).notices.first)
        _ = try DSNComposer.compose(planned, about: snapshot, recipients: [0], settings: settings, now: Self.now, utcOffset: 0) {
            chunksRead += 1
            return try source()
        }
        #expect(chunksRead <= 2, "\(chunksRead) chunks read")

        settings.sizeLimit = 0
        let unlimited = try #require(try Self.notice(.failure, snapshot, settings: settings, content: big))
        #expect(try ParsedMessage(unlimited.content).parts()[2].value("Content-Type") == "message/rfc822")
        #expect(unlimited.content.count > big.utf8.count)
    }

    @Test func bareLineEndsInTheOriginalBecomeCRLF() throws {
        let odd = "Subject: x\nX-Other: y\r\rbody\nlast line without end"
        let dsn = try #require(try Self.notice(.failure, Self.snapshot(content: odd, ret: .full), content: odd))
        try ParsedMessage.checkLineEnds(dsn.content)
        let part = try ParsedMessage(dsn.content).parts()[2]
        #expect(part.bodyText == "Return-Path: <sender@example.org>\r\nSubject: x\r\nX-Other: y\r\n\r\nbody\r\nlast line without end\r\n")
    }

    @Test func boundaryNeverOccursInTheQuotedMessage() throws {
        let trap = Self.content + "--\(Self.id).1764403600/mx.example.test--\r\n--\(Self.id).1764403600/mx.example.test.1\r\n"
        let dsn = try #require(try Self.notice(.failure, Self.snapshot(content: trap, ret: .full), content: trap))
        let message = try ParsedMessage(dsn.content)
        #expect(message.boundary == "\(Self.id).1764403600/mx.example.test.2")
        let parts = try message.parts()
        #expect(parts.count == 3)
        #expect(parts[2].bodyText.hasSuffix(".1764403600/mx.example.test.1\r\n"))
    }

    // MARK: - 8-bit and SMTPUTF8

    @Test func eightBitContentIsLabelled8bit() throws {
        let latin = "Subject: caf\u{E9}\r\n\r\nna\u{EF}ve\r\n"
        let dsn = try #require(try Self.notice(.failure, Self.snapshot(content: latin, ret: .full, body: .eightBitMIME), content: latin))
        let message = try ParsedMessage(dsn.content)
        #expect(message.value("Content-Transfer-Encoding") == "8bit")
        let parts = try message.parts()
        #expect(parts[0].value("Content-Type") == "text/plain; charset=utf-8")
        #expect(parts[0].value("Content-Transfer-Encoding") == "8bit")
        #expect(parts[1].values("Content-Transfer-Encoding").isEmpty, "message/delivery-status stays 7bit without SMTPUTF8")
        #expect(parts[2].value("Content-Transfer-Encoding") == "8bit")
        #expect(parts[2].bodyText.contains("na\u{EF}ve"))

        // 8-bit bytes without BODY=8BITMIME are still labelled (cleanup found them).
        let unlabelled = try #require(try Self.notice(.failure, Self.snapshot(content: latin, ret: .full), content: latin))
        #expect(try ParsedMessage(unlabelled.content).value("Content-Transfer-Encoding") == "8bit")
    }

    @Test func smtputf8MessagesGetGlobalTypes() throws {
        let recipients = [QueueRecipient(address: "j\u{F6}rg@b\u{FC}cher.example")]
        let states = [RecipientState(status: .bounced, dsnStatus: "5.1.1", reason: "unknown user: \"j\u{F6}rg\"")]
        let content = "Subject: gr\u{FC}\u{DF}e\r\n\r\nbody\r\n"
        let snapshot = Self.snapshot(sender: "s\u{E9}nder@example.org", recipients: recipients, states: states, content: content, smtputf8: true)
        let dsn = try #require(try Self.notice(.failure, snapshot, content: content))
        #expect(dsn.recipients == ["s\u{E9}nder@example.org"])
        let parts = try ParsedMessage(dsn.content).parts()
        #expect(parts[1].value("Content-Type") == "message/global-delivery-status")
        #expect(parts[1].value("Content-Transfer-Encoding") == "8bit")
        #expect(parts[1].bodyText.contains("Final-Recipient: utf-8; j\u{F6}rg@b\u{FC}cher.example\r\n"))
        #expect(parts[1].bodyText.contains("X-Postfix-Sender: utf-8; s\u{E9}nder@example.org\r\n"))
        #expect(parts[2].value("Content-Type") == "message/global")

        let headers = try #require(try Self.notice(.delay, snapshot, content: content))
        #expect(try ParsedMessage(headers.content).parts()[2].value("Content-Type") == "message/global-headers")

        // Without SMTPUTF8 a non-ASCII reason is masked, as Postfix's printable() does.
        let plain = Self.snapshot(recipients: [QueueRecipient(address: "a@example.net")], states: states)
        let masked = try #require(try Self.notice(.failure, plain))
        #expect(try ParsedMessage(masked.content).parts()[1].bodyText.contains("Diagnostic-Code: X-Postfix; unknown user: \"j?rg\""))
    }

    // MARK: - Line lengths and hostile values

    @Test func longAndHostileValuesStayWithinLineLimits() throws {
        let huge = String(repeating: "x", count: 3000)
        let states = [RecipientState(status: .bounced, dsnStatus: "5.0.0", reason: "bad\r\nInjected: yes " + huge + " tail")]
        let snapshot = Self.snapshot(
            recipients: [QueueRecipient(address: "a@example.net", originalRecipient: "rfc822;x\r\nBcc: evil@example")],
            states: states, envid: "id\rwith\ncontrols")
        let dsn = try #require(try Self.notice(.failure, snapshot))
        try ParsedMessage.checkLineEnds(dsn.content)
        let parts = try ParsedMessage(dsn.content).parts()
        let report = try ParsedMessage(parts[1].body, checkLines: false)
        #expect(report.value("Original-Envelope-Id") == "id?with?controls")
        #expect(!parts[1].bodyText.contains("\r\nBcc:"))
        #expect(!parts[1].bodyText.contains("\r\nInjected:"))
        for line in parts[0].bodyText.components(separatedBy: "\r\n") where !line.contains("xxxxxxxxxx") {
            #expect(line.utf8.count <= 79, "\(line)")
        }
    }

    @Test func quotesToAddressesThatNeedIt() {
        #expect(DSNComposer.quoteLocalPart("a.b+c@example.org") == "a.b+c@example.org")
        #expect(DSNComposer.quoteLocalPart("john doe@example.org") == "\"john doe\"@example.org")
        #expect(DSNComposer.quoteLocalPart("a..b@example.org") == "\"a..b\"@example.org")
        #expect(DSNComposer.quoteLocalPart("q\"x@example.org") == "\"q\\\"x\"@example.org")
    }

    // MARK: - A second parser

    @Test(arguments: [NoticeKind.failure, .delay, .success])
    func pythonsEmailPackageReadsItWithoutDefects(kind: NoticeKind) throws {
        guard let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: FileManager.default.isExecutableFile) else {
            Issue.record("python3 is missing; install the python3 package")
            return
        }
        let latin = "Subject: caf\u{E9}\r\n\r\nna\u{EF}ve\r\n"
        var snapshot = Self.snapshot(
            recipients: [QueueRecipient(address: "a@example.net", notify: [.success, .failure, .delay])], content: latin, ret: .full,
            body: .eightBitMIME)
        if kind == .success { snapshot.recipients[0] = RecipientState(status: .delivered, reason: "delivered to maildir", action: .delivered) }
        let dsn = try #require(try Self.notice(kind, snapshot, content: latin))
        let file = NSTemporaryDirectory() + "sealpost-dsn-\(UUID().uuidString).eml"
        try Data(dsn.content).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let script = """
            import sys, email, email.policy
            m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
            assert not m.defects, m.defects
            assert m.get_content_type() == 'multipart/report', m.get_content_type()
            assert m.get_param('report-type') == 'delivery-status'
            parts = m.get_payload()
            print(len(parts), *[p.get_content_type() for p in parts])
            for p in m.walk():
                assert not p.defects, (p.get_content_type(), p.defects)
            status = parts[1].get_payload()
            print(status[0]['Reporting-MTA'], status[1]['Action'], status[1]['Final-Recipient'])
            quoted = parts[2].get_payload()
            if not isinstance(quoted, list):
                quoted = [email.message_from_bytes(parts[2].get_payload(decode=True), policy=email.policy.default)]
            print(quoted[0]['Subject'])
            """
        let (status, output) = try PostfixTools.run(python, ["-c", script, file])
        #expect(status == 0)
        let action = kind == .failure ? "failed" : kind == .delay ? "delayed" : "delivered"
        let quotedType = kind == .failure ? "message/rfc822" : "text/rfc822-headers"
        #expect(
            output.components(separatedBy: "\n").prefix(3) == [
                "3 text/plain message/delivery-status \(quotedType)",
                "dns; mx.example.test \(action) rfc822; a@example.net",
                "caf\u{E9}",
            ])
    }
}
