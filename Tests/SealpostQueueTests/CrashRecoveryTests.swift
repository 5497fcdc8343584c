import Foundation
import SealpostTestSupport
import Testing

@testable import SealpostQueue

/// Copies of the queue directory taken just before chosen system calls: what the disk holds if
/// the machine stops at that instant.
final class CrashImages: Sendable {
    let source: String
    let root: String
    private let taken = TestLocked<[(call: RecordingFileSystem.Call, path: String)]>([])

    /// Images go into `root`, which the caller owns.
    init(source: String, root: String) {
        self.source = source
        self.root = root
    }

    var images: [(call: RecordingFileSystem.Call, path: String)] { taken.withLock { $0 } }

    func take(before call: RecordingFileSystem.Call) {
        taken.withLock { taken in
            let path = "\(root)/image\(taken.count + 1)"
            try! FileManager.default.copyItem(atPath: source, toPath: path)
            taken.append((call, path))
        }
    }
}

@Suite("Crash recovery")
struct CrashRecoveryTests {
    static let interesting: Set<RecordingFileSystem.Call> = [.write, .dataSync, .rename, .directorySync, .truncate, .fileSystemSync]

    @Test("a crash at any step of a commit leaves the message whole or absent, never corrupt")
    func commitSteps() async throws {
        let fileSystem = RecordingFileSystem()
        let queue = try TestQueue(fileSystem: fileSystem, chunkSize: 1024)
        let earlier = try await queue.enqueue()  // acknowledged before the crash window
        let imageDirectory = try TemporaryDirectory()
        let images = CrashImages(source: queue.directory, root: imageDirectory.path)
        fileSystem.inject { call, _ in
            if Self.interesting.contains(call) { images.take(before: call) }
            return nil
        }
        let writer = try queue.store.makeWriter(envelope: sampleEnvelope())
        let body = content(for: writer.id, size: 5000)
        for start in stride(from: 0, to: body.count, by: 700) {
            try writer.append(Array(body[start..<min(body.count, start + 700)]))
        }
        let id = try await queue.store.commit(writer)
        fileSystem.inject(nil)
        images.take(before: .close)  // after the acknowledgement

        #expect(images.images.count >= 8)
        var sawPartial = false
        var sawRenamed = false
        for (index, image) in images.images.enumerated() {
            let acknowledged = index == images.images.count - 1
            let store = try QueueStore(configuration: QueueConfiguration(directory: image.path), logger: quietLogger)
            let incomingBefore = try FileManager.default.contentsOfDirectory(atPath: image.path + "/incoming").count
            sawPartial = sawPartial || incomingBefore > 0
            let report = try store.recover()
            #expect(report.quarantined.isEmpty, "image before \(image.call)")
            #expect(report.removedIncomplete == incomingBefore)
            #expect(try FileManager.default.contentsOfDirectory(atPath: image.path + "/incoming").isEmpty)
            let ids = report.messages.map(\.id)
            #expect(ids.contains(earlier))
            if ids.contains(id) {
                sawRenamed = true
                #expect(try store.open(id).content().readAll() == body, "image before \(image.call)")
            } else {
                #expect(!acknowledged, "the acknowledged message is missing")
            }
        }
        #expect(sawPartial && sawRenamed)
    }

    @Test("on-disk states built by hand: partial, unrenamed, renamed without directory sync, committed")
    func constructedStates() async throws {
        let queue = try TestQueue()
        let committed = try await queue.enqueue()
        let committedBytes = try Data(contentsOf: URL(fileURLWithPath: queue.path(.active, committed.text)))
        // A partial file as a killed session leaves it: a prefix of a real file in incoming.
        for cut in [0, 10, 63, 64, 200, committedBytes.count - 1] {
            try writeFile(queue.path(.incoming, "999.\(cut)"), committedBytes.prefix(cut))
        }
        // A complete, synced file that was never renamed (killed before the rename).
        try writeFile(queue.path(.incoming, "999.full"), committedBytes)
        // A file renamed into active whose directory sync never happened: complete, so it is kept
        // (the client got no 250 and may send again: a duplicate, never a loss).
        let unacknowledged = try await queue.enqueue()

        let store = try queue.reopened()
        let report = try store.recover()
        #expect(report.removedIncomplete == 7)
        #expect(report.quarantined.isEmpty)
        #expect(Set(report.messages.map(\.id)) == [committed, unacknowledged])
        #expect(queue.names(in: .incoming).isEmpty)
        #expect(report.summary == "queue recovery: active 2, deferred 0, hold 0, removed incomplete 7")
    }

    @Test("recovery leaves an incoming file alone while its writer holds it")
    func incomingInUse() async throws {
        let queue = try TestQueue()
        let writer = try queue.store.makeWriter(envelope: sampleEnvelope())
        try writer.append("Subject: in progress\r\n")
        let report = try queue.reopened().recover()
        #expect(report.incompleteInUse == 1)
        #expect(report.removedIncomplete == 0)
        let id = try await queue.store.commit(writer)
        #expect(queue.names(in: .active) == [id.text])
    }

    @Test("recipient results survive a crash at every step of the append, torn or not")
    func recipientStateAcrossCrash() async throws {
        let fileSystem = RecordingFileSystem()
        let queue = try TestQueue(fileSystem: fileSystem)
        let id = try await queue.enqueue(sampleEnvelope(recipients: 3))
        let message = try queue.store.open(id)
        let deferral = DeliveryOutcome(
            recipients: [0, 1, 2], result: .deferred(until: QueueTimestamp.now().adding(seconds: 300)), dsnStatus: "4.4.1",
            reason: "connection refused")
        try await message.record([deferral])
        let before = message.recipients
        let imageDirectory = try TemporaryDirectory()
        let images = CrashImages(source: queue.directory, root: imageDirectory.path)
        fileSystem.inject { call, _ in
            if call == .write || call == .dataSync { images.take(before: call) }
            return nil
        }
        try await message.record([
            DeliveryOutcome(recipients: [0], result: .delivered(.delivered), dsnStatus: "2.0.0", reason: "delivered to maildir"),
            DeliveryOutcome(recipients: [2], result: .bounced, dsnStatus: "5.1.1", reason: "unknown user"),
        ])
        fileSystem.inject(nil)
        let after = message.recipients
        #expect(after[0].status == .delivered && after[1].status == .deferred && after[2].status == .bounced)
        message.close()

        // Pessimistic images: the unsynced append torn at every byte.
        let base = try #require(images.images.first { $0.call == .write })
        let complete = try #require(images.images.first { $0.call == .dataSync })
        let fileInBase = base.path + "/active/" + id.text
        let fileComplete = complete.path + "/active/" + id.text
        let oldBytes = try Data(contentsOf: URL(fileURLWithPath: fileInBase))
        let newBytes = try Data(contentsOf: URL(fileURLWithPath: fileComplete))
        #expect(newBytes.count > oldBytes.count && newBytes.prefix(oldBytes.count) == oldBytes)
        // The append holds two records; each is valid on its own, so a cut after the first applies it.
        guard case .record(_, _, let firstEnd) = RecordFraming.parse(Array(newBytes)[...], at: oldBytes.count) else {
            Issue.record("the appended journal record does not parse")
            return
        }
        var afterFirst = before
        afterFirst[0] = after[0]
        for cut in oldBytes.count...newBytes.count {
            let expected = cut == newBytes.count ? after : cut >= firstEnd ? afterFirst : before
            let image = try TemporaryDirectory()
            try FileManager.default.removeItem(atPath: image.path)
            try FileManager.default.copyItem(atPath: complete.path, toPath: image.path)
            var torn = newBytes.prefix(cut)
            let boundary = [oldBytes.count, firstEnd, newBytes.count].contains(cut)
            if !boundary, cut > oldBytes.count + 8 { torn.append(contentsOf: [0, 0, 0, 0]) }  // a zero-filled block tail
            try writeFile(image.path + "/active/" + id.text, torn)
            let store = try QueueStore(configuration: QueueConfiguration(directory: image.path), fileSystem: unsynced, logger: quietLogger)
            let report = try store.recover()
            #expect(report.quarantined.isEmpty)
            #expect(report.repairedJournals == (boundary ? 0 : 1))
            let reopened = try store.open(id)
            #expect(reopened.recipients == expected, "cut at \(cut)")
            // And the repaired journal takes new records.
            try await reopened.record([DeliveryOutcome(recipients: [1], result: .delivered(.relayed), dsnStatus: "2.0.0", reason: "ok")])
            reopened.close()
            #expect(try store.open(id).recipients[1].status == .delivered)
        }
    }

    @Test("a completed message is retired once: notices recorded before removal")
    func retire() async throws {
        let queue = try TestQueue()
        var envelope = sampleEnvelope(recipients: 3)
        envelope.recipients[1].notify = [.success]
        envelope.recipients[2].notify = [.never]
        let id = try await queue.enqueue(envelope)
        let message = try queue.store.open(id)
        #expect(try await message.retire { _, _ in Issue.record("not complete yet") } == false)
        try await message.record([
            DeliveryOutcome(recipients: [0], result: .bounced, dsnStatus: "5.1.1", reason: "unknown user"),
            DeliveryOutcome(recipients: [1], result: .delivered(.delivered), dsnStatus: "2.0.0", reason: "ok"),
            DeliveryOutcome(recipients: [2], result: .bounced, dsnStatus: "5.1.1", reason: "unknown user"),
        ])
        #expect(message.snapshot.dueNotices == [.failure: [0], .success: [1]])

        // The bounce was queued, then the process died before the removal: the restart finds the
        // message complete with nothing owed, and removes it without a second bounce.
        struct Crash: Error {}
        let notices = TestLocked(0)
        await #expect(throws: Crash.self) {
            try await message.retire { snapshot, due in
                notices.withLock { $0 += 1 }
                #expect(due == [.failure: [0], .success: [1]])
                throw Crash()
            }
        }
        try await message.recordNotified([.failure], recipients: [0])
        try await message.recordNotified([.success], recipients: [1])
        message.close()
        let report = try queue.reopened().recover()
        #expect(report.messages.first?.nextAttempt == nil)
        let again = try queue.store.open(id)
        #expect(again.snapshot.dueNotices.isEmpty)
        #expect(try await again.retire { _, _ in notices.withLock { $0 += 1 } } == true)
        #expect(notices.withLock { $0 } == 1)
        #expect(queue.names(in: .active).isEmpty)
    }

    @Test("results that finish a message remove it without a sync; results that leave work or owe a notice are synced and keep it")
    func recordRemovingIfDone() async throws {
        let fileSystem = RecordingFileSystem()
        let queue = try TestQueue(fileSystem: fileSystem)
        var wantsNotice = sampleEnvelope(recipients: 2)
        wantsNotice.recipients[1].notify = [.success]
        let noticeID = try await queue.enqueue(wantsNotice)
        let plainID = try await queue.enqueue(sampleEnvelope(recipients: 1))
        let calls = TestLocked<[RecordingFileSystem.Call]>([])
        fileSystem.inject { call, _ in
            calls.withLock { $0.append(call) }
            return nil
        }
        func delivered(_ index: Int) -> DeliveryOutcome {
            DeliveryOutcome(recipients: [index], result: .delivered(.delivered), dsnStatus: "2.0.0", reason: "delivered to maildir")
        }
        func synced() -> Bool { calls.withLock { calls in defer { calls = [] }; return calls.contains(.dataSync) } }

        let message = try queue.store.open(noticeID)
        let deferral = DeliveryOutcome(
            recipients: [0], result: .deferred(until: QueueTimestamp.now().adding(seconds: 300)), dsnStatus: "4.4.1", reason: "later")
        #expect(try await message.recordRemovingIfDone([deferral]) == false)
        #expect(synced())
        // Complete, but recipient 1 asked for a success notice: the record is synced, the message stays.
        #expect(try await message.recordRemovingIfDone([delivered(0), delivered(1)]) == false)
        #expect(synced())
        #expect(message.snapshot.dueNotices == [.success: [1]])
        message.close()

        let plain = try queue.store.open(plainID)
        #expect(try await plain.recordRemovingIfDone([delivered(0)]) == true)
        #expect(calls.withLock { $0 }.contains(.rename))  // into incoming, a spare file
        let syncs: Set<RecordingFileSystem.Call> = [.dataSync, .directorySync, .fileSystemSync]
        #expect(calls.withLock { $0 }.allSatisfy { !syncs.contains($0) })
        #expect(queue.names(in: .active) == [noticeID.text])
        #expect(queue.names(in: .incoming).count == 1 && queue.names(in: .incoming)[0].hasPrefix("spare."))
        #expect(throws: QueueError.self) { try plain.content() }
        fileSystem.inject(nil)
    }

    @Test("a crash that loses the unsynced removal finds the message complete, or delivers it again; never loses it")
    func unsyncedRemovalAcrossCrash() async throws {
        let fileSystem = RecordingFileSystem()
        let queue = try TestQueue(fileSystem: fileSystem)
        let id = try await queue.enqueue(sampleEnvelope(recipients: 1))
        let imageDirectory = try TemporaryDirectory()
        let images = CrashImages(source: queue.directory, root: imageDirectory.path)
        fileSystem.inject { call, _ in
            if call == .write || call == .rename { images.take(before: call) }
            return nil
        }
        let message = try queue.store.open(id)
        let done = DeliveryOutcome(recipients: [0], result: .delivered(.delivered), dsnStatus: "2.0.0", reason: "ok")
        #expect(try await message.recordRemovingIfDone([done]) == true)
        fileSystem.inject(nil)
        #expect(images.images.map(\.call) == [.write, .rename])
        for (image, expectedStatus) in zip(images.images, [RecipientStatus.pending, .delivered]) {
            let store = try QueueStore(configuration: QueueConfiguration(directory: image.path), fileSystem: unsynced, logger: quietLogger)
            _ = try store.recover()
            let found = try store.open(id)
            #expect(found.recipients[0].status == expectedStatus, "image before \(image.call)")
            found.close()
        }
    }

    @Test("moving between queues, hold and release, and compaction keep the state")
    func movesAndCompaction() async throws {
        let queue = try TestQueue(compactionThreshold: 2000)
        let id = try await queue.enqueue(sampleEnvelope(recipients: 2))
        let message = try queue.store.open(id)
        var retry = QueueTimestamp.now()
        for attempt in 0..<40 {
            retry = retry.adding(seconds: 300)
            try await message.record([DeliveryOutcome(
                recipients: [0, 1], result: .deferred(until: retry), dsnStatus: "4.4.1", reason: "attempt \(attempt) refused")])
        }
        try await message.move(to: .deferred)
        #expect(queue.names(in: .deferred) == [id.text])
        let before = message.recipients
        #expect(before[0].attempts == 40)
        let size = message.journalSize
        #expect(try message.compactIfNeeded())
        #expect(message.journalSize < size / 10)
        #expect(message.recipients == before)
        #expect(try !message.compactIfNeeded())
        try await message.move(to: .hold)
        try await message.record([DeliveryOutcome(recipients: [1], result: .delivered(.delivered), dsnStatus: "2.0.0", reason: "ok")])
        message.close()

        let report = try queue.reopened().recover()
        #expect(report.messages.map(\.queue) == [.hold])
        let reopened = try queue.store.open(id)
        #expect(reopened.queue == .hold)
        #expect(reopened.recipients[0] == before[0])
        #expect(reopened.recipients[1].status == .delivered)
        #expect(try reopened.content().readAll() == Array(sampleContent.utf8))
        try await reopened.move(to: .active)
        #expect(queue.names(in: .active) == [id.text] && queue.names(in: .hold).isEmpty)
    }

    @Test("a message left in two queues by a half-durable rename is kept where it delivers later")
    func duplicateLinks() async throws {
        let queue = try TestQueue()
        let linked = try await queue.enqueue()
        #expect(link(queue.path(.active, linked.text), queue.path(.hold, linked.text)) == 0)
        let copied = try await queue.enqueue()
        try FileManager.default.copyItem(atPath: queue.path(.active, copied.text), toPath: queue.path(.deferred, copied.text))
        let report = try queue.reopened().recover()
        #expect(report.messages.map(\.queue) == [.hold, .deferred])
        #expect(queue.names(in: .hold) == [linked.text])
        #expect(queue.names(in: .active).isEmpty)
        // Two different files under one name: the second is kept aside, not deleted.
        #expect(report.quarantined.map(\.name) == [copied.text])
        #expect(queue.names(in: .corrupt) == [copied.text])
    }

    @Test("a handle is exclusive: a second open is refused until the first closes")
    func exclusiveHandles() async throws {
        let queue = try TestQueue()
        let id = try await queue.enqueue()
        let first = try queue.store.open(id)
        let busy = #expect(throws: QueueError.self) { try queue.store.open(id) }
        #expect(busy?.code == .busy)
        first.close()
        _ = try queue.store.open(id)
        let missing = #expect(throws: QueueError.self) { try queue.store.open(QueueID(seconds: 1, microseconds: 1, inode: 1)) }
        #expect(missing?.code == .notFound)
    }

    @Test("results for unknown recipient indexes are refused before anything is written")
    func badIndexes() async throws {
        let queue = try TestQueue()
        let message = try queue.store.open(try await queue.enqueue())
        let size = message.journalSize
        for bad in [[-1], [2], [0, 99]] {
            let error = await #expect(throws: QueueError.self) {
                try await message.record([DeliveryOutcome(recipients: bad, result: .bounced, dsnStatus: "5.0.0", reason: "x")])
            }
            #expect(error?.code == .invalidUse)
        }
        #expect(message.journalSize == size)
        try await message.recordNotified([.delay], recipients: [0, 1])
        #expect(message.recipients.allSatisfy { $0.notified == [.delay] })
    }
}
