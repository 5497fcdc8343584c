#if canImport(Glibc)
import Glibc
#endif

/// One request written to a trigger FIFO: each byte is one request, as with Postfix's
/// `qmgr` and `pickup` FIFOs under `$queue_directory/public`.
public enum QueueTriggerRequest: UInt8, Sendable, Hashable, CaseIterable {
    /// `I`: new mail is in `active`; scan it (Postfix's QMGR_REQ_SCAN_INCOMING).
    case scanActive = 0x49
    /// `D`: deliver the deferred queue now (Postfix's QMGR_REQ_FLUSH_DEAD).
    case flushDeferred = 0x44
    /// `A`: scan every queue (Postfix's QMGR_REQ_SCAN_ALL).
    case scanAll = 0x41
    /// `W`: a new file is in `maildrop` (Postfix's TRIGGER_REQ_WAKEUP, for pickup).
    case pickup = 0x57
}

/// Writing requests to a daemon's trigger FIFO, as Postfix's `mail_trigger()` does.
///
/// The FIFOs are the only channel from the unprivileged tools (`sealpost sendmail`, `sealpost
/// queue`) to the running daemon: a tool never waits for the daemon, and a daemon that is not
/// running is not an error — the work is found by the daemon's next scan at start-up.
public enum QueueTrigger {
    /// `$queue_directory/public/qmgr`: requests for the queue manager.
    public static func queueManagerPath(queueDirectory: String) -> String { queueDirectory + "/public/qmgr" }
    /// `$queue_directory/public/pickup`: requests for the pickup service.
    public static func pickupPath(queueDirectory: String) -> String { queueDirectory + "/public/pickup" }

    /// Writes `request` to the FIFO at `path`; true when the daemon got it (or has one pending).
    ///
    /// Returns false, without error, when no daemon listens: the FIFO does not exist (ENOENT) or
    /// nothing has it open for reading (ENXIO). A full FIFO (EAGAIN) means the daemon has unread
    /// requests already, which serve as well. Anything at `path` that is not a FIFO is an error:
    /// the tool must not append bytes to a regular file someone put there.
    @discardableResult
    public static func send(_ request: QueueTriggerRequest, to path: String) throws(QueueTriggerError) -> Bool {
        let descriptor = open(path, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
        if descriptor < 0 {
            let error = errno
            if error == ENOENT || error == ENXIO { return false }
            throw QueueTriggerError(path: path, operation: "open", errno: error)
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw QueueTriggerError(path: path, operation: "fstat", errno: errno) }
        guard status.st_mode & S_IFMT == S_IFIFO else { throw QueueTriggerError(path: path, operation: "open", errno: EINVAL, reason: "not a FIFO") }
        // The reader may vanish between open and write; EPIPE must be an error, not a signal.
        signal(SIGPIPE, SIG_IGN)
        var byte = request.rawValue
        while true {
            let written = write(descriptor, &byte, 1)
            if written == 1 { return true }
            let error = errno
            if error == EINTR { continue }
            if error == EAGAIN { return true }
            if error == EPIPE { return false }
            throw QueueTriggerError(path: path, operation: "write", errno: error)
        }
    }
}

/// A trigger FIFO could not be created, opened or written.
public struct QueueTriggerError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var errno: Int32
    /// Overrides the system's text for `errno` when the problem is ours to name.
    public var reason: String?

    public init(path: String, operation: String, errno: Int32, reason: String? = nil) {
        self.path = path
        self.operation = operation
        self.errno = errno
        self.reason = reason
    }

    public var description: String {
        "\(operation) \(path): \(reason ?? String(cString: strerror(errno)))"
    }
}
