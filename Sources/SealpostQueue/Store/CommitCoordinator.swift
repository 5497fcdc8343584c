import Logging
import Synchronization

/// Makes files durable, sharing the expensive syncs between everyone who is waiting.
///
/// Every request waits until its own data and directory entry are on disk; none is answered
/// before then and none skips a step. Requests that arrive while batches are being synced form
/// the next batch, so under load one directory fsync (and, with `groupCommitSyncFS`, one syncfs)
/// serves many sessions, and with a single session nothing waits for company. Two batches may be
/// in flight at once (one syncing files while the other waits for its directory). A batch runs:
///
/// 1. the data of every file in the batch: fdatasync of each, issued side by side from a few
///    threads so that a journaling file system folds them into one journal commit; or, with
///    `groupCommitSyncFS` and more than one file, one syncfs;
/// 2. the renames of new messages from `incoming` to their queue (only after step 1 succeeded
///    for that file, so a name in a queue directory always points to complete, durable data);
/// 3. one fsync of each directory that gained or lost an entry.
///
/// A failed step fails the requests it covered: a file whose fdatasync failed is not renamed;
/// when a directory fsync fails, the messages renamed into it are unlinked again, as nothing
/// about them is known to be durable. Linux reports a write-back error once per open file, to
/// whichever caller syncs first, so two rules keep an error from being swallowed by a
/// neighbour: after a failed syncfs (whose error may belong to files of a later batch) every
/// later batch syncs file by file, which reports each file's own errors; and a failed directory
/// fsync fails every later commit until the queue is opened again (restart), since an entry
/// renamed before it may be lost while the next fsync of the directory reports success. Syncs of
/// the file system and of directories are serialized, so "later" is well defined.
///
/// Batches run on threads of their own (`SyncWorkers`), never on the Swift concurrency pool,
/// whose few threads must not sit in fsync.
final class CommitCoordinator: Sendable {
    /// A new message file to make durable and move from `incoming` into `queue` as `name`.
    struct Move: Sendable {
        var temporaryName: String
        var queue: QueueName
        var name: String
    }

    private struct Job: Sendable {
        var descriptor: Int32?
        /// fsync instead of fdatasync: the file's size shrank (a reused spare file).
        var wholeFile = false
        var move: Move?
        var directories: [QueueName]
        var continuation: CheckedContinuation<Result<Void, QueueError>, Never>
    }

    private struct Pending {
        var jobs: [Job] = []
        var runningLanes = 0
    }

    /// Counters for tests and benchmarks.
    struct Statistics: Sendable, Hashable {
        var batches = 0
        var jobs = 0
        var largestBatch = 0
    }

    /// Failures that change how later batches are treated.
    private struct Health {
        var syncFSFailed = false
        var directoryFailure: QueueError?
    }

    private let fileSystem: any QueueFileSystem
    private let directories: QueueDirectories
    private let durability: QueueConfiguration.Durability
    private let logger: Logger
    private let pending = Locked(Pending())
    /// Held across syncfs, so that its error is attributed to the right batches.
    private let fileSystemSync = Locked(Health())
    /// Held across directory fsyncs, for the same reason.
    private let directorySync = Locked(Health())
    private let counters = Locked(Statistics())
    /// Counts syncs of `active` as they start (`activeEpoch`).
    private let activeSyncStarts = Atomic<UInt64>(0)
    /// The start count of the last completed sync of `active` (`activeSyncedThrough`).
    private let activeSyncCompleted = Atomic<UInt64>(0)
    /// Threads that run batches: a few batches may be in flight at once, so that the next one
    /// is syncing its files while the last one waits for its directory sync. With `individual`,
    /// one per concurrent commit (as Postfix's separate cleanup processes each sync on their own).
    private let lanes: SyncWorkers
    private let laneCount: Int
    /// Side-by-side fdatasyncs within a batch.
    private let workers: SyncWorkers

    init(
        fileSystem: any QueueFileSystem, directories: QueueDirectories, durability: QueueConfiguration.Durability,
        logger: Logger
    ) {
        self.fileSystem = fileSystem
        self.directories = directories
        self.durability = durability
        self.logger = logger
        laneCount = durability == .individual ? 64 : CommitCoordinator.defaultLanes
        lanes = SyncWorkers(count: laneCount)
        workers = SyncWorkers(count: durability == .individual ? 0 : 7)
    }

    static let defaultLanes = 2

    deinit {
        lanes.stop()
        workers.stop()
    }

    var statistics: Statistics { counters.withLock { $0 } }

    /// Makes a new message durable and moves it into its queue; `wholeFile` syncs the file's
    /// metadata too (fsync), for a file whose size shrank.
    func commit(descriptor: Int32, move: Move, wholeFile: Bool = false) async -> Result<Void, QueueError> {
        await submit(descriptor: descriptor, move: move, directories: [], wholeFile: wholeFile)
    }

    /// How many syncs of `active` have started; read after renaming a file out of `active`.
    var activeEpoch: UInt64 { activeSyncStarts.load(ordering: .acquiring) }

    /// Renames out of `active` done before `activeEpoch` returned a value below this are durable.
    var activeSyncedThrough: UInt64 { activeSyncCompleted.load(ordering: .acquiring) }

    /// Makes a file's data durable (after a journal append).
    func synchronize(descriptor: Int32) async -> Result<Void, QueueError> {
        await submit(descriptor: descriptor, move: nil, directories: [])
    }

    /// Makes queue directories' entries durable (after a rename or unlink).
    func synchronizeDirectories(_ queues: [QueueName]) async -> Result<Void, QueueError> {
        await submit(descriptor: nil, move: nil, directories: queues)
    }

    private func submit(
        descriptor: Int32?, move: Move?, directories: [QueueName], wholeFile: Bool = false
    ) async -> Result<Void, QueueError> {
        await withCheckedContinuation { continuation in
            let job = Job(
                descriptor: descriptor, wholeFile: wholeFile, move: move, directories: directories,
                continuation: continuation)
            if durability == .individual {
                lanes.submit { self.run([job]) }
                return
            }
            let start = pending.withLock { pending -> Bool in
                pending.jobs.append(job)
                if pending.runningLanes == laneCount { return false }
                pending.runningLanes += 1
                return true
            }
            if start { lanes.submit { self.drain() } }
        }
    }

    private func drain() {
        while true {
            let batch = pending.withLock { pending -> [Job] in
                let batch = pending.jobs
                pending.jobs.removeAll(keepingCapacity: true)
                if batch.isEmpty { pending.runningLanes -= 1 }
                return batch
            }
            if batch.isEmpty { return }
            run(batch)
        }
    }

    private func run(_ batch: [Job]) {
        counters.withLock { counters in
            counters.batches += 1
            counters.jobs += batch.count
            counters.largestBatch = max(counters.largestBatch, batch.count)
        }
        var failures = [QueueError?](repeating: nil, count: batch.count)

        // 1. File data.
        let files = batch.indices.filter { batch[$0].descriptor != nil }
        if !files.isEmpty {
            var syncedTogether = false
            if durability == .groupCommitSyncFS && files.count > 1 {
                switch synchronizeFileSystem() {
                case .synced:
                    syncedTogether = true
                case .failed(let failure):
                    syncedTogether = true
                    for index in files { failures[index] = failure }
                case .unavailable:
                    break
                }
            }
            if !syncedTogether {
                let results = Locked([Int: QueueError]())
                let parallel = files.count > 1 && durability != .individual ? workers : nil
                parallel?.runAll(files.map { index in
                    { [fileSystem] in
                        do throws(SystemCallError) {
                            try Self.synchronize(batch[index], fileSystem)
                        } catch {
                            let failure = QueueError(error, while: "sync queue file")
                            results.withLock { $0[index] = failure }
                        }
                    }
                })
                if parallel == nil {
                    for index in files {
                        do {
                            try Self.synchronize(batch[index], fileSystem)
                        } catch {
                            failures[index] = QueueError(error, while: "sync queue file")
                        }
                    }
                }
                for (index, failure) in results.withLock({ $0 }) { failures[index] = failure }
            }
        }

        // 2. Renames of new messages into their queue (none once a directory sync has failed).
        if let failure = directorySync.withLock({ $0.directoryFailure }) {
            for index in batch.indices where batch[index].move != nil || !batch[index].directories.isEmpty {
                failures[index] = failures[index] ?? failure
            }
        }
        var renamed: [Int] = []
        var directoriesToSync = Set<QueueName>()
        for index in batch.indices where failures[index] == nil || batch[index].move == nil {
            directoriesToSync.formUnion(batch[index].directories)
            guard let move = batch[index].move, failures[index] == nil else { continue }
            do {
                try fileSystem.rename(
                    move.temporaryName, in: directories.descriptor(.incoming), to: move.name,
                    in: directories.descriptor(move.queue), replacing: false)
                renamed.append(index)
                directoriesToSync.insert(move.queue)
            } catch {
                failures[index] = QueueError(error, while: "rename queue file \(move.temporaryName) to \(move.queue)/\(move.name)")
            }
        }

        // 3. One fsync per directory that changed.
        for queue in QueueName.allCases where directoriesToSync.contains(queue) {
            if let failure = synchronizeDirectory(queue) {
                for index in batch.indices where batch[index].directories.contains(queue) { failures[index] = failure }
                for index in renamed where batch[index].move?.queue == queue {
                    failures[index] = failure
                    try? fileSystem.remove(batch[index].move!.name, in: directories.descriptor(queue))
                }
            }
        }

        for index in batch.indices {
            batch[index].continuation.resume(returning: failures[index].map { .failure($0) } ?? .success(()))
        }
    }

    private static func synchronize(_ job: Job, _ fileSystem: any QueueFileSystem) throws(SystemCallError) {
        if job.wholeFile {
            try fileSystem.synchronize(job.descriptor!)
        } else {
            try fileSystem.synchronizeData(job.descriptor!)
        }
    }

    private enum FileSystemSyncResult {
        case synced
        case failed(QueueError)
        /// syncfs failed before: sync file by file instead.
        case unavailable
    }

    private func synchronizeFileSystem() -> FileSystemSyncResult {
        fileSystemSync.withLock { health -> FileSystemSyncResult in
            if health.syncFSFailed { return .unavailable }
            do throws(SystemCallError) {
                try fileSystem.synchronizeFileSystem(directories.root)
                return .synced
            } catch {
                health.syncFSFailed = true
                logger.error("queue file system sync failed: \(error); syncing queue files one by one from now on")
                return .failed(QueueError(error, while: "sync queue file system"))
            }
        }
    }

    /// Syncs a queue directory; a failure is permanent (see the type's comment).
    private func synchronizeDirectory(_ queue: QueueName) -> QueueError? {
        directorySync.withLock { health -> QueueError? in
            if let failure = health.directoryFailure { return failure }
            // Directory syncs are serialized by this lock, so the completed count only grows.
            let start = queue == .active ? activeSyncStarts.add(1, ordering: .acquiringAndReleasing).newValue : 0
            do throws(SystemCallError) {
                try fileSystem.synchronize(directories.descriptor(queue))
                if queue == .active { activeSyncCompleted.store(start, ordering: .releasing) }
                return nil
            } catch {
                let failure = QueueError(
                    error, while: "sync queue directory \(queue) (no mail is accepted until the queue is opened again)")
                health.directoryFailure = failure
                logger.error("\(failure.reason)")
                return failure
            }
        }
    }
}
