#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Where log lines go: `maillog_file` (appended, created with `maillog_file_permissions`) or
/// standard error. One sink is shared by every logger of the process; writes are whole lines,
/// serialized, so lines from concurrent sessions never interleave.
public final class LogSink: Sendable {
    /// Where the lines are written.
    public enum Destination: Sendable, Hashable {
        case standardError
        case file(path: String, permissions: mode_t)
    }

    public let destination: Destination
    /// The host name for the line prefix (its first label is used).
    public let hostname: String
    public let processID: Int32
    let clock: @Sendable () -> LogTimestamp
    private let descriptor: Mutex<Int32>

    /// Opens the destination. Fails with the system's reason when the file cannot be opened.
    public init(
        destination: Destination, hostname: String, processID: Int32 = getpid(),
        clock: @escaping @Sendable () -> LogTimestamp = { LogTimestamp.now() }
    ) throws(LogSinkError) {
        self.destination = destination
        self.hostname = hostname
        self.processID = processID
        self.clock = clock
        descriptor = Mutex(try Self.open(destination))
    }

    deinit {
        descriptor.withLock { fd in
            if fd > 2 { close(fd) }
        }
    }

    /// Writes one complete line.
    public func write(_ line: String) {
        descriptor.withLock { fd in
            var bytes = Array(line.utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeMutableBytes { raw in
                    Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                }
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
            bytes.removeAll()
        }
    }

    /// Opens the log file again (after rotation by logrotate, or on reload).
    public func reopen() throws(LogSinkError) {
        let fresh = try Self.open(destination)
        descriptor.withLock { fd in
            if fd > 2 { close(fd) }
            fd = fresh
        }
    }

    private static func open(_ destination: Destination) throws(LogSinkError) -> Int32 {
        switch destination {
        case .standardError:
            return STDERR_FILENO
        case .file(let path, let permissions):
            if path == "/dev/stdout" { return STDOUT_FILENO }
            if path == "/dev/stderr" { return STDERR_FILENO }
            let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, permissions)
            guard fd >= 0 else { throw LogSinkError(path: path, reason: String(cString: strerror(errno))) }
            return fd
        }
    }
}

/// The log file could not be opened.
public struct LogSinkError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot open log file \(path): \(reason)" }
}

/// A timestamp as Postfix writes it: `%b %d %H:%M:%S` in local time.
public struct LogTimestamp: Sendable, Hashable {
    public var text: String

    public init(text: String) {
        self.text = text
    }

    public static func now() -> LogTimestamp {
        var seconds = time(nil)
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let length = strftime(&buffer, buffer.count, "%b %d %H:%M:%S", &parts)
        return LogTimestamp(text: String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}
