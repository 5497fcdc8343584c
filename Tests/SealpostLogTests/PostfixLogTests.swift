import Foundation
import Logging
import SealpostTestSupport
import Testing

@testable import SealpostLog

@Suite struct PostfixLogTests {
    let stamp = LogTimestamp(text: "Nov 29 10:50:22")

    @Test func formatsLinesAsPostfixDoes() {
        #expect(
            PostfixLogLine.format(
                date: stamp, hostname: "mx.example.com", programName: "postfix/submission/smtpd", processID: 4242,
                severity: nil, text: "connect from client.example.net[192.0.2.7]")
                == "Nov 29 10:50:22 mx postfix/submission/smtpd[4242]: connect from client.example.net[192.0.2.7]\n")
        #expect(
            PostfixLogLine.format(
                date: stamp, hostname: "mx", programName: "postfix/master", processID: 1, severity: "warning", text: "x")
                == "Nov 29 10:50:22 mx postfix/master[1]: warning: x\n")
    }

    @Test func severityWordsMatchPostfix() {
        #expect(PostfixLogLine.severityWord(for: .info) == nil)
        #expect(PostfixLogLine.severityWord(for: .notice) == nil)
        #expect(PostfixLogLine.severityWord(for: .warning) == "warning")
        #expect(PostfixLogLine.severityWord(for: .error) == "error")
        #expect(PostfixLogLine.severityWord(for: .critical) == "fatal")
    }

    @Test func aMessageCannotForgeASecondLine() {
        let line = PostfixLogLine.format(
            date: stamp, hostname: "mx", programName: "postfix/smtpd", processID: 1, severity: nil,
            text: "helo=<evil>\nNov 29 10:50:23 mx postfix/smtpd[1]: forged\r")
        #expect(line.filter { $0 == "\n" }.count == 1)
        #expect(line.hasSuffix("forged \n"))
    }

    @Test func timestampsUsePostfixsClockFormat() {
        #expect(LogTimestamp.now().text.contains(#/^[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$/#))
    }

    @Test func fileSinkAppendsWithTheRequestedPermissionsAndReopens() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/maillog"
        let clock: @Sendable () -> LogTimestamp = { LogTimestamp(text: "Nov 29 10:50:22") }
        let sink = try LogSink(destination: .file(path: path, permissions: 0o640), hostname: "mx.example.com", processID: 7, clock: clock)
        var logger = Logger(label: "test") { _ in PostfixLogHandler(sink: sink, programName: "postfix/master") }
        logger.info("daemon started")
        logger.warning("something odd")
        logger.debug("not shown at the default level")
        logger.logLevel = .debug
        logger.debug("shown when verbose")

        var status = stat()
        stat(path, &status)
        #expect(status.st_mode & 0o777 == 0o640)

        // logrotate moves the file away; reopen starts a new one.
        rename(path, path + ".1")
        try sink.reopen()
        logger.error("after rotation")

        #expect(try directory.read("maillog.1") == """
            Nov 29 10:50:22 mx postfix/master[7]: daemon started
            Nov 29 10:50:22 mx postfix/master[7]: warning: something odd
            Nov 29 10:50:22 mx postfix/master[7]: shown when verbose

            """)
        #expect(try directory.read("maillog") == "Nov 29 10:50:22 mx postfix/master[7]: error: after rotation\n")
    }

    @Test func anUnwritableLogIsAClearError() {
        #expect(throws: LogSinkError.self) {
            try LogSink(destination: .file(path: "/nonexistent-dir/maillog", permissions: 0o600), hostname: "mx")
        }
    }

    @Test func metadataIsAppendedInOrder() throws {
        let directory = try TemporaryDirectory()
        let sink = try LogSink(
            destination: .file(path: directory.path + "/log", permissions: 0o600), hostname: "mx", processID: 1,
            clock: { LogTimestamp(text: "Nov 29 10:50:22") })
        let logger = Logger(label: "test") { _ in PostfixLogHandler(sink: sink, programName: "postfix/smtpd") }
        logger.info("hello", metadata: ["b": "2", "a": "1"])
        #expect(try directory.read("log") == "Nov 29 10:50:22 mx postfix/smtpd[1]: hello (a=1, b=2)\n")
    }
}
