import Foundation
import SealpostTestSupport
import Testing

extension Reliability {
    /// A full queue file system at the server: a small tmpfs mounted as `queue_directory`. Clients
    /// get `452 4.3.1 Insufficient system storage` (at MAIL FROM once free space is below 1.5 ×
    /// `message_size_limit`, at the end of DATA when the disk fills under a message), nothing is
    /// acknowledged that was not stored, nothing partial is left behind, and once space returns new
    /// mail is taken and everything acknowledged is delivered.
    @Suite("Full queue file system", .serialized) struct FullDiskTests {
        /// A tmpfs of `size` on `path`, unmounted when released (lazily if a process still uses it).
        final class Mount {
            let path: String

            init(tmpfs path: String, size: String, owner: (uid: UInt32, gid: UInt32) = (0, 0)) throws {
                self.path = path
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                let options = "size=\(size),mode=0755,uid=\(owner.uid),gid=\(owner.gid)"
                let (status, output) = try PeerProgram.run("/bin/mount", ["-t", "tmpfs", "-o", options, "tmpfs", path])
                guard status == 0 else { throw TestFailure("mount tmpfs on \(path): \(output)") }
            }

            private var mounted = true

            /// Unmounts (lazily if a process still uses it); once.
            func unmount() {
                guard mounted else { return }
                mounted = false
                if (try? PeerProgram.run("/bin/umount", [path]))?.status != 0 {
                    _ = try? PeerProgram.run("/bin/umount", ["-l", path])
                }
            }

            deinit { unmount() }
        }

        /// The message size limit: MAIL FROM is refused once less than 1.5 times this is free.
        static let sizeLimit = 60_000
        /// Bodies of about 40 KB.
        static let shape = CrashHarness.BodyShape(lines: 500, width: 60)

        @Test("a full queue file system: 452 4.3.1, nothing partial, recovery once space returns", .enabled(if: geteuid() == 0))
        func fullQueueFileSystem() throws {
            let instance = try MailInstance(mainExtra: """
                message_size_limit = \(Self.sizeLimit)
                defer_transports = virtual
                """)
            let mount = try Mount(tmpfs: instance.directory + "/queue", size: "4m")
            defer {
                instance.crash()
                mount.unmount()
            }
            try instance.startAgain()
            let ballast = mount.path + "/ballast"

            // 1. The disk fills between MAIL FROM and the end of the content, for DATA and for BDAT.
            let script = """
                import errno, os, smtplib
                token = "full-data"
                message = "Subject: %s\\r\\nX-Token: %s\\r\\n\\r\\n" % (token, token) + \(Self.shape.python)
                client = smtplib.SMTP("127.0.0.1", \(instance.smtpPort), timeout=30)
                client.ehlo("client.example")
                print("mail-before %d" % client.mail("sender@remote.example")[0])
                print("rcpt-before %d" % client.rcpt("demo@example.test")[0])
                chunked = smtplib.SMTP("127.0.0.1", \(instance.smtpPort), timeout=30)
                chunked.ehlo("client.example")
                print("chunking %s" % chunked.has_extn("chunking"))
                print("bdat-mail-before %d" % chunked.mail("sender@remote.example")[0])
                print("bdat-rcpt-before %d" % chunked.rcpt("demo@example.test")[0])
                descriptor = os.open("\(ballast)", os.O_WRONLY | os.O_CREAT, 0o600)
                for size in (1 << 16, 1 << 12, 1 << 9):
                    while True:
                        try:
                            os.write(descriptor, b"\\0" * size)
                        except OSError as error:
                            if error.errno != errno.ENOSPC: raise
                            break
                os.close(descriptor)
                try:
                    code, text = client.data(message)
                except smtplib.SMTPDataError as error:
                    code, text = error.smtp_code, error.smtp_error
                print("data %d %s" % (code, text.decode()))
                client.quit()
                content = message.encode()
                chunked.send(b"BDAT %d LAST\\r\\n" % len(content) + content)
                code, text = chunked.getreply()
                print("bdat %d %s" % (code, text.decode()))
                chunked.quit()
                second = smtplib.SMTP("127.0.0.1", \(instance.smtpPort), timeout=30)
                second.ehlo("client.example")
                code, text = second.mail("sender@remote.example")
                print("mail %d %s" % (code, text.decode()))
                second.quit()
                """
            let replies = try python(script)
            #expect(replies.contains("mail-before 250") && replies.contains("rcpt-before 250"), "\(replies)")
            #expect(replies.contains("data 452 4.3.1 Insufficient system storage"), "the end of DATA on a full disk: \(replies)")
            #expect(replies.contains("chunking True") && replies.contains("bdat-rcpt-before 250"), "\(replies)")
            #expect(replies.contains("bdat 452 4.3.1 Insufficient system storage"), "BDAT LAST on a full disk: \(replies)")
            #expect(replies.contains("mail 452 4.3.1 Insufficient system storage"), "MAIL FROM on a full disk: \(replies)")
            #expect(instance.messagesInIncoming.isEmpty, "no partial file in incoming: \(instance.messagesInIncoming)")
            #expect(instance.queueFiles("active").isEmpty && instance.queueFiles("deferred").isEmpty, "nothing was queued")
            let dataEndReply = replies.split(separator: "\n").first { $0.hasPrefix("data ") }.map { String($0.dropFirst(5)) } ?? "none"

            // Space returns: mail is taken again.
            try FileManager.default.removeItem(atPath: ballast)
            var report = try CrashHarness.Load(
                port: instance.smtpPort, round: 0, recipients: ["demo@example.test"], seconds: 20, limit: 1, threads: 1, shape: Self.shape,
                prefix: "after-ballast").finish()
            #expect(report.acknowledged.count == 1, "accepted once the ballast is gone: \(report)")

            // 2. Senders fill the disk, with SIGKILLs at random moments of the filling (each
            // restart recovers on a full or nearly full disk), until MAIL FROM is refused.
            let rounds = CrashHarness.rounds(default: 1)
            for round in 0..<rounds {
                let load = try CrashHarness.Load(
                    port: instance.smtpPort, round: round, recipients: ["demo@example.test"], seconds: 60, threads: 5, shape: Self.shape,
                    prefix: "kill")
                CrashHarness.randomPause(0.3..<2.0)
                instance.crash()
                report.merge(load.finish())
                try instance.startAgain()
                #expect(instance.messagesInIncoming.isEmpty, "recovery removed what was being written: \(instance.messagesInIncoming)")
            }
            report.merge(
                try CrashHarness.Load(
                    port: instance.smtpPort, round: 0, recipients: ["demo@example.test"], seconds: 60, threads: 5, shape: Self.shape,
                    prefix: "fill"
                ).finish())
            #expect(!report.refusedAtMail.isEmpty, "MAIL FROM refused once the disk is nearly full")
            let wrongReplies = (report.refusedAtMail + report.refusedAtData).filter { !$0.hasPrefix("452 4.3.1 Insufficient system storage") }
            #expect(wrongReplies.isEmpty, "refusals other than 452 4.3.1: \(wrongReplies.prefix(5))")
            #expect(instance.messagesInIncoming.isEmpty, "no partial file in incoming: \(instance.messagesInIncoming)")
            #expect(instance.log.contains("not enough free space in mail queue"))

            // 3. A crash on the full disk, a restart without the hold: the backlog drains to Maildir
            // (not on the tmpfs), space returns, and new mail is taken.
            instance.crash()
            try instance.setMain("defer_transports", nil)
            try instance.startAgain()
            let drained = DeliveryCrashTests.waitFlushing(instance) {
                instance.queueIsEmpty && Set(instance.mailbox("demo").compactMap(CrashHarness.token(of:))).isSuperset(of: report.acknowledged)
            }
            #expect(drained, "everything acknowledged is delivered once space returns")
            let late = try CrashHarness.Load(
                port: instance.smtpPort, round: 0, recipients: ["demo@example.test"], seconds: 20, limit: 1, threads: 1, shape: Self.shape,
                prefix: "late"
            ).finish()
            #expect(late.acknowledged.count == 1, "accepted after the drain: \(late)")
            report.merge(late)
            #expect(waitUntil(timeout: 30) { instance.queueIsEmpty })

            var figures = CrashHarness.figures(
                phase: "full-queue-disk", rounds: rounds, kills: rounds + 1, acknowledged: report.acknowledged, arrived: instance.mailbox("demo"), shape: Self.shape,
                instance: instance)
            figures.extra += [
                ("refused-at-mail", "\(report.refusedAtMail.count)"), ("refused-at-data", "\(report.refusedAtData.count)"),
                ("data-end-reply", "'\(dataEndReply)'"),
            ]
            CrashHarness.expectSound(figures, instance)
            #expect(figures.duplicated == 0, "delivery was held during the kills, so no duplicates")
        }

        @Test("a queue that fails writes for another reason than space: 451 4.3.0, as Postfix's cleanup", .enabled(if: geteuid() == 0))
        func unwritableQueue() throws {
            let instance = try MailInstance(mainExtra: "defer_transports = virtual")
            // incoming/ made immutable (chattr +i): creating a file there fails with EPERM, also
            // through the directory descriptor the queue keeps open.
            let incoming = instance.directory + "/queue/incoming"
            try instance.startAgain()
            var immutable = false
            defer {
                if immutable { _ = try? PeerProgram.run("/usr/bin/chattr", ["-i", incoming]) }
                instance.crash()
            }
            let (status, output) = try PeerProgram.run("/usr/bin/chattr", ["+i", incoming])
            guard status == 0 else {
                Issue.record("chattr +i \(incoming) (e2fsprogs; the file system must support it): \(output)")
                return
            }
            immutable = true
            let script = """
                import smtplib
                client = smtplib.SMTP("127.0.0.1", \(instance.smtpPort), timeout=30)
                client.ehlo("client.example")
                try:
                    client.sendmail("sender@remote.example", ["demo@example.test"], "Subject: eperm\\r\\n\\r\\nbody\\r\\n")
                    print("sent 250")
                except smtplib.SMTPDataError as error:
                    print("data %d %s" % (error.smtp_code, error.smtp_error.decode()))
                client.quit()
                """
            let refused = try python(script)
            #expect(refused.contains("data 451 4.3.0 Error: queue file write error"), "EPERM is no full disk: \(refused)")
            #expect(instance.log.contains("queue file write error"), "the log says why")
            let restored = try PeerProgram.run("/usr/bin/chattr", ["-i", incoming])
            #expect(restored.status == 0, "chattr -i: \(restored.output)")
            immutable = restored.status != 0
            let accepted = try python(script)
            #expect(accepted.contains("sent 250"), "taken again once the queue is writable: \(accepted)")
            #expect(instance.messagesInIncoming.isEmpty)
        }

        /// Fills the file system holding `path` with a file there, until ENOSPC.
        static func fill(_ path: String) throws {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            guard descriptor >= 0 else { throw TestFailure("open \(path): errno \(errno)") }
            defer { close(descriptor) }
            for size in [1 << 16, 1 << 12, 1 << 9] {
                let zeros = [UInt8](repeating: 0, count: size)
                while zeros.withUnsafeBytes({ write(descriptor, $0.baseAddress, size) }) > 0 {}
                guard errno == ENOSPC else { throw TestFailure("write \(path): errno \(errno)") }
            }
        }

        @Test("a full Maildir file system: deliveries defer with 4.3.0, nothing partial in new/, delivered once space returns", .enabled(if: geteuid() == 0))
        func fullMaildirFileSystem() throws {
            let instance = try MailInstance(mainExtra: """
                minimal_backoff_time = 1s
                maximal_backoff_time = 2s
                queue_run_delay = 1s
                """)
            let mount = try Mount(tmpfs: instance.directory + "/mail", size: "1m", owner: MailInstance.owner)
            defer {
                instance.crash()
                mount.unmount()
            }
            try instance.startAgain()
            // The Maildir exists before the disk fills: the deliveries fail writing, not creating.
            var report = try CrashHarness.Load(
                port: instance.smtpPort, round: 0, recipients: ["demo@example.test"], seconds: 20, limit: 1, threads: 1, shape: Self.shape,
                prefix: "before"
            ).finish()
            #expect(waitUntil(timeout: 30) { instance.mailbox("demo").count == 1 })
            let ballast = mount.path + "/ballast"
            try Self.fill(ballast)

            report.merge(
                try CrashHarness.Load(
                    port: instance.smtpPort, round: 0, recipients: ["demo@example.test"], seconds: 20, limit: 5, threads: 1,
                    shape: Self.shape, prefix: "full"
                ).finish())
            #expect(report.acknowledged.count == 6, "the queue file system has room: \(report)")
            #expect(waitUntil(timeout: 30) { instance.logCount("dsn=4.3.0, status=deferred") >= 5 }, "the deliveries are deferred as mail system full")
            let maildir = instance.directory + "/mail/example.test/demo"
            let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: maildir + "/tmp")) ?? []
            #expect(instance.mailbox("demo").count == 1, "no partial message in new/")
            #expect(leftovers.isEmpty, "no partial message left in tmp/: \(leftovers)")
            #expect(instance.log.contains("No space left on device"), "the deferral says why")

            try FileManager.default.removeItem(atPath: ballast)
            let delivered = DeliveryCrashTests.waitFlushing(instance) {
                instance.queueIsEmpty && instance.mailbox("demo").count >= report.acknowledged.count
            }
            #expect(delivered, "delivered once space returns")
            var figures = CrashHarness.figures(
                phase: "full-maildir-disk", rounds: 1, kills: 0, acknowledged: report.acknowledged, arrived: instance.mailbox("demo"),
                shape: Self.shape, instance: instance)
            figures.extra.append(("deferred-4.3.0", "\(instance.logCount("dsn=4.3.0, status=deferred"))"))
            CrashHarness.expectSound(figures, instance)
            #expect(figures.duplicated == 0)
            #expect(instance.stop() == 0)
        }
    }
}
