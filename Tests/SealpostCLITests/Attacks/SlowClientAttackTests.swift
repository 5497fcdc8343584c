import Foundation
import SealpostTestSupport
import Testing

/// Slow clients: many connections that trickle a byte now and then do not starve a normal client;
/// smtpd_timeout ends a client that says nothing; the per-client connection count limit applies.
@Suite("Attack: slow clients", .serialized)
struct SlowClientAttackTests {
    /// 200 tricklers from 127.0.0.2–5 (50 each, the default smtpd_client_connection_count_limit),
    /// each sending one byte of an EHLO every two seconds. A normal client from 127.0.0.1 sends a
    /// message while every trickler is still connected and mid-command; a 51st connection from a
    /// trickling address is turned away.
    @Test func tricklingConnectionsDoNotStarveANormalClient() throws {
        let instance = try MailInstance()
        try instance.start()
        let output = try python("""
            import socket, smtplib, threading, time
            port = \(instance.smtpPort)
            tricklers = []
            for n in range(200):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.bind(('127.0.0.%d' % (2 + n % 4), 0))
                s.connect(('127.0.0.1', port))
                tricklers.append(s)
            greeted = sum(1 for s in tricklers if s.recv(1000).startswith(b'220 '))
            print('greeted', greeted)
            stop = threading.Event()
            def trickle():
                text = b'EHLO trickle.example\\r\\n'
                position = 0
                while not stop.is_set() and position < len(text) - 2:
                    for s in tricklers:
                        s.sendall(text[position:position + 1])
                    position += 1
                    stop.wait(2)
            thread = threading.Thread(target=trickle); thread.start()
            time.sleep(3)
            extra = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            extra.bind(('127.0.0.2', 0)); extra.connect(('127.0.0.1', port))
            print('extra', extra.recv(1000).decode().strip())
            extra.close()
            client = smtplib.SMTP('127.0.0.1', port, timeout=60)
            client.ehlo('normal.example')
            client.mail('sender@remote.example')
            client.rcpt('demo@example.test')
            code, text = client.data(b'Subject: not starved\\r\\n\\r\\nhello\\r\\n')
            print('normal', code, text.decode()[:21])
            client.quit()
            # Every trickler is still there: none has been answered or hung up on.
            open_count = 0
            for s in tricklers:
                s.setblocking(False)
                try:
                    data = s.recv(1000)
                    if data: print('trickler answered', data)
                except BlockingIOError:
                    open_count += 1
            print('still connected', open_count)
            stop.set(); thread.join()
            for s in tricklers: s.close()
            """)
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.contains("greeted 200"), "\(output)")
        #expect(lines.contains("extra 421 4.7.0 mx.example.test Error: too many connections from 127.0.0.2"), "\(output)")
        #expect(lines.contains { $0.hasPrefix("normal 250 2.0.0 Ok: queued as") }, "\(output)")
        #expect(lines.contains("still connected 200"), "\(output)")
        #expect(instance.waitForLog("status=sent"))
        // anvil's count, as Postfix logs it: the 50 held and the refused one. 127.0.0.2 has no name.
        #expect(instance.log.contains("warning: Connection concurrency limit exceeded: 51 from unknown[127.0.0.2] for service"))
    }

    /// A client that connects and says nothing gets Postfix's timeout reply after smtpd_timeout; one
    /// that stops half way through a command the same.
    @Test func silentClientsMeetSMTPDTimeout() throws {
        let instance = try MailInstance(mainExtra: "smtpd_timeout = 2s")
        try instance.start()
        let output = try python("""
            import socket
            for partial in [b'', b'EHLO half-way.exa']:
                s = socket.create_connection(('127.0.0.1', \(instance.smtpPort)))
                s.settimeout(60)
                f = s.makefile('rb')
                f.readline()
                s.sendall(partial)
                print(f.readline().decode().strip())
                print('closed' if f.read() == b'' else 'open')
            """)
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines == [
            "421 4.4.2 mx.example.test Error: timeout exceeded", "closed",
            "421 4.4.2 mx.example.test Error: timeout exceeded", "closed",
        ], "\(output)")
        #expect(instance.waitForLog("timeout after CONNECT from localhost[127.0.0.1]"))
    }

    /// smtpd_client_connection_count_limit and smtpd_client_connection_rate_limit from one address.
    @Test func connectionCountAndRateLimits() throws {
        let instance = try MailInstance(mainExtra: "smtpd_client_connection_count_limit = 3")
        try instance.start()
        let output = try python("""
            import socket
            held = []
            for n in range(5):
                s = socket.create_connection(('127.0.0.1', \(instance.smtpPort)))
                print(s.makefile('rb').readline().decode().strip())
                held.append(s)
            for s in held: s.close()
            """)
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "\(output)")
        #expect(lines.prefix(3).allSatisfy { $0.hasPrefix("220 mx.example.test ESMTP") }, "\(output)")
        #expect(lines.suffix(2).allSatisfy { $0 == "421 4.7.0 mx.example.test Error: too many connections from 127.0.0.1" }, "\(output)")

        let limited = try MailInstance(mainExtra: "smtpd_client_connection_rate_limit = 4")
        try limited.start()
        let rated = try python("""
            import socket
            for n in range(6):
                s = socket.create_connection(('127.0.0.1', \(limited.smtpPort)))
                print(s.makefile('rb').readline().decode().strip())
                s.close()
            """)
        let rateLines = rated.split(separator: "\n").map(String.init)
        #expect(rateLines.count == 6, "\(rated)")
        #expect(rateLines.prefix(4).allSatisfy { $0.hasPrefix("220 ") }, "\(rated)")
        #expect(rateLines.suffix(2).allSatisfy { $0 == "421 4.7.0 mx.example.test Error: too many connections from 127.0.0.1" }, "\(rated)")
        // The rate reached, refused connections included, as anvil counts them.
        #expect(limited.waitForLog("warning: Connection rate limit exceeded: 6 from localhost[127.0.0.1] for service"))
        #expect(limited.log.contains("warning: Connection rate limit exceeded: 5 from localhost[127.0.0.1] for service"))
    }

    /// smtpd_client_message_rate_limit and smtpd_client_recipient_rate_limit: Postfix's 450 replies,
    /// and anvil's counts (the refused attempts included) in the log.
    @Test func messageAndRecipientRateLimits() throws {
        let instance = try MailInstance(mainExtra: "smtpd_client_message_rate_limit = 2\nsmtpd_client_recipient_rate_limit = 3")
        try instance.start()
        let output = try python("""
            import socket
            s = socket.create_connection(('127.0.0.1', \(instance.smtpPort)))
            f = s.makefile('rb')
            def command(line):
                s.sendall(line.encode() + b'\\r\\n')
                while True:
                    reply = f.readline().decode().strip()
                    if reply[3:4] != '-': return reply
            f.readline()
            command('EHLO client.example')
            for n in range(3):
                print('mail', command('MAIL FROM:<a@example.org>'))
                for r in range(2): print('rcpt', command('RCPT TO:<demo@example.test>'))
                print('rset', command('RSET'))
            command('QUIT')
            """)
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines == [
            "mail 250 2.1.0 Ok", "rcpt 250 2.1.5 Ok", "rcpt 250 2.1.5 Ok", "rset 250 2.0.0 Ok",
            "mail 250 2.1.0 Ok", "rcpt 250 2.1.5 Ok", "rcpt 450 4.7.1 Error: too many recipients from 127.0.0.1", "rset 250 2.0.0 Ok",
            "mail 450 4.7.1 Error: too much mail from 127.0.0.1", "rcpt 503 5.5.1 Error: need MAIL command",
            "rcpt 503 5.5.1 Error: need MAIL command", "rset 250 2.0.0 Ok",
        ], "\(output)")
        #expect(instance.waitForLog("warning: Message delivery request rate limit exceeded: 3 from localhost[127.0.0.1] for service"))
        #expect(instance.log.contains("warning: Recipient address rate limit exceeded: 4 from localhost[127.0.0.1] for service"))
    }

    /// smtpd_client_new_tls_session_rate_limit as Postfix applies it: a resumed session is not
    /// counted; the handshake that goes over the limit is answered with 421 and the session ends;
    /// after that, STARTTLS gets 454 before any handshake, and a wrapper-mode (smtps) connection is
    /// dropped. Each service counts on its own.
    @Test func newTLSSessionRateLimit() throws {
        let instance = try MailInstance(mainExtra: "smtpd_client_new_tls_session_rate_limit = 1")
        try instance.start()
        let output = try python("""
            import socket, ssl
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            def reply(f):
                while True:
                    line = f.readline().decode().strip()
                    if line[3:4] != '-': return line
            def early(tls):
                # What the server says right after the handshake, before any command (a 421).
                tls.settimeout(1)
                try: return tls.recv(4096).decode().strip()
                except (TimeoutError, socket.timeout): return ''
                finally: tls.settimeout(30)
            def starttls(session=None):
                sock = socket.create_connection(('127.0.0.1', \(instance.smtpPort)), timeout=30)
                f = sock.makefile('rb')
                reply(f)
                sock.sendall(b'EHLO client.example\\r\\n'); reply(f)
                sock.sendall(b'STARTTLS\\r\\n')
                answer = reply(f)
                if not answer.startswith('220'):
                    print('starttls', answer); sock.close(); return None
                tls = context.wrap_socket(sock, session=session)
                said = early(tls)
                if said:
                    print('after the handshake', said); tls.close(); return None
                tls.sendall(b'EHLO client.example\\r\\n')
                print('ehlo', reply(tls.makefile('rb'))[:3], 'resumed' if tls.session_reused else 'new')
                kept = tls.session
                tls.sendall(b'QUIT\\r\\n'); tls.close()
                return kept
            def smtps():
                sock = socket.create_connection(('127.0.0.1', \(instance.smtpsPort)), timeout=30)
                try:
                    tls = context.wrap_socket(sock)
                    line = tls.makefile('rb').readline().decode().strip()
                    print('smtps', line[:3] if line.startswith('220') else (line or 'dropped'))
                    tls.close()
                except (ssl.SSLError, OSError):
                    print('smtps dropped')
            first = starttls()
            starttls(first)
            starttls()
            starttls()
            for n in range(3): smtps()
            """)
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines == [
            "ehlo 250 new",
            "ehlo 250 resumed",
            "after the handshake 421 4.7.0 mx.example.test Error: too many new TLS sessions from localhost[127.0.0.1]",
            "starttls 454 4.7.0 Error: too many new TLS sessions from localhost[127.0.0.1]",
            "smtps 220",
            "smtps 421 4.7.0 mx.example.test Error: too many new TLS sessions from localhost[127.0.0.1]",
            "smtps dropped",
        ], "\(output)")
        #expect(instance.waitForLog("warning: Refusing TLS service request from localhost[127.0.0.1] for service"))
        #expect(instance.log.contains("warning: New TLS session rate limit exceeded: 2 from localhost[127.0.0.1] for service"))
        #expect(instance.log.contains("warning: Refusing STARTTLS request from localhost[127.0.0.1] for service"))
    }
}
