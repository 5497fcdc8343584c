import Foundation
import SealpostTestSupport
import Testing

/// Outbound SMTP from the running daemon to Postfix's smtp-sink: a 5xx from the remote server
/// comes back to the local sender as a bounce in their Maildir; a 4xx is retried with backoff and
/// returned once the message is older than `maximal_queue_lifetime`.
@Suite("Remote delivery end to end", .serialized) struct RemoteDeliveryTests {
    /// smtp-sink on a loopback port, refusing RCPT with a hard (`-f rcpt`) or soft (`-r rcpt`) error.
    final class Sink {
        let process = Process()
        let port: Int

        init(refuseRecipients flag: String) throws {
            port = try MailInstance.freePort()
            let path = ["/usr/sbin/smtp-sink", "/usr/bin/smtp-sink"].first { FileManager.default.isExecutableFile(atPath: $0) }
            guard let path else {
                Issue.record("smtp-sink is missing: install the Debian package postfix")
                throw CocoaError(.fileNoSuchFile)
            }
            process.executableURL = URL(fileURLWithPath: path)
            var arguments = [flag, "rcpt"]
            if geteuid() == 0 { arguments += ["-u", "nobody"] }
            process.arguments = arguments + ["127.0.0.1:\(port)", "10"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let listening = waitUntil(timeout: 10) {
                let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                defer { close(socket) }
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                address.sin_port = in_port_t(UInt16(self.port).bigEndian)
                return withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                } == 0
            }
            guard listening else { throw CocoaError(.fileReadUnknown) }
        }

        deinit {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
    }

    static func instance(sinkPort: Int, extra: String = "") throws -> MailInstance {
        try MailInstance(mainExtra: """
            relay_domains = remote.example
            transport_maps = inline:{ remote.example=smtp:[127.0.0.1]:\(sinkPort) }
            \(extra)
            """)
    }

    @Test("a 550 from the remote server becomes a bounce in the local sender's Maildir")
    func remoteRefusalBouncesToTheSender() throws {
        let sink = try Sink(refuseRecipients: "-f")
        let instance = try Self.instance(sinkPort: sink.port)
        try instance.start()
        try DeliveryEndToEndTests.send(instance, from: "demo@example.test", to: "nobody@remote.example", subject: "refused")
        #expect(waitUntil(timeout: 30) { instance.mailbox("demo").contains { $0.contains("Undelivered Mail Returned to Sender") } })
        let bounce = try #require(instance.mailbox("demo").first { $0.contains("Undelivered Mail Returned to Sender") })
        #expect(bounce.contains("Final-Recipient: rfc822; nobody@remote.example"))
        #expect(bounce.contains("Remote-MTA: dns; 127.0.0.1"))
        #expect(bounce.contains("Diagnostic-Code: smtp; 5"))
        #expect(bounce.contains("(in reply to RCPT TO command)"))
        #expect(instance.log.contains(#/postfix/smtp\[[0-9]+\]: [0-9A-Za-z]+: to=<nobody@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:[0-9]+, delay=[0-9.]+, delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+, dsn=5\.[0-9.]+, status=bounced \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 5/#))
        #expect(instance.stop() == 0)
    }

    @Test("a 4xx is retried with backoff, then returned after maximal_queue_lifetime")
    func temporaryFailureIsRetriedThenExpires() throws {
        let sink = try Sink(refuseRecipients: "-r")
        let instance = try Self.instance(sinkPort: sink.port, extra: """
            minimal_backoff_time = 1s
            maximal_backoff_time = 2s
            queue_run_delay = 1s
            maximal_queue_lifetime = 6s
            """)
        try instance.start()
        try DeliveryEndToEndTests.send(instance, from: "demo@example.test", to: "later@remote.example", subject: "expiring")
        #expect(waitUntil(timeout: 60) { instance.mailbox("demo").contains { $0.contains("Undelivered Mail Returned to Sender") } })
        let attempts = instance.log.split(separator: "\n").filter { $0.contains("to=<later@remote.example>") && $0.contains("status=deferred") }
        #expect(attempts.count >= 2, "retried before it expired: \(attempts.count) attempts")
        #expect(instance.log.contains("status=expired, returned to sender"))
        let bounce = try #require(instance.mailbox("demo").first { $0.contains("Undelivered Mail Returned to Sender") })
        #expect(bounce.contains("Status: 4."), "the last temporary status is reported")
        #expect(bounce.contains("Action: failed"))
        #expect(instance.stop() == 0)
    }
}
