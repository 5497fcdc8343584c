#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The system calls the queue makes, behind a protocol so that tests can count them (group
/// commit must share directory syncs, never skip a file sync) and inject failures (ENOSPC, EIO)
/// at any call. `SystemFileSystem` is the real one.
///
/// File names are single path components relative to an open directory; the queue never
/// resolves a path below `queue_directory` other than its own fixed directory names.
public protocol QueueFileSystem: Sendable {
    /// Opens a directory (O_RDONLY | O_DIRECTORY | O_CLOEXEC).
    func openDirectory(_ path: String) throws(SystemCallError) -> Int32
    /// Creates a directory; an existing one is not an error.
    func makeDirectory(_ path: String, mode: mode_t) throws(SystemCallError)
    /// Opens `name` in `directory` (openat); O_CLOEXEC and O_NOFOLLOW are added.
    func open(_ name: String, in directory: Int32, flags: Int32, mode: mode_t) throws(SystemCallError) -> Int32
    func close(_ descriptor: Int32)
    /// dup: a second descriptor for the same open file.
    func duplicate(_ descriptor: Int32) throws(SystemCallError) -> Int32
    /// Writes all of `bytes` at `offset` (pwrite until done).
    func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(SystemCallError)
    /// Reads up to `buffer.count` bytes at `offset`; fewer only at the end of the file.
    func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(SystemCallError) -> Int
    func status(_ descriptor: Int32) throws(SystemCallError) -> FileStatus
    func changeMode(_ descriptor: Int32, _ mode: mode_t) throws(SystemCallError)
    func truncate(_ descriptor: Int32, to length: Int64) throws(SystemCallError)
    /// fdatasync: the file's data and the metadata needed to read it back.
    func synchronizeData(_ descriptor: Int32) throws(SystemCallError)
    /// fsync: for directories.
    func synchronize(_ descriptor: Int32) throws(SystemCallError)
    /// syncfs: everything on the file system that holds `descriptor`.
    func synchronizeFileSystem(_ descriptor: Int32) throws(SystemCallError)
    /// Starts write-back of a file's dirty pages without waiting (a hint; may do nothing).
    func startWriteback(_ descriptor: Int32)
    /// renameat; with `replacing` false, fails with EEXIST instead of replacing an existing
    /// `newName` (renameat2 RENAME_NOREPLACE where the file system supports it).
    func rename(_ name: String, in directory: Int32, to newName: String, in newDirectory: Int32, replacing: Bool) throws(SystemCallError)
    /// unlinkat.
    func remove(_ name: String, in directory: Int32) throws(SystemCallError)
    /// flock; returns false when `nonBlocking` and someone else holds a conflicting lock.
    func lock(_ descriptor: Int32, exclusive: Bool, nonBlocking: Bool) throws(SystemCallError) -> Bool
    /// The names in a directory, without `.` and `..`.
    func listDirectory(_ directory: Int32) throws(SystemCallError) -> [String]
    /// Free space for unprivileged users (statvfs f_bavail × f_frsize) on the file system of `descriptor`.
    func availableSpace(_ descriptor: Int32) throws(SystemCallError) -> FileSystemSpace
}

public struct FileStatus: Sendable, Hashable {
    public var inode: UInt64
    public var size: Int64
    public var mode: mode_t
    public var owner: uid_t
    public var isRegularFile: Bool

    public init(inode: UInt64, size: Int64, mode: mode_t, owner: uid_t, isRegularFile: Bool) {
        self.inode = inode
        self.size = size
        self.mode = mode
        self.owner = owner
        self.isRegularFile = isRegularFile
    }
}

public struct FileSystemSpace: Sendable, Hashable {
    public var blockSize: UInt64
    public var blocksAvailable: UInt64

    public init(blockSize: UInt64, blocksAvailable: UInt64) {
        self.blockSize = blockSize
        self.blocksAvailable = blocksAvailable
    }

    public var bytesAvailable: UInt64 {
        let (bytes, overflow) = blockSize.multipliedReportingOverflow(by: blocksAvailable)
        return overflow ? .max : bytes
    }
}

/// A failed system call and its errno.
public struct SystemCallError: Error, Sendable, Hashable, CustomStringConvertible {
    public var call: String
    public var errno: Int32

    public init(_ call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// ENOSPC or EDQUOT: the file system (or the user's quota) is full.
    public var isOutOfSpace: Bool { errno == ENOSPC || errno == EDQUOT }

    public var description: String { "\(call): \(String(cString: strerror(errno)))" }
}

extension QueueFileSystem {
    /// Writes all of `bytes` at `offset`.
    func write(_ descriptor: Int32, _ bytes: ArraySlice<UInt8>, at offset: Int64) throws(SystemCallError) {
        var failure: SystemCallError?
        bytes.withUnsafeBytes { raw in
            do throws(SystemCallError) { try write(descriptor, raw, at: offset) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    func write(_ descriptor: Int32, _ bytes: [UInt8], at offset: Int64) throws(SystemCallError) {
        try write(descriptor, bytes[...], at: offset)
    }

    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    func read(_ descriptor: Int32, count: Int, at offset: Int64) throws(SystemCallError) -> [UInt8] {
        var failure: SystemCallError?
        var done = 0
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { raw in
            do throws(SystemCallError) { done = try read(descriptor, into: raw, at: offset) } catch { failure = error }
        }
        if let failure { throw failure }
        if done < count { bytes.removeSubrange(done...) }
        return bytes
    }
}
