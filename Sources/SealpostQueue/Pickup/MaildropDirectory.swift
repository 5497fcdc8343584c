#if canImport(Glibc)
import Glibc
#endif

/// The directories the local submission path needs under `queue_directory` (which must exist:
/// `QueueStore` makes it), made as the daemon starts, before it gives up root:
///
/// - `maildrop`, mode 1733, owned by `mail_owner`: the drop box of `MaildropWriter`;
/// - `public`, mode 0755, owned by `mail_owner`: the trigger FIFOs (`QueueTriggerListener`).
public enum MaildropDirectory {
    public static func maildropPath(queueDirectory: String) -> String { queueDirectory + "/maildrop" }
    public static func publicPath(queueDirectory: String) -> String { queueDirectory + "/public" }

    /// Creates both directories when missing and sets their modes (and owner, when given), and
    /// lets every user search (not list) `queue_directory` itself, to reach them.
    public static func prepare(queueDirectory: String, owner: (uid: uid_t, gid: gid_t)?) throws(MaildropWriteError) {
        var root = stat()
        guard stat(queueDirectory, &root) == 0 else { throw MaildropWriteError("stat \(queueDirectory)", errno) }
        if root.st_mode & 0o111 != 0o111, chmod(queueDirectory, (root.st_mode & 0o7777) | 0o111) != 0 {
            throw MaildropWriteError("chmod \(queueDirectory)", errno)
        }
        for (path, mode) in [(maildropPath(queueDirectory: queueDirectory), mode_t(0o1733)), (publicPath(queueDirectory: queueDirectory), mode_t(0o755))] {
            if mkdir(path, mode) != 0, errno != EEXIST { throw MaildropWriteError("create directory \(path)", errno) }
            var status = stat()
            guard lstat(path, &status) == 0 else { throw MaildropWriteError("stat \(path)", errno) }
            guard status.st_mode & S_IFMT == S_IFDIR else { throw MaildropWriteError("use \(path) as a directory", ENOTDIR) }
            if let owner, status.st_uid != owner.uid || status.st_gid != owner.gid {
                guard chown(path, owner.uid, owner.gid) == 0 else { throw MaildropWriteError("chown \(path)", errno) }
            }
            // chmod after chown: chown clears the set-id bits, and mkdir's mode met the umask.
            guard chmod(path, mode) == 0 else { throw MaildropWriteError("chmod \(path)", errno) }
        }
    }
}
