#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SealpostConfig

/// A Dovecot-format passwd-file: `user:{SCHEME}hash:uid:gid:gecos:home:shell:extra`, one user per
/// line. Only the user and password fields matter here; `#` comment lines and blank lines are
/// skipped. User names may have a domain (`user@example.com`) and match case-insensitively, as
/// Dovecot's default `auth_username_format = %Lu` makes them.
///
/// Problems are findings with the file and line, never exceptions: a line that cannot be used is
/// an error and that user cannot log in, every other user can.
public struct PasswdFile: Sendable {
    public struct Entry: Sendable, Hashable {
        /// The user name as the file writes it.
        public var username: String
        /// nil when the field is empty or unusable: logins as this user fail.
        public var password: StoredPassword?
        public var line: Int
    }

    public let path: String
    /// The usable entries by lower-cased user name; the first of duplicate lines wins (as in Dovecot).
    public let entries: [String: Entry]
    /// Errors (unusable lines), warnings (clear-text passwords, duplicates, permissions) in line order.
    public let diagnostics: [ConfigurationDiagnostic]

    /// The entry a login name selects.
    public func entry(for login: String) -> Entry? {
        entries[login.lowercased()]
    }

    /// The user names in file order.
    public var usernames: [String] {
        entries.values.sorted { $0.line < $1.line }.map(\.username)
    }

    /// Parses the contents of the file at `path`.
    public init(path: String, contents: [UInt8]) {
        self.path = path
        var entries: [String: Entry] = [:]
        var diagnostics: [ConfigurationDiagnostic] = []
        for (index, rawLine) in PasswdFileLines.split(contents).enumerated() {
            let number = index + 1
            let location = SourceLocation(file: path, line: number)
            guard let parsed = PasswdFileLines.parse(rawLine) else { continue }
            switch parsed {
            case .failure(let failure):
                diagnostics.append(.error(location, failure.message, code: "passwd-file"))
            case .success(let (username, field)):
                let key = username.lowercased()
                if let first = entries[key] {
                    diagnostics.append(
                        .warning(location, "user \(username) is also on line \(first.line); that line is used", code: "passwd-file"))
                    continue
                }
                var password: StoredPassword?
                switch PasswordField.parse(field) {
                case .password(let stored, let warning):
                    password = stored
                    if case .plain = stored {
                        diagnostics.append(
                            .warning(
                                location,
                                "user \(username): \(warning ?? "password stored in clear text"); "
                                    + "replace it with a hash: sealpost passwd add \(username)",
                                code: "passwd-file-plain"))
                    } else if let warning {
                        diagnostics.append(.warning(location, "user \(username): \(warning)", code: "passwd-file"))
                    }
                case .empty:
                    diagnostics.append(
                        .warning(location, "user \(username) has no password; logins as \(username) are refused", code: "passwd-file"))
                case .unsupported(let why):
                    diagnostics.append(
                        .error(location, "user \(username): \(why); logins as \(username) are refused", code: "passwd-file"))
                }
                entries[key] = Entry(username: username, password: password, line: number)
            }
        }
        self.entries = entries
        self.diagnostics = diagnostics
    }

    /// Reads and parses the file. A file that group or others may read gets a warning about its
    /// permissions (it holds password hashes).
    public static func load(path: String) throws(PasswdFileError) -> PasswdFile {
        try loadWithIdentity(path: path).file
    }

    /// The file and the identity of the version read (from the open descriptor, so a replacement
    /// racing the read is noticed at the next check).
    static func loadWithIdentity(path: String) throws(PasswdFileError) -> (file: PasswdFile, identity: PasswdFileIO.Identity) {
        let contents = try PasswdFileIO.load(path)
        var file = PasswdFile(path: path, contents: contents.bytes)
        if let warning = permissionWarning(path: path, mode: contents.mode) {
            file = PasswdFile(copying: file, prepending: warning)
        }
        return (file, contents.identity)
    }

    static func permissionWarning(path: String, mode: mode_t) -> ConfigurationDiagnostic? {
        guard mode & S_IROTH != 0 || mode & S_IWOTH != 0 else { return nil }
        let shown = String(mode & 0o7777, radix: 8)
        return .warning(
            SourceLocation(file: path),
            "mode \(shown) lets every user read the password hashes; chmod o-rwx \(path)", code: "passwd-file-mode")
    }

    private init(copying file: PasswdFile, prepending diagnostic: ConfigurationDiagnostic) {
        path = file.path
        entries = file.entries
        diagnostics = [diagnostic] + file.diagnostics
    }
}

/// A passwd-file that cannot be read, naming the file.
public struct PasswdFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// The line syntax shared by the reader and the editor.
enum PasswdFileLines {
    /// The lines of `contents`, without their LF (and without a CR before it). A final line without
    /// LF counts; an empty text after the last LF does not.
    static func split(_ contents: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines = contents.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        return lines.map { $0.last == 0x0D ? $0.dropLast() : $0 }
    }

    /// Whether a line is a comment or blank (Dovecot also skips lines that start with `:`).
    static func isSkipped(_ line: ArraySlice<UInt8>) -> Bool {
        guard let first = line.first(where: { $0 != 0x20 && $0 != 0x09 }) else { return true }
        return first == UInt8(ascii: "#") || line.first == UInt8(ascii: ":")
    }

    /// The user name and password field of a line; nil for comments and blank lines.
    static func parse(_ line: ArraySlice<UInt8>) -> Result<(String, String), Failure>? {
        if isSkipped(line) { return nil }
        guard let text = String(validating: Array(line), as: UTF8.self) else {
            return .failure(Failure("the line is not UTF-8"))
        }
        let fields = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count >= 2 else {
            return .failure(Failure("no ':' after the user name; expected user:{SCHEME}hash[:uid:gid:gecos:home:shell:extra]"))
        }
        let username = String(fields[0])
        guard username.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
            return .failure(Failure("the user name \"\(Printable.text(username))\" has white space or control characters"))
        }
        return .success((username, String(fields[1])))
    }

    struct Failure: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    static func userKey(of line: ArraySlice<UInt8>) -> String? {
        guard case .success(let (username, _)) = parse(line) else { return nil }
        return username.lowercased()
    }
}
