import Foundation
import SealpostTestSupport
import Testing

extension Reliability {
    /// Durability while mail leaves the queue: SIGKILL of the daemon while a backlog drains into
    /// Maildir, while it relays to a remote server, while it makes bounces, and a remote server
    /// killed in the middle of a transaction. Every acknowledged message must arrive whole, at least
    /// once; the copies a kill makes twice are counted and printed.
    @Suite("SIGKILL while delivering", .serialized) struct DeliveryCrashTests {
        /// A daemon relaying remote.example to the sink (over SMTP, or LMTP when `lmtp`), with
        /// retries a second or two apart.
        static func relayingInstance(to sink: SinkPeer, lmtp: Bool = false) throws -> MailInstance {
            let transport = lmtp ? "lmtp:inet:127.0.0.1:\(sink.port)" : "smtp:[127.0.0.1]:\(sink.port)"
            return try MailInstance(mainExtra: """
                relay_domains = remote.example
                transport_maps = inline:{ remote.example=\(transport) }
                minimal_backoff_time = 1s
                maximal_backoff_time = 2s
                queue_run_delay = 1s
                """)
        }

        /// Waits for `condition`, asking for a queue flush every two seconds so that deferred mail
        /// does not wait for its backoff.
        static func waitFlushing(_ instance: MailInstance, timeout: Double = 90, _ condition: () -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                try? instance.flush()
                if waitUntil(timeout: 2, condition) { return true }
            }
            return condition()
        }

        static func maildirCount(_ instance: MailInstance, _ user: String) -> Int {
            ((try? FileManager.default.contentsOfDirectory(atPath: "\(instance.directory)/mail/example.test/\(user)/new")) ?? []).count
        }

        /// One backlog round: fills the queue with `limit` messages while `transport` is held back by
        /// defer_transports, releases it, and kills the daemon once `progress` (files in the demo
        /// Maildir) has gone a random part of the way. Returns the acknowledged tokens and how far
        /// the drain got (`done/backlog`).
        static func drainRound(
            _ instance: MailInstance, round: Int, holding transport: String, sender: String = "sender@remote.example",
            recipients: [String], limit: Int, prefix: String
        ) throws -> (acknowledged: [String], killedAfter: String) {
            try instance.setMain("defer_transports", transport)
            try instance.startAgain()
            let load = try CrashHarness.Load(
                port: instance.smtpPort, round: round, sender: sender, recipients: recipients, seconds: 30, limit: limit, prefix: prefix)
            let acknowledged = load.finish().acknowledged
            #expect(waitUntil(timeout: 30) { instance.queueFiles("active").isEmpty }, "every message was deferred")
            #expect(instance.stop() == 0)

            try instance.setMain("defer_transports", nil)
            let before = Self.maildirCount(instance, "demo")
            let backlog = instance.queueFiles("deferred").count
            let killAt = before + Int.random(in: 1...max(1, backlog * 2 / 3))
            try instance.startAgain()
            try instance.flush()
            let reached = waitUntil(timeout: 60) { Self.maildirCount(instance, "demo") >= killAt }
            instance.crash()
            #expect(reached, "the drain got under way")
            return (acknowledged, "\(Self.maildirCount(instance, "demo") - before)/\(backlog)")
        }

        @Test("a Maildir backlog drained under SIGKILL: every acknowledged message delivered whole")
        func maildirBacklog() throws {
            let rounds = CrashHarness.rounds(default: 1)
            let instance = try MailInstance()
            var acknowledged: [String] = []
            var kills: [String] = []
            for round in 0..<rounds {
                let (tokens, killedAfter) = try Self.drainRound(
                    instance, round: round, holding: "virtual", recipients: ["demo@example.test"], limit: 300, prefix: "m")
                acknowledged += tokens
                kills.append(killedAfter)
            }
            try instance.startAgain()
            #expect(Self.waitFlushing(instance) { instance.queueIsEmpty }, "the queue drains after the last restart")
            var figures = CrashHarness.figures(
                phase: "maildir-drain", rounds: rounds, acknowledged: acknowledged, arrived: instance.mailbox("demo"), instance: instance)
            figures.extra.append(("killed-after", kills.joined(separator: ",")))
            // A write the kill cut short stays in tmp/, as with Postfix: never in new/, where readers look.
            let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: "\(instance.directory)/mail/example.test/demo/tmp")) ?? []
            figures.extra.append(("maildir-tmp-leftovers", "\(leftovers.count)"))
            CrashHarness.expectSound(figures, instance)
            #expect(instance.stop() == 0)
        }

        @Test("a backlog of refused mail bounced under SIGKILL: every bounce made at least once, whole")
        func bounceBacklog() throws {
            let rounds = CrashHarness.rounds(default: 1)
            let sink = try SinkPeer(options: ["-f", "rcpt"])
            let instance = try Self.relayingInstance(to: sink)
            var acknowledged: [String] = []
            var kills: [String] = []
            for round in 0..<rounds {
                // Only the remote recipient: every file in the sender's Maildir is a bounce.
                let (tokens, killedAfter) = try Self.drainRound(
                    instance, round: round, holding: "smtp", sender: "demo@example.test", recipients: ["nobody@remote.example"],
                    limit: 150, prefix: "q")
                acknowledged += tokens
                kills.append(killedAfter)
            }
            try instance.startAgain()
            let settled = Self.waitFlushing(instance) {
                instance.queueIsEmpty && Set(instance.mailbox("demo").compactMap(CrashHarness.token(of:))).isSuperset(of: acknowledged)
            }
            #expect(settled, "every bounce is made after the last restart")
            let bounces = instance.mailbox("demo")
            var figures = CrashHarness.figures(
                phase: "bounce-backlog", rounds: rounds, acknowledged: acknowledged, arrived: bounces, instance: instance)
            figures.extra.append(("killed-after", kills.joined(separator: ",")))
            CrashHarness.expectSound(figures, instance)
            let notBounces = bounces.filter { !$0.contains("Subject: Undelivered Mail Returned to Sender") }
            #expect(notBounces.isEmpty, "only bounces arrive: \(notBounces.count) other messages")
            #expect(sink.transactions.isEmpty, "the refused recipient received nothing")
            #expect(instance.stop() == 0)
        }

        @Test("relaying to a remote server under SIGKILL: every acknowledged message reaches the peer whole")
        func remoteRelay() throws {
            let rounds = CrashHarness.rounds(default: 1)
            let sink = try SinkPeer()
            let instance = try Self.relayingInstance(to: sink)
            var acknowledged: [String] = []
            for round in 0..<rounds {
                try instance.startAgain()
                let load = try CrashHarness.Load(
                    port: instance.smtpPort, round: round, recipients: ["someone@remote.example"], seconds: 4, prefix: "s")
                CrashHarness.randomPause(1.0..<2.5)
                instance.crash()
                acknowledged += load.finish().acknowledged
            }
            try instance.startAgain()
            let arrivedAll = Self.waitFlushing(instance) {
                instance.queueIsEmpty && Set(sink.transactions.compactMap(CrashHarness.token(of:))).isSuperset(of: acknowledged)
            }
            #expect(arrivedAll, "the queue drains to the peer after the last restart")
            let transactions = sink.transactions
            let whole = transactions.filter { CrashHarness.isComplete($0) }
            var figures = CrashHarness.figures(
                phase: "smtp-relay", rounds: rounds, acknowledged: acknowledged, arrived: whole, instance: instance)
            // Transactions cut off by the kill were never acknowledged by the peer; they do not count.
            figures.extra.append(("peer-received", "\(transactions.count)"))
            figures.extra.append(("peer-cut-off", "\(transactions.count - whole.count)"))
            figures.extra.append(("logged-sent", "\(instance.logCount("status=sent"))"))
            CrashHarness.expectSound(figures, instance)
            #expect(instance.stop() == 0)
        }

        @Test("making bounces under SIGKILL: every refused recipient bounced at least once, no recipient both delivered and bounced")
        func bouncing() throws {
            let rounds = CrashHarness.rounds(default: 1)
            let sink = try SinkPeer(options: ["-f", "rcpt"])
            let instance = try Self.relayingInstance(to: sink)
            var acknowledged: [String] = []
            for round in 0..<rounds {
                try instance.startAgain()
                // One local recipient delivered, one remote recipient refused with 550: a bounce for
                // the remote one comes back to the (local) sender.
                let load = try CrashHarness.Load(
                    port: instance.smtpPort, round: round, sender: "demo@example.test",
                    recipients: ["demo@example.test", "nobody@remote.example"], seconds: 4, prefix: "b")
                CrashHarness.randomPause(1.0..<2.5)
                instance.crash()
                acknowledged += load.finish().acknowledged
            }
            try instance.startAgain()
            func isBounce(_ message: String) -> Bool {
                let headers = message.components(separatedBy: "\n\n").first ?? ""
                return headers.contains("Subject: Undelivered Mail Returned to Sender")
            }
            let settled = Self.waitFlushing(instance) {
                let bounced = Set(instance.mailbox("demo").filter(isBounce).compactMap(CrashHarness.token(of:)))
                return instance.queueIsEmpty && bounced.isSuperset(of: acknowledged)
            }
            #expect(settled, "every bounce is made after the last restart")
            let mailbox = instance.mailbox("demo")
            let bounces = mailbox.filter(isBounce)
            let copies = mailbox.filter { !isBounce($0) }
            var bounceFigures = CrashHarness.figures(
                phase: "bouncing", rounds: rounds, acknowledged: acknowledged, arrived: bounces, instance: instance)
            let copyFigures = CrashHarness.figures(
                phase: "bouncing-local-copy", rounds: rounds, acknowledged: acknowledged, arrived: copies, instance: instance)
            bounceFigures.extra.append(("peer-received", "\(sink.transactions.count)"))
            CrashHarness.expectSound(bounceFigures, instance)
            CrashHarness.expectSound(copyFigures, instance)
            // The delivered recipient is never reported as failed, and the refused one never arrived.
            let misreported = bounces.filter { $0.contains("Final-Recipient: rfc822; demo@example.test") }
            #expect(misreported.isEmpty, "bounces that name the delivered recipient: \(misreported.count)")
            #expect(sink.transactions.isEmpty, "the refused recipient received nothing")
            #expect(instance.stop() == 0)
        }

        @Test(
            "the SMTP or LMTP server killed in the middle of DATA: the message is deferred and delivered once it returns",
            arguments: ["smtp", "lmtp"])
        func peerKilledDuringData(protocolName: String) throws {
            let rounds = CrashHarness.rounds(default: 1)
            // The sink takes the content, then waits three seconds before it answers the final dot.
            let lmtp = protocolName == "lmtp"
            let slowDot = (lmtp ? ["-L"] : []) + ["-W", ".:3"]
            let sink = try SinkPeer(options: slowDot)
            let instance = try Self.relayingInstance(to: sink, lmtp: lmtp)
            try instance.startAgain()
            var acknowledged: [String] = []
            for round in 0..<rounds {
                if round > 0 { try sink.start(options: slowDot) }
                let received = sink.transactions.count
                let deferred = instance.logCount("status=deferred")
                let load = try CrashHarness.Load(
                    port: instance.smtpPort, round: round, recipients: ["someone@remote.example"], seconds: 10, limit: 5,
                    threads: 5, prefix: "p")
                acknowledged += load.finish().acknowledged
                #expect(waitUntil(timeout: 20) { sink.transactions.count > received }, "the peer got a transaction")
                CrashHarness.randomPause(0.0..<1.5)
                sink.stop()
                #expect(waitUntil(timeout: 30) { instance.logCount("status=deferred") > deferred }, "the broken delivery is deferred")
                try sink.start(options: lmtp ? ["-L"] : [])
                // The killed peer's dumps are whole too: the round ends when the queue is empty as
                // well, or a redelivery would meet the next round's kill.
                let delivered = Self.waitFlushing(instance) {
                    instance.queueIsEmpty
                        && Set(sink.transactions.filter { CrashHarness.isComplete($0) }.compactMap(CrashHarness.token(of:))).isSuperset(of: acknowledged)
                }
                #expect(delivered, "delivered once the peer is back")
            }
            #expect(waitUntil(timeout: 30) { instance.queueIsEmpty })
            let transactions = sink.transactions
            let whole = transactions.filter { CrashHarness.isComplete($0) }
            var figures = CrashHarness.figures(
                // Each round's messages meet that round's kill of the peer only: at most two copies.
                phase: "\(protocolName)-peer-killed", rounds: rounds, kills: 1, acknowledged: acknowledged, arrived: whole, instance: instance)
            let deferrals = instance.logCount("status=deferred")
            figures.extra.append(("deferred", "\(deferrals)"))
            figures.extra.append(("peer-received", "\(transactions.count)"))
            figures.extra.append(("peer-cut-off", "\(transactions.count - whole.count)"))
            CrashHarness.expectSound(figures, instance)
            #expect(deferrals > 0)
            #expect(instance.log.contains("lost connection"), "the deferral says the connection was lost")
            #expect(instance.log.contains("postfix/\(protocolName)["), "delivered by the \(protocolName) client")
            #expect(instance.stop() == 0)
        }
    }
}
