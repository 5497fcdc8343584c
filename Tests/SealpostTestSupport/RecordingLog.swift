import Logging
import Synchronization

/// A logger that keeps its messages, to check what Sealpost logs (and that it logs no secrets).
public final class RecordingLog: Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    public var messages: [String] { lines.withLock { $0 } }

    public var logger: Logger {
        var logger = Logger(label: "sealpost.test") { _ in Handler(log: self) }
        logger.logLevel = .debug
        return logger
    }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let log: RecordingLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            log.append("\(event.level): \(event.message)")
        }
    }
}
