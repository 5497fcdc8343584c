/// Postfix's list and grouping syntax: words separated by commas and whitespace, where `{ … }`
/// keeps text with separators together (`mystrtokq()` and `extpar()` in Postfix).
public enum PostfixList {
    /// The separators of a parameter list: comma and whitespace.
    public static let commaOrSpace: Set<UInt8> = [
        UInt8(ascii: ","), UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"),
    ]
    /// The separators of words in a line: whitespace only.
    public static let space: Set<UInt8> = [
        UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"),
    ]

    /// Splits `text` into words. A `{` opens a group that lasts until its matching `}`; separators
    /// inside a group do not split, and the braces stay part of the word (use ``unbrace(_:)``).
    public static func split(_ text: String, separators: Set<UInt8> = commaOrSpace) -> [String] {
        var words: [String] = []
        var word: [UInt8] = []
        var depth = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "{") {
                depth += 1
            } else if depth > 0 && byte == UInt8(ascii: "}") {
                depth -= 1
            } else if depth == 0 && separators.contains(byte) {
                if !word.isEmpty {
                    words.append(String(decoding: word, as: UTF8.self))
                    word.removeAll(keepingCapacity: true)
                }
                continue
            }
            word.append(byte)
        }
        if !word.isEmpty { words.append(String(decoding: word, as: UTF8.self)) }
        return words
    }

    /// The text inside a `{ … }` group, with the whitespace next to the braces removed.
    ///
    /// Fails, like Postfix's `extpar()`, when the text does not start with `{`, when the closing
    /// brace is missing, or when text follows it.
    public static func unbrace(_ word: String) -> Result<String, BraceError> {
        let bytes = Array(word.utf8)
        guard bytes.first == UInt8(ascii: "{") else { return .failure(.noOpeningBrace(word)) }
        var depth = 0
        var closing: Int?
        for (index, byte) in bytes.enumerated() {
            if byte == UInt8(ascii: "{") {
                depth += 1
            } else if byte == UInt8(ascii: "}") {
                depth -= 1
                if depth == 0 {
                    closing = index
                    break
                }
            }
        }
        guard let closing else { return .failure(.missingClosingBrace(word)) }
        guard closing == bytes.count - 1 else { return .failure(.textAfterClosingBrace(word)) }
        return .success(trimmed(String(decoding: bytes[1..<closing], as: UTF8.self)))
    }

    /// `word` itself, or the inside of it when it is a `{ … }` group.
    public static func unbraceIfGrouped(_ word: String) -> Result<String, BraceError> {
        word.utf8.first == UInt8(ascii: "{") ? unbrace(word) : .success(word)
    }

    /// Whether every `{` in `text` has a matching `}` and no `}` comes before its `{`.
    public static func bracesBalance(_ text: String) -> Bool {
        var depth = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "{") {
                depth += 1
            } else if byte == UInt8(ascii: "}") {
                depth -= 1
                if depth < 0 { return false }
            }
        }
        return depth == 0
    }

    /// `text` without leading and trailing whitespace.
    public static func trimmed(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard let first = bytes.firstIndex(where: { !isPostfixSpace($0) }) else { return "" }
        let last = bytes.lastIndex(where: { !isPostfixSpace($0) })!
        if first == 0 && last == bytes.count - 1 { return text }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }

    /// `text` with every run of whitespace replaced by one space and no space at either end —
    /// how `postconf` prints values (braces get no special treatment here).
    public static func normalizedWhitespace(_ text: String) -> String {
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for byte in text.utf8 {
            if isPostfixSpace(byte) {
                pendingSpace = !result.isEmpty
            } else {
                if pendingSpace { result.append(UInt8(ascii: " ")) }
                pendingSpace = false
                result.append(byte)
            }
        }
        return String(decoding: result, as: UTF8.self)
    }
}

/// Why a `{ … }` group could not be taken apart.
public enum BraceError: Error, Sendable, Hashable, CustomStringConvertible {
    case noOpeningBrace(String)
    case missingClosingBrace(String)
    case textAfterClosingBrace(String)

    public var description: String {
        switch self {
        case .noOpeningBrace(let text): "no '{' at start of text in \"\(text)\""
        case .missingClosingBrace(let text): "missing '}' in \"\(text)\""
        case .textAfterClosingBrace(let text): "syntax error after '}' in \"\(text)\""
        }
    }
}
