import Foundation
import SealpostTestSupport
import Testing

@testable import SealpostQueue

@Suite("Corrupt queue files")
struct CorruptionTests {
    /// A committed file with a journal, as bytes, and its ID.
    static func validFile() async throws -> (id: QueueID, bytes: [UInt8], content: [UInt8], journalOffset: Int) {
        let queue = try TestQueue(fileSystem: unsynced, chunkSize: 512)
        let writer = try queue.store.makeWriter(envelope: sampleEnvelope(recipients: 2))
        let body = content(for: writer.id, size: 2000)
        try writer.append(body)
        let id = try await queue.store.commit(writer)
        let message = try queue.store.open(id)
        try await message.record([DeliveryOutcome(
            recipients: [0], result: .deferred(until: .now()), dsnStatus: "4.4.1", reason: "refused")])
        message.close()
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: queue.path(.active, id.text))))
        let header = try FileHeader.decode(bytes[...])
        return (id, bytes, body, Int(header.journalOffset))
    }

    /// Puts `bytes` into a fresh queue's active directory as `id` and runs recovery.
    static func recover(_ bytes: [UInt8], as id: QueueID) throws -> (TestQueue, RecoveryReport) {
        let queue = try TestQueue(fileSystem: unsynced)
        try writeFile(queue.path(.active, id.text), Data(bytes))
        return (queue, try queue.store.recover())
    }

    @Test("random bytes are quarantined")
    func randomBytes() throws {
        var generator = SeededGenerator(seed: 11)
        for size in [0, 1, 63, 64, 65, 500, 5000] {
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let id = QueueID(seconds: 1_800_000_000, microseconds: UInt32(size), inode: 77)
            let (queue, report) = try Self.recover(bytes, as: id)
            #expect(report.quarantined.map(\.name) == [id.text])
            #expect(report.messages.isEmpty)
            #expect(queue.names(in: .corrupt) == [id.text])
            #expect(queue.names(in: .active).isEmpty)
        }
    }

    @Test("a file truncated anywhere before its journal is quarantined; inside the journal, repaired")
    func truncation() async throws {
        let valid = try await Self.validFile()
        for cut in stride(from: 0, to: valid.bytes.count, by: 7) {
            let (queue, report) = try Self.recover(Array(valid.bytes.prefix(cut)), as: valid.id)
            if cut < valid.journalOffset {
                #expect(report.quarantined.count == 1, "cut at \(cut)")
                #expect(queue.names(in: .corrupt) == [valid.id.text])
            } else {
                #expect(report.quarantined.isEmpty, "cut at \(cut)")
                #expect(report.messages.map(\.id) == [valid.id])
                #expect(report.repairedJournals == (cut == valid.journalOffset ? 0 : 1))
                #expect(try queue.store.open(valid.id).content().readAll() == valid.content)
            }
        }
    }

    @Test("a flipped byte anywhere is caught: quarantined, journal tail dropped, or content refused")
    func bitFlips() async throws {
        let valid = try await Self.validFile()
        let queue = try TestQueue(fileSystem: unsynced)
        for index in valid.bytes.indices {
            var damaged = valid.bytes
            damaged[index] ^= 0x20
            for name in queue.names(in: .corrupt) { try FileManager.default.removeItem(atPath: queue.path(.corrupt, name)) }
            try writeFile(queue.path(.active, valid.id.text), Data(damaged))
            let report = try queue.store.recover()
            if !report.quarantined.isEmpty {
                #expect(queue.names(in: .active).isEmpty)
                continue
            }
            if index >= valid.journalOffset {
                #expect(report.repairedJournals == 1, "byte \(index)")
                continue
            }
            // Damage inside a content chunk: found when the content is read, never delivered.
            let message = try queue.store.open(valid.id)
            let error = #expect(throws: QueueError.self, "byte \(index)") { try message.content().readAll() }
            #expect(error?.code == .corrupt)
            try await message.quarantine(reason: error?.reason ?? "")
            #expect(queue.names(in: .corrupt) == [valid.id.text])
        }
    }

    @Test("random mutations never crash the reader and never yield wrong content")
    func fuzz() async throws {
        let valid = try await Self.validFile()
        var generator = SeededGenerator(seed: 2024)
        for _ in 0..<300 {
            var bytes = valid.bytes
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: bytes[Int.random(in: bytes.indices, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                case 1: bytes.removeSubrange(Int.random(in: 0..<bytes.count, using: &generator)...)
                case 2: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: Int.random(in: 0...bytes.count, using: &generator))
                default: bytes.remove(at: Int.random(in: bytes.indices, using: &generator))
                }
                if bytes.isEmpty { bytes = [0] }
            }
            let (queue, report) = try Self.recover(bytes, as: valid.id)
            guard report.messages.count == 1 else { continue }
            let message = try queue.store.open(valid.id)
            if let content = try? message.content().readAll() {
                #expect(content == valid.content)
            }
        }
    }

    @Test("an unknown format version is quarantined, not misread")
    func futureVersion() async throws {
        let valid = try await Self.validFile()
        var bytes = valid.bytes
        bytes[8] = 2
        var checksum = CRC32C()
        checksum.update(bytes[0..<60])
        withUnsafeBytes(of: checksum.value.littleEndian) { bytes.replaceSubrange(60..<64, with: $0) }
        let (_, report) = try Self.recover(bytes, as: valid.id)
        #expect(report.quarantined.first?.reason.contains("unsupported queue file format version 2") == true)
    }

    @Test("names that are not queue IDs are reported and left alone")
    func strangeNames() throws {
        let queue = try TestQueue(fileSystem: unsynced)
        for name in ["notanid", ".hidden", "4jclds4CSdz2P1LV.tmp"] {
            try writeFile(queue.path(.deferred, name), Data("x".utf8))
        }
        let report = try queue.store.recover()
        #expect(report.unexpectedFiles.sorted() == ["deferred/.hidden", "deferred/4jclds4CSdz2P1LV.tmp", "deferred/notanid"])
        #expect(queue.names(in: .deferred).count == 3)
    }

    @Test("opening a corrupt message quarantines it")
    func openCorrupt() throws {
        let queue = try TestQueue(fileSystem: unsynced)
        let id = QueueID(seconds: 1_800_000_000, microseconds: 1, inode: 5)
        try writeFile(queue.path(.active, id.text), Data("garbage".utf8))
        let error = #expect(throws: QueueError.self) { try queue.store.open(id) }
        #expect(error?.code == .corrupt)
        #expect(queue.names(in: .corrupt) == [id.text])
    }
}
