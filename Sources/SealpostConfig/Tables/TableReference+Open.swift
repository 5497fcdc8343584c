extension TableReference {
    /// Opens the table: reads and checks its file or inline text.
    ///
    /// A missing or unreadable file, or a malformed rule, is an error that names the file (or the
    /// inline text) and the line. File tables check their file for changes at most once per
    /// `options.checkInterval` and reload it; see ``LookupTable/lastReloadError``.
    public func open(_ options: TableOptions = TableOptions()) throws(TableError) -> any LookupTable {
        switch kind {
        case .hash, .lmdb, .btree, .cdb:
            if options.aliasFileFormat { return try RuleTable<AliasRules>(reference: self, path: name, options: options) }
            return try RuleTable<KeyValueRules>(reference: self, path: name, options: options)
        case .texthash:
            return try RuleTable<KeyValueRules>(reference: self, path: name, options: options)
        case .inline:
            return try InlineTable(reference: self, folding: options.keyFolding)
        case .static:
            return try StaticTable(reference: self)
        case .unix:
            return try UnixTable(reference: self)
        case .cidr:
            return try openRules(CIDRRules.self, options)
        case .regexp, .pcre:
            return try openRules(PatternRules.self, options)
        }
    }

    private func openRules<Rules: TableRules>(_: Rules.Type, _ options: TableOptions) throws(TableError) -> any LookupTable {
        if isInline {
            return try RuleTable<Rules>(reference: self, inlineRules: try inlineRuleText(), options: options)
        }
        return try RuleTable<Rules>(reference: self, path: name, options: options)
    }

    // Postfix, DATABASE_README: "cidr:{ {rule-1}, {rule-2} … }", "pcre:{ … }" and
    // "regexp:{ … }" (Postfix 3.7) give the rules inline: each rule inside its own braces, the
    // rules separated by comma or whitespace; they are read as the lines of a file would be.
    /// The inline rules as the text of an equivalent file, one rule per line.
    func inlineRuleText() throws(TableError) -> [UInt8] {
        let table = description
        func failure(_ why: String) -> TableError {
            TableError(.syntax, file: table, "\(why); expected \(kind.rawValue):{ {rule}, {rule}, ... }")
        }
        let inside: String
        switch PostfixList.unbrace(name) {
        case .success(let text): inside = text
        case .failure(let error): throw failure(error.description)
        }
        var text: [UInt8] = []
        for word in PostfixList.split(inside) {
            switch PostfixList.unbrace(word) {
            case .success(let rule): text += Array(rule.utf8) + [UInt8(ascii: "\n")]
            case .failure(let error): throw failure(error.description)
            }
        }
        return text
    }
}
