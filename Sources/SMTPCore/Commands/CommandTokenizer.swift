/// One word of a command line, split as Postfix's `smtpd_token()` splits it.
struct CommandToken: Equatable {
    var bytes: [UInt8]
    /// A `<…` or `"…` that never closed (Postfix's `SMTPD_TOK_ERROR`).
    var unterminated = false

    var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// Postfix's SMTP command tokenizer (`smtpd_token.c`): words separated by white space, where `<…>` and
/// `"…"` may hold white space, a backslash quotes the next octet, and `FROM:` / `TO:` end a word so
/// that `MAIL FROM:<a@b>` and `MAIL FROM: <a@b>` give the same words.
enum CommandTokenizer {
    static func tokens(_ line: [UInt8]) -> [CommandToken] {
        var tokens: [CommandToken] = []
        var index = 0
        while index < line.count {
            var token = CommandToken(bytes: [])
            while index < line.count {
                let byte = line[index]
                index += 1
                if ASCII.isWhitespace(byte) {
                    while index < line.count && ASCII.isWhitespace(line[index]) { index += 1 }
                    if !token.bytes.isEmpty { break }
                } else if byte == ASCII.lessThan {
                    quoted(line, &index, into: &token, opening: byte, closing: ASCII.greaterThan)
                } else if byte == ASCII.quote {
                    quoted(line, &index, into: &token, opening: byte, closing: ASCII.quote)
                } else if byte == ASCII.colon {
                    token.bytes.append(byte)
                    if ASCII.equalsIgnoringCase(token.bytes, "TO:") || ASCII.equalsIgnoringCase(token.bytes, "FROM:") { break }
                } else {
                    if byte == ASCII.backslash {
                        token.bytes.append(byte)
                        guard index < line.count else { break }
                        token.bytes.append(line[index])
                        index += 1
                        continue
                    }
                    token.bytes.append(byte)
                }
            }
            if !token.bytes.isEmpty { tokens.append(token) }
        }
        return tokens
    }

    /// `smtp_quoted()`: copies up to the matching close; `"` nests inside `<>`, `<` nests inside `<>`.
    private static func quoted(_ line: [UInt8], _ index: inout Int, into token: inout CommandToken, opening: UInt8, closing: UInt8) {
        var stack = [closing]
        token.bytes.append(opening)
        while index < line.count {
            let byte = line[index]
            index += 1
            token.bytes.append(byte)
            if byte == ASCII.backslash {
                guard index < line.count else { break }
                token.bytes.append(line[index])
                index += 1
            } else if byte == stack.last {
                stack.removeLast()
                if stack.isEmpty { return }
            } else if byte == ASCII.quote {
                stack.append(ASCII.quote)
            } else if byte == ASCII.lessThan && stack.last == ASCII.greaterThan {
                stack.append(ASCII.greaterThan)
            }
        }
        token.unterminated = true
    }
}
