import ArgumentParser

/// `sealpost queue [-c DIR] list|flush|delete|hold|release|requeue|cat`: mailq, postqueue -f,
/// postsuper and postcat for Sealpost's queue (see `QueueTool`).
struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Show and manage the mail queue (root or mail_owner; flush: anyone).",
        subcommands: [List.self, Flush.self, Delete.self, Hold.self, Release.self, Requeue.self, Cat.self])

    @OptionGroup var config: ConfigDirectoryOption

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List the queue in mailq's format, with the last deferral reasons.")
        @ParentCommand var queue: QueueCommand
        func run() async throws { try finish(QueueTool.list(configDirectory: queue.config.resolved)) }
    }

    struct Flush: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "flush", abstract: "Ask the running daemon to deliver the deferred queue now.")
        @ParentCommand var queue: QueueCommand
        func run() async throws { try finish(QueueTool.flush(configDirectory: queue.config.resolved)) }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete", abstract: "Delete messages: queue IDs, ALL, or every message in active, deferred or hold.")
        @ParentCommand var queue: QueueCommand
        @Argument(help: "ID, ALL, active, deferred or hold") var targets: [String]
        func run() async throws {
            try finish(await QueueTool.administer(.delete, targets: targets, configDirectory: queue.config.resolved))
        }
    }

    struct Hold: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "hold", abstract: "Put messages on hold (ID or ALL).")
        @ParentCommand var queue: QueueCommand
        @Argument(help: "ID, ALL, active or deferred") var targets: [String]
        func run() async throws {
            try finish(await QueueTool.administer(.hold, targets: targets, configDirectory: queue.config.resolved))
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "release", abstract: "Release messages from hold into the deferred queue (ID or ALL).")
        @ParentCommand var queue: QueueCommand
        @Argument(help: "ID or ALL") var targets: [String]
        func run() async throws {
            try finish(await QueueTool.administer(.release, targets: targets, configDirectory: queue.config.resolved))
        }
    }

    struct Requeue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "requeue", abstract: "Move messages to the active queue and try them now (ID or ALL).")
        @ParentCommand var queue: QueueCommand
        @Argument(help: "ID, ALL, active, deferred or hold") var targets: [String]
        func run() async throws {
            try finish(await QueueTool.administer(.requeue, targets: targets, configDirectory: queue.config.resolved))
        }
    }

    struct Cat: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cat", abstract: "Show a message's envelope, recipient states and content, as postcat -q.")
        @ParentCommand var queue: QueueCommand
        @Argument(help: "queue ID") var id: String
        func run() async throws { try finish(await QueueTool.cat(id, configDirectory: queue.config.resolved)) }
    }
}

private func finish(_ status: Int32) throws {
    if status != 0 { throw ExitCode(status) }
}
