/// The contents of a `cidr:` table: network patterns tried in order, first match wins.
struct CIDRRules: TableRules {
    /// A network and whether the rule applies inside it (`true`) or outside it (`!pattern`).
    private struct Condition: Sendable {
        let pattern: CIDRPattern
        let positive: Bool

        func holds(for address: [UInt8]) -> Bool {
            pattern.network.count == address.count && pattern.contains(address) == positive
        }
    }

    private let rules: RuleBlocks<Condition, (Condition, value: String)>

    static var isPattern: Bool { true }

    // cidr_table(5): "network_address/network_mask result" (a bare address means all bits),
    // "!pattern result" (Postfix 3.2) inverts the match, "if pattern" … "endif" (Postfix 3.2) skip
    // the rules between them unless the address matches, and may nest. A malformed rule, an
    // "endif" without "if" or text after "endif" is an error naming the line (Postfix skips the
    // rule with a warning); an "if" without "endif" is an error too.
    static func parse(
        _ lines: [LogicalLine], table: String, kind: TableReference.Kind, folding: KeyFolding,
        warnings: inout [TableWarning]
    ) throws(TableError) -> CIDRRules {
        var rules = RuleBlocks<Condition, (Condition, value: String)>()
        for line in lines {
            func failure(_ why: String) -> TableError {
                TableError(.syntax, file: table, line: line.firstLine, why)
            }
            let text = Array(line.text.utf8)[...]
            if startsWithKeyword(text, "if") {
                let (positive, rest) = negations(text.dropFirst(2))
                let patternText = PostfixList.trimmed(String(decoding: rest, as: UTF8.self))
                if patternText.isEmpty { throw failure("no address pattern after \"if\"; expected if network/mask") }
                switch CIDRPattern.parse(patternText) {
                case .success(let pattern):
                    rules.beginIf(Condition(pattern: pattern, positive: positive), line: line.firstLine)
                case .failure(let problem): throw failure(problem.message)
                }
            } else if startsWithKeyword(text, "endif") {
                if text.dropFirst(5).contains(where: { !isPostfixSpace($0) }) { throw failure("garbage after ENDIF") }
                guard rules.endIf(line: line.firstLine) else { throw failure("ENDIF without IF") }
            } else {
                let (positive, rest) = negations(text)
                let keyEnd = rest.firstIndex(where: isPostfixSpace) ?? rest.endIndex
                let patternText = String(decoding: rest[..<keyEnd], as: UTF8.self)
                let value = PostfixList.trimmed(String(decoding: rest[keyEnd...], as: UTF8.self))
                if patternText.isEmpty { throw failure("no address pattern; expected network/mask result") }
                switch CIDRPattern.parse(patternText) {
                case .success(let pattern):
                    if value.isEmpty { throw failure("no lookup result after \"\(patternText)\"") }
                    rules.append((Condition(pattern: pattern, positive: positive), value), line: line.firstLine)
                case .failure(let problem): throw failure(problem.message)
                }
            }
        }
        if let unclosed = rules.unclosedLine {
            throw TableError(.syntax, file: table, line: unclosed, "IF has no matching ENDIF")
        }
        return CIDRRules(rules: rules)
    }

    func lookup(_ key: String, table: String, warn: (TableWarning) -> Void) -> String? {
        guard let address = CIDRPattern.addressBytes(key) else { return nil }
        return rules.first(
            matching: { rule, _ in rule.0.holds(for: address) ? rule.value : nil },
            holds: { condition, _ in condition.holds(for: address) })
    }
}
