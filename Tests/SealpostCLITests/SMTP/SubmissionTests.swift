import Foundation
import SealpostTestSupport
import Testing

/// The seed's submission (587: STARTTLS required, AUTH only over TLS) and smtps (465: implicit
/// TLS) services, with their `-o` overrides, against Python's smtplib, swaks, curl and msmtp.
@Suite(.serialized) struct SubmissionTests {
    /// Python that opens an smtplib connection without certificate checks (the test certificate is
    /// self-signed) and prints each reply as `code text`.
    private static let prelude = """
        import smtplib, ssl
        context = ssl.create_default_context(); context.check_hostname = False; context.verify_mode = ssl.CERT_NONE
        def show(reply): print(reply[0], reply[1].decode().replace('\\n', ' | '))
        def tryit(f, *a):
            try: show(f(*a))
            except smtplib.SMTPResponseException as e: show((e.smtp_code, e.smtp_error))
            except smtplib.SMTPRecipientsRefused as e: show(list(e.recipients.values())[0])

        """

    @Test func submissionRequiresTLSBeforeMailAndAuth() throws {
        let instance = try MailInstance()
        try instance.start()
        let output = try python(Self.prelude + """
            s = smtplib.SMTP('127.0.0.1', \(instance.submissionPort))
            show(s.ehlo('laptop.example'))
            show(s.docmd('AUTH', 'PLAIN AGRlbW9AZXhhbXBsZS50ZXN0AHNlY3JldA=='))
            show(s.docmd('MAIL', 'FROM:<demo@example.test>'))
            show(s.starttls(context=context))
            show(s.ehlo('laptop.example'))
            show(s.docmd('MAIL', 'FROM:<demo@example.test>'))
            show(s.docmd('RCPT', 'TO:<friend@remote.example>'))
            show(s.docmd('RSET'))
            tryit(s.login, 'demo@example.test', 'wrong')
            tryit(s.login, 'demo@example.test', 'secret')
            show(s.docmd('AUTH', 'PLAIN AGRlbW9AZXhhbXBsZS50ZXN0AHNlY3JldA=='))
            show(s.docmd('MAIL', 'FROM:<demo@example.test>'))
            show(s.docmd('RCPT', 'TO:<demo@example.test>'))
            show(s.docmd('RCPT', 'TO:<friend@remote.example>'))
            show(s.docmd('DATA'))
            s.send(b'Subject: from submission\\r\\n\\r\\nhello\\r\\n.\\r\\n'); show(s.getreply())
            s.quit()
            """)
        let lines = output.split(separator: "\n").map(String.init)
        try #require(lines.count == 16, "\(output)")
        // Before TLS: STARTTLS offered, AUTH not (smtpd_tls_auth_only = yes); like Postfix at
        // smtpd_tls_security_level = encrypt, every command but EHLO, HELO, STARTTLS, NOOP and QUIT is refused.
        #expect(lines[0].contains("STARTTLS") && !lines[0].contains("AUTH"), "\(lines[0])")
        #expect(lines[1] == "530 5.7.0 Must issue a STARTTLS command first")
        #expect(lines[2] == "530 5.7.0 Must issue a STARTTLS command first")
        #expect(lines[3] == "220 2.0.0 Ready to start TLS")
        // Inside TLS: AUTH offered, STARTTLS not.
        #expect(lines[4].contains("AUTH PLAIN LOGIN") && !lines[4].contains("STARTTLS"), "\(lines[4])")
        #expect(lines[5] == "250 2.1.0 Ok")
        #expect(lines[6] == "554 5.7.1 <friend@remote.example>: Recipient address rejected: Access denied", "no relaying before AUTH")
        #expect(lines[7] == "250 2.0.0 Ok")
        #expect(lines[8] == "535 5.7.8 Error: authentication failed: (reason unavailable)")
        #expect(lines[9] == "235 2.7.0 Authentication successful")
        #expect(lines[10] == "503 5.5.1 Error: already authenticated")
        #expect(lines[11] == "250 2.1.0 Ok")
        #expect(lines[12] == "250 2.1.5 Ok")
        #expect(lines[13] == "250 2.1.5 Ok", "authenticated clients may relay")
        #expect(lines[14] == "354 End data with <CR><LF>.<CR><LF>")
        #expect(lines[15].hasPrefix("250 2.0.0 Ok: queued as "))

        #expect(instance.waitForLog("status=sent (delivered to maildir)"))
        let message = try #require(instance.mailbox("demo").first)
        #expect(message.contains("with ESMTPSA id "), "an authenticated TLS session is ESMTPSA (RFC 3848)")
        #expect(message.contains("\nMessage-Id: <") || message.contains("\nMessage-ID: <"), "submission adds what the client left out")
        #expect(message.contains("\nDate: "))
        let log = instance.log
        #expect(log.contains("postfix/submission/smtpd["))
        #expect(log.contains("warning: localhost[127.0.0.1]: SASL PLAIN authentication failed: (reason unavailable), sasl_username=demo@example.test")
            || log.contains("warning: localhost[127.0.0.1]: SASL LOGIN authentication failed"), "fail2ban's postfix-sasl filter matches this")
        #expect(log.contains("client=localhost[127.0.0.1], sasl_method=PLAIN, sasl_username=demo@example.test")
            || log.contains("client=localhost[127.0.0.1], sasl_method=LOGIN, sasl_username=demo@example.test"))
        // The remote recipient goes to the smtp transport (remote.example has no MX, or the DNS is
        // unreachable: bounced or deferred, never lost).
        #expect(instance.waitForLog("to=<friend@remote.example>", timeout: 60))
        #expect(instance.log.split(separator: "\n").contains { $0.contains("postfix/smtp[") && $0.contains("to=<friend@remote.example>") })
    }

    @Test func smtpsIsTLSFromTheFirstByte() throws {
        let instance = try MailInstance()
        try instance.start()
        let output = try python(Self.prelude + """
            s = smtplib.SMTP_SSL('127.0.0.1', \(instance.smtpsPort), context=context)
            show(s.ehlo('phone.example'))
            print(s.sock.version())
            tryit(s.login, 'demo@example.test', 'secret')
            s.sendmail('demo@example.test', ['demo@example.test'], b'Subject: over smtps\\r\\n\\r\\nhi\\r\\n')
            s.quit()
            """)
        let lines = output.split(separator: "\n").map(String.init)
        try #require(lines.count == 3, "\(output)")
        #expect(lines[0].contains("AUTH PLAIN LOGIN") && !lines[0].contains("STARTTLS"), "\(lines[0])")
        #expect(lines[1] == "TLSv1.3")
        #expect(lines[2] == "235 2.7.0 Authentication successful")
        #expect(instance.waitForLog("status=sent (delivered to maildir)"))
        #expect(instance.log.contains("postfix/smtps/smtpd["))
        #expect(instance.log.contains("TLS connection established from localhost[127.0.0.1]: TLSv1.3"))
        // A plaintext client on the smtps port gets nothing it can read as SMTP.
        let plaintext = try python("""
            import socket
            s = socket.create_connection(('127.0.0.1', \(instance.smtpsPort)))
            s.settimeout(5)
            s.sendall(b'EHLO plain.example\\r\\n')
            try: data = s.recv(100)
            except (ConnectionResetError, socket.timeout): data = b''
            print(data.startswith(b'220') or data.startswith(b'250'))
            """)
        #expect(plaintext.trimmingCharacters(in: .whitespacesAndNewlines) == "False")
    }

    /// Guessing passwords: each failure costs the client more time, and after
    /// `smtpd_client_auth_failure_limit` failures it is cut off for the window.
    @Test func passwordGuessingIsCutOff() throws {
        let instance = try MailInstance(mainExtra: "smtpd_client_auth_failure_limit = 3")
        try instance.start()
        let output = try python(Self.prelude + """
            import base64
            def auth(s, password):
                response = base64.b64encode(b'\\0demo@example.test\\0' + password).decode()
                try: show(s.docmd('AUTH', 'PLAIN ' + response))
                except smtplib.SMTPServerDisconnected: print('disconnected')
            s = smtplib.SMTP_SSL('127.0.0.1', \(instance.smtpsPort), context=context)
            s.ehlo('guesser.example')
            for password in [b'a', b'b']: auth(s, password)
            s.close()
            s = smtplib.SMTP_SSL('127.0.0.1', \(instance.smtpsPort), context=context)
            s.ehlo('guesser.example')
            for password in [b'c', b'd']: auth(s, password)
            s.close()
            s = smtplib.SMTP_SSL('127.0.0.1', \(instance.smtpsPort), context=context)
            s.ehlo('guesser.example')
            auth(s, b'secret')
            """)
        let lines = output.split(separator: "\n").map(String.init)
        try #require(lines.count == 5, "\(output)")
        let failed = "535 5.7.8 Error: authentication failed: (reason unavailable)"
        // Failures count per client address across connections: the third reaches the limit,
        // and the client is told and disconnected.
        #expect(Array(lines.prefix(3)) == [failed, failed, failed], "\(output)")
        #expect(lines[3] == "disconnected" || lines[3] == "421 4.7.0 mx.example.test Error: too many errors", "\(output)")
        // Within the window even the right password is refused from that address.
        #expect(lines[4].hasPrefix("4") || lines[4] == "disconnected", "\(output)")
        #expect(instance.log.contains("SASL PLAIN authentication failed: (reason unavailable), sasl_username=demo@example.test"))
    }

    @Test func swaksSubmitsWithStartTLSAndAuth() throws {
        guard Peer.available("swaks") else { return }
        let instance = try MailInstance()
        try instance.start()
        let result = try Peer.run(
            "swaks", ["--server", "127.0.0.1", "--port", String(instance.submissionPort), "-tls",
                      "--auth", "LOGIN", "--auth-user", "demo@example.test", "--auth-password", "secret",
                      "--to", "demo@example.test", "--from", "demo@example.test", "--body", "from swaks"])
        #expect(result.contains("<~  235 2.7.0 Authentication successful"), "\(result)")
        #expect(result.contains("<~  250 2.0.0 Ok: queued as"), "\(result)")
        #expect(instance.waitForLog("status=sent"))
    }

    @Test func curlSendsOverSMTPS() throws {
        guard Peer.available("curl") else { return }
        let instance = try MailInstance()
        try instance.start()
        let mail = try instance.fixtures.write("mail.txt", "Subject: curl\r\nFrom: demo@example.test\r\n\r\nfrom curl\r\n", mode: 0o644)
        let result = try Peer.run(
            "curl", ["--silent", "--show-error", "--insecure", "smtps://127.0.0.1:\(instance.smtpsPort)",
                     "--user", "demo@example.test:secret", "--mail-from", "demo@example.test",
                     "--mail-rcpt", "demo@example.test", "--upload-file", mail])
        #expect(result.isEmpty, "\(result)")
        #expect(instance.waitForLog("status=sent"))
        #expect(instance.mailbox("demo").first?.contains("from curl") == true)
    }

    @Test func msmtpSubmitsOverSubmissionWithStartTLS() throws {
        guard Peer.available("msmtp") else { return }
        let instance = try MailInstance()
        try instance.start()
        let configuration = try instance.fixtures.write(
            "msmtprc",
            """
            account default
            host 127.0.0.1
            port \(instance.submissionPort)
            tls on
            tls_starttls on
            tls_certcheck off
            auth plain
            user demo@example.test
            password secret
            from demo@example.test
            logfile \(instance.directory)/msmtp.log

            """)
        let result = try Peer.run(
            "sh", ["-c", "printf 'Subject: msmtp\\r\\n\\r\\nfrom msmtp\\r\\n' | msmtp -C \(configuration) demo@example.test"])
        #expect(result.isEmpty, "\(result)")
        #expect(instance.waitForLog("status=sent"))
        #expect(instance.mailbox("demo").first?.contains("from msmtp") == true)
    }
}
