/// The contents of a `texthash:` table, and of `hash:`, `lmdb:`, `btree:` and `cdb:` tables,
/// which Sealpost reads from the same text source file that `postmap` would index.
struct KeyValueRules: TableRules {
    /// Values by folded key.
    let entries: [[UInt8]: String]
    let folding: KeyFolding

    static var isPattern: Bool { false }

    // postmap(1), INPUT FILE FORMAT: "key whitespace value"; the key ends at the first whitespace
    // that is not inside double quotes or escaped with a backslash, and keeps its quotes; the value
    // is the rest with surrounding whitespace removed. Keys are case-folded (postmap without -f;
    // Unicode case folding with smtputf8_enable = yes). A line with no value, or with an unbalanced
    // '"', is ignored with a warning; a duplicate key keeps the first value with a warning
    // ("duplicate entry"), as postmap -q does.
    static func parse(
        _ lines: [LogicalLine], table: String, kind: TableReference.Kind, folding: KeyFolding,
        warnings: inout [TableWarning]
    ) throws(TableError) -> KeyValueRules {
        var entries: [[UInt8]: String] = [:]
        for line in lines {
            let bytes = Array(line.text.utf8)
            let (end, openQuote) = quotedKeyEnd(bytes, from: 0)
            if openQuote {
                warnings.append(
                    TableWarning(file: table, line: line.firstLine, "unbalanced '\"' in '\(line.text)' -- ignoring this line"))
                continue
            }
            let key = String(decoding: bytes[0..<end], as: UTF8.self)
            let value = PostfixList.trimmed(String(decoding: bytes[end...], as: UTF8.self))
            if key.isEmpty || value.isEmpty {
                warnings.append(
                    TableWarning(
                        file: table, line: line.firstLine, "expected format: key whitespace value -- ignoring this line"))
                continue
            }
            if key.hasSuffix(":") {
                warnings.append(
                    TableWarning(
                        file: table, line: line.firstLine,
                        "record is in \"key: value\" format; is this an alias file?"))
            }
            let folded = folding.fold(key)
            if entries[folded] != nil {
                warnings.append(TableWarning(file: table, line: line.firstLine, "duplicate entry: \"\(key)\""))
            } else {
                entries[folded] = value
            }
        }
        return KeyValueRules(entries: entries, folding: folding)
    }

    func lookup(_ key: String, table: String, warn: (TableWarning) -> Void) -> String? {
        entries[folding.fold(key)]
    }
}
