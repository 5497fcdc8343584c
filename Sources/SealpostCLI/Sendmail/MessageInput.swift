#if canImport(Glibc)
import Glibc
#endif

/// The message on standard input, as Postfix's sendmail reads it: lines end with LF or CR LF
/// (stored as CR LF, `sendmail_fix_line_endings = always`); without `-i` a line with only a
/// dot ends the input; a leading mbox `From ` line is dropped; no dot-unstuffing.
struct MessageInput {
    var content: [UInt8] = []
    /// The input was larger than the limit; reading stopped.
    var tooLarge = false

    /// Reads from `descriptor` to the end (or the ending dot); `limit` 0 means none.
    static func read(from descriptor: Int32, ignoreDots: Bool, limit: Int) -> Result<MessageInput, ReadError> {
        var input = MessageInput()
        var line: [UInt8] = []
        var firstLine = true
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var ended = false
        // Returns false when the input ends at this line.
        func take(_ line: [UInt8]) -> Bool {
            var line = line
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            defer { firstLine = false }
            if firstLine, line.starts(with: Array("From ".utf8)) { return true }
            if !ignoreDots, line == [UInt8(ascii: ".")] { return false }
            input.content += line
            input.content += [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
            if limit > 0, input.content.count > limit {
                input.tooLarge = true
                return false
            }
            return true
        }
        reading: while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(ReadError(errno: errno))
            }
            if count == 0 { break }
            var start = 0
            for index in 0..<count where buffer[index] == UInt8(ascii: "\n") {
                line += buffer[start..<index]
                start = index + 1
                if !take(line) {
                    ended = true
                    break reading
                }
                line.removeAll(keepingCapacity: true)
            }
            line += buffer[start..<count]
            if limit > 0, line.count > limit {
                input.tooLarge = true
                ended = true
                break
            }
        }
        if !ended, !line.isEmpty { _ = take(line) }
        return .success(input)
    }

    struct ReadError: Error, CustomStringConvertible {
        var errno: Int32
        var description: String { "read standard input: \(String(cString: strerror(errno)))" }
    }
}

/// `sendmail -t`: the recipients in the message's To, Cc and Bcc headers — or only in the
/// Resent-To, Resent-Cc and Resent-Bcc headers when the message has any Resent- header, as
/// Postfix's cleanup extracts them. (The pickup service removes Bcc headers from every local
/// submission, as Postfix's cleanup does.)
enum RecipientExtraction {
    static func extract(from content: [UInt8]) -> [String] {
        var headers: [(name: String, value: String)] = []
        var index = 0
        // The header section: until an empty line or a line that is no header.
        while index < content.count {
            guard let end = lineEnd(content, from: index), end > index else { break }
            var next = end + 2
            while next < content.count, content[next] == UInt8(ascii: " ") || content[next] == UInt8(ascii: "\t") {
                guard let continued = lineEnd(content, from: next) else { break }
                next = continued + 2
            }
            let field = content[index..<min(next, content.count)]
            guard let colon = field.firstIndex(of: UInt8(ascii: ":")) else { break }
            let name = String(decoding: content[index..<colon], as: UTF8.self).trimmingCharacters(in: " \t")
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 >= 33 && $0 <= 126 }) else { break }
            let value = String(decoding: content[(colon + 1)..<min(next, content.count)], as: UTF8.self)
            headers.append((name.lowercased(), value))
            index = next
        }
        let resent = headers.contains { $0.name.hasPrefix("resent-") }
        let wanted: Set<String> = resent ? ["resent-to", "resent-cc", "resent-bcc"] : ["to", "cc", "bcc"]
        return headers.filter { wanted.contains($0.name) }.flatMap { HeaderAddresses.parse($0.value) }
    }

    private static func lineEnd(_ content: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + 1 < content.count {
            if content[index] == UInt8(ascii: "\r"), content[index + 1] == UInt8(ascii: "\n") { return index }
            index += 1
        }
        return nil
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
