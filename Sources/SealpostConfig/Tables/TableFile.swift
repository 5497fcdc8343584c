#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading a table file and telling whether it changed.
enum TableFile {
    typealias Signature = FileVersion

    /// The current signature of the file at `path`.
    static func signature(of path: String) -> Result<Signature, TableError> {
        var info = stat()
        guard stat(path, &info) == 0 else { return .failure(failure("cannot stat", path)) }
        return .success(Signature(info))
    }

    /// The bytes of the file at `path` and the signature of what was read.
    static func read(_ path: String) throws(TableError) -> (bytes: [UInt8], signature: Signature) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("cannot open", path) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw failure("cannot stat", path) }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw TableError(.io, file: path, "cannot read: is a directory")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("cannot read", path)
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return (bytes, Signature(info))
    }

    private static func failure(_ what: String, _ path: String) -> TableError {
        TableError(.io, file: path, "\(what): \(stringUpToNUL(Array(UnsafeBufferPointer(start: strerror(errno), count: Int(strlen(strerror(errno)))))))")
    }
}

private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
