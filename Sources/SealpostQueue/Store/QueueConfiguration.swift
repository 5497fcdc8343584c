#if canImport(Glibc)
import Glibc
#endif
import SealpostConfig

/// What the queue needs from the configuration.
public struct QueueConfiguration: Sendable, Hashable {
    /// How commits reach the disk. Every mode syncs each file's data before its rename and the
    /// directory after it; they differ in how the syncs of concurrent commits are shared.
    public enum Durability: Sendable, Hashable {
        /// Group commit: a batch's files are synced with fdatasync each, issued side by side so a
        /// journaling file system folds them into one journal commit; then the renames; then one
        /// fsync of `active` for the whole batch.
        case groupCommit
        /// Group commit with one syncfs for the data of a batch of several files (a single file
        /// gets fdatasync). Fewest flushes; it also writes back unrelated dirty data on the same
        /// file system, and reports write-back errors only on Linux 5.8 and later.
        case groupCommitSyncFS
        /// Every commit syncs its own file and directory, concurrently (for comparison).
        case individual

        /// `groupCommitSyncFS` where syncfs reports write-back errors (Linux 5.8 and later),
        /// else `groupCommit`.
        public static var recommended: Durability {
            KernelVersion.current >= KernelVersion(major: 5, minor: 8) ? .groupCommitSyncFS : .groupCommit
        }
    }

    /// `queue_directory`.
    public var directory: String
    /// `queue_minfree` in bytes; 0 means no minimum.
    public var minimumFreeSpace: Int
    /// `message_size_limit` in bytes; 0 means no limit.
    public var messageSizeLimit: Int
    public var durability: Durability
    /// Content bytes per content record (and per write while streaming).
    public var contentChunkSize: Int
    /// Journal bytes after which `QueuedMessage.compactIfNeeded()` rewrites the file.
    public var journalCompactionThreshold: Int
    /// Files of delivered messages kept for new ones (`SpareFiles`); 0 unlinks every one.
    public var spareFiles: Int

    public init(
        directory: String, minimumFreeSpace: Int = 0, messageSizeLimit: Int = 10_240_000,
        durability: Durability = .recommended, contentChunkSize: Int = 64 * 1024,
        journalCompactionThreshold: Int = 64 * 1024, spareFiles: Int = 64
    ) {
        self.directory = directory
        self.minimumFreeSpace = minimumFreeSpace
        self.messageSizeLimit = messageSizeLimit
        self.durability = durability
        self.contentChunkSize = max(1, min(contentChunkSize, RecordFraming.maximumPayload))
        self.journalCompactionThreshold = journalCompactionThreshold
        self.spareFiles = max(0, spareFiles)
    }

    /// `queue_directory`, `queue_minfree` and `message_size_limit` of a service (the queue is
    /// shared; use the main.cf view).
    public init(_ configuration: ServiceConfiguration) {
        self.init(
            directory: configuration.string("queue_directory"),
            minimumFreeSpace: configuration.integer("queue_minfree"),
            messageSizeLimit: configuration.integer("message_size_limit"))
    }
}

/// The running kernel's version, for choosing system calls whose guarantees changed over time.
struct KernelVersion: Comparable, Sendable {
    var major: Int
    var minor: Int

    static let current: KernelVersion = {
        var names = utsname()
        guard uname(&names) == 0 else { return KernelVersion(major: 0, minor: 0) }
        let release = withUnsafeBytes(of: names.release) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return KernelVersion(major: numbers.first ?? 0, minor: numbers.dropFirst().first ?? 0)
    }()

    static func < (lhs: KernelVersion, rhs: KernelVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }
}
