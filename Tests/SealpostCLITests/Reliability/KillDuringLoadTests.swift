import Foundation
import SealpostTestSupport
import Testing

/// Durability end to end: concurrent senders, SIGKILL in the middle of the load, restart. Every
/// message that got its 250 must be delivered after the restart; a message may be delivered twice
/// (killed after the Maildir write and before its result reached the journal), never lost.
///
/// `SEALPOST_KILL_ROUNDS` sets the rounds (default 2); the figures are printed for the closing notes.
@Suite("SIGKILL during a load of incoming mail", .serialized) struct KillDuringLoadTests {
    /// Ten threads of smtplib send to demo@example.test until `seconds` pass or the server is gone;
    /// each message carries a unique token, printed once its DATA got a 250.
    static func senderScript(port: Int, seconds: Double, round: Int) -> String {
        """
        import smtplib, sys, threading, time
        deadline = time.time() + \(seconds)
        lock = threading.Lock()
        def worker(n):
            count, failures = 0, 0
            while time.time() < deadline and failures < 40:
                token = "r\(round)-t%d-%d" % (n, count)
                count += 1
                message = "Subject: %s\\r\\nX-Token: %s\\r\\n\\r\\n%s\\r\\n" % (token, token, "x" * 2000)
                try:
                    with smtplib.SMTP("127.0.0.1", \(port), timeout=5) as client:
                        client.sendmail("sender@remote.example", ["demo@example.test"], message)
                    with lock:
                        sys.stdout.write(token + "\\n")
                        sys.stdout.flush()
                    failures = 0
                except Exception:
                    failures += 1
                    time.sleep(0.05)
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(10)]
        for thread in threads: thread.start()
        for thread in threads: thread.join()
        """
    }

    /// The X-Token values of every delivered message.
    static func deliveredTokens(_ instance: MailInstance) -> [String] {
        instance.mailbox("demo").compactMap { message in
            message.split(separator: "\n").first { $0.hasPrefix("X-Token: ") }.map { String($0.dropFirst(9)) }
        }
    }

    static func queueIsEmpty(_ instance: MailInstance) -> Bool {
        ["active", "deferred", "incoming"].allSatisfy { queue in
            ((try? FileManager.default.contentsOfDirectory(atPath: "\(instance.directory)/queue/\(queue)")) ?? []).isEmpty
        }
    }

    @Test("every acknowledged message is delivered after a SIGKILL and a restart")
    func acknowledgedMailSurvivesSIGKILL() throws {
        let rounds = Int(ProcessInfo.processInfo.environment["SEALPOST_KILL_ROUNDS"] ?? "") ?? 2
        let instance = try MailInstance()
        var acknowledged: [String] = []
        for round in 0..<rounds {
            try instance.start()
            let sender = Process()
            sender.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            sender.arguments = ["python3", "-c", Self.senderScript(port: instance.smtpPort, seconds: 4, round: round)]
            let output = Pipe()
            sender.standardOutput = output
            sender.standardError = FileHandle.nullDevice
            try sender.run()
            // Let the load build up, then pull the plug in the middle of it.
            usleep(useconds_t(1_000_000 + Int.random(in: 0..<1_000_000)))
            instance.crash()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            sender.waitUntilExit()
            acknowledged += String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        }
        try instance.start()
        let drained = waitUntil(timeout: 60) { Self.queueIsEmpty(instance) }
        #expect(drained, "the queue drains after the last restart")
        let delivered = Self.deliveredTokens(instance)
        let deliveredSet = Set(delivered)
        let lost = acknowledged.filter { !deliveredSet.contains($0) }
        let duplicated = delivered.count - deliveredSet.count
        print("kill test: \(rounds) rounds, acknowledged \(acknowledged.count), delivered \(deliveredSet.count) distinct (\(delivered.count) files), lost \(lost.count), duplicated \(duplicated)")
        #expect(acknowledged.count > 0, "the senders got replies before the kill")
        #expect(lost.isEmpty, "acknowledged but never delivered: \(lost.prefix(10))")
        #expect(!instance.log.contains("panic") && !instance.log.contains("fatal:"))
    }
}
