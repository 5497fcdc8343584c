/// An `inline:{ key=value, { key = value with spaces } }` table.
final class InlineTable: LookupTable {
    let reference: TableReference
    /// Values by folded key.
    private let entries: [[UInt8]: String]
    private let folding: KeyFolding

    // Postfix, DATABASE_README "inline": "inline:{ key = value, { key = text with whitespace
    // or comma } }". dict_inline(3): the whole name must be one balanced {…}; the entries are
    // separated by comma or whitespace, an entry in {…} may hold both; each is "key = value" with
    // an optionally quoted key (split_qnameval); a later duplicate replaces an earlier one; an
    // empty table is an error. Keys are case-folded like every fixed-string table.
    init(reference: TableReference, folding: KeyFolding) throws(TableError) {
        self.reference = reference
        self.folding = folding
        let table = reference.description
        func syntaxError(_ why: String) -> TableError {
            TableError(.syntax, file: table, "\(why); expected inline:{name=value, ...}")
        }
        let name = reference.name
        let inside: String
        switch PostfixList.unbrace(name) {
        case .success(let text) where !name.utf8.dropFirst().dropLast().isEmpty: inside = text
        case .success: throw syntaxError("empty table")
        case .failure(let error): throw syntaxError("bad syntax: \(error)")
        }
        var entries: [[UInt8]: String] = [:]
        for word in PostfixList.split(inside) {
            var pair = word
            if word.utf8.first == UInt8(ascii: "{") {
                switch PostfixList.unbrace(word) {
                case .success(let text): pair = text
                case .failure(let error): throw syntaxError(error.description)
                }
            }
            switch Self.splitKeyValue(pair) {
            case .success(let (key, value)): entries[folding.fold(key)] = value
            case .failure(let why): throw syntaxError("\(why) in \"\(pair)\"")
            }
        }
        if entries.isEmpty { throw syntaxError("empty table") }
        self.entries = entries
    }

    var isPattern: Bool { false }

    func lookup(_ key: String) throws -> String? { entries[folding.fold(key)] }

    private struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    // Postfix, split_qnameval(3): "key = value" where the key ends at unquoted whitespace or '=',
    // may be "quoted" and may contain backslash-escaped characters (both kept as written); the
    // value is the rest after '=' without surrounding whitespace, and may be empty.
    private static func splitKeyValue(_ text: String) -> Result<(String, String), Malformed> {
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count && isPostfixSpace(bytes[start]) { start += 1 }
        guard start < bytes.count else { return .failure(Malformed(description: "no key found")) }
        let (end, openQuote) = quotedKeyEnd(bytes, from: start, alsoEndingAt: UInt8(ascii: "="))
        if openQuote { return .failure(Malformed(description: "unbalanced '\"'")) }
        var equals = end
        while equals < bytes.count && isPostfixSpace(bytes[equals]) { equals += 1 }
        guard equals < bytes.count, bytes[equals] == UInt8(ascii: "=") else {
            return .failure(Malformed(description: "missing '=' after attribute name"))
        }
        let key = String(decoding: bytes[start..<end], as: UTF8.self)
        let value = PostfixList.trimmed(String(decoding: bytes[(equals + 1)...], as: UTF8.self))
        return .success((key, value))
    }
}
