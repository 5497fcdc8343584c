import Foundation
import SealpostTestSupport
import Testing

@testable import SealpostQueue

@Suite("Group commit")
struct GroupCommitTests {
    /// Checks, from the system-call log, that every committed message's file was written, then
    /// synced, then renamed into `active`, then covered by an fsync of `active` — in that order.
    static func verifyOrdering(_ events: [RecordingFileSystem.Event], committed: [QueueID], activeDescriptor: Int32, syncFS: Bool) {
        // Files are known by the name they were created with in incoming.
        var fileOfDescriptor: [Int32: String] = [:]
        var lastWrite: [String: Int] = [:]
        var dataSync: [String: Int] = [:]
        var renamedFrom: [String: (file: String, index: Int)] = [:]
        var fileSystemSyncs: [Int] = []
        var directorySyncs: [Int] = []
        for (index, event) in events.enumerated() {
            switch event.call {
            case .open:
                if let descriptor = event.descriptor, let name = event.name { fileOfDescriptor[descriptor] = name }
            case .write:
                if let file = fileOfDescriptor[event.descriptor!] { lastWrite[file] = index }
            case .dataSync:
                if let file = fileOfDescriptor[event.descriptor!] { dataSync[file] = index }
            case .fileSystemSync:
                fileSystemSyncs.append(index)
            case .rename:
                if let name = event.name, let newName = event.newName { renamedFrom[newName] = (name, index) }
            case .directorySync:
                if event.descriptor == activeDescriptor { directorySyncs.append(index) }
            default:
                break
            }
        }
        for id in committed {
            guard let (file, renamed) = renamedFrom[id.text], let written = lastWrite[file] else {
                Issue.record("\(id) was never written and renamed into active")
                continue
            }
            let synced = dataSync[file] ?? -1
            let ownSync = synced > written && synced < renamed
            let sharedSync = syncFS && fileSystemSyncs.contains { $0 > written && $0 < renamed }
            #expect(ownSync || sharedSync, "\(id): neither fdatasync nor syncfs between the last write and the rename")
            #expect(directorySyncs.contains { $0 > renamed }, "\(id): no fsync of active after its rename")
        }
    }

    @Test("concurrent commits share directory syncs, and none skips a step", arguments: [
        QueueConfiguration.Durability.groupCommit, .groupCommitSyncFS,
    ])
    func sharing(durability: QueueConfiguration.Durability) async throws {
        let fileSystem = RecordingFileSystem()
        let queue = try TestQueue(fileSystem: fileSystem, durability: durability)
        let activeDescriptor = try #require(fileSystem.events.last { $0.call == .openDirectory && $0.name?.hasSuffix("/active") == true && $0.descriptor != nil }?.descriptor)
        // Syncs as slow as a busy disk's, so that commits pile up behind them whatever the machine.
        fileSystem.inject { call, _ in
            if [.dataSync, .directorySync, .fileSystemSync].contains(call) { usleep(2000) }
            return nil
        }
        let count = 200
        let store = queue.store
        let ids = try await withThrowingTaskGroup(of: QueueID.self) { group in
            for _ in 0..<count {
                group.addTask {
                    let writer = try store.makeWriter(envelope: sampleEnvelope())
                    try writer.append(content(for: writer.id))
                    return try await store.commit(writer)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(ids).count == count)
        #expect(queue.names(in: .active).count == count)
        let directorySyncs = fileSystem.events.filter { $0.call == .directorySync && $0.descriptor == activeDescriptor }.count
        let statistics = queue.store.commitStatistics
        #expect(statistics.requests == count)
        #expect(statistics.batches == directorySyncs)
        #expect(directorySyncs < count, "every commit synced the directory alone: no group commit happened")
        if durability == .groupCommit {
            #expect(fileSystem.count(.dataSync) == count)
            #expect(fileSystem.count(.fileSystemSync) == 0)
        } else {
            // One syncfs per batch of several files, one fdatasync per batch of one.
            #expect(fileSystem.count(.fileSystemSync) >= 1)
            #expect(fileSystem.count(.fileSystemSync) + fileSystem.count(.dataSync) == statistics.batches)
        }
        Self.verifyOrdering(fileSystem.events, committed: ids, activeDescriptor: activeDescriptor, syncFS: durability == .groupCommitSyncFS)
        for id in ids.prefix(20) {
            #expect(try queue.store.open(id).content().readAll() == content(for: id))
        }
    }

    @Test("without group commit every commit syncs file and directory itself")
    func individual() async throws {
        let fileSystem = RecordingFileSystem()
        let queue = try TestQueue(fileSystem: fileSystem, durability: .individual)
        let store = queue.store
        let ids = try await withThrowingTaskGroup(of: QueueID.self) { group in
            for _ in 0..<30 { group.addTask { try await store.enqueue() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(fileSystem.count(.dataSync) == 30)
        #expect(fileSystem.count(.directorySync) == 30)
        #expect(queue.store.commitStatistics.largestBatch == 1)
        let activeDescriptor = try #require(fileSystem.events.last { $0.call == .openDirectory && $0.name?.hasSuffix("/active") == true && $0.descriptor != nil }?.descriptor)
        Self.verifyOrdering(fileSystem.events, committed: ids, activeDescriptor: activeDescriptor, syncFS: false)
    }

    @Test("a single commit is not delayed waiting for company")
    func single() async throws {
        let fileSystem = RecordingFileSystem()
        let queue = try TestQueue(fileSystem: fileSystem, durability: .groupCommitSyncFS)
        for _ in 0..<5 { try await queue.enqueue() }
        #expect(queue.store.commitStatistics.batches == 5)
        #expect(fileSystem.count(.dataSync) == 5)  // a batch of one gets fdatasync, not syncfs
        #expect(fileSystem.count(.fileSystemSync) == 0)
    }

    @Test("journal appends from concurrent deliveries are batched too, and each is durable")
    func journalSyncs() async throws {
        let fileSystem = RecordingFileSystem()
        let queue = try TestQueue(fileSystem: fileSystem, durability: .groupCommit)
        var messages: [QueuedMessage] = []
        for _ in 0..<40 { messages.append(try queue.store.open(try await queue.enqueue())) }
        fileSystem.reset()
        fileSystem.inject { call, _ in
            if call == .dataSync || call == .fileSystemSync { usleep(2000) }
            return nil
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for message in messages {
                group.addTask {
                    try await message.record([DeliveryOutcome(recipients: [0, 1], result: .delivered(.delivered), dsnStatus: "2.0.0", reason: "ok")])
                }
            }
            try await group.waitForAll()
        }
        #expect(fileSystem.count(.dataSync) == 40)
        #expect(fileSystem.count(.directorySync) == 0)
        #expect(queue.store.commitStatistics.largestBatch > 1)
        for message in messages { message.close() }
        for message in queue.store.list().messages { #expect(message.isComplete) }
    }
}
