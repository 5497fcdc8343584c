/// Why a queue operation failed.
///
/// The SMTP server maps `insufficientStorage` to `452 4.3.1 Insufficient system storage` and any
/// other commit failure to `451 4.3.0 Error: queue file write error`, as Postfix does; in neither
/// case has anything been acknowledged or left behind.
public struct QueueError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The queue file system is full (ENOSPC, EDQUOT) or below `queue_minfree`.
        case insufficientStorage = "insufficient-storage"
        /// Any other system call failure (EIO, permissions, …).
        case io
        /// The message file is not a valid queue file; it has been or should be quarantined.
        case corrupt
        /// No message with that ID in the queues searched.
        case notFound = "not-found"
        /// Another process or handle holds the message (its file lock).
        case busy
        /// The operation does not fit the object's state (content after commit, a commit without
        /// recipients, an unknown recipient index, a second commit, …): a programming error of the caller.
        case invalidUse = "invalid-use"
    }

    public var code: Code
    /// One line: what was being done, to which file, and the system's reason.
    public var reason: String
    /// The errno of the failed system call, if one failed.
    public var systemError: Int32?

    public init(_ code: Code, _ reason: String, systemError: Int32? = nil) {
        self.code = code
        self.reason = reason
        self.systemError = systemError
    }

    /// An error for a failed system call while `doing` something.
    init(_ error: SystemCallError, while doing: String) {
        self.init(error.isOutOfSpace ? .insufficientStorage : .io, "\(doing): \(error)", systemError: error.errno)
    }

    public var description: String { reason }
}
