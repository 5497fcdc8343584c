import Foundation
import SealpostTestSupport
import Testing

/// Oversized input: a 10 MB header line, a header section beyond header_size_limit, a message
/// beyond message_size_limit by DATA and by BDAT, and 100,000 recipients in one session. Each
/// gets Postfix's answer, and the server stays healthy (its memory bounded) for the next client.
@Suite("Attack: oversized input", .serialized)
struct OversizeAttackTests {
    /// Resident memory of the daemon in kB (VmRSS), or nil.
    static func residentKilobytes(_ instance: MailInstance) -> Int? {
        guard let pid = instance.process?.process.processIdentifier,
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return nil }
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }

    /// A normal message goes through afterwards: the server is healthy.
    static func stillServes(_ instance: MailInstance) throws -> Bool {
        let output = try python("""
            import smtplib
            s = smtplib.SMTP('127.0.0.1', \(instance.smtpPort), timeout=60)
            s.ehlo('after.example'); s.mail('a@remote.example'); s.rcpt('demo@example.test')
            print(s.data(b'Subject: after\\r\\n\\r\\nstill here\\r\\n')[0]); s.quit()
            """)
        return output.hasPrefix("250")
    }

    @Test func tenMegabyteHeaderLineAndHugeHeaderSection() throws {
        let instance = try MailInstance(mainExtra: "message_size_limit = 30000000")
        try instance.start()
        let before = Self.residentKilobytes(instance)
        let output = try python("""
            import smtplib
            s = smtplib.SMTP('127.0.0.1', \(instance.smtpPort), timeout=120)
            s.ehlo('big.example'); s.mail('a@remote.example'); s.rcpt('demo@example.test')
            print(s.data(b'Subject: long line\\r\\nX-Long: ' + b'a' * 10000000 + b'\\r\\n\\tfolded on\\r\\nX-After: kept\\r\\n\\r\\nbody one\\r\\n')[0])
            s.mail('a@remote.example'); s.rcpt('demo@example.test')
            headers = b''.join(b'X-Filler-%06d: %s\\r\\n' % (n, b'b' * 70) for n in range(20000))
            print(s.data(b'Subject: many headers\\r\\n' + headers + b'\\r\\nbody two\\r\\n')[0])
            s.quit()
            """)
        #expect(output == "250\n250\n", "\(output)")
        #expect(instance.waitForLog("status=sent", timeout: 60))
        #expect(waitUntil(timeout: 60) { instance.mailbox("demo").count == 2 })
        let messages = instance.mailbox("demo")
        if let long = messages.first(where: { $0.contains("Subject: long line") }) {
            // Postfix's cleanup keeps header_size_limit (102400) octets of the header, drops the rest.
            let header = long.split(separator: "\n").first { $0.hasPrefix("X-Long: ") } ?? ""
            #expect(header.utf8.count == 102_400, "the X-Long header kept \(header.utf8.count) octets")
            // Its continuation line goes with the excess; the next header is whole.
            #expect(!long.contains("folded on"))
            #expect(long.contains("\nX-After: kept\n"))
            #expect(long.hasSuffix("\n\nbody one\n"))
        } else {
            Issue.record("the message with the long header line was not delivered")
        }
        if let many = messages.first(where: { $0.contains("Subject: many headers") }) {
            // Each header is small: all 20,000 are kept, as Postfix keeps them.
            #expect(many.components(separatedBy: "\nX-Filler-").count == 20_001)
            #expect(many.hasSuffix("\n\nbody two\n"))
        } else {
            Issue.record("the message with many headers was not delivered")
        }
        let after = Self.residentKilobytes(instance)
        if let before, let after {
            // A 10 MB line and 1.6 MB of headers are streamed, never held whole: growth stays well
            // below the 11.6 MB that went in.
            #expect(after - before < 8 * 1024, "RSS grew from \(before) kB to \(after) kB")
        }
        #expect(try Self.stillServes(instance))
    }

    @Test func messageSizeLimitByDataAndByBDAT() throws {
        let instance = try MailInstance(mainExtra: "message_size_limit = 100000")
        try instance.start()
        let output = try python("""
            import socket
            s = socket.create_connection(('127.0.0.1', \(instance.smtpPort)))
            s.settimeout(60)
            f = s.makefile('rb')
            def reply():
                line = f.readline()
                while line[3:4] == b'-': line = f.readline()
                return line.decode().strip()
            reply()
            s.sendall(b'EHLO size.example\\r\\n'); reply()
            # SIZE= beyond the limit is refused at MAIL FROM.
            s.sendall(b'MAIL FROM:<a@remote.example> SIZE=200000\\r\\n'); print(reply())
            # DATA beyond the limit: read to the end, then 552.
            s.sendall(b'MAIL FROM:<a@remote.example>\\r\\n'); print(reply())
            s.sendall(b'RCPT TO:<demo@example.test>\\r\\n'); print(reply())
            s.sendall(b'DATA\\r\\n'); print(reply())
            s.sendall(b'Subject: big\\r\\n\\r\\n' + (b'x' * 998 + b'\\r\\n') * 200 + b'.\\r\\n'); print(reply())
            # BDAT: one chunk over the limit is refused, and the transaction with it.
            s.sendall(b'MAIL FROM:<a@remote.example>\\r\\n'); print(reply())
            s.sendall(b'RCPT TO:<demo@example.test>\\r\\n'); print(reply())
            s.sendall(b'BDAT 150000 LAST\\r\\n' + b'y' * 150000); print(reply())
            # Chunks that together pass the limit.
            s.sendall(b'MAIL FROM:<a@remote.example>\\r\\n'); print(reply())
            s.sendall(b'RCPT TO:<demo@example.test>\\r\\n'); print(reply())
            s.sendall(b'BDAT 60000\\r\\n' + b'z' * 60000); print(reply())
            s.sendall(b'BDAT 60000 LAST\\r\\n' + b'z' * 60000); print(reply())
            s.sendall(b'QUIT\\r\\n'); print(reply())
            """)
        let lines = output.split(separator: "\n").map(String.init)
        try #require(lines.count == 13, "\(output)")
        #expect(lines[0] == "552 5.3.4 Message size exceeds fixed limit")
        #expect(lines[1] == "250 2.1.0 Ok")
        #expect(lines[3] == "354 End data with <CR><LF>.<CR><LF>")
        #expect(lines[4] == "552 5.3.4 Message size exceeds fixed limit", "\(output)")
        #expect(lines[7] == "552 5.3.4 Chunk exceeds message size limit", "\(output)")
        #expect(lines[10] == "250 2.0.0 Ok: 60000 bytes", "\(output)")
        #expect(lines[11].hasPrefix("552 5.3.4 "), "\(output)")
        #expect(lines[12] == "221 2.0.0 Bye", "\(output)")
        usleep(500_000)
        #expect(instance.mailbox("demo").isEmpty)
        let incoming = (try? FileManager.default.contentsOfDirectory(atPath: instance.directory + "/queue/incoming")) ?? []
        #expect(incoming.isEmpty, "refused messages leave no queue file")
        #expect(try Self.stillServes(instance))
    }

    /// 100,000 RCPTs pipelined: 1,000 accepted (smtpd_recipient_limit), 1,000 more answered 452
    /// (the overshoot), then the hard error limit ends the session with 421; memory stays bounded.
    @Test func hundredThousandRecipients() throws {
        let instance = try MailInstance()
        try instance.start()
        let before = Self.residentKilobytes(instance)
        let output = try python("""
            import socket, threading
            s = socket.create_connection(('127.0.0.1', \(instance.smtpPort)))
            s.settimeout(120)
            f = s.makefile('rb')
            f.readline()
            s.sendall(b'EHLO many.example\\r\\n')
            while f.readline()[3:4] == b'-': pass
            s.sendall(b'MAIL FROM:<a@b.example>\\r\\n'); f.readline()
            def send():
                try:
                    s.sendall(b''.join(b'RCPT TO:<demo@example.test>\\r\\n' for _ in range(100000)))
                except OSError:
                    pass
            writer = threading.Thread(target=send); writer.start()
            counts = {}
            try:
                for line in f:
                    key = line.decode().strip()[:9]
                    counts[key] = counts.get(key, 0) + 1
            except OSError: pass
            writer.join()
            for key in sorted(counts): print(key, counts[key])
            """)
        let counts = Dictionary(uniqueKeysWithValues: output.split(separator: "\n").map { line in
            let parts = line.split(separator: " ")
            return (parts.dropLast().joined(separator: " "), Int(parts.last!) ?? 0)
        })
        #expect(counts["250 2.1.5"] == 1000, "\(output)")
        #expect(counts["452 4.5.3"] == 1020, "\(output)")
        #expect(counts["421 4.7.0"] == 1, "\(output)")
        #expect(instance.waitForLog("too many errors after RCPT from localhost[127.0.0.1]"))
        if let before, let after = Self.residentKilobytes(instance) {
            #expect(after - before < 16 * 1024, "RSS grew from \(before) kB to \(after) kB")
        }
        #expect(try Self.stillServes(instance))
    }
}
