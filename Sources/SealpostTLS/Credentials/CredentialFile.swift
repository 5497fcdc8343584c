#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a file is for, so that messages say "private key file /etc/…" rather than just a path.
enum CredentialFileRole: String, Sendable {
    case certificate = "certificate file"
    case privateKey = "private key file"
    case certificateAndKey = "certificate and key file"
    case chain = "chain file"
    case dhParameters = "DH parameter file"
    case caFile = "CA file"
    case caPath = "CA path"
}

/// Reading credential files with POSIX calls, so that failures carry `errno` and its text.
enum CredentialFile {
    /// Larger than any sane certificate bundle (Debian's ca-certificates.crt is about 200 KiB).
    static let maximumSize = 16 * 1024 * 1024

    /// The whole file; a missing file, an unreadable one and an absurdly large one are distinct errors.
    static func contents(of path: String, role: CredentialFileRole) throws(TLSCredentialError) -> [UInt8] {
        // O_NONBLOCK: a FIFO named as a certificate file must not hang start-up; it is refused below.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if descriptor < 0 {
            throw openError(errno, path: path, role: role)
        }
        defer { close(descriptor) }

        var status = stat()
        if fstat(descriptor, &status) != 0 {
            throw openError(errno, path: path, role: role)
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            throw TLSCredentialError(.fileUnreadable, path: path, reason: "cannot read \(role.rawValue) \(path): it is a directory")
        }
        if (status.st_mode & S_IFMT) != S_IFREG {
            throw TLSCredentialError(
                .fileUnreadable, path: path, reason: "cannot read \(role.rawValue) \(path): it is not a regular file")
        }

        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw openError(errno, path: path, role: role)
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > maximumSize {
                throw TLSCredentialError(
                    .fileUnreadable, path: path,
                    reason: "cannot read \(role.rawValue) \(path): larger than \(maximumSize / (1024 * 1024)) MiB, not a credential file")
            }
        }
        return bytes
    }

    /// Whether anything exists at `path` (following symbolic links).
    static func exists(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0
    }

    /// The permission bits of the file (`st_mode & 07777`), or nil when it cannot be examined.
    static func permissions(of path: String) -> mode_t? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return status.st_mode & 0o7777
    }

    /// The mode as admins write it: 0600, 0644, 2750.
    static func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// The text of an `errno` value.
    static func describe(errno code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    private static func openError(_ code: Int32, path: String, role: CredentialFileRole) -> TLSCredentialError {
        if code == ENOENT || code == ENOTDIR {
            return TLSCredentialError(.fileMissing, path: path, reason: "\(role.rawValue) \(path) does not exist")
        }
        return TLSCredentialError(
            .fileUnreadable, path: path, reason: "cannot read \(role.rawValue) \(path): \(describe(errno: code))")
    }
}
