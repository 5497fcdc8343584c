#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SealpostConfig

/// Reading and atomically replacing a passwd-file, without Foundation.
enum PasswdFileIO {
    /// What identifies one version of the file (a chmod counts too: it may make the file unreadable).
    typealias Identity = FileVersion

    static func errorText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    static func identity(of path: String) -> Result<Identity, PasswdFileError> {
        var status = stat()
        guard stat(path, &status) == 0 else { return .failure(PasswdFileError(path: path, reason: errorText())) }
        return .success(Identity(status))
    }

    /// The bytes, permission bits and identity of the file.
    static func load(_ path: String) throws(PasswdFileError) -> (bytes: [UInt8], mode: mode_t, identity: Identity) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw PasswdFileError(path: path, reason: "cannot open: \(errorText())") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw PasswdFileError(path: path, reason: "cannot stat: \(errorText())") }
        guard status.st_mode & S_IFMT == S_IFREG else { throw PasswdFileError(path: path, reason: "not a regular file") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(status.st_size))
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw PasswdFileError(path: path, reason: "cannot read: \(errorText())")
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return (bytes, status.st_mode & 0o7777, Identity(status))
    }
}
