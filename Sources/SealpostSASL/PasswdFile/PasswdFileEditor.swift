#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SealpostConfig

/// Changes to a passwd-file that keep every other byte: comments, blank lines, other users' lines
/// and the other fields of the edited line stay as they were. The file is replaced atomically
/// (a temporary file beside it, written, flushed to disk, renamed over it, directory flushed),
/// under an exclusive lock so that two edits cannot lose each other's change.
public enum PasswdFileEditor {
    public enum Change: Sendable, Hashable {
        case added
        case replaced(line: Int)
    }

    /// Why a user name cannot go into a passwd-file, or nil when it can.
    public static func problem(withUsername username: String) -> String? {
        if username.isEmpty { return "the user name is empty" }
        if username.utf8.count > 255 { return "the user name is longer than 255 bytes" }
        if username.hasPrefix("#") { return "a user name cannot start with #" }
        if username.contains(":") { return "a user name cannot contain ':'" }
        if username.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) {
            return "a user name cannot contain white space or control characters"
        }
        return nil
    }

    /// `contents` with `username`'s password field set to `field`: on the user's first line (other
    /// fields kept), or on a new line at the end.
    public static func settingPassword(_ field: String, for username: String, in contents: [UInt8]) -> (bytes: [UInt8], change: Change) {
        let key = username.lowercased()
        var output: [UInt8] = []
        output.reserveCapacity(contents.count + field.utf8.count + username.utf8.count + 2)
        var change: Change?
        for (number, line) in lines(contents) {
            if change == nil, PasswdFileLines.userKey(of: line.text) == key {
                var replaced = Array(line.text)
                let fields = replaced.split(separator: UInt8(ascii: ":"), maxSplits: 2, omittingEmptySubsequences: false)
                replaced = Array(fields[0]) + [UInt8(ascii: ":")] + Array(field.utf8)
                if fields.count == 3 { replaced += [UInt8(ascii: ":")] + Array(fields[2]) }
                output += replaced + line.ending
                change = .replaced(line: number)
            } else {
                output += line.text + line.ending
            }
        }
        if let change { return (output, change) }
        if let last = output.last, last != 0x0A { output.append(0x0A) }
        output += Array(username.utf8) + [UInt8(ascii: ":")] + Array(field.utf8) + [0x0A]
        return (output, .added)
    }

    /// `contents` without `username`'s lines; the line numbers removed (empty when none).
    public static func removing(_ username: String, from contents: [UInt8]) -> (bytes: [UInt8], removedLines: [Int]) {
        let key = username.lowercased()
        var output: [UInt8] = []
        output.reserveCapacity(contents.count)
        var removed: [Int] = []
        for (number, line) in lines(contents) {
            if PasswdFileLines.userKey(of: line.text) == key {
                removed.append(number)
            } else {
                output += line.text + line.ending
            }
        }
        return (output, removed)
    }

    /// Lines with their own endings (`\n`, `\r\n`, or none for a last line without one).
    private static func lines(_ contents: [UInt8]) -> [(number: Int, line: (text: ArraySlice<UInt8>, ending: [UInt8]))] {
        var result: [(Int, (ArraySlice<UInt8>, [UInt8]))] = []
        var start = contents.startIndex
        var number = 0
        while start < contents.endIndex {
            number += 1
            guard let newline = contents[start...].firstIndex(of: 0x0A) else {
                result.append((number, (contents[start...], [])))
                break
            }
            if newline > start, contents[newline - 1] == 0x0D {
                result.append((number, (contents[start..<(newline - 1)], [0x0D, 0x0A])))
            } else {
                result.append((number, (contents[start..<newline], [0x0A])))
            }
            start = newline + 1
        }
        return result
    }

    // MARK: - The file

    /// Replaces the file at `path` with `transform(current contents)`, atomically and under an
    /// exclusive lock. A missing file is created (mode 0640, group `group` when given) if `create`
    /// is set, else it is an error. The new file keeps the old one's mode, owner and group.
    public static func edit<Result>(
        path: String, create: Bool, group: gid_t? = nil,
        _ transform: ([UInt8]) throws(PasswdFileError) -> (bytes: [UInt8], result: Result)
    ) throws(PasswdFileError) -> Result {
        let locked = try lock(path: path, create: create, group: group)
        defer { close(locked) }
        var status = stat()
        guard fstat(locked, &status) == 0 else { throw failure(path, "cannot stat") }
        let current = try readAll(locked, path: path)
        let (bytes, result) = try transform(current)
        if bytes != current { try replace(path: path, with: bytes, like: status) }
        return result
    }

    /// Opens the file and takes an exclusive lock on the inode that `path` names after locking.
    private static func lock(path: String, create: Bool, group: gid_t?) throws(PasswdFileError) -> Int32 {
        for _ in 0..<100 {
            var descriptor = open(path, O_RDONLY | O_CLOEXEC)
            if descriptor < 0 && errno == ENOENT {
                guard create else { throw failure(path, "cannot open") }
                descriptor = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
                if descriptor < 0 && errno == EEXIST { continue }
                guard descriptor >= 0 else { throw failure(path, "cannot create") }
                // The mode is set explicitly: the umask must not loosen or tighten it.
                fchmod(descriptor, 0o640)
                if let group { _ = fchown(descriptor, uid_t.max, group) }
            }
            guard descriptor >= 0 else { throw failure(path, "cannot open") }
            while flock(descriptor, LOCK_EX) != 0 {
                if errno != EINTR {
                    let error = failure(path, "cannot lock")
                    close(descriptor)
                    throw error
                }
            }
            var opened = stat()
            var named = stat()
            if fstat(descriptor, &opened) == 0, stat(path, &named) == 0, opened.st_ino == named.st_ino, opened.st_dev == named.st_dev {
                return descriptor
            }
            // Another edit replaced the file while we waited for the lock: lock the new one.
            close(descriptor)
        }
        throw PasswdFileError(path: path, reason: "cannot lock: the file keeps being replaced")
    }

    private static func readAll(_ descriptor: Int32, path: String) throws(PasswdFileError) -> [UInt8] {
        switch SealpostConfig.readAll(descriptor) {
        case .success(let bytes): return bytes
        case .failure(let error): throw PasswdFileError(path: path, reason: "cannot read: \(error)")
        }
    }

    private static func replace(path: String, with bytes: [UInt8], like status: stat) throws(PasswdFileError) {
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let base = path.split(separator: "/").last.map(String.init) ?? path
        var template = Array("\(directory.isEmpty ? "/" : directory)/.\(base).XXXXXX".utf8CString)
        let descriptor = mkstemp(&template)
        guard descriptor >= 0 else { throw failure(path, "cannot create a temporary file in \(directory)") }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var closed = false
        do throws(PasswdFileError) {
            // Owner first, then mode: fchown may clear set-id bits, and the mode must end as it was.
            if fchown(descriptor, status.st_uid, status.st_gid) != 0 && geteuid() == 0 {
                throw failure(temporary, "cannot set the owner")
            }
            guard fchmod(descriptor, status.st_mode & 0o7777) == 0 else { throw failure(temporary, "cannot set the mode") }
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, bytes.count - offset) }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure(temporary, "cannot write")
                }
                offset += written
            }
            guard fsync(descriptor) == 0 else { throw failure(temporary, "cannot flush to disk") }
            closed = true
            guard close(descriptor) == 0 else { throw failure(temporary, "cannot close") }
            guard rename(temporary, path) == 0 else { throw failure(path, "cannot replace with \(temporary)") }
        } catch {
            if !closed { close(descriptor) }
            unlink(temporary)
            throw error
        }
        let directoryDescriptor = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            defer { close(directoryDescriptor) }
            guard fsync(directoryDescriptor) == 0 else { throw failure(directory, "cannot flush the directory to disk") }
        }
    }

    private static func failure(_ path: String, _ what: String) -> PasswdFileError {
        PasswdFileError(path: path, reason: "\(what): \(String(cString: strerror(errno)))")
    }
}
