import Foundation
import SealpostConfig
import SealpostTestSupport
import Testing

@testable import SealpostQueue

@Suite("Enqueue and commit")
struct CommitTests {
    @Test("a committed message reads back with its envelope and exact content")
    func roundTrip() async throws {
        let queue = try TestQueue()
        var envelope = sampleEnvelope(recipients: 3)
        envelope.envelopeID = "ENV1"
        envelope.returnContent = .full
        envelope.bodyType = .eightBitMIME
        envelope.smtputf8 = true
        envelope.declaredSize = 4096
        envelope.saslMethod = "PLAIN"
        envelope.saslUsername = "alice"
        envelope.tlsSummary = "(using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits))"
        envelope.milterDaemonName = "smtpd"
        envelope.recipients[1].notify = [.success, .failure]
        envelope.recipients[1].originalRecipient = "rfc822;user1@example.net"
        let writer = try queue.store.makeWriter(envelope: envelope)
        let body = content(for: writer.id, size: 10_000)
        try writer.append(Array(body[..<3000]))
        try writer.append(Array(body[3000...]))
        #expect(writer.contentLength == 10_000)
        let id = try await queue.store.commit(writer)
        #expect(id == writer.id)
        #expect(queue.names(in: .active) == [id.text])
        #expect(queue.names(in: .incoming).isEmpty)

        let message = try queue.store.open(id)
        var expected = envelope
        expected.arrival = id.timestamp
        #expect(message.envelope == expected)
        #expect(message.queue == .active)
        #expect(message.contentLength == 10_000)
        #expect(message.recipients == [RecipientState](repeating: RecipientState(), count: 3))
        #expect(try message.content().readAll() == body)
    }

    @Test("content streams in chunks of the configured size, any append pattern", arguments: [1, 7, 4096, 100_000])
    func streaming(appendSize: Int) async throws {
        let queue = try TestQueue(chunkSize: 1000)
        let writer = try queue.store.makeWriter(envelope: sampleEnvelope())
        let body = content(for: writer.id, size: 25_321)
        var offset = 0
        while offset < body.count {
            let end = min(body.count, offset + appendSize)
            try writer.append(Array(body[offset..<end]))
            offset = end
        }
        let id = try await queue.store.commit(writer)
        let reader = try queue.store.open(id).content()
        var chunks: [[UInt8]] = []
        while let chunk = try reader.next() { chunks.append(chunk) }
        #expect(chunks.count == 26)
        #expect(chunks.dropLast().allSatisfy { $0.count == 1000 })
        #expect(chunks.flatMap { $0 } == body)
    }

    @Test("a large message is written while it streams, not at commit")
    func writesWhileStreaming() async throws {
        let fileSystem = RecordingFileSystem()
        let queue = try TestQueue(fileSystem: fileSystem, chunkSize: 4096)
        let writer = try queue.store.makeWriter(envelope: sampleEnvelope())
        let before = fileSystem.count(.write)
        for _ in 0..<100 { try writer.append([UInt8](repeating: 0x41, count: 4096)) }
        #expect(fileSystem.count(.write) - before >= 99)
        let size = try FileManager.default.attributesOfItem(atPath: queue.path(.incoming, writer.temporaryName))[.size] as! Int
        #expect(size >= 99 * 4096)
        _ = try await queue.store.commit(writer)
    }

    @Test("an empty message and a message with content but no recipients")
    func edges() async throws {
        let queue = try TestQueue()
        let empty = try queue.store.makeWriter(envelope: sampleEnvelope())
        let id = try await queue.store.commit(empty)
        #expect(try queue.store.open(id).content().readAll() == [])

        let orphan = try queue.store.makeWriter(envelope: QueueEnvelope(sender: "a@b", recipients: []))
        try orphan.append("Subject: x\r\n\r\n")
        await #expect(throws: QueueError.self) { try await queue.store.commit(orphan) }
        #expect(queue.names(in: .incoming).isEmpty)
    }

    @Test("recipients can be added until the content starts")
    func envelopeUpdates() async throws {
        let queue = try TestQueue()
        let writer = try queue.store.makeWriter(envelope: QueueEnvelope(sender: "a@example.org", recipients: []))
        try writer.updateEnvelope { $0.recipients.append(QueueRecipient(address: "b@example.net")) }
        try writer.updateEnvelope { $0.recipients.append(QueueRecipient(address: "c@example.net")) }
        try writer.append("Subject: x\r\n\r\n")
        #expect(throws: QueueError.self) {
            try writer.updateEnvelope { $0.recipients.append(QueueRecipient(address: "d@example.net")) }
        }
        let id = try await queue.store.commit(writer)
        #expect(try queue.store.open(id).envelope.recipients.map(\.address) == ["b@example.net", "c@example.net"])
        #expect(throws: QueueError.self) { try writer.append("more") }
    }

    @Test("abort (client gone mid-DATA) and a dropped writer leave nothing")
    func abort() async throws {
        let queue = try TestQueue(chunkSize: 1024)
        let writer = try queue.store.makeWriter(envelope: sampleEnvelope())
        try writer.append([UInt8](repeating: 0x42, count: 10_000))
        #expect(queue.names(in: .incoming).count == 1)
        writer.abort()
        #expect(queue.names(in: .incoming).isEmpty)
        await #expect(throws: QueueError.self) { try await queue.store.commit(writer) }
        do {
            let dropped = try queue.store.makeWriter(envelope: sampleEnvelope())
            try dropped.append("partial")
            #expect(queue.names(in: .incoming).count == 1)
        }
        #expect(queue.names(in: .incoming).isEmpty)
        #expect(queue.names(in: .active).isEmpty)
    }

    @Test("a commit or a move never replaces an existing file of the same name")
    func noReplace() async throws {
        let queue = try TestQueue()
        let writer = try queue.store.makeWriter(envelope: sampleEnvelope())
        try writer.append("Subject: new\r\n\r\n")
        try writeFile(queue.path(.active, writer.id.text), Array("an older file".utf8))
        let error = await #expect(throws: QueueError.self) { try await queue.store.commit(writer) }
        #expect(error?.systemError == EEXIST)
        #expect(try String(contentsOfFile: queue.path(.active, writer.id.text), encoding: .utf8) == "an older file")
        #expect(queue.names(in: .incoming).isEmpty)

        let id = try await queue.enqueue()
        try writeFile(queue.path(.deferred, id.text), Array("squatter".utf8))
        let message = try queue.store.open(id)
        let moveError = await #expect(throws: QueueError.self) { try await message.move(to: .deferred) }
        #expect(moveError?.systemError == EEXIST)
        #expect(message.queue == .active)
        #expect(try message.content().readAll() == Array(sampleContent.utf8))
    }

    @Test("queue files are 0600 and queue directories 0700, whatever the umask")
    func permissions() async throws {
        let old = umask(0)
        defer { umask(old) }
        let queue = try TestQueue()
        let id = try await queue.enqueue()
        for name in QueueName.allCases {
            let attributes = try FileManager.default.attributesOfItem(atPath: "\(queue.directory)/\(name)")
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o700, "\(name)")
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: queue.path(.active, id.text))
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect((attributes[.ownerAccountID] as? NSNumber)?.uint32Value == geteuid())
    }

    @Test("queue list reads envelopes and states without the content")
    func listing() async throws {
        let fileSystem = RecordingFileSystem()
        let queue = try TestQueue(fileSystem: fileSystem)
        var big = sampleEnvelope()
        big.sender = "big@example.org"
        let writer = try queue.store.makeWriter(envelope: big)
        try writer.append([UInt8](repeating: 0x43, count: 2_000_000))
        let bigID = try await queue.store.commit(writer)
        let small = try await queue.enqueue()
        let message = try queue.store.open(small)
        let next = QueueTimestamp.now().adding(seconds: 600)
        try await message.record([DeliveryOutcome(
            recipients: [1], result: .deferred(until: next), dsnStatus: "4.4.1",
            reason: "connect to mx.example.net[192.0.2.7]:25: Connection timed out")])
        try await message.move(to: .deferred)
        message.close()

        fileSystem.reset()
        let (messages, problems) = queue.store.list()
        #expect(problems.isEmpty)
        #expect(messages.map(\.id) == [bigID, small])
        #expect(messages[0].contentLength == 2_000_000)
        #expect(messages[0].envelope.sender == "big@example.org")
        #expect(messages[1].queue == .deferred)
        #expect(messages[1].recipients[1].reason == "connect to mx.example.net[192.0.2.7]:25: Connection timed out")
        #expect(messages[1].recipients[1].nextAttempt == next)
        #expect(messages[1].nextAttempt == messages[1].arrival)  // recipient 0 was never tried
        // Header, envelope, content end, journal: a few small reads each, never the 2 MB of content.
        #expect(fileSystem.count(.read) <= 2 * 4)
    }

    @Test("free space check follows Postfix: more than queue_minfree and 1.5 × message_size_limit")
    func spaceCheck() throws {
        func check(available: UInt64, minfree: Int, limit: Int) throws -> SpaceCheck {
            let scratch = try TemporaryDirectory()
            let store = try QueueStore(
                configuration: QueueConfiguration(directory: scratch.path + "/q", minimumFreeSpace: minfree, messageSizeLimit: limit),
                fileSystem: AdjustedFileSystem(space: FileSystemSpace(blockSize: 4096, blocksAvailable: available / 4096)), logger: quietLogger)
            return store.checkSpace()
        }
        #expect(try check(available: 100 << 20, minfree: 0, limit: 10_240_000).isSufficient)
        #expect(try check(available: 16 << 20, minfree: 0, limit: 10_240_000).isSufficient)
        #expect(try check(available: 15 << 20, minfree: 0, limit: 10_240_000).isSufficient)  // 15.7 MB > 15.36 MB
        #expect(try !check(available: 14 << 20, minfree: 0, limit: 10_240_000).isSufficient)
        #expect(try !check(available: 100 << 20, minfree: 200 << 20, limit: 10_240_000).isSufficient)
        #expect(try check(available: 300 << 20, minfree: 200 << 20, limit: 10_240_000).isSufficient)
        #expect(try !check(available: 0, minfree: 0, limit: 0).isSufficient)
        let low = try check(available: 1 << 20, minfree: 0, limit: 10_240_000)
        #expect(low.warning == "not enough free space in mail queue: 1048576 bytes < 1.5*message size limit")
        // The real file system answers too.
        let queue = try TestQueue()
        #expect(queue.store.checkSpace().availableBytes > 0)
    }
}

@Suite("Queue configuration")
struct QueueConfigurationTests {
    @Test("reads queue_directory, queue_minfree and message_size_limit from main.cf")
    func fromMainCf() throws {
        let scratch = try TemporaryDirectory()
        try scratch.write("main.cf", """
            queue_directory = \(scratch.path)/spool
            queue_minfree = 20971520
            message_size_limit = 5000000

            """)
        try scratch.write("master.cf", "smtp inet n - n - - smtpd\n")
        let configuration = QueueConfiguration(Configuration.load(directory: scratch.path).global)
        #expect(configuration.directory == scratch.path + "/spool")
        #expect(configuration.minimumFreeSpace == 20 * 1024 * 1024)
        #expect(configuration.messageSizeLimit == 5_000_000)
        #expect(configuration.durability == .recommended)
    }
}
