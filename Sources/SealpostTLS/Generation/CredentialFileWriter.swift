#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes certificate and key files so that readers see the old file or the new one, never half of one.
public enum CredentialFileWriter {
    /// Writes `contents` to a temporary file beside `path` with exactly `mode` (the umask does not apply),
    /// fsyncs it, renames it over `path` and fsyncs the directory.
    public static func writeAtomically(_ contents: String, to path: String, mode: mode_t) throws(TLSCredentialError) {
        let directory = parentDirectory(of: path)
        var randomSuffix = [UInt8](repeating: 0, count: 6)
        for index in randomSuffix.indices { randomSuffix[index] = UInt8.random(in: 0...255) }
        let temporary = "\(path).tmp.\(getpid()).\(randomSuffix.map { String($0, radix: 16) }.joined())"

        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard descriptor >= 0 else { throw failure(path, "cannot create \(temporary)", errno) }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }

        do {
            defer { close(descriptor) }
            guard fchmod(descriptor, mode) == 0 else { throw failure(path, "cannot set mode on \(temporary)", errno) }
            var bytes = Array(contents.utf8)[...]
            while !bytes.isEmpty {
                let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure(path, "cannot write \(temporary)", errno)
                }
                bytes = bytes.dropFirst(written)
            }
            guard fsync(descriptor) == 0 else { throw failure(path, "cannot fsync \(temporary)", errno) }
        }
        guard rename(temporary, path) == 0 else { throw failure(path, "cannot rename \(temporary) to \(path)", errno) }
        renamed = true

        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryDescriptor >= 0 else { throw failure(path, "cannot open directory \(directory)", errno) }
        defer { close(directoryDescriptor) }
        guard fsync(directoryDescriptor) == 0 else { throw failure(path, "cannot fsync directory \(directory)", errno) }
    }

    private static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let parent = path[..<slash]
        return parent.isEmpty ? "/" : String(parent)
    }

    private static func failure(_ path: String, _ what: String, _ code: Int32) -> TLSCredentialError {
        TLSCredentialError(.writeFailed, path: path, reason: "writing \(path): \(what): \(CredentialFile.describe(errno: code))")
    }
}
