import Foundation
import SealpostTestSupport
import Testing

/// The running daemon after "250 queued": bounces delivered to a local sender's Maildir,
/// `sealpost sendmail` through the pickup service, and the queue tools against live mail.
@Suite("Delivery end to end", .serialized) struct DeliveryEndToEndTests {
    /// Sends one message over SMTP on the instance's port 25 service.
    static func send(_ instance: MailInstance, from sender: String, to recipient: String, subject: String) throws {
        _ = try python(
            """
            import smtplib
            with smtplib.SMTP("127.0.0.1", \(instance.smtpPort), timeout=10) as client:
                client.sendmail("\(sender)", ["\(recipient)"], "Subject: \(subject)\\r\\nMessage-ID: <\(subject)@example.test>\\r\\n\\r\\nbody of \(subject)\\r\\n")
            """)
    }

    /// A running instance whose mail for later.example is deferred by the retry transport (next try
    /// in an hour), with one such message sent and deferred.
    static func instanceWithDeferredMail(subject: String) throws -> MailInstance {
        let instance = try MailInstance(mainExtra: """
            relay_domains = later.example
            smtpd_reject_unlisted_recipient = no
            transport_maps = inline:{ { later.example = retry:4.4.1 the remote side is not ready } }
            minimal_backoff_time = 1h
            maximal_backoff_time = 2h
            """)
        try instance.start()
        try send(instance, from: "demo@example.test", to: "someone@later.example", subject: subject)
        #expect(instance.waitForLog("status=deferred (the remote side is not ready)", timeout: 20))
        return instance
    }

    @Test("an undeliverable message comes back to its local sender as an RFC 3464 report")
    func bounceReachesTheSendersMaildir() throws {
        let instance = try MailInstance(mainExtra: """
            relay_domains = gone.example
            # Postfix refuses mail for the error transport at RCPT through reject_unlisted_recipient;
            # without it the mail is queued and the error agent bounces it.
            smtpd_reject_unlisted_recipient = no
            transport_maps = inline:{ { gone.example = error:5.1.1 nobody here by that name } }
            notify_classes = resource, software, bounce
            """)
        try instance.start()
        try Self.send(instance, from: "demo@example.test", to: "someone@gone.example", subject: "doomed")
        #expect(instance.waitForLog("sender non-delivery notification", timeout: 20))
        #expect(waitUntil(timeout: 20) { instance.mailbox("demo").contains { $0.contains("Undelivered Mail Returned to Sender") } })
        let bounce = try #require(instance.mailbox("demo").first { $0.contains("Undelivered Mail Returned to Sender") })
        #expect(bounce.contains("Content-Type: multipart/report; report-type=delivery-status;"))
        #expect(bounce.contains("Final-Recipient: rfc822; someone@gone.example"))
        #expect(bounce.contains("Action: failed"))
        #expect(bounce.contains("Status: 5.1.1"))
        #expect(bounce.contains("nobody here by that name"))
        #expect(bounce.contains("Subject: doomed"), "the returned message is attached in full")
        #expect(bounce.contains("Return-Path: <>"))
        let log = instance.log
        #expect(log.contains("to=<someone@gone.example>, relay=none"))
        #expect(log.contains("dsn=5.1.1, status=bounced (nobody here by that name)"))
        #expect(log.contains("postmaster non-delivery notification"), "notify_classes has bounce: a headers-only copy to postmaster")
        #expect(instance.stop() == 0)
    }

    @Test("sendmail from a local program is picked up and delivered")
    func sendmailIsPickedUpAndDelivered() throws {
        let instance = try MailInstance()
        try instance.start()
        let result = try SealpostBinary.run(
            ["sendmail", "-C", instance.directory, "-f", "demo@example.test", "demo@example.test"],
            input: "Subject: from a cron job\n\nlocal mail\n.\n")
        #expect(result.status == 0, "\(result.standardError)")
        #expect(waitUntil(timeout: 20) { instance.mailbox("demo").contains { $0.contains("Subject: from a cron job") } })
        let message = try #require(instance.mailbox("demo").first { $0.contains("Subject: from a cron job") })
        #expect(message.contains("Received: by mx.example.test (Sealpost, from userid \(geteuid()))"))
        #expect(message.contains("\nlocal mail\n"))
        #expect(instance.log.contains(#/postfix/pickup\[[0-9]+\]: [0-9A-Za-z]+: uid=[0-9]+ from=<demo@example.test>/#))
        #expect(instance.stop() == 0)
    }

    @Test("queue list shows deferred mail with its reason; hold, release, flush and delete work on live mail")
    func queueToolsOnLiveMail() throws {
        let instance = try Self.instanceWithDeferredMail(subject: "waiting")
        let queue = { (arguments: [String]) throws -> SealpostBinary.Result in
            try SealpostBinary.run(["queue", "-c", instance.directory] + arguments)
        }
        #expect(waitUntil(timeout: 10) { ((try? queue(["list"]))?.standardOutput ?? "").contains("(the remote side is not ready)") })
        let listed = try queue(["list"])
        let id = try #require(listed.standardOutput.split(separator: "\n").dropFirst().first?.split(separator: " ").first.map(String.init))
        #expect(listed.standardOutput.contains("someone@later.example"))
        #expect(listed.standardOutput.contains("-- 1 Kbytes in 1 Request.") || listed.standardOutput.contains("in 1 Request."))

        #expect(try queue(["hold", id]).status == 0)
        #expect(try queue(["list"]).standardOutput.contains("\(id)!"))
        #expect(try queue(["release", id]).status == 0)
        #expect(!(try queue(["list"]).standardOutput.contains("\(id)!")))
        // A flush tries it again now, whatever its retry time: the log gets a second deferral.
        let before = instance.log.components(separatedBy: "status=deferred (the remote side is not ready)").count
        #expect(try queue(["flush"]).status == 0)
        #expect(waitUntil(timeout: 20) { instance.log.components(separatedBy: "status=deferred (the remote side is not ready)").count > before })
        #expect(waitUntil(timeout: 10) { (try? queue(["delete", id]))?.status == 0 })
        #expect(try queue(["list"]).standardOutput.contains("Mail queue is empty"))
        #expect(instance.stop() == 0)
    }

    @Test("ETRN for a site of fast_flush_domains retries the deferred mail; other sites get 459")
    func etrnFlushesDeferredMail() throws {
        let instance = try Self.instanceWithDeferredMail(subject: "etrn")
        // Wait until the deferral is on disk and the manager has let go of the message.
        #expect(waitUntil(timeout: 10) {
            ((try? FileManager.default.contentsOfDirectory(atPath: instance.directory + "/queue/deferred")) ?? []).count == 1
        })
        usleep(300_000)
        let before = instance.log.components(separatedBy: "status=deferred (the remote side is not ready)").count
        let replies = try python(
            """
            import smtplib
            client = smtplib.SMTP("127.0.0.1", \(instance.smtpPort), timeout=10)
            client.ehlo("client.example")
            print(client.docmd("ETRN", "elsewhere.example"))
            print(client.docmd("ETRN", "later.example"))
            client.quit()
            """)
        #expect(replies.contains("(459, b'4.3.0 <elsewhere.example>: service unavailable')"), "\(replies)")
        #expect(replies.contains("(250, b'Queuing started')"), "\(replies)")
        #expect(waitUntil(timeout: 20) { instance.log.components(separatedBy: "status=deferred (the remote side is not ready)").count > before })
        #expect(instance.stop() == 0)
    }
}
