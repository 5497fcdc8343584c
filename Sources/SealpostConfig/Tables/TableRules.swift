/// The parsed contents of a rule-file table (`texthash:` and friends, `cidr:`, `regexp:`,
/// `pcre:`): what ``RuleTable`` loads, reloads and searches.
protocol TableRules: Sendable {
    /// Whether keys are patterns (searched with full keys only).
    static var isPattern: Bool { get }

    /// Builds the rules from the logical lines of `table` (a path, or inline `type:{…}` text);
    /// `folding` is for tables with fixed-string keys.
    static func parse(
        _ lines: [LogicalLine], table: String, kind: TableReference.Kind, folding: KeyFolding,
        warnings: inout [TableWarning]
    ) throws(TableError) -> Self

    /// The value for `key`; `warn` receives problems met while matching (Postfix logs them and
    /// treats the rule as not matching).
    func lookup(_ key: String, table: String, warn: (TableWarning) -> Void) -> String?
}

extension TableRules {
    // Postfix, readllines(3) as used by every file table: comments, blank lines and continuation
    // lines; a line that continues nothing is skipped with a warning.
    /// Splits `bytes` into logical lines and builds the rules from them.
    static func load(
        _ bytes: [UInt8], table: String, kind: TableReference.Kind, folding: KeyFolding,
        warnings: inout [TableWarning]
    ) throws(TableError) -> Self {
        let (lines, lineWarnings) = LogicalLineReader.read(bytes)
        warnings += lineWarnings.map { TableWarning(file: table, line: $0.line, $0.message) }
        return try parse(lines, table: table, kind: kind, folding: folding, warnings: &warnings)
    }
}
