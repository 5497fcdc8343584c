// Small pieces of Postfix's table syntax shared by several table types.

/// Whether `text` starts with `keyword` (any case) not followed by a letter or digit, as Postfix
/// recognises "if" and "endif" in `cidr:`, `regexp:` and `pcre:` tables.
func startsWithKeyword(_ text: ArraySlice<UInt8>, _ keyword: String) -> Bool {
    let length = keyword.utf8.count
    guard text.count >= length else { return false }
    for (byte, expected) in zip(text, keyword.utf8) where byte | 0x20 != expected {
        return false
    }
    guard text.count > length else { return true }
    return !isASCIIAlphanumeric(text[text.startIndex + length])
}

/// The polarity after any run of `!` and whitespace at the start of `text`, and the rest.
func negations(_ text: ArraySlice<UInt8>) -> (positive: Bool, rest: ArraySlice<UInt8>) {
    var positive = true
    var rest = text
    while let byte = rest.first {
        if byte == UInt8(ascii: "!") {
            positive.toggle()
        } else if !isPostfixSpace(byte) {
            break
        }
        rest = rest.dropFirst()
    }
    return (positive, rest)
}

// postmap(1) and split_qnameval(3): a key ends at whitespace (or, in inline tables, '=') that
// is not inside double quotes; a backslash keeps the next character in the key.
/// Where the key that starts at `start` ends, and whether a `"` was left open.
func quotedKeyEnd(_ bytes: [UInt8], from start: Int, alsoEndingAt terminator: UInt8? = nil) -> (end: Int, openQuote: Bool) {
    var end = start
    var inQuotes = false
    while end < bytes.count {
        let byte = bytes[end]
        if byte == UInt8(ascii: "\\") {
            end += 1
            if end == bytes.count { break }
        } else if isPostfixSpace(byte) || byte == terminator {
            if !inQuotes { break }
        } else if byte == UInt8(ascii: "\"") {
            inQuotes.toggle()
        }
        end += 1
    }
    return (min(end, bytes.count), inQuotes)
}

/// Postfix's `ISALNUM`: ASCII letters and digits only.
func isASCIIAlphanumeric(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
        || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
}

/// The text of a C string buffer, up to its first NUL.
func stringUpToNUL(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
