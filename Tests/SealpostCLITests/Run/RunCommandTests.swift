import Foundation
import SealpostTestSupport
import Testing

/// `sealpost run`: start, log in Postfix's format, reload on SIGHUP, stop on SIGTERM.
@Suite(.serialized) struct RunCommandTests {
    func instance() throws -> (TemporaryDirectory, [String]) {
        let directory = try TemporaryDirectory()
        // Reloads read main.cf as mail_owner (nobody) when the tests run as root.
        chmod(directory.path, 0o755)
        try directory.write(
            "main.cf",
            """
            queue_directory = \(directory.path)/queue
            maillog_file = \(directory.path)/maillog
            maillog_file_prefixes = \(directory.path)
            myhostname = mx.example.com
            mail_owner = nobody
            """)
        try directory.write("master.cf", "")
        return (directory, ["run", "-c", directory.path])
    }

    @Test func startsReloadsAndStops() throws {
        let (directory, arguments) = try instance()
        let process = try SealpostBinary.start(arguments)
        let log = directory.path + "/maillog"
        let pidFile = directory.path + "/queue/pid/master.pid"
        #expect(waitUntil { (try? String(contentsOfFile: log, encoding: .utf8))?.contains("daemon started") == true })
        let pidText = try String(contentsOfFile: pidFile, encoding: .utf8)
        #expect(pidText.trimmingCharacters(in: .whitespacesAndNewlines) == String(process.process.processIdentifier))
        #expect(pidText.count == 11)

        // A reload with a broken main.cf keeps the running configuration.
        try directory.write("main.cf", try directory.read("main.cf") + "\nsmtpd_tls_session_cache_timeout = forever\n")
        process.signal(SIGHUP)
        #expect(waitUntil { (try? String(contentsOfFile: log, encoding: .utf8))?.contains("reload refused") == true })

        // A good one is taken.
        try directory.write("main.cf", try directory.read("main.cf").replacingOccurrences(of: "forever", with: "1h"))
        process.signal(SIGHUP)
        #expect(waitUntil { (try? String(contentsOfFile: log, encoding: .utf8))?.contains("reload -- version") == true })

        let (status, _) = process.stop(signal: SIGTERM)
        #expect(status == 0)
        #expect(!FileManager.default.fileExists(atPath: pidFile))

        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        // "Nov 29 10:50:22 mx postfix/master[4242]: daemon started -- version …"
        let pattern = #/^[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} mx postfix/master\[[0-9]+\]: /#
        #expect(lines.allSatisfy { $0.contains(pattern) }, "\(lines)")
        #expect(lines.contains { $0.hasSuffix("daemon started -- version 0.1.0, configuration \(directory.path)") })
        #expect(lines.contains { $0.contains("error: \(directory.path)/main.cf:") && $0.contains("smtpd_tls_session_cache_timeout = forever") })
        #expect(lines.last?.hasSuffix("terminating on signal 15") == true)
    }

    @Test func refusesToStartWithConfigurationErrors() throws {
        let (directory, arguments) = try instance()
        try directory.write("main.cf", try directory.read("main.cf") + "\nsmtpd_tls_auth_only = perhaps\n")
        let result = try SealpostBinary.run(arguments)
        #expect(result.status == 1)
        #expect(result.standardError.contains("main.cf:6: smtpd_tls_auth_only = perhaps: invalid value; expected yes or no"))
    }

    @Test func aSecondInstanceOnTheSameQueueRefusesToStart() throws {
        let (directory, arguments) = try instance()
        let first = try SealpostBinary.start(arguments)
        #expect(waitUntil { FileManager.default.fileExists(atPath: directory.path + "/queue/pid/master.pid") })
        #expect(waitUntil { (try? String(contentsOfFile: directory.path + "/maillog", encoding: .utf8))?.contains("daemon started") == true })
        let second = try SealpostBinary.run(arguments)
        #expect(second.status != 0)
        #expect(try directory.read("maillog").contains("fatal: the Sealpost mail system is already running"))
        _ = first.stop()
    }

    @Test func logsToStandardErrorWithoutMaillogFile() throws {
        let directory = try TemporaryDirectory()
        try directory.write("main.cf", "queue_directory = \(directory.path)/queue\nmyhostname = host.example\nsyslog_name = sealpost-test\nmail_owner = nobody\n")
        try directory.write("master.cf", "")
        let process = try SealpostBinary.start(["run", "-c", directory.path])
        #expect(waitUntil { FileManager.default.fileExists(atPath: directory.path + "/queue/pid/master.pid") })
        usleep(200_000)
        let (status, standardError) = process.stop(signal: SIGINT)
        #expect(status == 0)
        #expect(standardError.contains(" host sealpost-test/master["))
        #expect(standardError.contains("terminating on signal 2"))
    }

    @Test func theDemoInstanceIsCreatedOnceAndPassesItsOwnCheck() throws {
        let directory = try TemporaryDirectory()
        let demo = directory.path + "/.sealpost-demo"
        let first = try SealpostBinary.start(["run", "--demo"], in: directory.path)
        #expect(waitUntil { FileManager.default.fileExists(atPath: demo + "/queue/pid/master.pid") })
        let (status, _) = first.stop(signal: SIGTERM)
        #expect(status == 0)
        for file in ["main.cf", "master.cf", "tls/cert.pem", "tls/key.pem", "vmailbox"] {
            #expect(FileManager.default.fileExists(atPath: demo + "/" + file), "\(file)")
        }
        var keyStatus = stat()
        stat(demo + "/tls/key.pem", &keyStatus)
        #expect(keyStatus.st_mode & 0o777 == 0o600)

        let check = try SealpostBinary.run(["check", "-c", demo])
        #expect(check.status == 0, "\(check.standardError)")
        #expect(!check.standardError.contains("error:"))

        // A second run reuses the instance (the certificate is not generated again).
        let certificate = try String(contentsOfFile: demo + "/tls/cert.pem", encoding: .utf8)
        let second = try SealpostBinary.start(["run", "--demo"], in: directory.path)
        #expect(waitUntil { FileManager.default.fileExists(atPath: demo + "/queue/pid/master.pid") })
        // The demo receives: submission with STARTTLS and the generated AUTH password, into Maildir.
        let password = try String(contentsOfFile: demo + "/demo-password", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let sent = try python("""
            import smtplib, ssl
            context = ssl.create_default_context(); context.check_hostname = False; context.verify_mode = ssl.CERT_NONE
            s = smtplib.SMTP('127.0.0.1', 2587)
            s.starttls(context=context)
            s.login('demo@example.test', '\(password)')
            s.sendmail('demo@example.test', ['demo@example.test'], b'Subject: demo\\r\\n\\r\\nit works\\r\\n')
            s.quit()
            print('sent')
            """)
        #expect(sent.contains("sent"))
        let maildir = demo + "/mail/example.test/demo/new"
        #expect(waitUntil { ((try? FileManager.default.contentsOfDirectory(atPath: maildir)) ?? []).count == 1 })
        _ = second.stop(signal: SIGTERM)
        #expect(try String(contentsOfFile: demo + "/tls/cert.pem", encoding: .utf8) == certificate)
        // As root in a directory closed to others, the instance lives under /var/tmp.
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: demo) {
            try? FileManager.default.removeItem(atPath: target)
        }
    }

    @Test func demoAndAConfigDirectoryExcludeEachOther() throws {
        let result = try SealpostBinary.run(["run", "--demo", "-c", "/tmp"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("--demo uses ./.sealpost-demo; leave out -c"))
    }
}
