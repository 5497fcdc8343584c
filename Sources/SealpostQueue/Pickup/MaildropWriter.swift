#if canImport(Glibc)
import Glibc
#endif

/// Posting a message into `$queue_directory/maildrop`, as `sealpost sendmail` does for any
/// local user.
///
/// ## Why a world-writable sticky directory
///
/// Postfix gives `postdrop` the setgid group `postdrop` so that users can write into a
/// maildrop directory that is closed to them. Sealpost installs no set-id program: the
/// maildrop directory is mode 1733, owned by `mail_owner`. Anyone can create a file there
/// (write and search permission), nobody but the owner can list it (no read permission), and
/// the sticky bit stops users from removing or renaming each other's files. The file's owner
/// — set by the kernel at creation — tells the pickup service who submitted it; names are
/// 128 random bits, so a user cannot guess, read or race another user's file.
///
/// A file is created under `NAME.tmp` with O_EXCL and O_NOFOLLOW, written, made readable to
/// the pickup service (0644: nobody can find it to read it), fsynced, then renamed to `NAME`
/// and the directory fsynced: the pickup service only ever sees complete files.
public enum MaildropWriter {
    /// Writes the message and returns the file's final name. `content` must be the whole
    /// content with CR LF line ends; `envelope.contentLength` is set from it.
    public static func post(
        envelope: MaildropEnvelope, content: [UInt8], directory: String
    ) throws(MaildropWriteError) -> String {
        var envelope = envelope
        envelope.contentLength = content.count
        // O_PATH: users may search the directory but not read it, which O_RDONLY would need.
        let directoryDescriptor = open(directory, pathOnly | O_DIRECTORY | O_CLOEXEC)
        guard directoryDescriptor >= 0 else { throw MaildropWriteError("open maildrop directory \(directory)", errno) }
        defer { close(directoryDescriptor) }
        var name = ""
        var descriptor: Int32 = -1
        for _ in 0..<10 {
            name = randomName()
            descriptor = openat(directoryDescriptor, name + ".tmp", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if descriptor >= 0 || errno != EEXIST { break }
        }
        guard descriptor >= 0 else { throw MaildropWriteError("create maildrop file in \(directory)", errno) }
        let temporary = name + ".tmp"
        do throws(MaildropWriteError) {
            try writeAll(descriptor, envelope.encoded(), what: "write maildrop file \(directory)/\(temporary)")
            try writeAll(descriptor, content, what: "write maildrop file \(directory)/\(temporary)")
            guard fchmod(descriptor, 0o644) == 0 else { throw MaildropWriteError("chmod \(directory)/\(temporary)", errno) }
            guard fsync(descriptor) == 0 else { throw MaildropWriteError("fsync \(directory)/\(temporary)", errno) }
            guard close(descriptor) == 0 else {
                descriptor = -1
                throw MaildropWriteError("close \(directory)/\(temporary)", errno)
            }
            descriptor = -1
            guard renameat(directoryDescriptor, temporary, directoryDescriptor, name) == 0 else {
                throw MaildropWriteError("rename \(directory)/\(temporary)", errno)
            }
        } catch {
            if descriptor >= 0 { close(descriptor) }
            unlinkat(directoryDescriptor, temporary, 0)
            throw error
        }
        // A user cannot open the directory for reading, so cannot fsync it (neither can Postfix's
        // postdrop); root can. The pickup service syncs the directory when it takes the file.
        let readable = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if readable >= 0 {
            _ = fsync(readable)
            close(readable)
        }
        return name
    }

    /// Linux's O_PATH (open for *at() calls only), which Glibc's Swift module does not export.
    private static let pathOnly: Int32 = 0o10_000_000

    /// 32 hexadecimal digits from the system's secure generator (getrandom(2) on Linux).
    static func randomName() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }

    /// Whether `name` is a final maildrop file name (32 upper-case hexadecimal digits).
    public static func isFinalName(_ name: String) -> Bool {
        name.utf8.count == 32 && name.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x46) }
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: [UInt8], what: String) throws(MaildropWriteError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw MaildropWriteError(what, errno)
            }
            offset += written
        }
    }
}

/// Posting into the maildrop failed; nothing was left behind.
public struct MaildropWriteError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var errno: Int32
    init(_ operation: String, _ errno: Int32) {
        self.operation = operation
        self.errno = errno
    }
    public var description: String { "\(operation): \(String(cString: strerror(errno)))" }
}
