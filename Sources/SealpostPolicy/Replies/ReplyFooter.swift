/// Postfix's `smtpd_reject_footer`: text appended to 4xx and 5xx replies as more reply lines
/// (smtp_reply_footer.c), with `$name` macros from the session (smtpd_expand.c).
enum ReplyFooter {
    // smtp_reply_footer.c: the template is split at each "\n" (backslash, n); each part becomes a
    // new line with the last line's reply code and enhanced status code, except that a template
    // starting with "\c" continues the last line. The original last line then gets '-' after its
    // code. A macro syntax error leaves the reply unchanged.
    /// `lines` (a reply, one element per line) with the footer added.
    static func apply(
        to lines: [String], template: String, expansionFilter: Set<UInt8>, lookup: (String) -> String?
    ) -> [String] {
        guard var last = lines.last, last.utf8.count >= 4, !template.isEmpty else { return lines }
        let code = String(last.prefix(3))
        let statusLength = EnhancedStatus.validLength(last.dropFirst(4))
        let status = statusLength > 0 ? String(last.dropFirst(4).utf8.prefix(statusLength))! : nil
        var parts = template.components(separatedByLiteral: "\\n")
        var added: [String] = []
        if parts.first?.hasPrefix("\\c") == true {
            guard let text = MacroExpansion.expand(String(parts[0].dropFirst(2)), filter: expansionFilter, lookup: lookup) else {
                return lines
            }
            last += text
            parts.removeFirst()
        }
        for (index, part) in parts.enumerated() {
            guard let text = MacroExpansion.expand(part, filter: expansionFilter, lookup: lookup) else { return lines }
            let separator = index == parts.count - 1 ? " " : "-"
            added.append(code + separator + (status.map { "\($0) " } ?? "") + text)
        }
        var result = Array(lines.dropLast())
        if !added.isEmpty {
            var bytes = Array(last.utf8)
            bytes[3] = UInt8(ascii: "-")
            last = String(decoding: bytes, as: UTF8.self)
        }
        result.append(last)
        return result + added
    }
}

/// Postfix's mac_expand() for reply footers: `$name`, `${name}`, `$(name)`, `${name?text}`
/// (text when name is non-empty), `${name:text}` (text when name is empty or unknown), `$$`.
/// Characters of macro values outside `filter` become `_` (smtpd_expansion_filter).
enum MacroExpansion {
    /// The expanded text, or nil after a syntax error.
    static func expand(_ template: String, filter: Set<UInt8>, lookup: (String) -> String?) -> String? {
        let bytes = Array(template.utf8)
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "$"), index + 1 < bytes.count else {
                output.append(byte)
                index += 1
                continue
            }
            let next = bytes[index + 1]
            if next == UInt8(ascii: "$") {
                output.append(byte)
                index += 2
            } else if next == UInt8(ascii: "{") || next == UInt8(ascii: "(") {
                let close = next == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: ")")
                var depth = 1
                var end = index + 2
                while end < bytes.count {
                    if bytes[end] == next { depth += 1 }
                    if bytes[end] == close {
                        depth -= 1
                        if depth == 0 { break }
                    }
                    end += 1
                }
                guard end < bytes.count else { return nil }
                let inside = Array(bytes[(index + 2)..<end])
                if let operatorIndex = inside.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: ":") }) {
                    let name = String(decoding: inside[..<operatorIndex], as: UTF8.self)
                    guard isMacroName(name) else { return nil }
                    let value = lookup(name) ?? ""
                    let wantsValue = inside[operatorIndex] == UInt8(ascii: "?")
                    if wantsValue == !value.isEmpty {
                        let text = String(decoding: inside[(operatorIndex + 1)...], as: UTF8.self)
                        guard let expanded = expand(text, filter: filter, lookup: lookup) else { return nil }
                        output += Array(expanded.utf8)
                    }
                } else {
                    let name = String(decoding: inside, as: UTF8.self)
                    guard isMacroName(name) else { return nil }
                    output += filtered(lookup(name) ?? "", filter)
                }
                index = end + 1
            } else if isMacroNameByte(next) {
                var end = index + 1
                while end < bytes.count && isMacroNameByte(bytes[end]) { end += 1 }
                output += filtered(lookup(String(decoding: bytes[(index + 1)..<end], as: UTF8.self)) ?? "", filter)
                index = end
            } else {
                output.append(byte)
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func isMacroNameByte(_ byte: UInt8) -> Bool { isASCIIAlphanumeric(byte) || byte == UInt8(ascii: "_") }

    private static func isMacroName(_ name: String) -> Bool { !name.isEmpty && name.utf8.allSatisfy(isMacroNameByte) }

    private static func filtered(_ value: String, _ filter: Set<UInt8>) -> [UInt8] {
        value.utf8.map { filter.contains($0) ? $0 : UInt8(ascii: "_") }
    }

    // mail_params.h, DEF_SMTPD_EXP_FILTER: tab, space and printable ASCII.
    /// The default `smtpd_expansion_filter`.
    static let defaultFilter: Set<UInt8> = Set([UInt8(ascii: "\t")] + Array(UInt8(0x20)...UInt8(0x7E)))
}

extension String {
    /// The text split at every occurrence of `separator` (kept empty parts).
    func components(separatedByLiteral separator: String) -> [String] {
        let text = Array(utf8)
        let needle = Array(separator.utf8)
        var parts: [String] = []
        var start = 0
        var index = 0
        while index + needle.count <= text.count {
            if Array(text[index..<(index + needle.count)]) == needle {
                parts.append(String(decoding: text[start..<index], as: UTF8.self))
                index += needle.count
                start = index
            } else {
                index += 1
            }
        }
        parts.append(String(decoding: text[start...], as: UTF8.self))
        return parts
    }
}
