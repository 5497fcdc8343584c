import Foundation
import SealpostTestSupport
import Testing

@testable import SealpostQueue

/// Files of delivered messages kept for new ones (`SpareFiles`).
@Suite("Spare queue files")
struct SpareFileTests {
    static let delivered = DeliveryOutcome(recipients: [0, 1], result: .delivered(.delivered), dsnStatus: "2.0.0", reason: "ok")

    /// Delivers and retires a message; returns the spare's name.
    static func deliver(_ id: QueueID, in queue: TestQueue) async throws -> String {
        let message = try queue.store.open(id)
        #expect(try await message.recordRemovingIfDone([delivered]) == true)
        let spares = queue.names(in: .incoming).filter { $0.hasPrefix("spare.") }
        return try #require(spares.last)
    }

    @Test("a delivered message's file holds a later message, cut to its length, with no trace of the old journal")
    func reuse() async throws {
        let queue = try TestQueue()
        let old = try await queue.enqueue(content: String(repeating: "old content line\r\n", count: 300))
        let spare = try await Self.deliver(old, in: queue)
        let spareInode = try #require(try FileManager.default.attributesOfItem(atPath: queue.path(.incoming, spare))[.systemFileNumber] as? UInt64)

        // No sync of `active` since the spare was made: a new message gets a new file.
        let first = try queue.store.makeWriter(envelope: sampleEnvelope())
        #expect(!first.reusesFile)
        try first.append(sampleContent)
        _ = try await queue.store.commit(first)

        // That commit synced `active`: the next message takes the spare.
        let writer = try queue.store.makeWriter(envelope: sampleEnvelope())
        #expect(writer.reusesFile && writer.temporaryName == spare)
        try writer.append("Subject: new\r\n\r\nshort\r\n")
        let id = try await queue.store.commit(writer)
        #expect(id.inode == spareInode)
        #expect(!queue.names(in: .incoming).contains(spare))

        let store = try queue.reopened()
        let report = try store.recover()
        #expect(report.quarantined.isEmpty && report.repairedJournals == 0)
        let reopened = try store.open(id)
        #expect(reopened.recipients.allSatisfy { $0.status == .pending })
        let reader = try reopened.content()
        var content: [UInt8] = []
        while let chunk = try reader.next() { content += chunk }
        reader.close()
        #expect(String(decoding: content, as: UTF8.self) == "Subject: new\r\n\r\nshort\r\n")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: queue.path(.active, id.text))[.size] as? Int)
        #expect(UInt64(size) == reopened.header.journalOffset)
    }

    @Test("a message of the same size as the old one does not inherit its delivered record")
    func sameSizeMessage() async throws {
        let queue = try TestQueue()
        let old = try await queue.enqueue()
        _ = try await Self.deliver(old, in: queue)
        try await queue.enqueue()  // syncs `active`
        let writer = try queue.store.makeWriter(envelope: sampleEnvelope())
        #expect(writer.reusesFile)
        try writer.append(sampleContent)
        let id = try await queue.store.commit(writer)
        let reopened = try queue.reopened().open(id)
        #expect(reopened.recipients.allSatisfy { $0.status == .pending })
        #expect(reopened.snapshot.nextAttempt != nil)
    }

    @Test("the commit of a spare cuts it and syncs it whole (size included) before the rename")
    func wholeFileSync() async throws {
        let fileSystem = RecordingFileSystem()
        let queue = try TestQueue(fileSystem: fileSystem)
        let old = try await queue.enqueue(content: String(repeating: "x", count: 5000))
        _ = try await Self.deliver(old, in: queue)
        try await queue.enqueue()
        let writer = try queue.store.makeWriter(envelope: sampleEnvelope())
        #expect(writer.reusesFile)
        try writer.append(sampleContent)
        fileSystem.reset()
        _ = try await queue.store.commit(writer)
        let calls = fileSystem.events.map(\.call)
        let truncate = try #require(calls.firstIndex(of: .truncate))
        // fsync of the file (recorded as a full sync), then the rename, then the directory.
        let sync = try #require(calls.firstIndex(of: .directorySync))
        let rename = try #require(calls.firstIndex(of: .rename))
        #expect(truncate < sync && sync < rename)
        #expect(!calls.contains(.dataSync))
    }

    @Test("only files leaving active become spares, up to the limit; with none allowed the file is unlinked")
    func limits() async throws {
        let none = try TestQueue(spareFiles: 0)
        let id = try await none.enqueue()
        let message = try none.store.open(id)
        #expect(try await message.recordRemovingIfDone([Self.delivered]) == true)
        #expect(none.names(in: .incoming).isEmpty && none.names(in: .active).isEmpty)

        let two = try TestQueue(spareFiles: 2)
        var ids: [QueueID] = []
        for _ in 0..<3 { ids.append(try await two.enqueue()) }
        for id in ids {
            let message = try two.store.open(id)
            #expect(try await message.recordRemovingIfDone([Self.delivered]) == true)
        }
        #expect(two.names(in: .incoming).count == 2 && two.names(in: .active).isEmpty)

        // A message in deferred is unlinked (a spare is only made from active).
        let deferredID = try await two.enqueue()
        let deferred = try two.store.open(deferredID)
        try await deferred.move(to: .deferred)
        two.store.removeSpareFiles()
        #expect(two.names(in: .incoming).isEmpty)
        #expect(try await deferred.recordRemovingIfDone([Self.delivered]) == true)
        #expect(two.names(in: .incoming).isEmpty && two.names(in: .deferred).isEmpty)
    }

    @Test("recovery leaves a running process's spares alone and removes a dead one's, without counting them as unacknowledged")
    func recovery() async throws {
        let queue = try TestQueue()
        let id = try await queue.enqueue()
        let spare = try await Self.deliver(id, in: queue)
        // This process still holds the spare locked: another process's recovery keeps it.
        let report = try queue.reopened().recover()
        #expect(report.incompleteInUse == 1 && queue.names(in: .incoming) == [spare])

        // A spare left behind by a process that died.
        try Data("left over".utf8).write(to: URL(fileURLWithPath: queue.path(.incoming, "spare.1.1")))
        queue.store.removeSpareFiles()
        #expect(queue.names(in: .incoming) == ["spare.1.1"])
        let after = try queue.reopened().recover()
        #expect(after.removedIncomplete == 0 && after.incompleteInUse == 0)
        #expect(queue.names(in: .incoming).isEmpty)
    }
}
