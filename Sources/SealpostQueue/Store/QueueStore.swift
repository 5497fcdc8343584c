#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// The durable on-disk queue under `queue_directory`.
///
///     queue_directory/
///       incoming/   files being written, named pid.n, flock'd by their writer; never acknowledged;
///                   and spare files for reuse, spare.pid.n, flock'd by their process (`SpareFiles`)
///       active/     committed messages ready for delivery now, named by queue ID
///       deferred/   messages waiting for their next attempt
///       hold/       messages put on hold
///       corrupt/    files that failed validation
///
/// - `checkSpace()` before MAIL FROM; `makeWriter(envelope:)`, `MessageWriter.append(_:)` and
///   `commit(_:)` accept a message: the commit returns its queue ID only once file and directory
///   are on disk (the moment for `250 2.0.0 Ok: queued as ID`).
/// - `recover()` runs once at start-up, before anything else uses the queue.
/// - `open(_:in:)` hands a committed message to the scheduler as a `QueuedMessage`; `list(_:)`
///   shows the queue without reading contents.
///
/// One store per process and queue directory; all its directories must be on one file system.
/// Message files are owned by the running user with mode 0600, the queue directories 0700. File
/// format: `FileHeader` and `RecordType`; crash safety of recipient states: `QueuedMessage`;
/// group commit: `CommitCoordinator`.
public final class QueueStore: Sendable {
    public let configuration: QueueConfiguration
    let fileSystem: any QueueFileSystem
    let directories: QueueDirectories
    let coordinator: CommitCoordinator
    let logger: Logger
    private let sequence = Atomic<UInt64>(0)
    /// Messages with an open handle in this process.
    private let openMessages = Locked<Set<QueueID>>([])
    /// Files of delivered messages, for new ones.
    let spares: SpareFiles

    /// Opens the queue, creating `queue_directory` and its queue directories (0700) when missing.
    public init(
        configuration: QueueConfiguration, fileSystem: any QueueFileSystem = SystemFileSystem(),
        logger: Logger = Logger(label: "sealpost.queue")
    ) throws(QueueError) {
        self.configuration = configuration
        self.fileSystem = fileSystem
        self.logger = logger
        directories = try QueueDirectories(path: configuration.directory, fileSystem: fileSystem)
        coordinator = CommitCoordinator(
            fileSystem: fileSystem, directories: directories, durability: configuration.durability, logger: logger)
        spares = SpareFiles(capacity: configuration.spareFiles)
    }

    /// Removes the spare files (at shutdown; recovery removes them after a crash).
    public func removeSpareFiles() {
        spares.removeAll(fileSystem: fileSystem, incoming: directories.descriptor(.incoming))
    }

    /// A name in `incoming` for a spare file.
    func makeSpareName() -> String {
        "spare.\(getpid()).\(sequence.wrappingAdd(1, ordering: .relaxed).newValue)"
    }

    // MARK: - Accepting mail

    /// Checks free space before MAIL FROM is accepted (`queue_minfree`, 1.5 × `message_size_limit`).
    /// A failed statvfs counts as insufficient space.
    public func checkSpace() -> SpaceCheck {
        do {
            let space = try fileSystem.availableSpace(directories.root)
            return SpaceCheck.evaluate(
                space, minimumFree: configuration.minimumFreeSpace, messageSizeLimit: configuration.messageSizeLimit)
        } catch {
            return SpaceCheck(isSufficient: false, availableBytes: 0, warning: "cannot determine free space in mail queue: \(error)")
        }
    }

    /// Creates the queue file for a new message and assigns its queue ID.
    public func makeWriter(envelope: QueueEnvelope) throws(QueueError) -> MessageWriter {
        let incoming = directories.descriptor(.incoming)
        while let spare = spares.take(syncedThrough: coordinator.activeSyncedThrough) {
            do throws(SystemCallError) {
                let status = try fileSystem.status(spare.descriptor)
                return MessageWriter(
                    id: Self.newID(inode: status.inode), temporaryName: spare.name, descriptor: spare.descriptor,
                    envelope: envelope, store: self, reusesFile: true)
            } catch {
                try? fileSystem.remove(spare.name, in: incoming)
                fileSystem.close(spare.descriptor)
            }
        }
        var attempts = 0
        while true {
            let number = sequence.wrappingAdd(1, ordering: .relaxed).newValue
            let temporaryName = "\(getpid()).\(number)"
            let descriptor: Int32
            do {
                descriptor = try fileSystem.open(
                    temporaryName, in: incoming, flags: O_RDWR | O_CREAT | O_EXCL, mode: 0o600)
            } catch where error.errno == EEXIST && attempts < 1000 {
                attempts += 1
                continue
            } catch {
                throw QueueError(error, while: "create queue file in \(directories.path)/incoming")
            }
            do {
                _ = try fileSystem.lock(descriptor, exclusive: true, nonBlocking: true)
                let status = try fileSystem.status(descriptor)
                if status.mode & 0o777 != 0o600 { try fileSystem.changeMode(descriptor, 0o600) }
                return MessageWriter(
                    id: Self.newID(inode: status.inode), temporaryName: temporaryName, descriptor: descriptor,
                    envelope: envelope, store: self)
            } catch {
                try? fileSystem.remove(temporaryName, in: incoming)
                fileSystem.close(descriptor)
                throw QueueError(error, while: "create queue file in \(directories.path)/incoming")
            }
        }
    }

    /// A queue ID from the time and the file's inode, as Postfix's long queue IDs: no two files
    /// share an inode at once, and a reused inode comes with a later time.
    private static func newID(inode: UInt64) -> QueueID {
        let now = QueueTimestamp.now()
        return QueueID(seconds: UInt64(now.seconds), microseconds: UInt32(now.microseconds), inode: inode)
    }

    /// Commits a message: writes what remains, syncs the file, moves it into `active` and syncs
    /// the directory — sharing the syncs with concurrent commits — and returns its ID only then.
    ///
    /// On failure nothing is left in any queue and the error says whether storage ran out
    /// (`452 4.3.1`) or something else failed (`451 4.3.0`).
    public func commit(_ writer: MessageWriter) async throws(QueueError) -> QueueID {
        let descriptor = try writer.prepareCommit()
        let result = await coordinator.commit(
            descriptor: descriptor,
            move: .init(temporaryName: writer.temporaryName, queue: .active, name: writer.id.text),
            wholeFile: writer.reusesFile)
        writer.finishCommit(result)
        if case .failure(let failure) = result {
            logger.warning("\(writer.id): queue file commit failed: \(failure.reason)")
            throw failure
        }
        return writer.id
    }

    /// How many sync batches ran and how many requests they served (for tests and benchmarks).
    public var commitStatistics: (batches: Int, requests: Int, largestBatch: Int) {
        let statistics = coordinator.statistics
        return (statistics.batches, statistics.jobs, statistics.largestBatch)
    }

    // MARK: - Committed messages

    /// Opens a committed message for delivery, locked against other handles and processes.
    /// Searches `active`, `deferred` and `hold` unless `queue` is given. A torn journal tail
    /// (a crash during an append) is cut off first; a file that fails validation is quarantined
    /// to `corrupt` and `.corrupt` thrown; a message open elsewhere throws `.busy`.
    public func open(_ id: QueueID, in queue: QueueName? = nil) throws(QueueError) -> QueuedMessage {
        let claimed = openMessages.withLock { $0.insert(id).inserted }
        guard claimed else { throw QueueError(.busy, "\(id): the message is already open in this process") }
        do {
            return try openClaimed(id, in: queue)
        } catch {
            release(id)
            throw error
        }
    }

    /// Forgets a closed handle.
    func release(_ id: QueueID) {
        _ = openMessages.withLock { $0.remove(id) }
    }

    private func openClaimed(_ id: QueueID, in queue: QueueName?) throws(QueueError) -> QueuedMessage {
        for candidate in queue.map({ [$0] }) ?? QueueName.committed {
            let descriptor: Int32
            do {
                descriptor = try fileSystem.open(id.text, in: directories.descriptor(candidate), flags: O_RDWR, mode: 0)
            } catch where error.errno == ENOENT {
                continue
            } catch {
                throw QueueError(error, while: "open queue file \(candidate)/\(id)")
            }
            let locked: Bool
            do { locked = try lockBriefly(descriptor) } catch {
                fileSystem.close(descriptor)
                throw QueueError(error, while: "lock queue file \(candidate)/\(id)")
            }
            guard locked else {
                fileSystem.close(descriptor)
                throw QueueError(.busy, "\(candidate)/\(id): queue file is locked by another process")
            }
            let contents: MessageFileContents
            do {
                contents = try MessageFileReader.read(descriptor, fileSystem: fileSystem, name: "\(candidate)/\(id)")
                if let tornTail = contents.tornTail { try repairJournal(descriptor, contents, tornTail, id: id) }
            } catch {
                fileSystem.close(descriptor)
                if error.code == .corrupt { quarantine(id.text, from: candidate, reason: error.reason) }
                throw error
            }
            return QueuedMessage(id: id, queue: candidate, descriptor: descriptor, contents: contents, store: self)
        }
        throw QueueError(.notFound, "\(id): no such message in \(queue.map { "queue \($0)" } ?? "the queue")")
    }

    /// Takes the file's exclusive lock, allowing a moment for a lock that is only briefly held:
    /// a child process spawned by this one holds copies of the parent's descriptors until it
    /// execs, and another Sealpost process may be closing the file.
    func lockBriefly(_ descriptor: Int32) throws(SystemCallError) -> Bool {
        for attempt in 0..<20 {
            if try fileSystem.lock(descriptor, exclusive: true, nonBlocking: true) { return true }
            if attempt < 19 { usleep(5000) }
        }
        return false
    }

    /// Every message in `queues`, by queue ID, read without locks and without their content,
    /// for `sealpost queue list`. Files that cannot be read are reported in `problems`.
    public func list(_ queues: [QueueName] = QueueName.committed) -> (messages: [MessageSnapshot], problems: [String]) {
        var messages: [MessageSnapshot] = []
        var problems: [String] = []
        for queue in queues {
            let names: [String]
            do { names = try fileSystem.listDirectory(directories.descriptor(queue)) } catch {
                problems.append("\(directories.path)/\(queue): \(error)")
                continue
            }
            for name in names {
                guard let id = QueueID(name) else {
                    if queue != .incoming, queue != .corrupt { problems.append("\(queue)/\(name): not a queue ID") }
                    continue
                }
                let descriptor: Int32
                do { descriptor = try fileSystem.open(name, in: directories.descriptor(queue), flags: O_RDONLY, mode: 0) } catch {
                    if error.errno != ENOENT { problems.append("\(queue)/\(name): \(error)") }
                    continue
                }
                defer { fileSystem.close(descriptor) }
                do {
                    let contents = try MessageFileReader.read(descriptor, fileSystem: fileSystem, name: "\(queue)/\(name)")
                    messages.append(Self.snapshot(id: id, queue: queue, contents))
                } catch {
                    problems.append(error.reason)
                }
            }
        }
        messages.sort { $0.id < $1.id }
        return (messages, problems)
    }

    /// The IDs of the messages in one queue directory, from the names alone (no file is read):
    /// what the scheduler scans after a trigger from `sealpost queue` or `sendmail`.
    public func ids(in queue: QueueName) throws(QueueError) -> [QueueID] {
        do {
            return try fileSystem.listDirectory(directories.descriptor(queue)).compactMap { name in
                QueueID(name).flatMap { $0.text == name ? $0 : nil }
            }.sorted()
        } catch {
            throw QueueError(error, while: "list \(directories.path)/\(queue)")
        }
    }

    static func snapshot(id: QueueID, queue: QueueName, _ contents: MessageFileContents) -> MessageSnapshot {
        MessageSnapshot(
            id: id, queue: queue, envelope: contents.envelope, arrival: contents.arrival,
            contentLength: Int(contents.header.contentLength), recipients: contents.states)
    }

    // MARK: - Internals shared with recovery and handles

    /// Cuts a torn journal tail off so that new records follow the last valid one.
    func repairJournal(_ descriptor: Int32, _ contents: MessageFileContents, _ why: String, id: QueueID) throws(QueueError) {
        do {
            try fileSystem.truncate(descriptor, to: contents.journalEnd)
            try fileSystem.synchronizeData(descriptor)
        } catch {
            throw QueueError(error, while: "truncate torn journal of \(id)")
        }
        logger.info("\(id): removed torn state journal tail: \(why)")
    }

    /// Moves a file that failed validation to `corrupt`, as Postfix's queue manager does.
    func quarantine(_ name: String, from queue: QueueName, reason: String) {
        logger.warning("saving corrupt file \"\(name)\" from queue \"\(queue)\" to queue \"corrupt\": \(reason)")
        do {
            let from = directories.descriptor(queue), to = directories.descriptor(.corrupt)
            do {
                try fileSystem.rename(name, in: from, to: name, in: to, replacing: false)
            } catch where error.errno == EEXIST {
                // An earlier file of that name is kept too.
                try fileSystem.rename(name, in: from, to: "\(name).\(QueueTimestamp.now().microsecondsSinceEpoch)", in: to, replacing: false)
            }
            try fileSystem.synchronize(to)
        } catch {
            logger.error("cannot save corrupt file \"\(name)\" from queue \"\(queue)\": \(error)")
        }
    }
}
