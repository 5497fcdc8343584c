import Foundation
import SealpostTLS
import SealpostTestSupport
import Testing

/// `sealpost bench sink` as a process, against Python's smtplib and Postfix's smtp-source: the counters
/// it prints at exit match what the clients sent, injected failures reach the clients, STARTTLS works.
@Suite("sealpost bench sink", .serialized)
struct BenchSinkTests {
    /// Runs a Python script with the sink's port as `PORT`; returns its standard output.
    private static func client(_ sink: SinkProcess, _ script: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try python("import smtplib, socket, ssl\nPORT = \(sink.port)\n" + script, sourceLocation: sourceLocation)
    }

    @Test("smtplib: three messages to two recipients each are counted, content octets included")
    func plain() throws {
        let sink = try SinkProcess([])
        let output = try Self.client(sink, """
            s = smtplib.SMTP('127.0.0.1', PORT)
            code, text = s.ehlo('client.test')
            print(code, 'pipelining' in text.decode().lower(), s.has_extn('8bitmime'), s.has_extn('size'), s.has_extn('starttls'))
            for i in range(3):
                s.sendmail('a@example.test', ['b@example.test', 'c@example.test'], 'Subject: t\\r\\n\\r\\nhello\\r\\n')
            s.quit()
            """)
        #expect(output == "250 True True True False\n")
        let result = sink.stop()
        #expect(result.status == 0, "\(result.standardError)")
        let counters = SinkProcess.counters(result.standardOutput)
        #expect(counters == ["sessions": 1, "messages": 3, "recipients": 6, "bytes": 63, "tls": 0, "errors": 0],
                "\(result.standardOutput)")
    }

    @Test("injected 4xx and 5xx replies reach the client and count as errors")
    func injectedFailures() throws {
        let sink = try SinkProcess(["--fail", "RCPT=450", "--fail", ".=554"])
        let output = try Self.client(sink, """
            s = smtplib.SMTP('127.0.0.1', PORT)
            s.ehlo('client.test')
            s.mail('a@example.test')
            print(s.rcpt('b@example.test')[0])
            s.rset()
            try:
                s.sendmail('a@example.test', ['b@example.test'], 'Subject: t\\r\\n\\r\\nhello\\r\\n')
            except smtplib.SMTPRecipientsRefused as e:
                print('refused', e.recipients['b@example.test'][0])
            s.quit()
            """)
        #expect(output == "450\nrefused 450\n")
        let counters = SinkProcess.counters(sink.stop().standardOutput)
        #expect(counters["recipients"] == 0 && counters["messages"] == 0 && counters["errors"] == 2)

        let dataSink = try SinkProcess(["--fail", ".=554"])
        let dataOutput = try Self.client(dataSink, """
            s = smtplib.SMTP('127.0.0.1', PORT)
            try:
                s.sendmail('a@example.test', ['b@example.test'], 'Subject: t\\r\\n\\r\\nhello\\r\\n')
            except smtplib.SMTPDataError as e:
                print('data', e.smtp_code, e.smtp_error.decode())
            s.quit()
            """)
        #expect(dataOutput == "data 554 5.0.0 Error: command failed\n")
        let dataCounters = SinkProcess.counters(dataSink.stop().standardOutput)
        #expect(dataCounters["recipients"] == 1 && dataCounters["messages"] == 0 && dataCounters["errors"] == 1)
    }

    @Test("pipelined commands with delayed replies are answered in order")
    func delayedPipelining() throws {
        let sink = try SinkProcess(["--delay", "MAIL=100", "--delay", "RCPT=50"])
        let output = try Self.client(sink, """
            c = socket.create_connection(('127.0.0.1', PORT))
            f = c.makefile('rb')
            f.readline()
            c.sendall(b'HELO client.test\\r\\nMAIL FROM:<a@example.test>\\r\\nRCPT TO:<b@example.test>\\r\\nRCPT TO:<c@example.test>\\r\\nDATA\\r\\nhi\\r\\n.\\r\\nQUIT\\r\\n')
            print(' '.join(f.readline().decode()[:3] for _ in range(7)))
            """)
        #expect(output == "250 250 250 250 354 250 221\n")
        let counters = SinkProcess.counters(sink.stop().standardOutput)
        #expect(counters["messages"] == 1 && counters["recipients"] == 2 && counters["bytes"] == 4)
    }

    @Test("STARTTLS with a self-signed certificate; plaintext sent after STARTTLS is discarded")
    func startTLS() throws {
        let directory = try TemporaryDirectory()
        let (certificate, key) = try SelfSignedCertificate.generate(commonName: "sink.test")
        let certificatePath = try directory.write("cert.pem", certificate)
        let keyPath = try directory.write("key.pem", key)
        let sink = try SinkProcess(["--starttls", certificatePath, keyPath], directory: directory)
        let output = try Self.client(sink, """
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            s = smtplib.SMTP('127.0.0.1', PORT)
            s.ehlo('client.test')
            print(s.has_extn('starttls'))
            s.starttls(context=context)
            s.ehlo('client.test')
            print(s.has_extn('starttls'), s.sock.version() is not None)
            s.sendmail('a@example.test', ['b@example.test'], 'Subject: t\\r\\n\\r\\nhello\\r\\n')
            s.quit()
            c = socket.create_connection(('127.0.0.1', PORT))
            f = c.makefile('rb')
            f.readline()
            c.sendall(b'EHLO client.test\\r\\n')
            while not f.readline().startswith(b'250 '): pass
            c.sendall(b'STARTTLS\\r\\nMAIL FROM:<a@example.test>\\r\\n')
            print(f.readline().decode()[:3])
            t = context.wrap_socket(c)
            t.sendall(b'RCPT TO:<b@example.test>\\r\\n')
            print(t.recv(1000).decode()[:3])
            t.sendall(b'QUIT\\r\\n')
            print(t.recv(1000).decode()[:3])
            t.close()
            """)
        #expect(output == "True\nFalse True\n220\n503\n221\n")
        let result = sink.stop()
        #expect(SinkProcess.counters(result.standardOutput) == [
            "sessions": 2, "messages": 1, "recipients": 1, "bytes": 21, "tls": 2, "errors": 1,
        ], "\(result.standardOutput) \(result.standardError)")
    }

    @Test("smtp-source: 10 messages in 2 parallel sessions with 3 recipients each; -c prints while running")
    func smtpSource() throws {
        guard let smtpSource = PeerProgram.require("smtp-source", package: "postfix") else { return }
        let sink = try SinkProcess(["-c"])
        let run = try PeerProgram.run(smtpSource, ["-s", "2", "-m", "10", "-r", "3", "-l", "1000", "127.0.0.1:\(sink.port)"])
        #expect(run.status == 0, "\(run.output)")
        #expect(waitUntil(timeout: 10) { SinkProcess.counters(sink.standardOutput)["messages"] == 10 })
        let result = sink.stop(signal: SIGINT)
        #expect(result.status == 0)
        let counters = SinkProcess.counters(result.standardOutput)
        #expect(counters["sessions"] == 10 && counters["messages"] == 10 && counters["recipients"] == 30, "\(result.standardOutput)")
        #expect((counters["bytes"] ?? 0) >= 10 * 1000 && counters["errors"] == 0)
    }

    @Test("bad arguments are refused with a message")
    func badArguments() throws {
        let result = try SealpostBinary.run(["bench", "sink", "--fail", "RCPT=250", "127.0.0.1:0"])
        #expect(result.status != 0 && result.standardError.contains("4xx or 5xx"))
        let wrapper = try SealpostBinary.run(["bench", "sink", "--wrapper", "127.0.0.1:0"])
        #expect(wrapper.status != 0 && wrapper.standardError.contains("--starttls"))
    }
}

/// The sink's less common paths: wrapper mode, the session limit, input that is not SMTP.
@Suite("sealpost bench sink: wrapper mode, limits, bad input", .serialized)
struct BenchSinkEdgeTests {
    @Test("--wrapper: TLS from the first byte, STARTTLS not announced")
    func wrapperMode() throws {
        let directory = try TemporaryDirectory()
        let (certificate, key) = try SelfSignedCertificate.generate(commonName: "sink.test")
        let sink = try SinkProcess(
            ["--wrapper", "--starttls", try directory.write("cert.pem", certificate), try directory.write("key.pem", key)],
            directory: directory)
        let output = try python("""
            import smtplib, ssl
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            s = smtplib.SMTP_SSL('127.0.0.1', \(sink.port), context=context)
            s.ehlo('client.test')
            print(s.has_extn('starttls'))
            s.sendmail('a@example.test', ['b@example.test', 'c@example.test'], 'hello\\r\\n')
            s.quit()
            """)
        #expect(output == "False\n")
        #expect(SinkProcess.counters(sink.stop().standardOutput) == [
            "sessions": 1, "messages": 1, "recipients": 2, "bytes": 7, "tls": 1, "errors": 0,
        ])
    }

    @Test("--max-sessions: a session over the limit gets 421 and is not counted")
    func sessionLimit() throws {
        let sink = try SinkProcess(["--max-sessions", "1"])
        let output = try python("""
            import socket
            first = socket.create_connection(('127.0.0.1', \(sink.port)))
            print(first.makefile('rb').readline().decode()[:3])
            second = socket.create_connection(('127.0.0.1', \(sink.port)))
            print(second.makefile('rb').readline().decode()[:3])
            first.sendall(b'QUIT\\r\\n')
            """)
        #expect(output == "220\n421\n")
        let counters = SinkProcess.counters(sink.stop().standardOutput)
        #expect(counters["sessions"] == 1 && counters["errors"] == 1)
    }

    @Test("garbage, NUL octets, an oversized message and an over-long line get error replies, not a crash")
    func badInput() throws {
        let sink = try SinkProcess([])
        let output = try python("""
            import socket, random
            c = socket.create_connection(('127.0.0.1', \(sink.port)), timeout=10)
            f = c.makefile('rb')
            f.readline()
            random.seed(7)
            garbage = bytes(random.randrange(256) for _ in range(1000)).replace(b'\\n', b'').replace(b'\\r', b'')
            c.sendall(garbage + b'\\r\\nMAIL FROM:<a\\x00@example.test>\\r\\nNOOP\\r\\n')
            replies = [f.readline() for _ in range(3)]
            print(replies[0][:1].decode(), replies[1][:1].decode(), replies[2][:3].decode())
            c.sendall(b'MAIL FROM:<a@example.test> SIZE=999999999\\r\\n')
            print(f.readline().decode()[:3])
            c.sendall(b'X' * 3000 + b'\\r\\nNOOP\\r\\n')
            print(f.readline().decode()[:3], f.readline().decode()[:3])
            c.sendall(b'QUIT\\r\\n')
            f.readline()
            """)
        #expect(output == "5 5 250\n552\n500 250\n")
        let result = sink.stop()
        #expect(result.status == 0)
        let counters = SinkProcess.counters(result.standardOutput)
        #expect(counters["sessions"] == 1 && counters["errors"] == 4, "\(result.standardOutput)")
    }
}
