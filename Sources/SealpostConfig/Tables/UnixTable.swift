#if canImport(Glibc)
import Glibc
#endif

/// `unix:passwd.byname` and `unix:group.byname`: the system's user and group databases, as
/// Postfix's dict_unix(3) reads them (Postfix's default `local_recipient_maps` names the first).
final class UnixTable: LookupTable {
    let reference: TableReference
    private let database: Database

    enum Database: String {
        case passwd = "passwd.byname"
        case group = "group.byname"
    }

    // Postfix, DATABASE_README "unix": "A limited view of the UNIX authentication database. The
    // following tables are implemented: unix:passwd.byname, unix:group.byname."
    init(reference: TableReference) throws(TableError) {
        self.reference = reference
        guard let database = Database(rawValue: reference.name) else {
            throw TableError(
                .syntax, file: reference.description,
                "unknown table unix:\(reference.name); expected unix:passwd.byname or unix:group.byname")
        }
        self.database = database
    }

    var isPattern: Bool { false }

    /// The entry as Postfix formats it (`name:passwd:uid:gid:gecos:dir:shell`, or
    /// `name:passwd:gid:member,…`); the key is folded to lower case first, as Postfix does.
    func lookup(_ key: String) throws -> String? {
        let name = key.lowercased()
        var buffer = [CChar](repeating: 0, count: 16384)
        switch database {
        case .passwd:
            var entry = passwd()
            var result: UnsafeMutablePointer<passwd>?
            let status = getpwnam_r(name, &entry, &buffer, buffer.count, &result)
            guard status == 0 else { throw TableError(.io, file: reference.description, "cannot read the password database: \(String(cString: strerror(status)))") }
            guard let found = result?.pointee else { return nil }
            return [
                String(cString: found.pw_name), String(cString: found.pw_passwd), String(found.pw_uid), String(found.pw_gid),
                String(cString: found.pw_gecos), String(cString: found.pw_dir), String(cString: found.pw_shell),
            ].joined(separator: ":")
        case .group:
            var entry = group()
            var result: UnsafeMutablePointer<group>?
            let status = getgrnam_r(name, &entry, &buffer, buffer.count, &result)
            guard status == 0 else { throw TableError(.io, file: reference.description, "cannot read the group database: \(String(cString: strerror(status)))") }
            guard let found = result?.pointee else { return nil }
            var members: [String] = []
            var cursor = found.gr_mem
            while let member = cursor?.pointee {
                members.append(String(cString: member))
                cursor = cursor! + 1
            }
            return [String(cString: found.gr_name), String(cString: found.gr_passwd), String(found.gr_gid), members.joined(separator: ",")]
                .joined(separator: ":")
        }
    }
}
