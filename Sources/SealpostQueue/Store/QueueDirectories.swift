#if canImport(Glibc)
import Glibc
#endif

/// The queues, each a directory under `queue_directory` named as Postfix names it.
public enum QueueName: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Files being written; nothing here was ever acknowledged, and recovery removes it.
    case incoming
    /// Committed messages ready for delivery now.
    case active
    /// Messages waiting for their next attempt.
    case deferred
    /// Messages an administrator put on hold.
    case hold
    /// Files that failed validation, kept for inspection and never delivered.
    case corrupt

    public var description: String { rawValue }

    /// The queues that hold committed messages.
    public static let committed: [QueueName] = [.active, .deferred, .hold]
}

/// Open descriptors of the queue directories, created 0700 if missing; closed when the last user
/// (the store, the commit coordinator) lets go.
final class QueueDirectories: Sendable {
    static let mode: mode_t = 0o700

    let path: String
    let root: Int32
    private let descriptors: [QueueName: Int32]
    private let fileSystem: any QueueFileSystem

    init(path: String, fileSystem: any QueueFileSystem) throws(QueueError) {
        self.path = path
        self.fileSystem = fileSystem
        var opened: [Int32] = []
        do {
            try fileSystem.makeDirectory(path, mode: Self.mode)
            root = try fileSystem.openDirectory(path)
            opened.append(root)
            var descriptors: [QueueName: Int32] = [:]
            for queue in QueueName.allCases {
                let directory = "\(path)/\(queue.rawValue)"
                try fileSystem.makeDirectory(directory, mode: Self.mode)
                let descriptor = try fileSystem.openDirectory(directory)
                opened.append(descriptor)
                if try fileSystem.status(descriptor).mode & 0o777 != Self.mode {
                    try fileSystem.changeMode(descriptor, Self.mode)
                }
                descriptors[queue] = descriptor
            }
            self.descriptors = descriptors
        } catch {
            for descriptor in opened { fileSystem.close(descriptor) }
            throw QueueError(error, while: "open queue directory \(path)")
        }
    }

    func descriptor(_ queue: QueueName) -> Int32 {
        descriptors[queue]!
    }

    func path(_ queue: QueueName, _ name: String) -> String {
        "\(path)/\(queue.rawValue)/\(name)"
    }

    deinit {
        for descriptor in descriptors.values { fileSystem.close(descriptor) }
        fileSystem.close(root)
    }
}
