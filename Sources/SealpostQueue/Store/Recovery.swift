#if canImport(Glibc)
import Glibc
#endif

/// A committed message found at start-up, for the scheduler.
public struct RecoveredMessage: Sendable, Hashable {
    public var id: QueueID
    public var queue: QueueName
    public var arrival: QueueTimestamp
    public var contentLength: Int
    /// Recipients not yet delivered or bounced.
    public var unfinishedRecipients: Int
    /// When to try it: see `MessageSnapshot.nextAttempt`; nil when every recipient is final
    /// (only the bounce hook, `QueuedMessage.retire`, is left to run).
    public var nextAttempt: QueueTimestamp?
}

/// What start-up recovery found and did.
public struct RecoveryReport: Sendable {
    /// Unacknowledged files removed from `incoming`.
    public var removedIncomplete = 0
    /// Files in `incoming` left alone because another process is writing them.
    public var incompleteInUse = 0
    /// Committed messages, in queue ID order.
    public var messages: [RecoveredMessage] = []
    /// Files moved to `corrupt`, with the reason.
    public var quarantined: [(name: String, reason: String)] = []
    /// Journals whose torn last record was cut off.
    public var repairedJournals = 0
    /// Names in the queue directories that are not queue IDs (left in place, warned about).
    public var unexpectedFiles: [String] = []
    /// Messages locked by another process (a second instance on the same queue?), not recovered.
    public var busy: [String] = []
    /// Files that could not be read (I/O errors), left in place.
    public var unreadable: [String] = []
    /// Files already in `corrupt` before this run.
    public var previouslyCorrupt = 0

    public func count(in queue: QueueName) -> Int {
        messages.reduce(0) { $0 + ($1.queue == queue ? 1 : 0) }
    }

    /// One line for the start-up log.
    public var summary: String {
        var parts = [
            "active \(count(in: .active))", "deferred \(count(in: .deferred))", "hold \(count(in: .hold))",
            "removed incomplete \(removedIncomplete)",
        ]
        if !quarantined.isEmpty { parts.append("quarantined \(quarantined.count)") }
        if repairedJournals > 0 { parts.append("repaired journals \(repairedJournals)") }
        if incompleteInUse > 0 { parts.append("incoming in use \(incompleteInUse)") }
        if !unexpectedFiles.isEmpty { parts.append("unexpected files \(unexpectedFiles.count)") }
        if !busy.isEmpty { parts.append("locked \(busy.count)") }
        if !unreadable.isEmpty { parts.append("unreadable \(unreadable.count)") }
        if previouslyCorrupt > 0 { parts.append("in corrupt \(previouslyCorrupt)") }
        return "queue recovery: " + parts.joined(separator: ", ")
    }
}

extension QueueStore {
    /// Brings the queue to a consistent state at start-up, before sessions or the scheduler run:
    ///
    /// - every file in `incoming` is removed: it was never acknowledged, or it is a spare file
    ///   (`SpareFiles`) of a process that ended — unless another process holds its lock
    ///   (`sealpost sendmail` writing right now, or a running instance's spare);
    /// - every file in `active`, `deferred` and `hold` is validated (header, envelope, the content's
    ///   end record; not the content itself, which delivery verifies as it reads) and reported for
    ///   the scheduler; a torn journal tail is cut off; a file that fails validation is moved to
    ///   `corrupt` with a warning.
    ///
    /// Throws only when a queue directory cannot be listed.
    public func recover() throws(QueueError) -> RecoveryReport {
        var report = RecoveryReport()
        let incoming = directories.descriptor(.incoming)
        for name in try names(in: .incoming) {
            let descriptor: Int32
            do { descriptor = try fileSystem.open(name, in: incoming, flags: O_RDONLY, mode: 0) } catch {
                if error.errno != ENOENT { removeUnopenable(name, error, &report) }
                continue
            }
            defer { fileSystem.close(descriptor) }
            let mine = (try? fileSystem.lock(descriptor, exclusive: true, nonBlocking: true)) ?? true
            guard mine else {
                report.incompleteInUse += 1
                continue
            }
            do {
                try fileSystem.remove(name, in: incoming)
                // A spare file of a process that ended held a delivered message, not an unacknowledged one.
                if !name.hasPrefix("spare.") { report.removedIncomplete += 1 }
            } catch {
                logger.warning("remove incomplete queue file \(directories.path(.incoming, name)): \(error)")
                report.unreadable.append("incoming/\(name)")
            }
        }

        // Hold first, then deferred, then active: if a crash left a message in two queues (a
        // rename half-written by a file system without a journal), the copy kept is the one
        // that delivers later, never sooner.
        var seen: [QueueID: (queue: QueueName, inode: UInt64)] = [:]
        for queue in [QueueName.hold, .deferred, .active] {
            for name in try names(in: queue) {
                guard let id = QueueID(name), id.text == name else {
                    logger.warning("bogus file name: \(directories.path(queue, name))")
                    report.unexpectedFiles.append("\(queue)/\(name)")
                    continue
                }
                guard let (message, inode) = recoverMessage(id, in: queue, &report) else { continue }
                if let first = seen[id] {
                    if first.inode == inode {
                        logger.warning("\(id): also linked in queue \(queue); keeping the one in \(first.queue)")
                        try? fileSystem.remove(name, in: directories.descriptor(queue))
                    } else {
                        let reason = "a different message with the same queue ID is in queue \(first.queue)"
                        quarantine(name, from: queue, reason: reason)
                        report.quarantined.append((name, reason))
                    }
                    continue
                }
                seen[id] = (queue, inode)
                report.messages.append(message)
            }
        }
        report.messages.sort { $0.id < $1.id }
        report.previouslyCorrupt = (try? names(in: .corrupt).count) ?? 0
        report.previouslyCorrupt -= report.quarantined.count
        return report
    }

    private func recoverMessage(_ id: QueueID, in queue: QueueName, _ report: inout RecoveryReport) -> (RecoveredMessage, inode: UInt64)? {
        let descriptor: Int32
        do { descriptor = try fileSystem.open(id.text, in: directories.descriptor(queue), flags: O_RDWR, mode: 0) } catch {
            if error.errno == ENOENT { return nil }
            logger.warning("open queue file \(directories.path(queue, id.text)): \(error)")
            report.unreadable.append("\(queue)/\(id)")
            return nil
        }
        defer { fileSystem.close(descriptor) }
        guard (try? lockBriefly(descriptor)) ?? true else {
            logger.warning("\(id): queue file locked by another process")
            report.busy.append("\(queue)/\(id)")
            return nil
        }
        do {
            let contents = try MessageFileReader.read(descriptor, fileSystem: fileSystem, name: "\(queue)/\(id)")
            if let tornTail = contents.tornTail {
                try repairJournal(descriptor, contents, tornTail, id: id)
                report.repairedJournals += 1
            }
            let snapshot = Self.snapshot(id: id, queue: queue, contents)
            let message = RecoveredMessage(
                id: id, queue: queue, arrival: snapshot.arrival, contentLength: snapshot.contentLength,
                unfinishedRecipients: snapshot.unfinishedRecipients.count, nextAttempt: snapshot.nextAttempt)
            return (message, contents.inode)
        } catch {
            if error.code == .corrupt {
                quarantine(id.text, from: queue, reason: error.reason)
                report.quarantined.append((id.text, error.reason))
            } else {
                logger.warning("\(error.reason)")
                report.unreadable.append("\(queue)/\(id)")
            }
            return nil
        }
    }

    private func removeUnopenable(_ name: String, _ error: SystemCallError, _ report: inout RecoveryReport) {
        // A symbolic link or a file we may not read: not ours to keep either way.
        do {
            try fileSystem.remove(name, in: directories.descriptor(.incoming))
            report.removedIncomplete += 1
        } catch {
            logger.warning("remove incomplete queue file \(directories.path(.incoming, name)): \(error)")
            report.unreadable.append("incoming/\(name)")
        }
    }

    private func names(in queue: QueueName) throws(QueueError) -> [String] {
        do {
            return try fileSystem.listDirectory(directories.descriptor(queue))
        } catch {
            throw QueueError(error, while: "list \(directories.path)/\(queue)")
        }
    }
}
