/// The result text of a `regexp:` or `pcre:` rule, with its `$1` … `${n}` substitutions.
struct ReplacementTemplate: Sendable, Hashable {
    private enum Part: Sendable, Hashable {
        case literal([UInt8])
        case group(Int)
    }

    private let parts: [Part]
    /// The highest `$number` used (0 when the text is constant).
    let highestGroup: Int

    // regexp_table(5) / pcre_table(5): "Substitution of substrings (text that matches patterns
    // inside "()") from the matched expression into the result string is requested with $1, $2,
    // etc.; specify $$ to produce a $ character as output. The macros in the result string may need
    // to be written as ${n} or $(n) if they aren't followed by whitespace." Postfix parses them
    // with mac_parse(3): a name is the run of letters, digits and '_' after '$', or the text up to
    // the matching brace; it must be a number from 1 up.
    /// Parses result text; the failure is Postfix's explanation.
    static func parse(_ text: ArraySlice<UInt8>) -> Result<ReplacementTemplate, RuleProblem> {
        var parts: [Part] = []
        var literal: [UInt8] = []
        var highest = 0
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            if byte != UInt8(ascii: "$") {
                literal.append(byte)
                index += 1
                continue
            }
            if index + 1 < text.endIndex && text[index + 1] == UInt8(ascii: "$") {
                literal.append(byte)
                index += 2
                continue
            }
            index += 1
            let name: ArraySlice<UInt8>
            if index < text.endIndex, let close = closing(of: text[index]) {
                let open = text[index]
                var depth = 1
                var end = index + 1
                while true {
                    guard end < text.endIndex else {
                        return .failure("truncated macro reference: \"\(String(decoding: text, as: UTF8.self))\"")
                    }
                    if text[end] == open { depth += 1 }
                    if text[end] == close { depth -= 1 }
                    if depth == 0 { break }
                    end += 1
                }
                name = text[(index + 1)..<end]
                index = end + 1
            } else {
                var end = index
                while end < text.endIndex && (isASCIIAlphanumeric(text[end]) || text[end] == UInt8(ascii: "_")) {
                    end += 1
                }
                name = text[index..<end]
                index = end
            }
            let nameText = String(decoding: name, as: UTF8.self)
            if name.isEmpty {
                return .failure("empty macro name: \"\(String(decoding: text, as: UTF8.self))\"")
            }
            guard name.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
                return .failure("non-numeric replacement index \"\(nameText)\"")
            }
            let number = Int(nameText) ?? Int.max
            if number < 1 { return .failure("out-of-range replacement index \"\(nameText)\"") }
            if !literal.isEmpty {
                parts.append(.literal(literal))
                literal.removeAll()
            }
            parts.append(.group(number))
            highest = max(highest, number)
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return .success(ReplacementTemplate(parts: parts, highestGroup: highest))
    }

    private static func closing(of byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "{"): UInt8(ascii: "}")
        case UInt8(ascii: "("): UInt8(ascii: ")")
        default: nil
        }
    }

    /// The result for a match of `subject`; `groups[n]` is the byte range group `n` matched, or
    /// nil when it did not take part (an unmatched or empty group adds nothing).
    func expand(subject: UnsafeBufferPointer<UInt8>, groups: [Range<Int>?]) -> String {
        var result: [UInt8] = []
        for part in parts {
            switch part {
            case .literal(let bytes):
                result += bytes
            case .group(let number):
                if number < groups.count, let range = groups[number], !range.isEmpty {
                    result += subject[range]
                }
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// The text when it has no substitutions (with `$$` already turned into `$`).
    var constant: String? {
        guard highestGroup == 0 else { return nil }
        return String(decoding: parts.flatMap { part -> [UInt8] in
            if case .literal(let bytes) = part { return bytes }
            return []
        }, as: UTF8.self)
    }
}
