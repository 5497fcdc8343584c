import Foundation
import SealpostTestSupport
import Testing

/// The smtp service (port 25 style) against real clients: Python's smtplib and raw sockets,
/// openssl s_client and swaks.
@Suite(.serialized) struct SMTPServerTests {
    @Test func acceptsMailForLocalUsersAndDeliversToMaildir() throws {
        let instance = try MailInstance()
        try instance.start()
        let output = try python("""
            import smtplib
            s = smtplib.SMTP('127.0.0.1', \(instance.smtpPort))
            code, text = s.ehlo('client.example')
            print(code, text.decode().split('\\n'))
            print(s.mail('sender@remote.example'))
            print(s.rcpt('demo@example.test'))
            print(s.rcpt('nobody@example.test'))
            print(s.data(b'Subject: hello\\r\\n\\r\\nbody\\r\\n.leading dot\\r\\n'))  # smtplib dot-stuffs
            s.quit()
            """)
        #expect(output.contains("250 ['mx.example.test', 'PIPELINING', 'SIZE 10240000', 'VRFY', 'ETRN', 'STARTTLS', 'ENHANCEDSTATUSCODES', '8BITMIME', 'DSN', 'SMTPUTF8', 'CHUNKING']"))
        #expect(output.contains("(250, b'2.1.0 Ok')"))
        #expect(output.contains("(250, b'2.1.5 Ok')"))
        #expect(output.contains("(550, b'5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in virtual mailbox table')"))
        #expect(output.contains("(250, b'2.0.0 Ok: queued as "))
        #expect(instance.waitForLog("status=sent (delivered to maildir)"))
        let message = try #require(instance.mailbox("demo").first)
        #expect(message.hasPrefix("Return-Path: <sender@remote.example>\nDelivered-To: demo@example.test\nReceived: from client.example (localhost [127.0.0.1])\n\tby mx.example.test (Sealpost) with ESMTP id "))
        #expect(message.contains("\tfor <demo@example.test>; "))
        #expect(message.hasSuffix("Subject: hello\n\nbody\n.leading dot\n"))
        #expect(instance.waitForLog("disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=1/2 data=1 quit=1 commands=5/6"))
        // The queue file goes once the delivery is in its journal, a moment after the Maildir write.
        #expect(instance.waitForLog(": removed"))
        let log = instance.log
        #expect(log.contains("postfix/smtpd["))
        #expect(log.contains(": client=localhost[127.0.0.1]"))
        #expect(log.contains("postfix/qmgr[") && log.contains(": from=<sender@remote.example>, size="))
        #expect(log.contains("postfix/virtual[") && log.contains(": to=<demo@example.test>, relay=virtual, delay="))
        #expect(log.contains("NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in virtual mailbox table; from=<sender@remote.example> to=<nobody@example.test> proto=ESMTP helo=<client.example>"))
    }

    @Test func refusesToRelayForStrangers() throws {
        let instance = try MailInstance()
        try instance.start()
        let output = try python("""
            import smtplib
            s = smtplib.SMTP('127.0.0.1', \(instance.smtpPort))
            s.ehlo('client.example')
            s.mail('sender@remote.example')
            for rcpt in ['victim@remote.example', 'victim%remote.example@example.test', '"victim@remote.example"@example.test',
                         'remote.example!victim@example.test', '@example.test:victim@remote.example', 'victim@remote.example.',
                         'victim@[203.0.113.9]', 'victim%remote.example@[127.0.0.1]']:
                print(s.rcpt(rcpt))
            s.quit()
            """)
        let lines = output.split(separator: "\n")
        try #require(lines.count == 8, "\(output)")
        for line in lines {
            #expect(line.hasPrefix("(454, b'4.7.1 <") && line.hasSuffix(">: Relay access denied')") || line.hasPrefix("(501, "), "\(line)")
        }
    }

    @Test func startTLSWithOpenSSLAndTheReceivedHeaderShowsIt() throws {
        let instance = try MailInstance()
        try instance.start()
        let session = try OpenSSLClient.run(
            ["s_client", "-starttls", "smtp", "-connect", "127.0.0.1:\(instance.smtpPort)", "-quiet"],
            input: ["EHLO tls.example", "MAIL FROM:<a@b.example>", "RCPT TO:<demo@example.test>", "DATA", "Subject: tls\r\n\r\nhi\r\n.", "QUIT"])
        #expect(session.contains("250 2.0.0 Ok: queued as"), "\(session)")
        #expect(!session.contains("250-STARTTLS"), "STARTTLS is not offered again inside TLS")
        #expect(instance.waitForLog("status=sent"))
        #expect(instance.log.contains("Anonymous TLS connection established from localhost[127.0.0.1]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"))
        let message = try #require(instance.mailbox("demo").first)
        #expect(message.contains("\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n"))
        #expect(message.contains("\t(No client certificate requested)\n\tby mx.example.test (Sealpost) with ESMTPS id "))
    }

    /// CVE-2011-0411: a command pipelined after STARTTLS in plaintext must never be executed
    /// inside the TLS session.
    @Test func plaintextInjectedAfterStartTLSIsDiscarded() throws {
        let instance = try MailInstance()
        try instance.start()
        let output = try python("""
            import socket, ssl
            s = socket.create_connection(('127.0.0.1', \(instance.smtpPort)))
            f = s.makefile('rb')
            f.readline()
            s.sendall(b'EHLO attacker.example\\r\\n')
            while not f.readline().startswith(b'250 '): pass
            s.sendall(b'STARTTLS\\r\\nMAIL FROM:<injected@evil.example>\\r\\n')
            print(f.readline().decode().strip())
            context = ssl.create_default_context(); context.check_hostname = False; context.verify_mode = ssl.CERT_NONE
            t = context.wrap_socket(s, server_hostname='mx.example.test')
            t.sendall(b'RCPT TO:<demo@example.test>\\r\\n')
            print(t.recv(1000).decode().strip())
            t.sendall(b'QUIT\\r\\n')
            print(t.recv(1000).decode().strip())
            """)
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.first == "220 2.0.0 Ready to start TLS")
        // Inside TLS the injected MAIL was forgotten: RCPT has no transaction to join.
        #expect(lines.dropFirst().first == "503 5.5.1 Error: need MAIL command", "\(output)")
        #expect(instance.log.contains("plaintext pipelined after STARTTLS"))
    }

    /// SMTP smuggling: none of these may end DATA, nor start a second message.
    @Test(arguments: ["\n.\n", "\n.\r\n", "\r.\n", "\r.\r\n", "\r\n\u{0}.\r\n"])
    func smugglingFormsNeverEndTheMessage(_ form: String) throws {
        let instance = try MailInstance()
        try instance.start()
        let escaped = form.unicodeScalars.map { String(format: "\\x%02x", $0.value) }.joined()
        let output = try python("""
            import smtplib
            s = smtplib.SMTP('127.0.0.1', \(instance.smtpPort))
            s.ehlo('smuggler.example')
            s.mail('a@b.example'); s.rcpt('demo@example.test')
            s.putcmd('DATA'); print(s.getreply())
            body = b'Subject: first\\r\\n\\r\\nbefore' + b'\(escaped)' + b'MAIL FROM:<evil@evil.example>\\r\\nRCPT TO:<demo@example.test>\\r\\nDATA\\r\\nSubject: smuggled\\r\\n\\r\\nowned\\r\\n.\\r\\n'
            s.send(body); print(s.getreply())
            s.quit()
            """)
        #expect(output.contains("(250, b'2.0.0 Ok: queued as"), "\(output)")
        #expect(instance.waitForLog("status=sent"))
        usleep(300_000)
        let messages = instance.mailbox("demo")
        #expect(messages.count == 1)
        #expect(messages.first?.contains("Subject: smuggled") == true, "the smuggled text stays inside the one message")
        #expect(instance.log.components(separatedBy: "status=sent").count == 2)
    }

    @Test func limitsAndBadInputGetPostfixsReplies() throws {
        let instance = try MailInstance(mainExtra: "smtpd_recipient_limit = 100\nstrict_smtputf8 = yes")
        try instance.start()
        let output = try python("""
            import socket
            s = socket.create_connection(('127.0.0.1', \(instance.smtpPort)))
            f = s.makefile('rb')
            def ask(line):
                s.sendall(line + b'\\r\\n')
                reply = f.readline()
                while reply[3:4] == b'-': reply = f.readline()
                return reply.decode().strip()
            f.readline()
            print(ask(b'EHLO limits.example'))
            print(ask(b'MAIL FROM:<a\\x00b@example.test>'))
            print(ask(b'MAIL FROM:<j\\xc3\\xb6rg@example.test>'))
            print(ask(b'MAIL FROM:<a@b.example>'))
            for i in range(100): ask(b'RCPT TO:<demo@example.test>')
            print(ask(b'RCPT TO:<demo@example.test>'))
            print(ask(b'X' * 1000000))
            try: print(f.read().decode() == '')
            except ConnectionResetError: print(True)
            s2 = socket.create_connection(('127.0.0.1', \(instance.smtpPort)))
            f2 = s2.makefile('rb'); f2.readline()
            s2.sendall(b'GET / HTTP/1.0\\r\\n'); print(f2.readline().decode().strip())
            """)
        let lines = output.split(separator: "\n").map(String.init)
        try #require(lines.count == 8, "\(output)")
        #expect(lines[1] == "500 5.5.2 Error: bad syntax")
        #expect(lines[2] == "553 5.6.7 Must declare SMTPUTF8 to send unicode address")
        #expect(lines[3] == "250 2.1.0 Ok")
        #expect(lines[4] == "452 4.5.3 Error: too many recipients")
        #expect(lines[5] == "500 5.5.2 Error: command not recognized", "a one-megabyte line: its first 2048 octets are the command")
        #expect(lines[6] == "True", "and then the server stops reading that client")
        #expect(lines[7] == "221 2.7.0 Error: I can break rules, too. Goodbye.")
    }

    @Test func chunkingCountsOctetsNotLines() throws {
        let instance = try MailInstance()
        try instance.start()
        let output = try python("""
            import socket
            s = socket.create_connection(('127.0.0.1', \(instance.smtpPort)))
            f = s.makefile('rb')
            def reply():
                line = f.readline()
                while line[3:4] == b'-': line = f.readline()
                return line.decode().strip()
            reply()
            s.sendall(b'EHLO chunks.example\\r\\n'); print(reply())
            s.sendall(b'MAIL FROM:<a@b.example>\\r\\n'); print(reply())
            s.sendall(b'RCPT TO:<demo@example.test>\\r\\n'); print(reply())
            # 12 octets announced, 18 sent: the last 6 ("NOOP\\r\\n") are a command again.
            s.sendall(b'BDAT 12\\r\\nSubject: a\\r\\nNOOP\\r\\n'); print(reply()); print(reply())
            s.sendall(b'BDAT 8 LAST\\r\\n\\r\\nbody\\r\\n'); print(reply())
            s.sendall(b'QUIT\\r\\n'); print(reply())
            """)
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines[3] == "250 2.0.0 Ok: 12 bytes", "\(output)")
        #expect(lines[4] == "250 2.0.0 Ok")
        #expect(lines[5].hasPrefix("250 2.0.0 Ok: queued as"))
        #expect(instance.waitForLog("status=sent"))
        #expect(instance.mailbox("demo").first?.hasSuffix("Subject: a\n\nbody\n") == true)
    }

    @Test func aClientGoneMidDataLeavesNothing() throws {
        let instance = try MailInstance()
        try instance.start()
        _ = try python("""
            import socket
            s = socket.create_connection(('127.0.0.1', \(instance.smtpPort)))
            f = s.makefile('rb')
            f.readline()
            for line in [b'EHLO gone.example', b'MAIL FROM:<a@b.example>', b'RCPT TO:<demo@example.test>', b'DATA']:
                s.sendall(line + b'\\r\\n')
                reply = f.readline()
                while reply[3:4] == b'-': reply = f.readline()
            s.sendall(b'Subject: half\\r\\n\\r\\nhalf a message')
            s.close()
            """)
        #expect(instance.waitForLog("lost connection after DATA from localhost[127.0.0.1]"))
        let incoming = (try? FileManager.default.contentsOfDirectory(atPath: instance.directory + "/queue/incoming")) ?? []
        #expect(incoming.isEmpty)
        #expect(instance.mailbox("demo").isEmpty)
    }

    @Test func swaksSendsWithStartTLS() throws {
        guard Peer.available("swaks") else { return }
        let instance = try MailInstance()
        try instance.start()
        let result = try Peer.run(
            "swaks", ["--server", "127.0.0.1", "--port", String(instance.smtpPort), "-tls", "--to", "demo@example.test",
                      "--from", "swaks@remote.example", "--helo", "swaks.example", "--body", "from swaks"])
        #expect(result.contains("<~  250 2.0.0 Ok: queued as"), "\(result)")
        #expect(instance.waitForLog("status=sent"))
    }
}

/// The real openssl command as a client.
enum OpenSSLClient {
    static func run(_ arguments: [String], input: [String]) throws -> String {
        try Peer.converse("/usr/bin/openssl", arguments, input: input)
    }
}

/// Real peers from Debian packages; a missing one fails the test in CI, and skips it elsewhere.
enum Peer {
    static func available(_ tool: String, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let paths = ["/usr/bin/\(tool)", "/usr/sbin/\(tool)", "/usr/local/bin/\(tool)"]
        if paths.contains(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return true }
        if ProcessInfo.processInfo.environment["CI"] != nil {
            Issue.record("\(tool) is not installed but CI is set", sourceLocation: sourceLocation)
        }
        return false
    }

    /// Runs `executable` with the lines given one by one (with pauses, as a person would type),
    /// and returns what it printed on standard output and error.
    static func converse(_ executable: String, _ arguments: [String], input: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdin = Pipe()
        let output = Pipe()
        process.standardInput = stdin
        process.standardOutput = output
        process.standardError = output
        try process.run()
        usleep(500_000)
        for line in input {
            stdin.fileHandleForWriting.write(Data((line + "\r\n").utf8))
            usleep(300_000)
        }
        try? stdin.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        try PeerProgram.run("/usr/bin/env", [tool] + arguments).output
    }
}
