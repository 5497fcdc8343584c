import SealpostConfig
import SealpostQueue
import Testing

@Suite struct NoticePlannerTests {
    static func settings(_ classes: Set<String>) -> BounceSettings {
        BounceSettings(
            hostname: "mx.example.test", notifyClasses: classes, bounceNoticeRecipient: "bounce-admin",
            doubleBounceNoticeRecipient: "2bounce-admin", delayNoticeRecipient: "delay-admin@example.test")
    }

    @Test func aFailureGoesToTheSenderWithACopyForThePostmasterWhenAsked() {
        let plain = NoticePlanner.plan(.failure, sender: "s@example.org", requestedReturn: nil, settings: Self.settings(["resource", "software"]))
        #expect(plain.discarded == nil)
        #expect(
            plain.notices == [
                PlannedNotice(kind: .failure, audience: .sender, envelopeSender: "", recipient: "s@example.org", returnContent: .full, filter: .notify)
            ])

        let copied = NoticePlanner.plan(.failure, sender: "s@example.org", requestedReturn: .headers, settings: Self.settings(["bounce"]))
        #expect(copied.notices.count == 2)
        #expect(copied.notices[0].returnContent == .headers)
        #expect(
            copied.notices[1]
                == PlannedNotice(
                    kind: .failure, audience: .postmasterCopy, envelopeSender: "double-bounce@mx.example.test", recipient: "bounce-admin",
                    returnContent: .headers, filter: .all))
        #expect(copied.notices[1].isPostmasterNotice)
    }

    @Test func aFailedBounceIsADoubleBounceOrDiscarded() {
        for classes: Set<String> in [["2bounce"], ["bounce"]] {
            let plan = NoticePlanner.plan(.failure, sender: "", requestedReturn: nil, settings: Self.settings(classes))
            #expect(
                plan.notices == [
                    PlannedNotice(
                        kind: .failure, audience: .postmasterInstead, envelopeSender: "double-bounce@mx.example.test",
                        recipient: "2bounce-admin", returnContent: .full, filter: .all)
                ])
        }
        let dropped = NoticePlanner.plan(.failure, sender: "", requestedReturn: nil, settings: Self.settings(["delay", "resource"]))
        #expect(dropped.notices.isEmpty)
        #expect(dropped.discarded?.contains("neither bounce nor 2bounce") == true)

        // A failed postmaster notice is never reported again, whatever notify_classes says.
        let triple = NoticePlanner.plan(.failure, sender: "Double-Bounce@MX.example.test", requestedReturn: nil, settings: Self.settings(["bounce", "2bounce"]))
        #expect(triple.notices.isEmpty)
        #expect(triple.discarded == "undeliverable postmaster notification discarded")
    }

    @Test func delayWarningsAndTheirCopies() {
        let sender = NoticePlanner.plan(.delay, sender: "s@example.org", requestedReturn: .full, settings: Self.settings(["delay"]))
        #expect(sender.notices.map(\.audience) == [.sender, .postmasterCopy])
        #expect(sender.notices.map(\.returnContent) == [.headers, .headers], "RET=FULL does not apply to delay warnings")
        #expect(sender.notices[1].recipient == "delay-admin@example.test")

        let nullSender = NoticePlanner.plan(.delay, sender: "", requestedReturn: nil, settings: Self.settings(["delay"]))
        #expect(nullSender.notices.map(\.audience) == [.postmasterInstead])
        #expect(nullSender.notices[0].returnContent == .full)
        #expect(NoticePlanner.plan(.delay, sender: "", requestedReturn: nil, settings: Self.settings(["bounce", "2bounce"])).notices.isEmpty)
    }

    @Test func successNoticesForBouncesGoToThe2BounceRecipient() {
        #expect(NoticePlanner.plan(.success, sender: "s@example.org", requestedReturn: nil, settings: Self.settings([])).notices.map(\.audience) == [.sender])
        let double = NoticePlanner.plan(.success, sender: "", requestedReturn: nil, settings: Self.settings(["2bounce"]))
        #expect(double.notices.map(\.recipient) == ["2bounce-admin"])
        #expect(NoticePlanner.plan(.success, sender: "", requestedReturn: nil, settings: Self.settings(["bounce"])).notices.isEmpty)
    }

    @Test func postmasterCopiesAreLabelledAndQuoteAllRecipients() throws {
        let recipients = [QueueRecipient(address: "a@example.net", notify: [.never]), QueueRecipient(address: "b@example.net")]
        let snapshot = DSNComposerTests.snapshot(recipients: recipients)
        var settings = DSNComposerTests.settings
        settings.notifyClasses = ["bounce"]
        let sender = try #require(try DSNComposerTests.notice(.failure, snapshot, settings: settings, audience: 0))
        #expect(sender.reported == [1])
        let copy = try #require(try DSNComposerTests.notice(.failure, snapshot, settings: settings, audience: 1))
        #expect(copy.reported == [0, 1])
        #expect(copy.sender == "double-bounce@mx.example.test")
        #expect(copy.recipients == ["postmaster@mx.example.test"])
        let message = try ParsedMessage(copy.content)
        #expect(message.value("Subject") == "Postmaster Copy: Undelivered Mail")
        #expect(message.value("Auto-Submitted") == "auto-generated")
        #expect(message.value("To") == "postmaster@mx.example.test")
        let parts = try message.parts()
        #expect(parts[0].bodyText.hasPrefix("\r\n<a@example.net>: "), "no boilerplate in postmaster notices")
        #expect(parts[2].value("Content-Type") == "text/rfc822-headers")
    }

    @Test func aDoubleBounceQuotesTheFailedBounce() throws {
        let snapshot = DSNComposerTests.snapshot(sender: "")
        var settings = DSNComposerTests.settings
        settings.notifyClasses = ["2bounce"]
        let dsn = try #require(try DSNComposerTests.notice(.failure, snapshot, settings: settings))
        #expect(dsn.recipients == ["postmaster@mx.example.test"])
        let parts = try ParsedMessage(dsn.content).parts()
        #expect(parts[1].bodyText.contains("X-Postfix-Sender: rfc822; MAILER-DAEMON@mx.example.test\r\n"))
        #expect(parts[2].value("Content-Type") == "message/rfc822")
        #expect(parts[2].bodyText.hasPrefix("Return-Path: <MAILER-DAEMON@mx.example.test>\r\n"))
    }

    @Test func settingsComeFromMainCf() throws {
        let text = """
            myhostname = mx.example.test
            mydomain = example.test
            myorigin = $mydomain
            notify_classes = bounce, 2bounce, Delay
            bounce_size_limit = 1000
            2bounce_notice_recipient = hostmaster
            delay_warning_time = 4h
            maximal_queue_lifetime = 3d
            bounce_queue_lifetime = 1d
            soft_bounce = yes
            """
        let configuration = Configuration(
            directory: "/nonexistent", main: MainConfFile(path: "main.cf", bytes: Array(text.utf8)),
            master: MasterConfFile(path: "master.cf", bytes: []),
            host: HostFacts(hostname: "mx", interfaceAddresses: [], processID: 1))
        let settings = BounceSettings(configuration.global)
        #expect(settings.hostname == "mx.example.test")
        #expect(settings.origin == "example.test")
        #expect(settings.mailName == "Sealpost")
        #expect(settings.notifyClasses == ["bounce", "2bounce", "delay"])
        #expect(settings.sizeLimit == 1000)
        #expect(settings.doubleBounceNoticeRecipient == "hostmaster")
        #expect(settings.bounceNoticeRecipient == "postmaster")
        #expect(settings.delayWarningTime == 4 * 3600)
        #expect(settings.queueLifetime(forSender: "") == 86400)
        #expect(settings.queueLifetime(forSender: "a@b") == 3 * 86400)
        #expect(settings.softBounce)
        #expect(settings.doubleBounceAddress == "double-bounce@mx.example.test")
    }
}

@Suite struct DSNFromTheQueueTests {
    @Test func aBounceOfAQueuedMessageQuotesItsContentAndIsQueuedBack() async throws {
        let queue = try TestQueue(chunkSize: 16)
        let content = "Subject: queued\r\nFrom: s@example.org\r\n\r\n" + String(repeating: "line of body text\r\n", count: 20)
        let id = try await queue.enqueue(
            QueueEnvelope(sender: "s@example.org", recipients: [QueueRecipient(address: "gone@example.net")], returnContent: .full),
            content: content)
        let message = try queue.store.open(id)
        defer { message.close() }
        try await message.record([
            DeliveryOutcome(recipients: [0], result: .bounced, dsnStatus: "5.1.1", reason: "unknown user: \"gone\"")
        ])
        let snapshot = message.snapshot
        let due = try #require(snapshot.dueNotices[.failure])
        let settings = BounceSettings(hostname: "mx.example.test")
        let plan = NoticePlanner.plan(.failure, sender: snapshot.envelope.sender, requestedReturn: snapshot.envelope.returnContent, settings: settings)
        let notice = try #require(plan.notices.first)
        let dsn = try #require(try DSNComposer.compose(notice, about: snapshot, recipients: due, settings: settings, reader: try message.content()))
        let parts = try ParsedMessage(dsn.content).parts()
        #expect(parts[2].bodyText == "Return-Path: <s@example.org>\r\n" + content)
        #expect(parts[1].bodyText.contains("X-Sealpost-Queue-ID: \(id)\r\n"))

        // The notice itself is an ordinary message for the queue.
        let bounceID = try await queue.store.enqueue(
            QueueEnvelope(sender: dsn.sender, recipients: dsn.recipients.map { QueueRecipient(address: $0) }),
            content: String(decoding: dsn.content, as: UTF8.self))
        let queued = try queue.store.open(bounceID)
        defer { queued.close() }
        #expect(try queued.content().readAll() == dsn.content)
        #expect(queued.snapshot.envelope.sender == "")
    }
}
