/// The contents of an aliases(5) file read as `hash:`, `lmdb:`, `btree:` or `cdb:` table of
/// `alias_maps`: Postfix builds those with postalias(1), whose input is `name: value`, not
/// postmap's `key whitespace value`.
struct AliasRules: TableRules {
    /// Values by folded name.
    let entries: [[UInt8]: String]
    let folding: KeyFolding

    static var isPattern: Bool { false }

    // postalias(1), INPUT FILE FORMAT and postalias.c: the name ends at the first ':' outside
    // quotes; it is stored unquoted and case-folded; a line without a name or value ("need
    // name:value pair") or with a name that is not local ('@' or '%' in it: "name must be
    // local") is skipped with a warning. The value is kept as written, for the local delivery
    // agent to parse. A duplicate name keeps its first value, with a warning.
    static func parse(
        _ lines: [LogicalLine], table: String, kind: TableReference.Kind, folding: KeyFolding,
        warnings: inout [TableWarning]
    ) throws(TableError) -> AliasRules {
        var entries: [[UInt8]: String] = [:]
        for line in lines {
            let bytes = Array(line.text.utf8)
            guard let colon = nameEnd(bytes) else {
                warnings.append(TableWarning(file: table, line: line.firstLine, "need name:value pair"))
                continue
            }
            let name = unquoted(bytes[..<colon])
            let value = PostfixList.trimmed(String(decoding: bytes[(colon + 1)...], as: UTF8.self))
            if name.isEmpty || value.isEmpty {
                warnings.append(TableWarning(file: table, line: line.firstLine, "need name:value pair"))
                continue
            }
            if name.contains("@") || name.contains("%") {
                warnings.append(TableWarning(file: table, line: line.firstLine, "name must be local"))
                continue
            }
            let folded = folding.fold(name)
            if entries[folded] != nil {
                warnings.append(TableWarning(file: table, line: line.firstLine, "duplicate entry: \"\(name)\""))
            } else {
                entries[folded] = value
            }
        }
        return AliasRules(entries: entries, folding: folding)
    }

    func lookup(_ key: String, table: String, warn: (TableWarning) -> Void) -> String? {
        entries[folding.fold(key)]
    }

    /// The offset of the ':' that ends the name, outside double quotes.
    private static func nameEnd(_ bytes: [UInt8]) -> Int? {
        var inQuotes = false
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 1
            case UInt8(ascii: "\""): inQuotes.toggle()
            case UInt8(ascii: ":") where !inQuotes: return index
            default: break
            }
            index += 1
        }
        return nil
    }

    /// The name in internal form: surrounding white space removed, quotes and backslashes
    /// undone.
    private static func unquoted(_ bytes: ArraySlice<UInt8>) -> String {
        var result: [UInt8] = []
        var escaped = false
        for byte in bytes {
            if escaped {
                result.append(byte)
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte != UInt8(ascii: "\"") {
                result.append(byte)
            }
        }
        return PostfixList.trimmed(String(decoding: result, as: UTF8.self))
    }
}
