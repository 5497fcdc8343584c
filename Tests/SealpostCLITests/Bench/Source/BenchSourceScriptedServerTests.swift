import Foundation
import Testing

/// `bench source` against small Python servers that do one thing on purpose: refuse the recipient, so DATA
/// arrives only when `--pipelining` sent it without waiting; or greet with junk, which must fail cleanly.
@Suite("bench source against scripted servers")
struct BenchSourceScriptedServerTests {
    /// One connection: the commands it got, in order, printed at the end; PIPELINING announced when asked.
    static let server = """
        import socket, sys
        announce = sys.argv[1] == 'yes'
        s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
        print(s.getsockname()[1], flush=True)
        s.settimeout(60)
        c, _ = s.accept(); c.settimeout(60)
        f = c.makefile('rb')
        seen = []
        try:
            c.sendall(b'220 fake ESMTP\\r\\n')
            for line in f:
                verb = line.decode().strip().upper().split(' ')[0].split(':')[0]
                seen.append(verb)
                if verb == 'EHLO': c.sendall(b'250-fake\\r\\n250 PIPELINING\\r\\n' if announce else b'250 fake\\r\\n')
                elif verb == 'RCPT': c.sendall(b'550 5.1.1 no such user\\r\\n')
                elif verb == 'DATA': c.sendall(b'554 5.5.1 no valid recipients\\r\\n')
                elif verb == 'QUIT': c.sendall(b'221 bye\\r\\n'); break
                else: c.sendall(b'250 ok\\r\\n')
        except OSError:
            pass
        print(' '.join(seen), flush=True)
        """

    /// Runs the scripted server and `bench source --pipelining` against it; returns the commands it got.
    static func commandsSeen(announcePipelining: Bool) throws -> (commands: String, bench: SealpostBinary.Result) {
        try runScripted(server, argument: announcePipelining ? "yes" : "no", bench: ["-m", "1", "--pipelining"])
    }

    /// Runs a Python server script that prints its port first and a summary last, and `bench source` against it.
    static func runScripted(_ script: String, argument: String, bench arguments: [String]) throws -> (commands: String, bench: SealpostBinary.Result) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, argument]
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
        var text = ""
        while !text.contains("\n") {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        let port = try #require(Int(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        let bench = try SealpostBinary.run(["bench", "source"] + arguments + ["127.0.0.1:\(port)"])
        let rest = output.fileHandleForReading.readDataToEndOfFile()
        return (String(decoding: rest, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), bench)
    }

    @Test("PIPELINING announced: DATA is sent before the recipient's refusal is read")
    func pipelined() throws {
        let (commands, bench) = try Self.commandsSeen(announcePipelining: true)
        #expect(commands == "EHLO MAIL RCPT DATA")
        #expect(bench.status == 1)
        #expect(bench.standardOutput.contains("error: 550 after RCPT: 1"), "\(bench.standardOutput)")
    }

    @Test("PIPELINING not announced: each command waits for its reply, so DATA never follows a refused RCPT")
    func notPipelined() throws {
        let (commands, bench) = try Self.commandsSeen(announcePipelining: false)
        #expect(commands == "EHLO MAIL RCPT")
        #expect(bench.status == 1)
    }

    /// One connection answered with `sys.argv[1]` (Python bytes syntax) as the greeting, then closed.
    static let junkServer = """
        import socket, sys
        s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
        print(s.getsockname()[1], flush=True)
        s.settimeout(60)
        c, _ = s.accept()
        try:
            c.sendall(eval(sys.argv[1]))
            c.recv(4096)
        except OSError:
            pass
        print('done', flush=True)
        """

    @Test("a server that sends junk, an endless line or nothing: a clear error per message, never a crash", arguments: [
        #"b'\xff\xfe\x00junk\r\n'"#, #"b'2200 no\r\n'"#, #"b'220' + b'x' * 100000"#, #"b''"#,
    ])
    func junkGreeting(_ greeting: String) throws {
        let (_, bench) = try Self.runScripted(Self.junkServer, argument: greeting, bench: ["-m", "1", "--timeout", "5"])
        #expect(bench.status == 1, "\(bench.standardOutput)\(bench.standardError)")
        #expect(bench.standardOutput.contains("messages: 1 sent, 0 accepted, 1 failed"), "\(bench.standardOutput)")
        #expect(bench.standardOutput.contains("after greeting: 1") || bench.standardOutput.contains("to greeting: 1"),
                "\(bench.standardOutput)")
    }
}
