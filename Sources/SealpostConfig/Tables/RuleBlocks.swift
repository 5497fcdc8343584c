/// Rules in file order with `if` … `endif` blocks, as `cidr:`, `regexp:` and `pcre:` tables
/// have them: the first rule that matches wins, and a block is skipped unless its condition holds.
struct RuleBlocks<Condition: Sendable, Rule: Sendable>: Sendable {
    private enum Step: Sendable {
        case rule(Rule)
        /// `endIndex` is the index of the matching `endif`; nil while the block is open.
        case ifBlock(Condition, endIndex: Int?)
        case endif
    }

    private var steps: [Step] = []
    /// The physical line of each step.
    private var lines: [Int] = []
    /// The indices of the `if` steps whose `endif` has not come yet, innermost last.
    private var openBlocks: [Int] = []

    /// Adds a rule from `line`.
    mutating func append(_ rule: Rule, line: Int) {
        steps.append(.rule(rule))
        lines.append(line)
    }

    /// Opens a block from `line` whose rules apply only when `condition` holds.
    mutating func beginIf(_ condition: Condition, line: Int) {
        openBlocks.append(steps.count)
        steps.append(.ifBlock(condition, endIndex: nil))
        lines.append(line)
    }

    /// Closes the innermost open block; false when no block is open ("ENDIF without IF").
    mutating func endIf(line: Int) -> Bool {
        guard let index = openBlocks.popLast() else { return false }
        if case .ifBlock(let condition, _) = steps[index] {
            steps[index] = .ifBlock(condition, endIndex: steps.count)
        }
        steps.append(.endif)
        lines.append(line)
        return true
    }

    /// The line of the innermost `if` that has no `endif`.
    var unclosedLine: Int? { openBlocks.last.map { lines[$0] } }

    // cidr_table(5), regexp_table(5), pcre_table(5): rules are tried in the order given; "if"
    // … "endif" rules are tried only when the address or text matches the "if" pattern.
    // cidr_match_execute() and dict_regexp_lookup(): an "if" that does not hold jumps past its
    // "endif"; an "if" without "endif" ends the search.
    /// The result of the first rule that matches, skipping blocks whose condition does not hold;
    /// both closures also get the rule's physical line.
    func first<Result>(
        matching match: (Rule, Int) -> Result?, holds: (Condition, Int) -> Bool
    ) -> Result? {
        var index = 0
        while index < steps.count {
            switch steps[index] {
            case .rule(let rule):
                if let result = match(rule, lines[index]) { return result }
            case .ifBlock(let condition, let endIndex):
                if !holds(condition, lines[index]) {
                    guard let endIndex else { return nil }
                    index = endIndex
                }
            case .endif:
                break
            }
            index += 1
        }
        return nil
    }
}
