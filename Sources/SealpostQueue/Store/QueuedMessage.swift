#if canImport(Glibc)
import Glibc
#endif

/// A committed message opened for delivery: its envelope, the state of each recipient, its
/// content, and the operations the scheduler performs on it.
///
/// ## Why per-recipient state survives any crash
///
/// Results are appended to a journal at the end of the message file, never written in place.
/// `record(_:)` writes all its entries with one write(2) at the end of the last valid record and
/// returns only after fdatasync, so a result the caller saw recorded is on disk (the one
/// exception, `recordRemovingIfDone(_:)`, removes the message instead). Each record
/// carries its length and a CRC-32C; a crash during an append leaves at most one incomplete or
/// damaged record at the very end, which the next reader ignores and `open` cuts off before
/// appending again — that append was never confirmed, so the recipients it covered are tried
/// again (at-least-once, as in Postfix: a crash between the remote 250 and the fsync can
/// duplicate a delivery, never lose one). Delivered and bounced are final and sticky: replaying
/// or reordering records cannot undo a completion, and a later deferral cannot override one.
///
/// In-place updates were the alternative (Postfix flips one byte of a fixed recipient record).
/// They cannot carry variable-length deferral reasons and retry times without a second file,
/// and a torn multi-byte overwrite destroys the old state together with the new one. Appending
/// loses only the unconfirmed new state, keeps the history `queue list` shows, and needs no
/// coordination with readers. Growth is bounded by `compactIfNeeded()`, which rewrites the file
/// with one snapshot record per recipient and replaces it atomically by rename.
///
/// One handle per message: a store refuses a second open in the same process, and the handle's
/// exclusive flock keeps other processes (a second instance, recovery) away. A content reader
/// shares that lock while it is open.
public final class QueuedMessage: Sendable {
    public let id: QueueID
    public let envelope: QueueEnvelope
    public let arrival: QueueTimestamp
    /// The content's size in bytes.
    public let contentLength: Int
    let header: FileHeader
    private let store: QueueStore
    private let state: Locked<State>

    private struct State {
        var descriptor: Int32
        var queue: QueueName
        var recipients: [RecipientState]
        var journalEnd: Int64
        /// Set when a sync failed: the file's durable state is unknown; reopen the message.
        var failure: QueueError?
        var closed = false
    }

    init(id: QueueID, queue: QueueName, descriptor: Int32, contents: MessageFileContents, store: QueueStore) {
        self.id = id
        envelope = contents.envelope
        arrival = contents.arrival
        contentLength = Int(contents.header.contentLength)
        header = contents.header
        self.store = store
        state = Locked(State(
            descriptor: descriptor, queue: queue, recipients: contents.states, journalEnd: contents.journalEnd))
    }

    deinit {
        close()
    }

    /// The queue the message is in.
    public var queue: QueueName { state.withLock { $0.queue } }

    /// Index-aligned with `envelope.recipients`.
    public var recipients: [RecipientState] { state.withLock { $0.recipients } }

    public var snapshot: MessageSnapshot {
        state.withLock { state in
            MessageSnapshot(
                id: id, queue: state.queue, envelope: envelope, arrival: arrival, contentLength: contentLength,
                recipients: state.recipients)
        }
    }

    // MARK: - Recipient state

    /// Records delivery results durably; returns once they are on disk. Results for recipients
    /// that are already delivered or bounced change nothing.
    public func record(_ outcomes: [DeliveryOutcome]) async throws(QueueError) {
        try await append(outcomes.map { .outcome($0) })
    }

    /// Records that notices of `kinds` (a bounce, a delay warning, a success notice) about these
    /// recipients are queued, so that they are not sent again.
    public func recordNotified(_ kinds: NotificationKinds, recipients: [Int], time: QueueTimestamp = .now()) async throws(QueueError) {
        try await append([.notified(kinds, recipients: recipients, time: time)])
    }

    /// Records delivery results and, when they end the message's life — every recipient
    /// delivered or bounced and no notice owed — removes the message and returns true, without
    /// waiting for the disk: neither the record nor the removal is synced (Postfix's qmgr does
    /// not sync its removals either). A crash before they reach the disk finds the message again,
    /// either with the record (complete: retired at start-up, not delivered again) or without it
    /// (delivered again: a duplicate, never a loss, as the deliveries themselves were synced
    /// before they were reported). Otherwise the record is synced as `record(_:)` does, and the
    /// result is false.
    public func recordRemovingIfDone(_ outcomes: [DeliveryOutcome]) async throws(QueueError) -> Bool {
        let entries = outcomes.map { JournalEntry.outcome($0) }
        guard !entries.isEmpty else { return false }
        let descriptor = try write(entries, keepingDescriptor: false)
        if let descriptor {
            try await synchronize(descriptor)
            return false
        }
        try removeFile(keepingSpare: true)
        return true
    }

    private func append(_ entries: [JournalEntry]) async throws(QueueError) {
        guard !entries.isEmpty else { return }
        if let descriptor = try write(entries, keepingDescriptor: true) {
            try await synchronize(descriptor)
        }
    }

    /// Writes the entries at the end of the journal and applies them. Returns a descriptor to
    /// sync — unless `keepingDescriptor` is false and the message is now done (complete, no
    /// notice owed), which returns nil: the caller removes the message instead of syncing.
    private func write(_ entries: [JournalEntry], keepingDescriptor: Bool) throws(QueueError) -> Int32? {
        let valid = envelope.recipients.indices
        for entry in entries {
            let indexes: [Int]
            switch entry {
            case .outcome(let outcome): indexes = outcome.recipients
            case .notified(_, let recipients, _): indexes = recipients
            case .snapshot(let index, _): indexes = [index]
            }
            guard indexes.allSatisfy(valid.contains) else {
                throw QueueError(.invalidUse, "\(id): recipient index out of range")
            }
        }
        var writer = ByteWriter(capacity: 256)
        for entry in entries { entry.encode(into: &writer) }
        let bytes = writer.bytes
        return try state.withLock { state throws(QueueError) -> Int32? in
            try checkUsable(state)
            // Applied in file order, so memory folds exactly as a later reader will.
            var recipients = state.recipients
            for entry in entries { try? entry.apply(to: &recipients) }
            let done = !keepingDescriptor && isDone(recipients, queue: state.queue)
            var copy: Int32?
            do throws(SystemCallError) {
                try store.fileSystem.write(state.descriptor, bytes, at: state.journalEnd)
                if !done { copy = try store.fileSystem.duplicate(state.descriptor) }
            } catch {
                // Whatever part was written is an incomplete record; cut it off again.
                try? store.fileSystem.truncate(state.descriptor, to: state.journalEnd)
                throw QueueError(error, while: "append to state journal of \(id)")
            }
            state.journalEnd += Int64(bytes.count)
            state.recipients = recipients
            return copy
        }
    }

    /// Every recipient delivered or bounced, and no notice owed.
    private func isDone(_ recipients: [RecipientState], queue: QueueName) -> Bool {
        let snapshot = MessageSnapshot(
            id: id, queue: queue, envelope: envelope, arrival: arrival, contentLength: contentLength,
            recipients: recipients)
        return snapshot.isComplete && snapshot.dueNotices.isEmpty
    }

    private func synchronize(_ descriptor: Int32) async throws(QueueError) {
        let result = await store.coordinator.synchronize(descriptor: descriptor)
        store.fileSystem.close(descriptor)
        if case .failure(let failure) = result {
            state.withLock { $0.failure = failure }
            throw failure
        }
    }

    /// Makes every deferred recipient due at `time` (`sealpost queue requeue`, as postsuper -r
    /// lets a message be tried at once): their retry times are replaced, nothing else changes.
    public func makeDue(at time: QueueTimestamp = .now()) async throws(QueueError) {
        let entries = state.withLock { state in
            state.recipients.enumerated().compactMap { index, recipient -> JournalEntry? in
                guard recipient.status == .deferred else { return nil }
                var due = recipient
                due.nextAttempt = time
                return .snapshot(index: index, due)
            }
        }
        try await append(entries)
    }

    // MARK: - Moving and removing

    /// Moves the message to another queue: rename, then fsync of both directories (a file
    /// system without a journal may otherwise keep the old entry too; recovery then keeps the
    /// copy in hold, else deferred, else active — the one that delivers later, never sooner).
    /// Moving to `corrupt` quarantines it and closes the handle.
    public func move(to queue: QueueName) async throws(QueueError) {
        guard queue != .incoming else { throw QueueError(.invalidUse, "\(id): messages never move back to incoming") }
        let source = try state.withLock { state throws(QueueError) -> QueueName? in
            try checkUsable(state)
            guard state.queue != queue else { return nil }
            do throws(SystemCallError) {
                try store.fileSystem.rename(
                    id.text, in: store.directories.descriptor(state.queue), to: id.text,
                    in: store.directories.descriptor(queue), replacing: false)
            } catch {
                throw QueueError(error, while: "move \(id) from \(state.queue) to \(queue)")
            }
            defer { state.queue = queue }
            return state.queue
        }
        guard let source else { return }
        if queue == .corrupt { close() }
        if case .failure(let failure) = await store.coordinator.synchronizeDirectories([queue, source]) { throw failure }
    }

    /// Quarantines the message (its content failed verification during delivery).
    public func quarantine(reason: String) async throws(QueueError) {
        store.logger.warning("saving corrupt file \"\(id)\" from queue \"\(queue)\" to queue \"corrupt\": \(reason)")
        try await move(to: .corrupt)
    }

    /// Removes the message from the queue and closes the handle.
    public func remove() async throws(QueueError) {
        let queue = try removeFile()
        if case .failure(let failure) = await store.coordinator.synchronizeDirectories([queue]) { throw failure }
    }

    /// Unlinks the file and closes the handle, without syncing the directory; returns the queue
    /// it was in. With `keepingSpare`, a file in `active` becomes a spare for a new message
    /// (`SpareFiles`) while there is room: renamed into `incoming`, still open and locked.
    @discardableResult
    private func removeFile(keepingSpare: Bool = false) throws(QueueError) -> QueueName {
        let queue = try state.withLock { state throws(QueueError) -> QueueName in
            guard !state.closed else { throw QueueError(.invalidUse, "\(id): handle closed") }
            if keepingSpare, state.queue == .active, store.spares.hasRoom, keepAsSpare(state.descriptor) {
                state.closed = true
                return state.queue
            }
            do throws(SystemCallError) {
                try store.fileSystem.remove(id.text, in: store.directories.descriptor(state.queue))
            } catch {
                throw QueueError(error, while: "remove \(state.queue)/\(id)")
            }
            store.fileSystem.close(state.descriptor)
            state.closed = true
            return state.queue
        }
        store.release(id)
        return queue
    }

    /// Renames the file from `active` into `incoming` as a spare; false leaves it where it was.
    private func keepAsSpare(_ descriptor: Int32) -> Bool {
        let name = store.makeSpareName()
        do throws(SystemCallError) {
            try store.fileSystem.rename(
                id.text, in: store.directories.descriptor(.active), to: name,
                in: store.directories.descriptor(.incoming), replacing: false)
        } catch {
            return false
        }
        // Read after the rename: only a sync of `active` that starts later makes it durable.
        let spare = SpareFiles.Spare(name: name, descriptor: descriptor, epoch: store.coordinator.activeEpoch)
        if store.spares.offer(spare) { return true }
        try? store.fileSystem.remove(name, in: store.directories.descriptor(.incoming))
        store.fileSystem.close(descriptor)
        return true
    }

    /// The hook for the end of a message's life: when every recipient is delivered or bounced,
    /// calls `notify` with the notices still owed (`MessageSnapshot.dueNotices`, empty ones
    /// skipped) — the scheduler generates and commits the DSNs there — then records them as sent
    /// and removes the message. Returns false, doing nothing, while recipients remain.
    ///
    /// A crash after `notify` and before the record means the notices are sent again (at least
    /// once); a crash after the record and before the removal only means the message is found
    /// complete and retired again at start-up, without further notices.
    public func retire(
        notify: @Sendable (MessageSnapshot, [NotificationKinds: [Int]]) async throws -> Void
    ) async throws -> Bool {
        let current = snapshot
        guard current.isComplete else { return false }
        let due = current.dueNotices
        if !due.isEmpty {
            try await notify(current, due)
            let now = QueueTimestamp.now()
            try await append(due.map { .notified($0.key, recipients: $0.value, time: now) })
        }
        try await remove()
        return true
    }

    // MARK: - Content

    /// A reader for the content, with its own descriptor.
    public func content() throws(QueueError) -> MessageContentReader {
        try state.withLock { state throws(QueueError) in
            guard !state.closed else { throw QueueError(.invalidUse, "\(id): handle closed") }
            let copy: Int32
            do throws(SystemCallError) { copy = try store.fileSystem.duplicate(state.descriptor) } catch {
                throw QueueError(error, while: "open content of \(id)")
            }
            return MessageContentReader(
                descriptor: copy, fileSystem: store.fileSystem, name: "\(state.queue)/\(id)", header: header)
        }
    }

    // MARK: - Compaction

    /// Bytes of state journal (what compaction would shrink).
    public var journalSize: Int {
        state.withLock { Int($0.journalEnd - Int64(header.journalOffset)) }
    }

    /// Rewrites the message file with one snapshot record per tried recipient when the journal
    /// exceeds `journalCompactionThreshold`; returns whether it did. The new file is written in
    /// `incoming`, synced, and renamed over the old one (an atomic replacement), then the
    /// directory is synced: a crash leaves either the old file or the new one. Blocks for those
    /// syncs; call it when a message is deferred, not on a hot path.
    @discardableResult
    public func compactIfNeeded() throws(QueueError) -> Bool {
        try state.withLock { state throws(QueueError) -> Bool in
            try checkUsable(state)
            guard state.journalEnd - Int64(header.journalOffset) > Int64(store.configuration.journalCompactionThreshold) else {
                return false
            }
            try compact(&state)
            return true
        }
    }

    private func compact(_ state: inout State) throws(QueueError) {
        let fileSystem = store.fileSystem
        let incoming = store.directories.descriptor(.incoming)
        let temporaryName = "\(getpid()).compact.\(id)"
        let replacement: Int32
        do throws(SystemCallError) {
            replacement = try fileSystem.open(temporaryName, in: incoming, flags: O_RDWR | O_CREAT | O_TRUNC, mode: 0o600)
        } catch {
            throw QueueError(error, while: "compact \(id)")
        }
        do throws(SystemCallError) {
            _ = try fileSystem.lock(replacement, exclusive: true, nonBlocking: true)
            var offset: Int64 = 0
            let end = Int64(header.journalOffset)
            while offset < end {
                let want = Int(min(1 << 20, end - offset))
                let piece = try fileSystem.read(state.descriptor, count: want, at: offset)
                guard piece.count == want else { throw SystemCallError("read", errno: EIO) }
                try fileSystem.write(replacement, piece, at: offset)
                offset += Int64(want)
            }
            var journal = ByteWriter(capacity: 256)
            for (index, recipient) in state.recipients.enumerated() where recipient != RecipientState() {
                JournalEntry.snapshot(index: index, recipient).encode(into: &journal)
            }
            try fileSystem.write(replacement, journal.bytes, at: end)
            try fileSystem.synchronizeData(replacement)
            let directory = store.directories.descriptor(state.queue)
            try fileSystem.rename(temporaryName, in: incoming, to: id.text, in: directory, replacing: true)
            fileSystem.close(state.descriptor)
            state.descriptor = replacement
            state.journalEnd = end + Int64(journal.count)
            try fileSystem.synchronize(directory)
        } catch {
            if state.descriptor != replacement {
                try? fileSystem.remove(temporaryName, in: incoming)
                fileSystem.close(replacement)
                throw QueueError(error, while: "compact \(id)")
            }
            // Renamed, but the directory sync failed: the file in place is complete either way.
            state.failure = QueueError(error, while: "compact \(id)")
            throw state.failure!
        }
    }

    // MARK: - Lifetime

    /// Releases the file and its lock. Later calls other than `snapshot` fail.
    public func close() {
        let closing = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            store.fileSystem.close(state.descriptor)
            state.closed = true
            return true
        }
        if closing { store.release(id) }
    }

    private func checkUsable(_ state: State) throws(QueueError) {
        if state.closed { throw QueueError(.invalidUse, "\(id): handle closed") }
        if let failure = state.failure { throw failure }
    }
}
