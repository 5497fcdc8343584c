#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Edits `main.cf` in place as `postconf -e`, `-#` and `-X` do, leaving every line it does not
/// touch byte-identical (comments, blank lines, spacing, other entries).
///
/// - `set`: each entry of a named parameter becomes one `name = value` line (its continuation lines
///   go); names not in the file are appended at the end, sorted.
/// - `commentOut`: each entry's lines get a leading `#`.
/// - `remove`: each entry's lines go.
///
/// The new file is written beside the old one, flushed to disk, given the old file's mode, and
/// renamed over it, so a crash leaves either the old or the new file, never a mix.
public enum MainConfEditor {
    /// What to do with the named parameters.
    public enum Edit: Sendable {
        case set([(name: String, value: String)])
        case commentOut([String])
        case remove([String])
    }

    /// Parses `name=value` command-line arguments the way postconf does; the error explains what
    /// is wrong with which argument.
    public static func parseAssignments(_ arguments: [String]) -> Result<[(name: String, value: String)], EditError> {
        var pairs: [(String, String)] = []
        for argument in arguments {
            if argument.contains("\n") { return .failure(.init(message: "-e, -X, or -# accepts no multi-line input")) }
            if PostfixList.trimmed(argument).hasPrefix("#") {
                return .failure(.init(message: "-e, -X, or -# accepts no comment input"))
            }
            switch MainConfFile.splitNameValue(argument) {
            case .success(let pair): pairs.append(pair)
            case .failure(let problem): return .failure(.init(message: "\(problem.rawValue): \"\(argument)\""))
            }
        }
        return .success(pairs)
    }

    /// Validates parameter names for `-#` and `-X`.
    public static func parseNames(_ arguments: [String]) -> Result<[String], EditError> {
        var names: [String] = []
        for argument in arguments {
            let name = PostfixList.trimmed(argument)
            if argument.contains("\n") { return .failure(.init(message: "-e, -X, or -# accepts no multi-line input")) }
            if name.isEmpty { return .failure(.init(message: "-X or -# requires non-blank parameter names")) }
            if name.contains("=") { return .failure(.init(message: "-X or -# requires parameter names without value")) }
            if name.hasPrefix("#") { return .failure(.init(message: "-e, -X, or -# accepts no comment input")) }
            names.append(name)
        }
        return .success(names)
    }

    /// The edited text of `original`, and warnings (a name found more than once).
    public static func apply(_ edit: Edit, to original: [UInt8]) -> (bytes: [UInt8], warnings: [String]) {
        var replacements: [String: String?] = [:]
        var order: [String] = []
        switch edit {
        case .set(let pairs):
            for (name, value) in pairs {
                if replacements[name] == nil { order.append(name) }
                replacements[name] = .some(value)
            }
        case .commentOut(let names), .remove(let names):
            for name in names where replacements[name] == nil {
                order.append(name)
                replacements[name] = .some(nil)
            }
        }

        var output: [UInt8] = []
        output.reserveCapacity(original.count + 64)
        var warnings: [String] = []
        var found: [String: Int] = [:]
        var insideEditedEntry = false

        for line in physicalLines(original) {
            let firstVisible = line.firstIndex(where: { !isPostfixSpace($0) })
            // Comments and blank lines pass through, also between continuation lines.
            guard let firstVisible, line[firstVisible] != UInt8(ascii: "#") else {
                output += line
                continue
            }
            if firstVisible > line.startIndex {  // continuation line
                if !insideEditedEntry {
                    output += line
                } else if case .commentOut = edit {
                    output.append(UInt8(ascii: "#"))
                    output += line
                }
                continue
            }
            var nameEnd = firstVisible
            while nameEnd < line.endIndex && !isPostfixSpace(line[nameEnd]) && line[nameEnd] != UInt8(ascii: "=") {
                nameEnd += 1
            }
            let name = String(decoding: line[firstVisible..<nameEnd], as: UTF8.self)
            guard let replacement = replacements[name] else {
                insideEditedEntry = false
                output += line
                continue
            }
            insideEditedEntry = true
            found[name, default: 0] += 1
            if found[name] == 2 { warnings.append("multiple entries for \"\(name)\"") }
            switch edit {
            case .set:
                output += Array("\(name) = \(replacement ?? "")\n".utf8)
            case .commentOut:
                output.append(UInt8(ascii: "#"))
                output += line
            case .remove:
                break
            }
        }

        if case .set = edit {
            let missing = order.filter { found[$0] == nil }.sorted()
            if !missing.isEmpty, let last = output.last, last != UInt8(ascii: "\n") { output.append(UInt8(ascii: "\n")) }
            for name in missing {
                output += Array("\(name) = \((replacements[name] ?? nil) ?? "")\n".utf8)
            }
        }
        return (output, warnings)
    }

    /// Applies `edit` to the file at `path`, atomically. Returns postconf-style warnings.
    @discardableResult
    public static func edit(fileAt path: String, _ edit: Edit) throws(EditError) -> [String] {
        let original: [UInt8]
        switch readFile(path) {
        case .success(let bytes): original = bytes
        case .failure(let error): throw EditError(message: "open \(path) for reading: \(error)")
        }
        let (bytes, warnings) = apply(edit, to: original)
        try writeAtomically(bytes, to: path)
        return warnings.map { "\(path): \($0)" }
    }

    /// Writes `bytes` to `path` through a temporary file in the same directory, keeping the mode of
    /// the file it replaces.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(EditError) {
        var status = stat()
        let mode: mode_t = stat(path, &status) == 0 ? status.st_mode & 0o7777 : 0o644
        let temporary = path + ".sealpost-tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw EditError(message: "open \(temporary): \(String(cString: strerror(errno)))") }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw EditError(message: "write \(temporary): \(reason)")
            }
            offset += written
        }
        fchmod(fd, mode)
        if fsync(fd) != 0 || close(fd) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw EditError(message: "close \(temporary): \(reason)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw EditError(message: "rename \(temporary) to \(path): \(reason)")
        }
    }

    /// Splits text into physical lines, each with its newline (the last may have none).
    private static func physicalLines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
            lines.append(bytes[start...index])
            start = index + 1
        }
        if start < bytes.count { lines.append(bytes[start...]) }
        return lines
    }
}

/// Why an edit was refused or failed.
public struct EditError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
