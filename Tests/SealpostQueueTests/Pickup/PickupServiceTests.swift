import Foundation
import Logging
import SealpostConfig
import SealpostQueue
import SealpostTestSupport
import Testing

/// A queue with a maildrop directory and a pickup service on it, recording what it logs.
private final class PickupFixture {
    let queue: TestQueue
    let maildrop: String
    let log = TestLog()
    let queued = TestLocked<[QueueID]>([])
    let service: PickupService

    init(messageSizeLimit: Int = 100_000, lineLengthLimit: Int = 2048, headerSizeLimit: Int = 102_400) throws {
        queue = try TestQueue()
        try MaildropDirectory.prepare(queueDirectory: queue.directory, owner: nil)
        maildrop = MaildropDirectory.maildropPath(queueDirectory: queue.directory)
        let queued = self.queued
        service = PickupService(
            store: queue.store,
            settings: PickupSettings(
                maildropDirectory: maildrop, hostname: "mx.example.test", origin: "example.test",
                messageSizeLimit: messageSizeLimit, lineLengthLimit: lineLengthLimit, headerSizeLimit: headerSizeLimit),
            logger: log.logger, onQueued: { id in queued.withLock { $0.append(id) } })
    }

    @discardableResult
    func post(_ envelope: MaildropEnvelope, _ content: String) throws -> String {
        try MaildropWriter.post(envelope: envelope, content: Array(content.utf8), directory: maildrop)
    }

    /// Writes raw bytes under a valid final name.
    @discardableResult
    func drop(_ bytes: [UInt8], name: String = "0123456789ABCDEF0123456789ABCDEF") throws -> String {
        try writeFile(maildrop + "/" + name, bytes)
        return name
    }

    var files: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: maildrop)) ?? []).sorted() }

    func content(_ id: QueueID) throws -> String {
        let message = try queue.store.open(id)
        defer { message.close() }
        return String(decoding: try message.content().readAll(), as: UTF8.self)
    }

    func envelope(_ id: QueueID) throws -> QueueEnvelope {
        let message = try queue.store.open(id)
        defer { message.close() }
        return message.envelope
    }
}

final class TestLog: Sendable {
    private let lines = TestLocked<[String]>([])
    var messages: [String] { lines.withLock { $0 } }

    var logger: Logger {
        Logger(label: "sealpost.pickup.test") { _ in Handler(log: self) }
    }

    private struct Handler: LogHandler {
        let log: TestLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { log.lines.withLock { $0.append("\(event.level): \(event.message)") } }
    }
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite("Pickup service")
struct PickupServiceTests {
    @Test("a submission is queued with the owner's uid, qualified addresses and Postfix's added headers")
    func picksUpSubmission() async throws {
        let fixture = try PickupFixture()
        try fixture.post(
            MaildropEnvelope(sender: "alice", recipients: ["bob@example.org", "carol"], fullName: "Alice (the) Example", notify: [.success, .failure]),
            "Subject: hello\r\n\r\nbody\r\n")
        let ids = await fixture.service.scan()
        #expect(ids.count == 1)
        let id = try #require(ids.first)
        #expect(fixture.files.isEmpty)
        #expect(fixture.queued.withLock { $0 } == [id])

        let envelope = try fixture.envelope(id)
        #expect(envelope.sender == "alice@example.test")
        #expect(envelope.recipients.map(\.address) == ["bob@example.org", "carol@example.test"])
        #expect(envelope.recipients.allSatisfy { $0.notify == [.success, .failure] })
        #expect(envelope.recipients.map(\.originalRecipient) == ["rfc822;bob@example.org", "rfc822;carol@example.test"])
        #expect(envelope.attributes["uid"] == String(getuid()))
        #expect(envelope.attributes["rewrite_context"] == "local")

        let content = try fixture.content(id)
        let lines = content.components(separatedBy: "\r\n")
        #expect(lines[0] == "Received: by mx.example.test (Sealpost, from userid \(getuid()))")
        #expect(lines[1].hasPrefix("\tid \(id); "))
        #expect(lines[2] == "Subject: hello")
        #expect(lines[3] == "Message-Id: <\(id)@mx.example.test>")
        #expect(lines[4].hasPrefix("Date: "))
        #expect(lines[5] == "From: \"Alice (the) Example\" <alice@example.test>")
        #expect(Array(lines[6...]) == ["", "body", ""])
        #expect(!content.contains("\n\n") && !content.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(fixture.log.messages.contains("info: \(id): uid=\(getuid()) from=<alice>"))
    }

    @Test("headers the message has are not added again; bare LF lines become CRLF")
    func keepsExistingHeaders() async throws {
        let fixture = try PickupFixture()
        try fixture.post(
            MaildropEnvelope(sender: "", recipients: ["bob@example.org"]),
            "From: Someone <s@example.org>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID : <x@y>\n\nline\n")
        let id = try #require(await fixture.service.scan().first)
        let content = try fixture.content(id)
        #expect(content.hasSuffix("\r\nFrom: Someone <s@example.org>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID : <x@y>\r\n\r\nline\r\n"))
        #expect(try fixture.envelope(id).sender == "")
        #expect(fixture.log.messages.contains("info: \(id): message-id=<x@y>"))
    }

    @Test("Bcc and Resent-Bcc headers are removed with their continuations; Resent- messages get Resent- headers")
    func bccAndResent() async throws {
        let fixture = try PickupFixture()
        try fixture.post(
            MaildropEnvelope(sender: "carol", recipients: ["e@example.com"], fullName: "Carol Example"),
            "Subject: five\nResent-Bcc: rb@example.org,\n  rb2@example.org\nBCC : x@y\nX-After: 1\n\nbody\nBcc: in the body\n")
        let id = try #require(await fixture.service.scan().first)
        let content = try fixture.content(id)
        let headers = content.components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n")
        #expect(Array(headers.dropFirst(2)) == [
            "Subject: five", "X-After: 1", "Resent-Message-Id: <\(id)@mx.example.test>", headers[5],
            "Resent-From: Carol Example <carol@example.test>",
        ])
        #expect(headers[5].hasPrefix("Resent-Date: "))
        #expect(content.hasSuffix("\r\n\r\nbody\r\nBcc: in the body\r\n"))
    }

    @Test("header_size_limit: a header keeps that many octets; the rest and its continuation lines are dropped")
    func headerSizeLimit() async throws {
        let fixture = try PickupFixture(messageSizeLimit: 1_000_000, headerSizeLimit: 1000)
        let long = "Subject: " + String(repeating: "s", count: 5000)
        try fixture.post(
            MaildropEnvelope(sender: "carol", recipients: ["e@example.com"]),
            "\(long)\n continued\nX-Folded: " + String(repeating: "f", count: 900) + "\n " + String(repeating: "g", count: 200)
                + "\n more\nX-After: 1\n\n" + String(repeating: "b", count: 5000) + "\n")
        let id = try #require(await fixture.service.scan().first)
        let content = try fixture.content(id)
        let headers = content.components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n")
        #expect(headers[2] == String(long.prefix(1000)), "the first 1000 octets of the Subject header")
        #expect(headers[3] == "X-Folded: " + String(repeating: "f", count: 900), "a header within the limit stays whole")
        #expect(headers[4] == " " + String(repeating: "g", count: 89), "its continuation is cut where the limit is reached")
        #expect(headers[5] == "X-After: 1", "the next header is whole; the dropped continuations are gone")
        #expect(content.hasSuffix("\r\n\r\n" + String(repeating: "b", count: 5000) + "\r\n"), "the body is never cut")
    }

    @Test("display names are written as Postfix writes them", arguments: [
        ("Plain Name", "Plain Name"), ("dotted.name", "\"dotted.name\""), ("Al (x) Ice", "\"Al (x) Ice\""),
        ("say \"hi\"", "\"say \\\"hi\\\"\""), ("Jörg Müller", "Jörg Müller"),
    ])
    func displayNames(_ name: String, _ expected: String) async throws {
        let fixture = try PickupFixture()
        try fixture.post(MaildropEnvelope(sender: "dan", recipients: ["f@example.com"], fullName: name), "no header line\n")
        let id = try #require(await fixture.service.scan().first)
        #expect(try fixture.content(id).contains("\r\nFrom: \(expected) <dan@example.test>\r\n\r\nno header line\r\n"))
    }

    @Test("content without a header section gets the added headers and an empty line before it")
    func bodyOnly() async throws {
        let fixture = try PickupFixture()
        try fixture.post(MaildropEnvelope(sender: "alice", recipients: ["bob"]), "just a body line\r\nsecond")
        let id = try #require(await fixture.service.scan().first)
        let content = try fixture.content(id)
        #expect(content.contains("\r\nFrom: alice@example.test\r\n\r\njust a body line\r\nsecond\r\n"))
    }

    @Test("the uid comes from the file's owner, not from the file")
    func ownerIsTheKernelsWord() async throws {
        guard geteuid() == 0 else { return }  // chown needs root
        let fixture = try PickupFixture()
        let name = try fixture.post(MaildropEnvelope(sender: "root", recipients: ["bob@example.org"]), "Subject: x\r\n\r\n")
        #expect(chown(fixture.maildrop + "/" + name, 4321, 4321) == 0)
        let id = try #require(await fixture.service.scan().first)
        #expect(try fixture.envelope(id).attributes["uid"] == "4321")
        #expect(try fixture.content(id).hasPrefix("Received: by mx.example.test (Sealpost, from userid 4321)\r\n"))
    }

    @Test("hostile files are removed with a warning and never queued; good files beside them are",
          arguments: [
            ("wrong magic", bytes("SENDMAIL 1\nsize 0\nsender <a>\nrecipient <b>\n\n")),
            ("truncated content", bytes("SEALPOST-MAILDROP 1\nsize 100\nsender <a>\nrecipient <b>\n\nshort")),
            ("content longer than declared", bytes("SEALPOST-MAILDROP 1\nsize 1\nsender <a>\nrecipient <b>\n\nlonger")),
            ("ends in the envelope", bytes("SEALPOST-MAILDROP 1\nsize 0\nsender <a>")),
            ("empty file", []),
            ("no recipients", bytes("SEALPOST-MAILDROP 1\nsize 0\nsender <a>\n\n")),
            ("no sender", bytes("SEALPOST-MAILDROP 1\nsize 0\nrecipient <b>\n\n")),
            ("unknown keyword", bytes("SEALPOST-MAILDROP 1\nsize 0\nsender <a>\nrecipient <b>\nuid 0\n\n")),
            ("duplicate sender", bytes("SEALPOST-MAILDROP 1\nsize 0\nsender <a>\nsender <c>\nrecipient <b>\n\n")),
            ("control character", bytes("SEALPOST-MAILDROP 1\nsize 0\nsender <a\u{1}>\nrecipient <b>\n\n")),
            ("angle bracket inside", bytes("SEALPOST-MAILDROP 1\nsize 0\nsender <a>\nrecipient <b><c>\n\n")),
            ("bad size", bytes("SEALPOST-MAILDROP 1\nsize -1\nsender <a>\nrecipient <b>\n\n")),
            ("not UTF-8", [UInt8](bytes("SEALPOST-MAILDROP 1\nsize 0\nsender <")) + [0xFF, 0xFE] + bytes(">\nrecipient <b>\n\n")),
            ("long envelope line", bytes("SEALPOST-MAILDROP 1\nsize 0\nsender <" + String(repeating: "a", count: 5000) + ">\nrecipient <b>\n\n")),
            ("binary garbage", (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }),
          ])
    func hostileFiles(_ name: String, _ contents: [UInt8]) async throws {
        let fixture = try PickupFixture()
        let bad = try fixture.drop(contents)
        try fixture.post(MaildropEnvelope(sender: "alice", recipients: ["bob"]), "Subject: good\r\n\r\n")
        let ids = await fixture.service.scan()
        #expect(ids.count == 1, "\(name)")
        #expect(fixture.files.isEmpty, "\(name)")
        #expect(fixture.log.messages.contains { $0.hasPrefix("warning: maildrop/\(bad): ") && $0.hasSuffix("; file removed") }, "\(name)")
        #expect(queueCount(fixture) == 1)
    }

    @Test("a message over message_size_limit is refused, and a huge file is not even read")
    func tooLarge() async throws {
        let fixture = try PickupFixture(messageSizeLimit: 1000)
        try fixture.post(MaildropEnvelope(sender: "alice", recipients: ["bob"]), String(repeating: "x", count: 998) + "\r\n\r\n")
        #expect(await fixture.service.scan().isEmpty)
        #expect(fixture.files.isEmpty)
        #expect(fixture.log.messages.contains { $0.contains("exceeds message_size_limit") })
        let huge = MaildropEnvelope(sender: "a", recipients: ["b"], contentLength: 3 << 20).encoded() + [UInt8](repeating: 0x41, count: 3 << 20)
        try fixture.drop(huge)
        #expect(await fixture.service.scan().isEmpty)
        #expect(fixture.files.isEmpty)
        #expect(fixture.log.messages.contains { $0.contains("file size") && $0.contains("exceeds the limit") })
        #expect(queueCount(fixture) == 0)
    }

    @Test("randomly damaged maildrop files never crash the service: each is queued or removed")
    func mutatedFiles() async throws {
        let fixture = try PickupFixture()
        let original = MaildropEnvelope(
            sender: "alice", recipients: ["bob@example.org", "carol"], fullName: "A", notify: [.delay], returnContent: .full,
            envelopeID: "E1", bodyType: .sevenBit, contentLength: 24
        ).encoded() + bytes("Subject: x\r\n\r\nbody\r\n..\r\n")
        var generator = SeededGenerator(seed: 0x5EA1_9057)
        var queued = 0
        for round in 0..<300 {
            var mutated = original
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<mutated.count, using: &generator)
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: mutated[index] = UInt8.random(in: 0...255, using: &generator)
                case 1: mutated.remove(at: index)
                case 2: mutated.insert(UInt8.random(in: 0...255, using: &generator), at: index)
                default: mutated.removeSubrange(index...)
                }
                if mutated.isEmpty { mutated = [0] }
            }
            try fixture.drop(mutated, name: String(format: "%032X", round))
            queued += await fixture.service.scan().count
            #expect(fixture.files.isEmpty, "round \(round)")
        }
        #expect(queueCount(fixture) == queued)
    }

    @Test("symbolic links, hard links, FIFOs and directories are refused without following them")
    func specialFiles() async throws {
        let fixture = try PickupFixture()
        let victim = fixture.queue.temporary.path + "/victim"
        let valid = MaildropEnvelope(sender: "mallory", recipients: ["mallory@example.org"], contentLength: 8).encoded() + bytes("secret\r\n")
        try writeFile(victim, valid)
        #expect(symlink(victim, fixture.maildrop + "/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") == 0)
        #expect(link(victim, fixture.maildrop + "/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB") == 0)
        #expect(mkfifo(fixture.maildrop + "/CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC", 0o644) == 0)
        #expect(mkdir(fixture.maildrop + "/DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD", 0o755) == 0)
        try fixture.drop(valid, name: "not-a-maildrop-name")
        #expect(await fixture.service.scan().isEmpty)
        #expect(queueCount(fixture) == 0)
        let warnings = fixture.log.messages.filter { $0.hasPrefix("warning:") }
        #expect(warnings.contains { $0.contains("AAAA") && $0.contains("symbolic link") })
        #expect(warnings.contains { $0.contains("BBBB") && $0.contains("hard links") })
        #expect(warnings.contains { $0.contains("CCCC") && $0.contains("not a regular file") })
        #expect(warnings.contains { $0.contains("not-a-maildrop-name") })
        // The victim survives; only the link to it was removed.
        #expect(FileManager.default.fileExists(atPath: victim))
        #expect(!fixture.files.contains("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
        #expect(!fixture.files.contains("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"))
    }

    @Test("files still being written (.tmp) are left alone")
    func unfinishedFiles() async throws {
        let fixture = try PickupFixture()
        try fixture.drop(MaildropEnvelope(sender: "a", recipients: ["b"]).encoded(), name: "0123456789ABCDEF0123456789ABCDEF.tmp")
        #expect(await fixture.service.scan().isEmpty)
        #expect(fixture.files == ["0123456789ABCDEF0123456789ABCDEF.tmp"])
    }

    @Test("run() scans at start and on each pickup trigger")
    func runsOnTriggers() async throws {
        let fixture = try PickupFixture()
        try fixture.post(MaildropEnvelope(sender: "alice", recipients: ["bob"]), "Subject: before start\r\n\r\n")
        let fifo = QueueTrigger.pickupPath(queueDirectory: fixture.queue.directory)
        let listener = try QueueTriggerListener(path: fifo)
        let service = fixture.service
        let running = Task { await service.run(triggers: listener.requests) }
        defer {
            running.cancel()
            listener.close()
        }
        // The service's task needs one of Swift's cooperative threads; in a full run on 2 CPUs the
        // blocking CLI tests have held both for over 90 s (one such run failed here), so wait long.
        #expect(await eventually(timeout: 300) { fixture.queued.withLock { $0.count } == 1 }, "log: \(fixture.log.messages), maildrop: \(fixture.files)")
        try fixture.post(MaildropEnvelope(sender: "alice", recipients: ["bob"]), "Subject: after\r\n\r\n")
        #expect(try QueueTrigger.send(.pickup, to: fifo))
        #expect(await eventually(timeout: 300) { fixture.queued.withLock { $0.count } == 2 })
        #expect(fixture.files.isEmpty)
    }

    private func queueCount(_ fixture: PickupFixture) -> Int {
        fixture.queue.store.list().messages.count
    }
}

@Suite("Maildrop format")
struct MaildropFormatTests {
    @Test("the writer's file holds every envelope field and the parser's rules accept it")
    func roundTrip() async throws {
        let fixture = try PickupFixture()
        let name = try fixture.post(
            MaildropEnvelope(
                sender: "alice@example.org", recipients: ["bob@example.org"], fullName: "Alice", notify: [.never],
                returnContent: .headers, envelopeID: "ENV123", bodyType: .eightBitMIME),
            "Subject: x\r\n\r\nbody\r\n")
        #expect(MaildropWriter.isFinalName(name))
        var status = stat()
        #expect(stat(fixture.maildrop + "/" + name, &status) == 0)
        #expect(status.st_mode & 0o777 == 0o644)
        let text = try String(contentsOfFile: fixture.maildrop + "/" + name, encoding: .utf8)
        #expect(text == """
            SEALPOST-MAILDROP 1
            size 20
            sender <alice@example.org>
            fullname Alice
            notify never
            ret hdrs
            envid ENV123
            body 8BITMIME
            recipient <bob@example.org>

            Subject: x\r
            \r
            body\r

            """)
        let id = try #require(await fixture.service.scan().first)
        let envelope = try fixture.envelope(id)
        #expect(envelope.returnContent == .headers)
        #expect(envelope.envelopeID == "ENV123")
        #expect(envelope.bodyType == .eightBitMIME)
        #expect(envelope.recipients.first?.notify == .never)
        #expect(envelope.attributes["full_name"] == "Alice")
    }

    @Test("settings come from main.cf")
    func settingsFromConfiguration() throws {
        let temporary = try TemporaryDirectory()
        try temporary.write("main.cf", "queue_directory = /q\nmyhostname = mx.example.test\nmydomain = example.test\nmyorigin = $mydomain\nmail_name = Mailer\nmessage_size_limit = 5000\n")
        try temporary.write("master.cf", "")
        let settings = PickupSettings(Configuration.load(directory: temporary.path).global)
        #expect(settings == PickupSettings(
            maildropDirectory: "/q/maildrop", hostname: "mx.example.test", origin: "example.test", mailName: "Mailer",
            messageSizeLimit: 5000, lineLengthLimit: 2048, headerSizeLimit: 102_400))
        try temporary.write("main.cf", "append_at_myorigin = no\n")
        #expect(PickupSettings(Configuration.load(directory: temporary.path).global).origin == "")
    }

    @Test("the maildrop directory is 1733 and the public directory 0755")
    func directoryModes() throws {
        let temporary = try TemporaryDirectory()
        try MaildropDirectory.prepare(queueDirectory: temporary.path, owner: nil)
        var status = stat()
        #expect(stat(temporary.path + "/maildrop", &status) == 0)
        #expect(status.st_mode & 0o7777 == 0o1733)
        #expect(stat(temporary.path + "/public", &status) == 0)
        #expect(status.st_mode & 0o7777 == 0o755)
    }
}
