#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Small POSIX file reads for the TLS settings that are not credentials (ticket keys, entropy files), keeping
/// `errno` for the message.
enum SystemFile {
    /// Why a read failed.
    enum Problem: Error {
        case missing
        case system(Int32)
        case notRegular
        case tooLarge(Int)

        /// `ticket key file /x does not exist`, `cannot read ticket key file /x: Permission denied`.
        func describe(what: String, path: String) -> String {
            switch self {
            case .missing: "\(what) \(path) does not exist"
            case .system(let code): "cannot read \(what) \(path): \(CredentialFile.describe(errno: code))"
            case .notRegular: "cannot read \(what) \(path): it is not a regular file"
            case .tooLarge(let limit): "cannot read \(what) \(path): larger than \(limit) bytes"
            }
        }
    }

    /// The whole of a regular file of at most `limit` bytes.
    static func contents(of path: String, limit: Int) -> Result<[UInt8], Problem> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return .failure(problem(errno)) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return .failure(problem(errno)) }
        guard (status.st_mode & S_IFMT) == S_IFREG else { return .failure(.notRegular) }
        return readUpTo(descriptor, count: limit + 1).flatMap { bytes in
            bytes.count > limit ? .failure(.tooLarge(limit)) : .success(bytes)
        }
    }

    /// Up to `count` bytes from an open descriptor (fewer at end of file).
    static func readUpTo(_ descriptor: Int32, count: Int) -> Result<[UInt8], Problem> {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(max(count, 1), 64 * 1024))
        while bytes.count < count {
            let wanted = min(chunk.count, count - bytes.count)
            let got = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, wanted) }
            if got < 0 {
                if errno == EINTR { continue }
                return .failure(.system(errno))
            }
            if got == 0 { break }
            bytes.append(contentsOf: chunk[0..<got])
        }
        return .success(bytes)
    }

    static func problem(_ code: Int32) -> Problem {
        code == ENOENT || code == ENOTDIR ? .missing : .system(code)
    }
}
