#if canImport(Glibc)
import Glibc
#endif

/// The master PID file, `$queue_directory/pid/master.pid`, locked for as long as Sealpost runs so
/// that a second instance on the same queue refuses to start (as Postfix's master does).
public final class PIDFile {
    public let path: String
    private var descriptor: Int32

    /// Creates the file (and its directory), takes an exclusive lock and writes the process id in
    /// Postfix's format (right-aligned in ten columns).
    public init(path: String, processID: Int32 = getpid()) throws(LifecycleError) {
        self.path = path
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !directory.isEmpty { try Directories.create(directory, mode: 0o755) }
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .system("open lock file \(path)", errno) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(descriptor)
            if code == EWOULDBLOCK {
                throw LifecycleError(message: "the Sealpost mail system is already running (lock file \(path) is held)")
            }
            throw .system("lock \(path)", code)
        }
        let digits = String(processID)
        let text = Array((String(repeating: " ", count: max(0, 10 - digits.count)) + digits + "\n").utf8)
        guard ftruncate(descriptor, 0) == 0, text.withUnsafeBytes({ pwrite(descriptor, $0.baseAddress, $0.count, 0) }) == text.count
        else {
            let code = errno
            close(descriptor)
            throw .system("write \(path)", code)
        }
    }

    /// Removes the file and releases the lock.
    public func release() {
        guard descriptor >= 0 else { return }
        unlink(path)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}

/// Creating the directories Sealpost needs.
public enum Directories {
    /// Creates `path` and missing parents with `mode`; an existing directory is fine.
    public static func create(_ path: String, mode: mode_t) throws(LifecycleError) {
        var status = stat()
        if stat(path, &status) == 0 {
            guard (status.st_mode & S_IFMT) == S_IFDIR else {
                throw LifecycleError(message: "\(path) exists but is not a directory")
            }
            return
        }
        if let slash = path.lastIndex(of: "/"), slash > path.startIndex {
            try create(String(path[..<slash]), mode: mode)
        }
        guard mkdir(path, mode) == 0 || errno == EEXIST else { throw .system("create directory \(path)", errno) }
    }
}

/// A start-up or lifecycle failure, with the reason.
public struct LifecycleError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String

    public init(message: String) {
        self.message = message
    }

    public static func system(_ action: String, _ code: Int32) -> LifecycleError {
        LifecycleError(message: "\(action): \(String(cString: strerror(code)))")
    }

    public var description: String { message }
}
