import Logging
import SealpostConfig
import SealpostQueue

#if canImport(Glibc)
import Glibc
#endif

/// The queue administration behind `sealpost queue`, `sendmail -bp`/`-q` and `mailq`:
/// Postfix's postqueue -p/-f and postsuper -d/-h/-H/-r, working on the queue files directly.
///
/// Everything but `flush` reads or changes queue files (mode 0600, owned by `mail_owner`), so
/// it runs as root or as `mail_owner` and refuses anyone else up front. Changes take each
/// message's lock (`QueueStore.open`): a message the daemon is delivering right now is
/// reported as busy after a brief wait, never waited for indefinitely. After changes the
/// queue manager is told through its FIFO.
enum QueueTool {
    /// What `delete`, `hold`, `release` and `requeue` do to one message.
    enum Action: CaseIterable {
        case delete, hold, release, requeue

        /// The queues `ALL` covers for this action.
        var queues: [QueueName] {
            switch self {
            case .delete: [.active, .deferred, .hold]
            case .hold: [.active, .deferred]
            case .release: [.hold]
            case .requeue: [.active, .deferred]
            }
        }

        var done: String {
            switch self {
            case .delete: "removed"
            case .hold: "placed on hold"
            case .release: "released from hold"
            case .requeue: "requeued"
            }
        }

        var summary: String {
            switch self {
            case .delete: "Deleted"
            case .hold: "Placed on hold"
            case .release: "Released from hold"
            case .requeue: "Requeued"
            }
        }

        var trigger: QueueTriggerRequest { self == .requeue ? .scanActive : .scanAll }
    }

    // MARK: - list, flush

    static func list(configDirectory: String) -> Int32 {
        guard let (store, _) = openStore(configDirectory: configDirectory) else { return SysExits.noPermission }
        let (messages, problems) = store.list()
        for problem in problems { Terminal.warning(problem) }
        Terminal.out(MailqFormat.render(messages))
        return SysExits.ok
    }

    /// Any user may ask for a flush (Postfix's `authorized_flush_users` default); the FIFO is 0622.
    static func flush(configDirectory: String) -> Int32 {
        let queueDirectory = Configuration.load(directory: configDirectory).global.string("queue_directory")
        let path = QueueTrigger.queueManagerPath(queueDirectory: queueDirectory)
        do {
            guard try QueueTrigger.send(.flushDeferred, to: path) else {
                Terminal.fatal("Cannot flush mail queue - mail system is down (nothing listens on \(path))")
                return SysExits.unavailable
            }
        } catch {
            Terminal.fatal("Cannot flush mail queue: \(error)")
            return SysExits.unavailable
        }
        return SysExits.ok
    }

    // MARK: - delete, hold, release, requeue

    /// Applies `action` to `targets`: queue IDs, `ALL`, or a queue name (`active`, `deferred`,
    /// `hold`: every message in it). Exit status 1 when a named message could not be handled.
    static func administer(_ action: Action, targets: [String], configDirectory: String) async -> Int32 {
        guard let (store, queueDirectory) = openStore(configDirectory: configDirectory) else { return SysExits.noPermission }
        var selected: [(QueueID, QueueName?)] = []
        var failed = false
        for target in targets {
            if target == "ALL" || QueueName(rawValue: target).map(QueueName.committed.contains) == true {
                let queues = target == "ALL" ? action.queues : [QueueName(rawValue: target)!]
                selected += store.list(queues).messages.map { ($0.id, $0.queue) }
            } else if let id = QueueID(target) {
                selected.append((id, nil))
            } else {
                Terminal.warning("\(target): not a queue ID, ALL, or a queue name (active, deferred, hold)")
                failed = true
            }
        }
        var count = 0
        for (id, queue) in selected {
            let message: QueuedMessage
            do {
                message = try store.open(id, in: queue)
            } catch {
                switch error.code {
                case .busy: Terminal.warning("\(id): the message is being delivered (its queue file is locked); not \(action.done)")
                case .notFound: Terminal.warning("\(id): no such message in the queue")
                default: Terminal.warning("\(id): \(error)")
                }
                failed = true
                continue
            }
            defer { message.close() }
            do {
                switch action {
                case .delete:
                    try await message.remove()
                case .hold:
                    guard message.queue != .hold else { continue }
                    try await message.move(to: .hold)
                case .release:
                    guard message.queue == .hold else {
                        Terminal.warning("\(id): not on hold")
                        failed = true
                        continue
                    }
                    try await message.move(to: .deferred)
                case .requeue:
                    try await message.move(to: .active)
                    try await message.makeDue()
                }
            } catch {
                Terminal.warning("\(id): \(error)")
                failed = true
                continue
            }
            Terminal.note("\(id): \(action.done)")
            count += 1
        }
        if count > 0 {
            Terminal.note("\(action.summary): \(count) message\(count == 1 ? "" : "s")")
            _ = try? QueueTrigger.send(action.trigger, to: QueueTrigger.queueManagerPath(queueDirectory: queueDirectory))
        }
        return failed ? 1 : SysExits.ok
    }

    // MARK: - cat

    /// Prints a message as `postcat -q` roughly does; see `QueueCatFormat`.
    static func cat(_ target: String, configDirectory: String) async -> Int32 {
        guard let (store, _) = openStore(configDirectory: configDirectory) else { return SysExits.noPermission }
        guard let id = QueueID(target) else {
            Terminal.fatal("\(target): not a queue ID")
            return 1
        }
        do {
            let message = try store.open(id)
            defer { message.close() }
            let content = try message.content().readAll()
            Terminal.out(QueueCatFormat.render(message.snapshot, content: content))
            return SysExits.ok
        } catch {
            switch error.code {
            case .busy: Terminal.fatal("\(id): the message is being delivered (its queue file is locked); try again")
            case .notFound: Terminal.fatal("\(id): no such message in the queue")
            default: Terminal.fatal("\(id): \(error)")
            }
            return 1
        }
    }

    // MARK: - Access

    /// The queue, after checking that the caller may touch it; nil (with the reason printed) if not.
    static func openStore(configDirectory: String) -> (QueueStore, String)? {
        let configuration = Configuration.load(directory: configDirectory).global
        let queueDirectory = configuration.string("queue_directory")
        let owner = configuration.string("mail_owner")
        let effective = geteuid()
        if effective != 0 {
            guard let entry = getpwnam(owner), entry.pointee.pw_uid == effective else {
                Terminal.fatal("queue administration needs root or mail_owner (\(owner)) privileges: queue files are readable only by them")
                return nil
            }
        }
        // The store would create missing queue directories, owned by whoever runs this (root),
        // where the daemon running as mail_owner could not use them: refuse instead.
        var status = stat()
        for queue in QueueName.allCases where stat(queueDirectory + "/" + queue.rawValue, &status) != 0 {
            Terminal.fatal("no mail queue at \(queueDirectory) (no \(queue) directory; queue_directory in \(configDirectory)/main.cf; the daemon creates the queue when it starts)")
            return nil
        }
        do {
            let store = try QueueStore(
                configuration: QueueConfiguration(directory: queueDirectory),
                logger: Logger(label: "sealpost.queue", factory: { _ in SwiftLogNoOpLogHandler() }))
            return (store, queueDirectory)
        } catch {
            Terminal.fatal("open mail queue: \(error)")
            return nil
        }
    }
}
