import Foundation
import SealpostTestSupport
import Testing

@testable import SealpostQueue

@Suite("Full disk and I/O errors")
struct StorageFailureTests {
    @Test(
        "an injected failure at any step fails the commit cleanly and leaves nothing",
        arguments: [
            (RecordingFileSystem.Call.write, ENOSPC, QueueError.Code.insufficientStorage),
            (.write, EDQUOT, .insufficientStorage),
            (.write, EIO, .io),
            (.dataSync, EIO, .io),
            (.dataSync, ENOSPC, .insufficientStorage),
            (.rename, EIO, .io),
            (.directorySync, EIO, .io),
        ])
    func injected(call: RecordingFileSystem.Call, code: Int32, expected: QueueError.Code) async throws {
        let fileSystem = RecordingFileSystem()
        let queue = try TestQueue(fileSystem: fileSystem, chunkSize: 1024)
        let good = try await queue.enqueue()
        fileSystem.inject { failing, _ in failing == call ? code : nil }
        let writer = try queue.store.makeWriter(envelope: sampleEnvelope())
        var failure: QueueError?
        do {
            try writer.append([UInt8](repeating: 0x44, count: 5000))
            _ = try await queue.store.commit(writer)
        } catch {
            failure = error
        }
        fileSystem.inject(nil)
        #expect(failure?.code == expected)
        #expect(failure?.systemError == code)
        #expect(queue.names(in: .incoming).isEmpty)
        #expect(queue.names(in: .active) == [good.text])
        if call == .directorySync {
            // The kernel may have dropped directory updates that a later fsync would not report:
            // no more commits until the queue is opened again.
            let refused = await #expect(throws: QueueError.self) { try await queue.enqueue() }
            #expect(refused?.systemError == code)
            #expect(queue.names(in: .incoming).isEmpty)
            let reopened = try queue.reopened(fileSystem: SystemFileSystem())
            let next = try await reopened.enqueue()
            #expect(Set(queue.names(in: .active)) == [good.text, next.text])
        } else {
            // The queue keeps working once the fault is gone.
            let next = try await queue.enqueue()
            #expect(Set(queue.names(in: .active)) == [good.text, next.text])
        }
    }

    @Test("a failed syncfs fails its batch, and later batches sync file by file")
    func sharedSyncFailure() async throws {
        let fileSystem = RecordingFileSystem()
        let queue = try TestQueue(fileSystem: fileSystem, durability: .groupCommitSyncFS)
        fileSystem.inject { call, _ in
            if call == .dataSync || call == .directorySync { usleep(2000) }  // so that batches form
            return call == .fileSystemSync ? EIO : nil
        }
        let store = queue.store
        func burst() async -> [Result<QueueID, QueueError>] {
            await withTaskGroup(of: Result<QueueID, QueueError>.self) { group in
                for _ in 0..<30 {
                    group.addTask {
                        do {
                            let writer = try store.makeWriter(envelope: sampleEnvelope())
                            try writer.append(content(for: writer.id))
                            return .success(try await store.commit(writer))
                        } catch {
                            return .failure(error as! QueueError)
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
        }
        var results = await burst()
        while fileSystem.count(.fileSystemSync) == 0 { results += await burst() }  // until a batch of several formed
        // The batch that met the failed syncfs failed; everything else was synced file by file.
        #expect(fileSystem.count(.fileSystemSync) == 1)
        let succeeded = results.compactMap { try? $0.get() }
        let failed = results.filter { if case .failure(let error) = $0 { error.code == .io } else { false } }
        #expect(succeeded.count + failed.count == results.count)
        #expect(!failed.isEmpty)
        #expect(Set(queue.names(in: .active)) == Set(succeeded.map(\.text)))
        #expect(queue.names(in: .incoming).isEmpty)
        let after = await burst()
        #expect(after.allSatisfy { (try? $0.get()) != nil })
        fileSystem.inject(nil)
        #expect(fileSystem.count(.fileSystemSync) == 1)
    }

    @Test("a failed journal sync is reported and the handle refuses further use")
    func journalFailure() async throws {
        let fileSystem = RecordingFileSystem()
        let queue = try TestQueue(fileSystem: fileSystem)
        let id = try await queue.enqueue()
        let message = try queue.store.open(id)
        fileSystem.inject { call, _ in call == .dataSync ? EIO : nil }
        let error = await #expect(throws: QueueError.self) {
            try await message.record([DeliveryOutcome(recipients: [0], result: .delivered(.delivered), dsnStatus: "2.0.0", reason: "ok")])
        }
        #expect(error?.code == .io)
        fileSystem.inject(nil)
        await #expect(throws: QueueError.self) {
            try await message.record([DeliveryOutcome(recipients: [1], result: .delivered(.delivered), dsnStatus: "2.0.0", reason: "ok")])
        }
        message.close()

        // A write that runs out of space leaves no partial record behind.
        let fresh = try queue.store.open(id, in: .active)
        fileSystem.inject { call, _ in call == .write ? ENOSPC : nil }
        let full = await #expect(throws: QueueError.self) {
            try await fresh.record([DeliveryOutcome(recipients: [1], result: .bounced, dsnStatus: "5.0.0", reason: "x")])
        }
        #expect(full?.code == .insufficientStorage)
        fileSystem.inject(nil)
        fresh.close()
        #expect(try queue.store.open(id).recipients[1].status == .pending)
    }

    static var canMountTmpfs: Bool { getuid() == 0 }

    @Test("a real full file system (2 MB tmpfs): commits fail with insufficient storage, nothing is left, and recovery works once space returns", .enabled(if: canMountTmpfs))
    func tmpfs() async throws {
        let scratch = try TemporaryDirectory()
        let mountPoint = scratch.path + "/mnt"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        guard Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint]) == 0 else {
            print("tmpfs mount not permitted; the injected ENOSPC tests cover this case")
            return
        }
        defer { _ = Self.run("/bin/umount", [mountPoint]) }
        let store = try QueueStore(configuration: QueueConfiguration(directory: mountPoint + "/queue", messageSizeLimit: 1_000_000), logger: quietLogger)
        #expect(store.checkSpace().isSufficient)  // 2 MB free > 1.5 × 1 MB

        var acknowledged: [QueueID] = []
        var storageFailures = 0
        for _ in 0..<40 {
            let writer = try store.makeWriter(envelope: sampleEnvelope())
            do {
                try writer.append(content(for: writer.id, size: 100_000))
                acknowledged.append(try await store.commit(writer))
            } catch {
                #expect(error.code == .insufficientStorage, "\(error)")
                storageFailures += 1
            }
        }
        #expect(storageFailures > 0)
        #expect(acknowledged.count >= 15)
        #expect(!store.checkSpace().isSufficient)
        #expect(try FileManager.default.contentsOfDirectory(atPath: mountPoint + "/queue/incoming").isEmpty)

        // Space returns: delete some messages; everything acknowledged is intact and new mail fits.
        for id in acknowledged.prefix(5) { try await store.open(id).remove() }
        let restarted = try QueueStore(configuration: QueueConfiguration(directory: mountPoint + "/queue"), logger: quietLogger)
        let report = try restarted.recover()
        #expect(report.quarantined.isEmpty)
        #expect(Set(report.messages.map(\.id)) == Set(acknowledged.dropFirst(5)))
        for id in acknowledged.dropFirst(5) {
            #expect(try restarted.open(id).content().readAll() == content(for: id, size: 100_000))
        }
        let writer = try restarted.makeWriter(envelope: sampleEnvelope())
        try writer.append(content(for: writer.id, size: 100_000))
        _ = try await restarted.commit(writer)
        print("tmpfs 2 MB: \(acknowledged.count) acknowledged, \(storageFailures) refused with insufficient storage")
    }

    static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
