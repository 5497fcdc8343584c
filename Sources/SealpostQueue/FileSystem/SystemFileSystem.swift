#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The queue's system calls on the real file system.
public struct SystemFileSystem: QueueFileSystem {
    public init() {}

    public func openDirectory(_ path: String) throws(SystemCallError) -> Int32 {
        let descriptor = retrying { Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard descriptor >= 0 else { throw SystemCallError("open \(path)", errno: errno) }
        return descriptor
    }

    public func makeDirectory(_ path: String, mode: mode_t) throws(SystemCallError) {
        if mkdir(path, mode) != 0, errno != EEXIST { throw SystemCallError("mkdir \(path)", errno: errno) }
    }

    public func open(_ name: String, in directory: Int32, flags: Int32, mode: mode_t) throws(SystemCallError) -> Int32 {
        let descriptor = retrying { openat(directory, name, flags | O_CLOEXEC | O_NOFOLLOW, mode) }
        guard descriptor >= 0 else { throw SystemCallError("open \(name)", errno: errno) }
        return descriptor
    }

    public func close(_ descriptor: Int32) {
        _ = Glibc.close(descriptor)
    }

    public func duplicate(_ descriptor: Int32) throws(SystemCallError) -> Int32 {
        let copy = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { throw SystemCallError("dup", errno: errno) }
        return copy
    }

    public func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(SystemCallError) {
        var done = 0
        while done < bytes.count {
            let written = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if written < 0 {
                if errno == EINTR { continue }
                throw SystemCallError("write", errno: errno)
            }
            if written == 0 { throw SystemCallError("write", errno: EIO) }
            done += written
        }
    }

    public func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(SystemCallError) -> Int {
        var done = 0
        while done < buffer.count {
            let count = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemCallError("read", errno: errno)
            }
            if count == 0 { break }
            done += count
        }
        return done
    }

    public func status(_ descriptor: Int32) throws(SystemCallError) -> FileStatus {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw SystemCallError("fstat", errno: errno) }
        return FileStatus(
            inode: UInt64(info.st_ino), size: Int64(info.st_size), mode: info.st_mode & 0o7777, owner: info.st_uid,
            isRegularFile: info.st_mode & S_IFMT == S_IFREG)
    }

    public func changeMode(_ descriptor: Int32, _ mode: mode_t) throws(SystemCallError) {
        guard fchmod(descriptor, mode) == 0 else { throw SystemCallError("fchmod", errno: errno) }
    }

    public func truncate(_ descriptor: Int32, to length: Int64) throws(SystemCallError) {
        guard retrying({ ftruncate(descriptor, off_t(length)) }) == 0 else { throw SystemCallError("ftruncate", errno: errno) }
    }

    public func synchronizeData(_ descriptor: Int32) throws(SystemCallError) {
        guard retrying({ fdatasync(descriptor) }) == 0 else { throw SystemCallError("fdatasync", errno: errno) }
    }

    public func synchronize(_ descriptor: Int32) throws(SystemCallError) {
        guard retrying({ fsync(descriptor) }) == 0 else { throw SystemCallError("fsync", errno: errno) }
    }

    public func synchronizeFileSystem(_ descriptor: Int32) throws(SystemCallError) {
        guard let syncfs = LinuxCalls.syncfs else {
            // Without syncfs, sync(2) flushes at least as much; it reports no errors, so follow it
            // with fsync of the descriptor to learn of a failed write-back there.
            sync()
            return try synchronize(descriptor)
        }
        guard retrying({ syncfs(descriptor) }) == 0 else { throw SystemCallError("syncfs", errno: errno) }
    }

    public func startWriteback(_ descriptor: Int32) {
        _ = LinuxCalls.syncFileRange?(descriptor, 0, 0, LinuxCalls.syncFileRangeWrite)
    }

    public func rename(
        _ name: String, in directory: Int32, to newName: String, in newDirectory: Int32, replacing: Bool
    ) throws(SystemCallError) {
        if !replacing, let renameat2 = LinuxCalls.renameat2 {
            if renameat2(directory, name, newDirectory, newName, LinuxCalls.renameNoReplace) == 0 { return }
            // A file system without RENAME_NOREPLACE says EINVAL; fall back to a plain rename.
            if errno != EINVAL { throw SystemCallError("rename \(name)", errno: errno) }
        }
        guard renameat(directory, name, newDirectory, newName) == 0 else { throw SystemCallError("rename \(name)", errno: errno) }
    }

    public func remove(_ name: String, in directory: Int32) throws(SystemCallError) {
        guard unlinkat(directory, name, 0) == 0 else { throw SystemCallError("unlink \(name)", errno: errno) }
    }

    public func lock(_ descriptor: Int32, exclusive: Bool, nonBlocking: Bool) throws(SystemCallError) -> Bool {
        let operation = (exclusive ? LOCK_EX : LOCK_SH) | (nonBlocking ? LOCK_NB : 0)
        if retrying({ flock(descriptor, operation) }) == 0 { return true }
        if nonBlocking && errno == EWOULDBLOCK { return false }
        throw SystemCallError("flock", errno: errno)
    }

    public func listDirectory(_ directory: Int32) throws(SystemCallError) -> [String] {
        // A fresh open of the directory, not a dup: readdir's position belongs to the open file
        // description, and concurrent listings must not share one. fdopendir takes ownership.
        let own = retrying { openat(directory, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard own >= 0 else { throw SystemCallError("open directory", errno: errno) }
        guard let stream = fdopendir(own) else {
            let code = errno
            _ = Glibc.close(own)
            throw SystemCallError("opendir", errno: code)
        }
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw SystemCallError("readdir", errno: errno) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public func availableSpace(_ descriptor: Int32) throws(SystemCallError) -> FileSystemSpace {
        var info = statvfs()
        guard fstatvfs(descriptor, &info) == 0 else { throw SystemCallError("statvfs", errno: errno) }
        return FileSystemSpace(blockSize: UInt64(info.f_frsize), blocksAvailable: UInt64(info.f_bavail))
    }

    private func retrying(_ call: () -> Int32) -> Int32 {
        while true {
            let result = call()
            if result >= 0 || errno != EINTR { return result }
        }
    }
}

/// Linux calls that Glibc's Swift module does not import (they need _GNU_SOURCE), looked up once
/// by name in the C library; each has a fallback.
enum LinuxCalls {
    typealias SyncFS = @convention(c) (Int32) -> Int32
    typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32
    typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32

    static let syncFileRangeWrite: UInt32 = 2
    static let renameNoReplace: UInt32 = 1

    static let syncfs: SyncFS? = symbol("syncfs", as: SyncFS.self)
    static let syncFileRange: SyncFileRange? = symbol("sync_file_range", as: SyncFileRange.self)
    static let renameat2: RenameAt2? = symbol("renameat2", as: RenameAt2.self)

    private static func symbol<Function>(_ name: String, as type: Function.Type) -> Function? {
        guard let handle = dlopen(nil, RTLD_NOW), let address = dlsym(handle, name) else { return nil }
        return unsafeBitCast(address, to: type)
    }
}
