#if canImport(Glibc)
import Glibc
#endif

/// An account of the system's user database, as local delivery needs it.
public struct SystemUser: Sendable, Hashable {
    public var name: String
    public var uid: UInt32
    public var gid: UInt32
    public var home: String

    public init(name: String, uid: UInt32, gid: UInt32, home: String) {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home
    }
}

/// Where local delivery looks up recipients' accounts; tests inject a fixed list so they do
/// not depend on the machine's users.
public protocol UserDirectory: Sendable {
    /// The account named `name`, nil when there is none; throws when the database cannot be
    /// read (a temporary failure).
    func user(named name: String) throws -> SystemUser?
}

/// Why the user database could not be read.
public struct UserLookupError: Error, Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var code: Int32

    public var description: String { "error looking up passwd info for \(name): \(String(cString: strerror(code)))" }
}

/// The system's passwd database through getpwnam_r(3) (NSS included).
public struct SystemUserDirectory: UserDirectory {
    public init() {}

    public func user(named name: String) throws -> SystemUser? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var size = max(Int(sysconf(Int32(_SC_GETPW_R_SIZE_MAX))), 4096)
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let status = getpwnam_r(name, &entry, &buffer, size, &result)
            if status == ERANGE && size < 1 << 20 {
                size *= 2
                continue
            }
            // getpwnam_r(3): "0 or ENOENT or ESRCH or EBADF or EPERM or ..." may all mean
            // "not found" when there is no result.
            guard status == 0 || status == ENOENT || status == ESRCH else { throw UserLookupError(name: name, code: status) }
            guard result != nil else { return nil }
            return SystemUser(name: String(cString: entry.pw_name), uid: entry.pw_uid, gid: entry.pw_gid, home: String(cString: entry.pw_dir))
        }
    }
}

/// A fixed list of accounts.
public struct StaticUserDirectory: UserDirectory {
    public var users: [String: SystemUser]

    public init(_ users: [SystemUser]) {
        self.users = Dictionary(users.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func user(named name: String) throws -> SystemUser? { users[name] }
}
