#if canImport(Glibc)
import Glibc
#endif

/// Giving up root after the ports are bound, as Postfix's daemons run as `mail_owner`.
public enum Privileges {
    /// The account `mail_owner` names.
    public struct Account: Sendable, Hashable {
        public var name: String
        public var uid: uid_t
        public var gid: gid_t
    }

    /// Looks up `name`; the error says what to do when the account does not exist.
    public static func account(named name: String) throws(LifecycleError) -> Account {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let status = getpwnam_r(name, &entry, &buffer, buffer.count, &result)
        guard status == 0, let found = result?.pointee else {
            throw LifecycleError(
                message: "mail_owner = \(name): no such user; create it (for example: useradd --system --home-dir "
                    + "/var/spool/sealpost --shell /usr/sbin/nologin \(name)) or set mail_owner to an existing unprivileged account")
        }
        guard found.pw_uid != 0 else {
            throw LifecycleError(message: "mail_owner = \(name): the mail system owner must not be root")
        }
        return Account(name: name, uid: found.pw_uid, gid: found.pw_gid)
    }

    /// Whether the process runs as root.
    public static var isRoot: Bool { geteuid() == 0 }

    /// Makes `paths` belong to `account` (the queue and data directories Sealpost writes).
    public static func giveOwnership(of paths: [String], to account: Account) throws(LifecycleError) {
        for path in paths where chown(path, account.uid, account.gid) != 0 {
            throw .system("chown \(path) to \(account.name)", errno)
        }
    }

    /// Switches the whole process to `account` for good: supplementary groups, group, then user.
    ///
    /// The account keeps its own supplementary groups (Postfix keeps none): membership of a group
    /// such as Debian's `ssl-cert` is how the unprivileged process reads renewed certificate keys
    /// on reload.
    public static func drop(to account: Account) throws(LifecycleError) {
        guard initgroups(account.name, account.gid) == 0 else { throw .system("initgroups \(account.name)", errno) }
        guard setgid(account.gid) == 0 else { throw .system("setgid \(account.gid)", errno) }
        guard setuid(account.uid) == 0 else { throw .system("setuid \(account.uid)", errno) }
        // Paranoia, as Postfix: it must not be possible to get root back.
        guard setuid(0) != 0 else { throw LifecycleError(message: "privileges could be regained after dropping them") }
    }
}
