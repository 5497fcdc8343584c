import Foundation
import SealpostTestSupport
import Testing

/// A hostile SMTP server for the client's attack tests, written with Python's socket and ssl
/// modules: it does real TLS after STARTTLS (which ``ScriptedSMTPServer`` cannot) and keeps the
/// exact bytes of every DATA section, so that what our client put on the wire can be inspected.
///
/// Its misbehaviour is chosen by `mode`:
/// - `plain`: an honest server (STARTTLS offered), the reference for the others.
/// - `inject-same-write`: the 220 to STARTTLS and forged replies leave in one write, before TLS.
/// - `inject-later`: the 220, a pause, then the forged replies in plaintext where the TLS
///   handshake should begin.
/// - `accept-mid-data`: after the first line of content, `250 … queued as EARLY`; then it stops
///   reads nothing more until ``release()``, so the client is still sending when it meets the reply.
final class AttackPythonServer {
    let port: Int
    private let directory: TemporaryDirectory
    private let child: ChildProcess

    /// The forged replies an injecting server slips in; were any of them read as a reply, the
    /// session would go astray (a rejected EHLO, an AUTH requirement, a refused recipient).
    static let forgedReplies = "250-injected.example\r\n250 AUTH PLAIN\r\n550 5.7.1 injected reply\r\n"

    init(mode: String, certificate: String = "", key: String = "") throws {
        directory = try TemporaryDirectory()
        let portFile = directory.path + "/port"
        child = try ChildProcess(
            "/usr/bin/env", ["python3", "-c", Self.script, mode, portFile, directory.path, certificate, key],
            output: directory.path + "/server.log")
        guard waitUntil(timeout: 20, { (try? String(contentsOfFile: portFile, encoding: .utf8))?.hasSuffix("\n") == true }),
              let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            let log = (try? String(contentsOfFile: directory.path + "/server.log", encoding: .utf8)) ?? ""
            child.stop()
            throw FixtureError("the Python attack server did not start: \(log)")
        }
        self.port = port
    }

    func stop() { child.stop() }

    /// Lets an `accept-mid-data` server read on.
    func release() {
        FileManager.default.createFile(atPath: directory.path + "/release", contents: Data())
    }

    /// `connection command` lines in arrival order; `TLS established` and `TLS failed: …` are
    /// noted among them.
    var commands: [String] {
        let text = (try? String(contentsOfFile: directory.path + "/commands.txt", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// The raw bytes of each DATA section, through its final `.` line.
    var dataSections: [[UInt8]] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasPrefix("data-") }.sorted()
        return names.compactMap { FileManager.default.contents(atPath: directory.path + "/" + $0).map { Array($0) } }
    }

    var log: String { (try? String(contentsOfFile: directory.path + "/server.log", encoding: .utf8)) ?? "" }

    private static let script = #"""
        import os, socket, ssl, sys, threading, time
        mode, port_file, directory, certificate, key = sys.argv[1:6]
        FORGED = b'250-injected.example\r\n250 AUTH PLAIN\r\n550 5.7.1 injected reply\r\n'
        lock = threading.Lock()
        counter = [0, 0]

        def note(number, text):
            with lock:
                with open(directory + '/commands.txt', 'a') as f:
                    f.write('%d %s\n' % (number, text))

        def serve(conn, number):
            stream = conn.makefile('rb')
            conn.sendall(b'220 attack.example ESMTP\r\n')
            secure = False
            while True:
                line = stream.readline()
                if not line:
                    break
                command = line.rstrip(b'\r\n').decode('latin-1')
                note(number, command)
                word = command.upper()
                if word.startswith('EHLO'):
                    words = ['attack.example', 'PIPELINING', '8BITMIME'] + ([] if secure else ['STARTTLS'])
                    conn.sendall(b''.join(('250%s%s\r\n' % ('-' if i < len(words) - 1 else ' ', w)).encode() for i, w in enumerate(words)))
                elif word == 'STARTTLS':
                    if mode == 'inject-same-write':
                        conn.sendall(b'220 2.0.0 Ready to start TLS\r\n' + FORGED)
                    elif mode == 'inject-later':
                        conn.sendall(b'220 2.0.0 Ready to start TLS\r\n')
                        time.sleep(0.5)
                        conn.sendall(FORGED)
                    else:
                        conn.sendall(b'220 2.0.0 Ready to start TLS\r\n')
                    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                    context.load_cert_chain(certificate, key)
                    try:
                        conn = context.wrap_socket(conn, server_side=True)
                    except Exception as error:
                        note(number, 'TLS failed: %s' % error)
                        break
                    stream = conn.makefile('rb')
                    secure = True
                    note(number, 'TLS established')
                elif word.startswith('MAIL') or word.startswith('RCPT') or word == 'RSET' or word == 'NOOP':
                    conn.sendall(b'250 2.1.0 Ok\r\n')
                elif word == 'DATA':
                    conn.sendall(b'354 End data with <CR><LF>.<CR><LF>\r\n')
                    pieces = []
                    data = b''
                    early = mode == 'accept-mid-data'
                    while not (data.endswith(b'\r\n.\r\n') or data == b'.\r\n'):
                        piece = stream.readline()
                        if not piece:
                            break
                        pieces.append(piece)
                        # The last two lines are enough to see the end of data (and joining all
                        # of a large message each time would be quadratic).
                        data = b''.join(pieces[-2:]) if len(pieces) > 1 else piece
                        if early:
                            early = False
                            conn.sendall(b'250 2.0.0 Ok: queued as EARLY\r\n')
                            # Read no more until the test has the client's verdict: the client
                            # meets the reply while its content is still stuck in the socket.
                            waited = 0
                            while not os.path.exists(directory + '/release') and waited < 1200:
                                time.sleep(0.1)
                                waited += 1
                    whole = b''.join(pieces)
                    with lock:
                        counter[1] += 1
                        with open('%s/data-%04d' % (directory, counter[1]), 'wb') as f:
                            f.write(whole)
                    if data.endswith(b'\r\n.\r\n') or data == b'.\r\n':
                        note(number, '<end of data>')
                        conn.sendall(b'250 2.0.0 Ok: queued as ATTACK\r\n')
                    else:
                        note(number, '<connection lost in data>')
                        break
                elif word == 'QUIT':
                    conn.sendall(b'221 2.0.0 Bye\r\n')
                    break
                else:
                    conn.sendall(b'502 5.5.2 Error: command not recognized\r\n')
            try:
                conn.close()
            except Exception:
                pass

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(('127.0.0.1', 0))
        listener.listen(16)
        with open(port_file + '.tmp', 'w') as f:
            f.write('%d\n' % listener.getsockname()[1])
        os.rename(port_file + '.tmp', port_file)
        while True:
            conn, _ = listener.accept()
            counter[0] += 1
            threading.Thread(target=serve, args=(conn, counter[0] - 1), daemon=True).start()
        """#
}
