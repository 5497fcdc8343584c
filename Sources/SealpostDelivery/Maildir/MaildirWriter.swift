#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Writes one message into a Maildir as Postfix's virtual(8) does: a new file in `tmp/`, the
/// content with LF line endings, flushed to disk, then linked into `new/` under a unique name
/// (`seconds.VdevIinodeMmicroseconds.host`) and the directory flushed too — so a delivery either
/// completes or leaves nothing a mail reader can see.
public enum MaildirWriter {
    /// The result of a delivery: the file in `new/`.
    public struct Delivered: Sendable, Hashable {
        public var path: String
        public var size: Int
    }

    /// Delivers `headerLines` (each without a line ending, e.g. `Return-Path: <a@b>`) followed by
    /// the content chunks `nextChunk` yields (CR LF line endings are turned into LF) into the
    /// Maildir at `maildir` (a path ending in `/`).
    ///
    /// - Parameters:
    ///   - sizeLimit: the largest file allowed (`virtual_mailbox_limit`), 0 for none.
    public static func deliver(
        to maildir: String, hostname: String, headerLines: [String], sizeLimit: Int,
        nextChunk: () throws -> [UInt8]?
    ) throws -> Delivered {
        let base = maildir.hasSuffix("/") ? maildir : maildir + "/"
        for directory in ["tmp", "new", "cur"] {
            try makeDirectories(base + directory, mode: 0o700)
        }
        var now = timeval()
        gettimeofday(&now, nil)
        let host = safeHostname(hostname)
        let temporary = "\(base)tmp/\(now.tv_sec).M\(now.tv_usec)P\(getpid())Q\(nextSequence()).\(host)"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw MaildirError.system("create maildir file \(temporary)", errno) }
        var linked = false
        defer {
            if !linked { unlink(temporary) }
        }
        var size = 0
        do {
            var output = LineEndingWriter(descriptor: descriptor)
            for line in headerLines { try output.write(Array((line + "\n").utf8)) }
            while let chunk = try nextChunk() {
                try output.write(chunk)
                if sizeLimit > 0 && output.size > sizeLimit { throw MaildirError.tooLarge(limit: sizeLimit) }
            }
            try output.finish()
            size = output.size
            guard fsync(descriptor) == 0 else { throw MaildirError.system("fsync \(temporary)", errno) }
        } catch {
            close(descriptor)
            throw error
        }
        var status = stat()
        fstat(descriptor, &status)
        guard close(descriptor) == 0 else { throw MaildirError.system("close \(temporary)", errno) }

        let name = "\(now.tv_sec).V\(String(UInt(status.st_dev), radix: 16))I\(String(UInt(status.st_ino), radix: 16))M\(now.tv_usec).\(host)"
        let final = "\(base)new/\(name)"
        guard link(temporary, final) == 0 else { throw MaildirError.system("create maildir file \(final)", errno) }
        linked = true
        unlink(temporary)
        try syncDirectory(base + "new")
        return Delivered(path: final, size: size)
    }

    /// `mkdir -p` with `mode` for each missing component.
    static func makeDirectories(_ path: String, mode: mode_t) throws {
        var status = stat()
        if stat(path, &status) == 0 {
            guard (status.st_mode & S_IFMT) == S_IFDIR else { throw MaildirError.system("create directory \(path)", ENOTDIR) }
            return
        }
        if let slash = path.dropLast().lastIndex(of: "/"), slash > path.startIndex {
            try makeDirectories(String(path[..<slash]), mode: mode)
        }
        guard mkdir(path, mode) == 0 || errno == EEXIST else { throw MaildirError.system("create directory \(path)", errno) }
    }

    static func syncDirectory(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw MaildirError.system("open \(path)", errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw MaildirError.system("fsync \(path)", errno) }
    }

    /// The host name as Maildir allows it: `/` becomes `\057` and `:` becomes `\072`.
    static func safeHostname(_ hostname: String) -> String {
        var result = ""
        for character in hostname {
            switch character {
            case "/": result += "\\057"
            case ":": result += "\\072"
            default: result.append(character)
            }
        }
        return result
    }

    /// Keeps temporary names unique within one microsecond in this process.
    private static let sequence = Atomic<UInt64>(0)

    private static func nextSequence() -> UInt64 { sequence.add(1, ordering: .relaxed).newValue }
}

/// Why a Maildir delivery failed, with the DSN status Postfix would give.
public enum MaildirError: Error, Sendable, Hashable, CustomStringConvertible {
    case system(String, Int32)
    case tooLarge(limit: Int)

    /// Temporary failures are retried; a full mailbox or a file over the limit bounces. As
    /// Postfix's `mbox_dsn()`: a full file system is 4.3.0 (mail system full), not a mailbox problem.
    public var dsnStatus: String {
        switch self {
        case .system(_, let code):
            switch code {
            case EDQUOT, EFBIG: return "5.2.2"
            case ENOSPC: return "4.3.0"
            default: return "4.2.0"
            }
        case .tooLarge: return "5.2.2"
        }
    }

    public var description: String {
        switch self {
        case .system(let action, let code): "\(action): \(String(cString: strerror(code)))"
        case .tooLarge(let limit): "message file too big: it exceeds virtual_mailbox_limit (\(limit) bytes)"
        }
    }
}

/// Writes bytes to a descriptor, turning CR LF into LF on the way (a CR at the end of one chunk
/// waits for the next), in blocks of 64 KiB.
private struct LineEndingWriter {
    let descriptor: Int32
    var buffer: [UInt8] = []
    var pendingCR = false
    /// Bytes accepted so far (written or buffered).
    var size = 0

    init(descriptor: Int32) {
        self.descriptor = descriptor
        buffer.reserveCapacity(65536)
    }

    mutating func write(_ bytes: [UInt8]) throws {
        for byte in bytes {
            if pendingCR {
                pendingCR = false
                if byte != UInt8(ascii: "\n") {
                    buffer.append(UInt8(ascii: "\r"))
                    size += 1
                }
            }
            if byte == UInt8(ascii: "\r") {
                pendingCR = true
                continue
            }
            buffer.append(byte)
            size += 1
            if buffer.count >= 65536 { try flush() }
        }
    }

    mutating func finish() throws {
        if pendingCR {
            buffer.append(UInt8(ascii: "\r"))
            size += 1
            pendingCR = false
        }
        try flush()
    }

    private mutating func flush() throws {
        var offset = 0
        while offset < buffer.count {
            let count = buffer.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw MaildirError.system("write maildir file", errno)
            }
            offset += count
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
