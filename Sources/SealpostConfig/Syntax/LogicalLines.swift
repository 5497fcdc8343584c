/// One logical line of a Postfix-style file: a line that starts with non-whitespace text, joined
/// with the lines after it that start with whitespace.
public struct LogicalLine: Sendable, Hashable {
    /// The joined text, without newlines. Continuation lines keep their leading whitespace, exactly
    /// as Postfix's `readllines()` joins them.
    public var text: String
    /// The physical line number (1-based) where the logical line starts.
    public var firstLine: Int
    /// Where each physical line's text starts in `text` (UTF-8 offset) and its line number, so a
    /// problem inside a long entry can point at the right physical line.
    public var segments: [Segment]

    public struct Segment: Sendable, Hashable {
        public var utf8Offset: Int
        public var line: Int
    }

    /// The physical line that holds the UTF-8 offset `offset` of `text`.
    public func line(atUTF8Offset offset: Int) -> Int {
        var result = firstLine
        for segment in segments where segment.utf8Offset <= offset {
            result = segment.line
        }
        return result
    }
}

/// A problem found while splitting a file into logical lines (never fatal, as in Postfix).
public struct LogicalLineWarning: Sendable, Hashable {
    public var line: Int
    public var message: String
}

/// Splits Postfix configuration text into logical lines, the way Postfix's `readllines()` does.
///
/// - Empty lines, whitespace-only lines and lines whose first non-whitespace character is `#` are
///   skipped, also in the middle of a multi-line entry (so a commented-out `-o` line inside a
///   `master.cf` service does not end the service).
/// - A line that starts with whitespace continues the previous logical line.
/// - Continuation text with no logical line before it is ignored with a warning.
/// - A NUL byte is kept out of the text with a warning ("text after null byte may be ignored" in
///   Postfix); invalid UTF-8 is replaced, so arbitrary bytes never stop the reader.
public enum LogicalLineReader {
    public static func read(_ bytes: [UInt8]) -> (lines: [LogicalLine], warnings: [LogicalLineWarning]) {
        var lines: [LogicalLine] = []
        var warnings: [LogicalLineWarning] = []
        var current: (bytes: [UInt8], firstLine: Int, segments: [LogicalLine.Segment])?

        func finishCurrent() {
            if let done = current {
                lines.append(
                    LogicalLine(
                        text: String(decoding: done.bytes, as: UTF8.self),
                        firstLine: done.firstLine,
                        segments: done.segments))
            }
            current = nil
        }

        var lineNumber = 0
        var start = 0
        let count = bytes.count
        while start < count {
            lineNumber += 1
            var end = start
            while end < count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            var physical = Array(bytes[start..<end])
            start = end + 1

            if physical.last == UInt8(ascii: "\r") { physical.removeLast() }
            if physical.contains(0) {
                warnings.append(LogicalLineWarning(line: lineNumber, message: "NUL byte in line; text after it is ignored"))
                physical = Array(physical.prefix(while: { $0 != 0 }))
            }
            guard let firstVisible = physical.firstIndex(where: { !isPostfixSpace($0) }) else {
                continue  // empty or whitespace-only
            }
            if physical[firstVisible] == UInt8(ascii: "#") { continue }

            if firstVisible == 0 {
                finishCurrent()
                current = (physical, lineNumber, [.init(utf8Offset: 0, line: lineNumber)])
            } else if current != nil {
                current!.segments.append(.init(utf8Offset: current!.bytes.count, line: lineNumber))
                current!.bytes.append(contentsOf: physical)
            } else {
                let preview = String(decoding: physical.prefix(30), as: UTF8.self)
                warnings.append(
                    LogicalLineWarning(
                        line: lineNumber,
                        message: "logical line must not start with whitespace: \"\(preview)\(physical.count > 30 ? "..." : "")\""))
            }
        }
        finishCurrent()
        return (lines, warnings)
    }
}

/// Postfix's whitespace set for configuration text (`CHARS_SPACE` plus vertical tab and form feed,
/// which `ISSPACE` also accepts).
@inline(__always)
func isPostfixSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
}

extension Character {
    var isPostfixSpace: Bool {
        self == " " || self == "\t" || self == "\n" || self == "\r" || self == "\u{0B}" || self == "\u{0C}"
            || self == "\r\n"
    }
}
