import Foundation
import SealpostTestSupport
import Testing

/// `sealpost bench source` against Postfix's smtp-sink: what the report says must match what the sink dumped.
@Suite("bench source against smtp-sink", .serialized)
struct BenchSourceSinkTests {
    /// smtp-sink on a random port, one dump file per transaction, its `-v` dialogue in a log; extra arguments
    /// make it misbehave on purpose.
    final class Sink {
        let directory: TemporaryDirectory
        let port: Int
        let process: Process

        init?(_ extra: [String] = [], sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
            guard let executable = PeerProgram.require("smtp-sink", package: "postfix", sourceLocation: sourceLocation) else {
                return nil
            }
            directory = try TemporaryDirectory()
            chmod(directory.path, 0o777)
            port = try freeLoopbackPort()
            var arguments = ["-v", "-d", directory.path + "/dump/%M."] + extra
            if geteuid() == 0 { arguments += ["-u", "nobody"] }
            process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments + ["127.0.0.1:\(port)", "64"]
            FileManager.default.createFile(atPath: directory.path + "/dialogue.log", contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.path + "/dialogue.log"))
            process.standardOutput = log
            process.standardError = log
            process.standardInput = FileHandle.nullDevice
            try process.run()
            guard waitForLoopbackListener(port: port) else {
                process.terminate()
                throw FixtureError("smtp-sink did not listen on \(port)")
            }
        }

        deinit {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }

        var dumps: [String] {
            let folder = directory.path + "/dump"
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            return names.sorted().compactMap { try? String(contentsOfFile: folder + "/" + $0, encoding: .utf8) }
        }

        var dialogue: String { (try? String(contentsOfFile: directory.path + "/dialogue.log", encoding: .utf8)) ?? "" }
    }

    static func bench(_ arguments: [String]) throws -> SealpostBinary.Result {
        try SealpostBinary.run(["bench", "source"] + arguments)
    }

    /// The message as the sink stored it: from our first header to the end, with LF line ends, less the empty
    /// line the sink adds after each message.
    static func content(of dump: String) -> Substring? {
        guard let start = dump.range(of: "From: <"), dump.hasSuffix("\n\n") else { return nil }
        return dump[start.lowerBound..<dump.index(before: dump.endIndex)]
    }

    @Test("counts, sizes and recipients arrive: 12 messages of 3000 octets to 3 numbered recipients over 3 sessions")
    func countsAndSizesArrive() throws {
        guard let sink = try Sink() else { return }
        let result = try Self.bench([
            "-s", "3", "-m", "12", "-l", "3000", "-r", "3", "-f", "from@client.test", "-t", "to@sink.test",
            "127.0.0.1:\(sink.port)",
        ])
        #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
        #expect(result.standardOutput.contains("messages: 12 sent, 12 accepted, 0 failed"), "\(result.standardOutput)")
        #expect(result.standardOutput.contains("latency ms (MAIL to end of data): p50 "))
        #expect(!result.standardOutput.contains("error:"))
        #expect(waitUntil(timeout: 10) { sink.dumps.count == 12 })
        var subjects: Set<String> = []
        for dump in sink.dumps {
            #expect(dump.contains("X-Mail-Args: <from@client.test>"))
            for index in 1...3 { #expect(dump.contains("X-Rcpt-Args: <\(index)to@sink.test>"), "\(dump.prefix(400))") }
            let content = try #require(Self.content(of: dump))
            // 3000 octets with CRLF on the wire; the sink stores LF, one octet less per line.
            let lines = content.split(separator: "\n", omittingEmptySubsequences: false).count - 1
            #expect(content.utf8.count + lines == 3000, "\(content.utf8.count) octets in \(lines) lines")
            // Dot-stuffing undone by the sink: lines that start with a dot arrive with exactly one.
            #expect(content.contains("\n.XXX"))
            #expect(!content.contains("\n..X"))
            if let subject = content.split(separator: "\n").first(where: { $0.hasPrefix("Subject:") }) {
                subjects.insert(String(subject))
            }
        }
        #expect(subjects.count == 12, "each message numbered once")
    }

    @Test("--reuse: 10 messages at 4 per connection take 3 connections, pipelined, all accepted")
    func reuseAndPipelining() throws {
        guard let sink = try Sink() else { return }
        let result = try Self.bench(["-s", "1", "-m", "10", "--reuse", "4", "--pipelining", "127.0.0.1:\(sink.port)"])
        #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
        #expect(result.standardOutput.contains("messages: 10 sent, 10 accepted, 0 failed"), "\(result.standardOutput)")
        #expect(result.standardOutput.contains("sessions: 1, connections: 3"), "\(result.standardOutput)")
        #expect(waitUntil(timeout: 10) { sink.dumps.count == 10 })
        #expect(waitUntil(timeout: 10) { sink.dialogue.components(separatedBy: "QUIT").count - 1 == 3 }, "\(sink.dialogue)")
        #expect(sink.dialogue.components(separatedBy: "EHLO").count - 1 >= 3)
    }

    @Test("refusals are counted by reply code and the exit status is 1")
    func refusalsCounted() throws {
        guard let sink = try Sink(["-r", "RCPT"]) else { return }
        let result = try Self.bench(["-s", "2", "-m", "5", "127.0.0.1:\(sink.port)"])
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("messages: 5 sent, 0 accepted, 5 failed"), "\(result.standardOutput)")
        #expect(result.standardOutput.contains("error: 450 after RCPT: 5"), "\(result.standardOutput)")
    }

    @Test("nobody listening: every message fails with the connection error, exit status 1")
    func connectionRefused() throws {
        let port = try freeLoopbackPort()
        let result = try Self.bench(["-m", "2", "127.0.0.1:\(port)"])
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("error: connect: Connection refused: 2"), "\(result.standardOutput)")
    }

    @Test("bad arguments are refused before anything is sent")
    func badArguments() throws {
        for arguments in [["-s", "0", "127.0.0.1:25"], ["127.0.0.1"], ["--auth", "nopassword", "127.0.0.1:25"],
                          ["--starttls", "--wrapper", "127.0.0.1:25"], ["127.0.0.1:70000"], ["-f", "a@b\r\nRCPT TO:<x@y>", "127.0.0.1:25"]] {
            let result = try Self.bench(arguments)
            #expect(result.status != 0 && result.status != 1, "\(arguments): \(result.status)")
        }
    }
}
