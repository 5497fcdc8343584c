import Foundation
import SealpostTestSupport
import Testing

/// The crash-safety and full-disk suites (`--filter Reliability`).
enum Reliability {}

/// The common parts of the crash-safety tests: load generators whose messages carry a token and
/// a body that can be checked for completeness, and the figures each phase prints.
///
/// `SEALPOST_KILL_ROUNDS` sets the rounds of every kill test (each has a small default for CI);
/// `Scripts/soak-crash` raises it and collects the `crash figures:` lines.
enum CrashHarness {
    /// The rounds a kill test runs: `SEALPOST_KILL_ROUNDS`, else `fallback`.
    static func rounds(default fallback: Int) -> Int {
        max(1, Int(ProcessInfo.processInfo.environment["SEALPOST_KILL_ROUNDS"] ?? "") ?? fallback)
    }

    /// The shape of every test message's body: `lines` lines naming the token, then `END token`.
    struct BodyShape: Sendable {
        var lines = 30
        var width = 60

        /// The body as delivered (LF line ends; Maildir and the checks use LF).
        func body(_ token: String) -> String {
            let padding = String(repeating: "x", count: width)
            return (0..<lines).map { String(format: "line %04d ", $0) + "\(token) \(padding)\n" }.joined() + "END \(token)\n"
        }

        /// The Python expression for the same body with CR LF line ends.
        var python: String {
            #"''.join("line %04d %s %s\r\n" % (i, token, "x" * \#(width)) for i in range(\#(lines))) + "END %s\r\n" % token"#
        }
    }

    /// What one sender reported: tokens acknowledged with 250, and the refusals with their replies.
    struct SenderReport {
        var acknowledged: [String] = []
        /// Refusals of MAIL FROM (`452 4.3.1 …`).
        var refusedAtMail: [String] = []
        /// Refusals after the content (`452 4.3.1 …` at the end of DATA).
        var refusedAtData: [String] = []
        /// Connections that ended some other way (the server was killed, refused the connection…).
        var otherFailures = 0

        mutating func merge(_ other: SenderReport) {
            acknowledged += other.acknowledged
            refusedAtMail += other.refusedAtMail
            refusedAtData += other.refusedAtData
            otherFailures += other.otherFailures
        }
    }

    /// `threads` smtplib senders, each sending messages one per connection until `seconds` pass,
    /// `limit` messages were tried, or 40 attempts in a row failed. Runs in the background;
    /// ``finish()`` waits for the end and parses what they printed.
    final class Load {
        let process = Process()
        private let output = Pipe()

        init(
            port: Int, round: Int, sender: String = "sender@remote.example", recipients: [String], seconds: Double,
            limit: Int = -1, threads: Int = 10, shape: BodyShape = BodyShape(), prefix: String = "r"
        ) throws {
            let script = """
                import smtplib, sys, threading, time
                deadline = time.time() + \(seconds)
                limit = \(limit)
                lock = threading.Lock()
                tried = [0]
                def say(line):
                    with lock:
                        sys.stdout.write(line + "\\n")
                        sys.stdout.flush()
                def worker(n):
                    count, failures = 0, 0
                    while time.time() < deadline and failures < 40:
                        with lock:
                            if limit >= 0 and tried[0] >= limit:
                                return
                            tried[0] += 1
                        token = "\(prefix)\(round)-t%d-%d" % (n, count)
                        count += 1
                        message = "Subject: %s\\r\\nX-Token: %s\\r\\n\\r\\n" % (token, token) + \(shape.python)
                        try:
                            with smtplib.SMTP("127.0.0.1", \(port), timeout=10) as client:
                                client.sendmail("\(sender)", [\(recipients.map { "\"\($0)\"" }.joined(separator: ", "))], message)
                            say("ok " + token)
                            failures = 0
                        except smtplib.SMTPSenderRefused as error:
                            say("mail %d %s" % (error.smtp_code, error.smtp_error.decode(errors="replace")))
                            failures += 1
                            time.sleep(0.05)
                        except smtplib.SMTPDataError as error:
                            say("data %d %s" % (error.smtp_code, error.smtp_error.decode(errors="replace")))
                            failures += 1
                            time.sleep(0.05)
                        except Exception as error:
                            say("fail " + type(error).__name__)
                            failures += 1
                            time.sleep(0.05)
                threads = [threading.Thread(target=worker, args=(n,)) for n in range(\(threads))]
                for thread in threads: thread.start()
                for thread in threads: thread.join()
                """
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", script]
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        func finish() -> SenderReport {
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            var report = SenderReport()
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                let text = String(line)
                if text.hasPrefix("ok ") {
                    report.acknowledged.append(String(text.dropFirst(3)))
                } else if text.hasPrefix("mail ") {
                    report.refusedAtMail.append(String(text.dropFirst(5)))
                } else if text.hasPrefix("data ") {
                    report.refusedAtData.append(String(text.dropFirst(5)))
                } else if text.hasPrefix("fail ") {
                    report.otherFailures += 1
                }
            }
            return report
        }

        deinit {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
    }

    /// The value of the first `X-Token:` header line in a message (for a bounce: the returned
    /// message's).
    static func token(of message: String) -> String? {
        message.split(separator: "\n").first { $0.hasPrefix("X-Token: ") }.map {
            String($0.dropFirst(9)).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Whether the message carries its token's whole body, unchanged.
    static func isComplete(_ message: String, shape: BodyShape = BodyShape()) -> Bool {
        guard let token = token(of: message) else { return false }
        return message.replacingOccurrences(of: "\r\n", with: "\n").contains(shape.body(token))
    }

    /// Figures for one phase, printed as one `crash figures:` line.
    struct Figures: CustomStringConvertible {
        var phase: String
        var rounds: Int
        /// SIGKILLs (of the daemon or the peer) that could make a copy twice.
        var kills: Int
        var acknowledged = 0
        /// Distinct tokens delivered.
        var delivered = 0
        /// Delivered copies (files, sink transactions).
        var copies = 0
        var lost: [String] = []
        var duplicated = 0
        /// The most copies of one message.
        var maxCopies = 0
        /// Delivered copies whose body was not whole.
        var incomplete = 0
        /// Files in `queue/corrupt` at the end.
        var quarantined = 0
        var extra: [(String, String)] = []

        var description: String {
            var parts = [
                "phase=\(phase)", "rounds=\(rounds)", "acknowledged=\(acknowledged)", "delivered=\(delivered)", "copies=\(copies)",
                "lost=\(lost.count)", "duplicated=\(duplicated)", "max-copies=\(maxCopies)", "incomplete=\(incomplete)", "quarantined=\(quarantined)",
            ]
            parts += extra.map { "\($0.0)=\($0.1)" }
            return "crash figures: " + parts.joined(separator: " ")
        }
    }

    /// Compares what was acknowledged with the messages that arrived.
    static func figures(
        phase: String, rounds: Int, kills: Int? = nil, acknowledged: [String], arrived: [String], shape: BodyShape = BodyShape(),
        instance: MailInstance
    ) -> Figures {
        let tokens = arrived.compactMap { token(of: $0) }
        let distinct = Set(tokens)
        var figures = Figures(phase: phase, rounds: rounds, kills: kills ?? rounds)
        figures.maxCopies = tokens.reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }.values.max() ?? 0
        figures.acknowledged = acknowledged.count
        figures.delivered = distinct.count
        figures.copies = arrived.count
        figures.lost = acknowledged.filter { !distinct.contains($0) }
        figures.duplicated = tokens.count - distinct.count
        figures.incomplete = arrived.filter { !isComplete($0, shape: shape) }.count
        figures.quarantined = instance.queueFiles("corrupt").count
        // What the restarts' recovery found: files the kills left in incoming, torn journal tails.
        var removedIncomplete = 0
        var repairedJournals = 0
        for line in instance.log.split(separator: "\n") where line.contains("queue recovery: ") {
            if let match = line.firstMatch(of: #/removed incomplete ([0-9]+)/#) { removedIncomplete += Int(match.1) ?? 0 }
            if let match = line.firstMatch(of: #/repaired journals ([0-9]+)/#) { repairedJournals += Int(match.1) ?? 0 }
        }
        figures.extra += [("recovery-removed-incomplete", "\(removedIncomplete)"), ("recovery-repaired-journals", "\(repairedJournals)")]
        return figures
    }

    /// The checks every phase shares: something was acknowledged, nothing lost, nothing corrupt or
    /// partial, no message more often than at-least-once explains (each kill can repeat a
    /// delivery under way once), and the daemon never panicked.
    static func expectSound(_ figures: Figures, _ instance: MailInstance, sourceLocation: SourceLocation = #_sourceLocation) {
        print(figures)
        for (warning, count) in warnings(instance.log) { print("  \(figures.phase) log warning ×\(count): \(warning)") }
        #expect(figures.acknowledged > 0, "the senders got replies before the kill", sourceLocation: sourceLocation)
        #expect(figures.lost.isEmpty, "acknowledged but never delivered: \(figures.lost.prefix(10))", sourceLocation: sourceLocation)
        #expect(figures.incomplete == 0, "delivered copies with a damaged body", sourceLocation: sourceLocation)
        #expect(
            figures.maxCopies <= figures.kills + 1, "a message arrived \(figures.maxCopies) times after \(figures.kills) kills",
            sourceLocation: sourceLocation)
        #expect(figures.quarantined == 0, "queue files moved to corrupt: \(instance.queueFiles("corrupt"))", sourceLocation: sourceLocation)
        #expect(!instance.log.contains("quarantined"), "recovery quarantined files", sourceLocation: sourceLocation)
        #expect(!instance.log.contains("panic") && !instance.log.contains("fatal:"), sourceLocation: sourceLocation)
    }

    /// The kinds of queue and delivery trouble warned about in a log (errors, things that cannot
    /// be done), with queue IDs, numbers and paths masked, and how often each occurred: what the
    /// soak's reader looks at first. Start-up notes about the configuration are left out.
    static func warnings(_ log: String) -> [(String, Int)] {
        var counts: [String: Int] = [:]
        for line in log.split(separator: "\n") {
            guard let range = line.range(of: "warning: "),
                line.contains("error") || line.contains("cannot") || line.contains("corrupt") || line.contains("recover")
            else { continue }
            var text = String(line[range.upperBound...])
            text = text.replacing(#//[^ :,]+/#, with: "PATH")
            text = text.replacing(#/[0-9]+/#, with: "N")
            text = text.replacing(#/\b[0-9A-Za-z]{12,}\b/#, with: "ID")
            counts[String(text.prefix(160)), default: 0] += 1
        }
        return counts.sorted { $0.value > $1.value }
    }

    /// Sleeps a random time in `range` seconds: the kill lands at a different moment each round.
    static func randomPause(_ range: Range<Double>) {
        usleep(useconds_t(Double.random(in: range) * 1_000_000))
    }
}
