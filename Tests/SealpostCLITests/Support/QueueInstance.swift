import Foundation
import Logging
import SealpostQueue
import SealpostTestSupport

/// A configuration directory whose queue lives in a throwaway directory, with the queue, the
/// maildrop and public directories made as the daemon makes them, for running `sealpost
/// sendmail` and `sealpost queue` against.
final class QueueInstance {
    let temporary: TemporaryDirectory
    var directory: String { temporary.path }
    var queueDirectory: String { temporary.path + "/queue" }
    var maildrop: String { queueDirectory + "/maildrop" }
    let store: QueueStore

    init(mainExtra: String = "") throws {
        temporary = try TemporaryDirectory()
        chmod(temporary.path, 0o755)
        try temporary.write(
            "main.cf",
            """
            queue_directory = \(temporary.path)/queue
            myhostname = mx.example.test
            mydomain = example.test
            mail_owner = nobody
            \(mainExtra)

            """)
        store = try QueueStore(
            configuration: QueueConfiguration(directory: temporary.path + "/queue"),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        try MaildropDirectory.prepare(queueDirectory: queueDirectory, owner: nil)
    }

    /// Runs `sealpost arguments…`.
    func sealpost(_ arguments: [String], input: String? = nil) throws -> SealpostBinary.Result {
        try SealpostBinary.run(arguments, input: input)
    }

    /// Runs `sealpost sendmail -C DIR arguments…`.
    func sendmail(_ arguments: [String], input: String = "Subject: test\n\nbody\n") throws -> SealpostBinary.Result {
        try SealpostBinary.run(["sendmail", "-C", directory] + arguments, input: input)
    }

    /// Runs `sealpost queue -c DIR arguments…`.
    func queue(_ arguments: [String]) throws -> SealpostBinary.Result {
        try SealpostBinary.run(["queue", "-c", directory] + arguments)
    }

    /// The files in the maildrop directory.
    var maildropFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: maildrop)) ?? []).sorted()
    }

    /// The one maildrop file's text (fails when there is not exactly one).
    func onlyMaildropFile() throws -> String {
        let files = maildropFiles
        guard files.count == 1 else { throw TestFailure("expected one maildrop file, found \(files)") }
        return try String(contentsOfFile: maildrop + "/" + files[0], encoding: .utf8)
    }

    func names(in queue: QueueName) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(queueDirectory)/\(queue)")) ?? []).sorted()
    }

    /// Queues a message directly.
    @discardableResult
    func enqueue(sender: String = "alice@example.test", recipients: [String], content: String = "Subject: queued\r\n\r\nbody\r\n") async throws -> QueueID {
        let writer = try store.makeWriter(envelope: QueueEnvelope(sender: sender, recipients: recipients.map { QueueRecipient(address: $0) }))
        try writer.append(content)
        return try await store.commit(writer)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Collects the requests a trigger listener yields.
final class TriggerRecorder: @unchecked Sendable {
    let listener: QueueTriggerListener
    private let lock = NSLock()
    private var received: [QueueTriggerRequest] = []
    private var task: Task<Void, Never>?

    init(path: String) throws {
        listener = try QueueTriggerListener(path: path)
        let stream = listener.requests
        task = Task { [weak self] in
            for await request in stream { self?.append(request) }
        }
    }

    private func append(_ request: QueueTriggerRequest) {
        lock.lock()
        received.append(request)
        lock.unlock()
    }

    var requests: [QueueTriggerRequest] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    deinit {
        listener.close()
        task?.cancel()
    }
}
