/// The contents of a `regexp:` or `pcre:` table: patterns tried in order, first match wins.
struct PatternRules: TableRules {
    private struct Condition: Sendable {
        let pattern: any CompiledPattern
        let positive: Bool
    }

    /// A match rule: the pattern, the optional second pattern (regexp's `/p1/!/p2/`), the result.
    private struct MatchRule: Sendable {
        let condition: Condition
        let also: Condition?
        let result: ReplacementTemplate
    }

    private let rules: RuleBlocks<Condition, MatchRule>

    static var isPattern: Bool { true }

    // regexp_table(5) and pcre_table(5): "/pattern/flags result", "!/pattern/flags result",
    // (regexp only) "/pattern1/flags!/pattern2/flags result" (pattern1 matches and pattern2 does
    // not), and "if /pattern/flags" … "endif" blocks, which may nest. The first character is the
    // delimiter (any character but a letter or digit); a backslash escapes the next character.
    // Patterns are tried in order; the first match wins. A malformed rule is an error naming the
    // line (Postfix skips it with a warning), as are "endif" without "if" and "if" without "endif".
    static func parse(
        _ lines: [LogicalLine], table: String, kind: TableReference.Kind, folding: KeyFolding,
        warnings: inout [TableWarning]
    ) throws(TableError) -> PatternRules {
        let dialect: Dialect = kind == .pcre ? .pcre : .regexp
        var rules = RuleBlocks<Condition, MatchRule>()
        for line in lines {
            let number = line.firstLine
            func failure(_ why: String) -> TableError { TableError(.syntax, file: table, line: number, why) }
            func warn(_ why: String) { warnings.append(TableWarning(file: table, line: number, why)) }

            var text = Array(line.text.utf8)[...]
            while let last = text.last, isPostfixSpace(last) { text = text.dropLast() }
            guard let first = text.first else { continue }

            if !isASCIIAlphanumeric(first) {
                var rest = text
                let primary = try dialect.pattern(from: &rest, failure: failure, warn: warn)
                var secondary: Dialect.Written?
                if dialect == .regexp && rest.first == UInt8(ascii: "!") {
                    secondary = try dialect.pattern(from: &rest, failure: failure, warn: warn)
                }
                while let byte = rest.first, isPostfixSpace(byte) { rest = rest.dropFirst() }
                if rest.isEmpty { warn("no replacement text: using empty string") }
                let result: ReplacementTemplate
                switch ReplacementTemplate.parse(rest) {
                case .success(let template): result = template
                case .failure(let problem): throw failure("bad replacement syntax: \(problem.message)")
                }
                if result.highestGroup > 0 && !primary.positive {
                    throw failure("$number found in negative match replacement text")
                }
                let compiled = try dialect.compile(primary, capturing: result.highestGroup > 0, failure: failure)
                if result.highestGroup > compiled.captureCount {
                    throw failure(
                        "out of range replacement index \"\(result.highestGroup)\": the pattern has \(compiled.captureCount) group(s)"
                    )
                }
                let also = try secondary.map { written throws(TableError) in
                    Condition(
                        pattern: try dialect.compile(written, capturing: false, failure: failure),
                        positive: written.positive)
                }
                rules.append(
                    MatchRule(
                        condition: Condition(pattern: compiled, positive: primary.positive), also: also, result: result),
                    line: number)
            } else if startsWithKeyword(text, "if") {
                var rest = text.dropFirst(2)
                while let byte = rest.first, isPostfixSpace(byte) { rest = rest.dropFirst() }
                let written = try dialect.pattern(from: &rest, failure: failure, warn: warn)
                while let byte = rest.first, isPostfixSpace(byte) { rest = rest.dropFirst() }
                if !rest.isEmpty {
                    warn(
                        "ignoring extra text after IF statement: \"\(String(decoding: rest, as: UTF8.self))\" (do not prepend whitespace to statements between IF and ENDIF)"
                    )
                }
                let compiled = try dialect.compile(written, capturing: false, failure: failure)
                rules.beginIf(Condition(pattern: compiled, positive: written.positive), line: number)
            } else if startsWithKeyword(text, "endif") {
                guard rules.endIf(line: number) else { throw failure("ENDIF without matching IF") }
                if text.dropFirst(5).contains(where: { !isPostfixSpace($0) }) { warn("ignoring extra text after ENDIF") }
            } else {
                throw failure(
                    "unrecognized request \"\(String(decoding: text.prefix(40), as: UTF8.self))\"; expected /pattern/flags result, if /pattern/flags, or endif"
                )
            }
        }
        if let unclosed = rules.unclosedLine {
            throw TableError(.syntax, file: table, line: unclosed, "IF has no matching ENDIF")
        }
        return PatternRules(rules: rules)
    }

    func lookup(_ key: String, table: String, warn: (TableWarning) -> Void) -> String? {
        // Postfix matches the C string: text after a NUL is not seen.
        var subject = Array(key.utf8.prefix(while: { $0 != 0 }))
        let length = subject.count
        subject.append(0)
        let scratch = PatternScratch()
        return subject.withUnsafeBufferPointer { whole in
            let text = UnsafeBufferPointer(rebasing: whole[0..<length])
            func satisfied(_ condition: Condition, groups: Int, line: Int) -> [Range<Int>?]? {
                switch condition.pattern.match(text, groups: groups, scratch: scratch) {
                case .matched(let found): return condition.positive ? found : nil
                case .noMatch: return condition.positive ? nil : []
                case .failed(let why):
                    warn(TableWarning(file: table, line: line, why))
                    return nil
                }
            }
            return rules.first(
                matching: { rule, line in
                    guard let found = satisfied(rule.condition, groups: rule.result.highestGroup, line: line),
                        rule.also.map({ satisfied($0, groups: 0, line: line) != nil }) ?? true
                    else { return nil }
                    return rule.result.constant ?? rule.result.expand(subject: text, groups: found)
                },
                holds: { condition, line in satisfied(condition, groups: 0, line: line) != nil })
        }
    }

    /// What differs between `regexp:` and `pcre:` rule syntax.
    private enum Dialect {
        case regexp, pcre

        /// A pattern as written: its text between the delimiters, polarity and flags.
        struct Written {
            var text: [UInt8]
            var positive: Bool
            var posixFlags: POSIXRegex.Flags
            var pcreOptions: PCRE2Regex.Options
        }

        // regexp_table(5): flags "i" (toggle case-insensitive matching, on by default), "x"
        // (toggle extended expression syntax, on by default), "m" (toggle multi-line mode).
        // pcre_table(5): "i" (caseless, on by default), "m" (multiline), "s" (dotall, on by
        // default), "x" (extended), "A" (anchored), "E" (dollar matches only at the end), "U"
        // (ungreedy), "X" (PCRE extra; obsolete in PCRE2 and ignored with a warning).
        /// Reads `[!…]<delim>pattern<delim>flags` from the front of `rest`.
        func pattern(
            from rest: inout ArraySlice<UInt8>, failure: (String) -> TableError, warn: (String) -> Void
        ) throws(TableError) -> Written {
            let (positive, afterNegations) = negations(rest)
            var cursor = afterNegations
            guard let delimiter = cursor.first else { throw failure("no regexp: expected /pattern/flags") }
            cursor = cursor.dropFirst()
            var end = cursor.startIndex
            while end < cursor.endIndex {
                if cursor[end] == UInt8(ascii: "\\") {
                    if end + 1 == cursor.endIndex { break }
                    end += 1
                } else if cursor[end] == delimiter {
                    break
                }
                end += 1
            }
            guard end < cursor.endIndex, cursor[end] == delimiter else {
                let shown = String(decoding: [delimiter], as: UTF8.self)
                throw failure("no closing regexp delimiter \"\(shown)\"")
            }
            var written = Written(
                text: Array(cursor[cursor.startIndex..<end]), positive: positive,
                posixFlags: [.extended, .ignoreCase], pcreOptions: [.caseless, .dotAll])
            cursor = cursor[(end + 1)...]
            while let flag = cursor.first, !isPostfixSpace(flag), !(self == .regexp && flag == UInt8(ascii: "!")) {
                switch (self, flag) {
                case (.regexp, UInt8(ascii: "i")): written.posixFlags.formSymmetricDifference(.ignoreCase)
                case (.regexp, UInt8(ascii: "m")): written.posixFlags.formSymmetricDifference(.newline)
                case (.regexp, UInt8(ascii: "x")): written.posixFlags.formSymmetricDifference(.extended)
                case (.pcre, UInt8(ascii: "i")): written.pcreOptions.formSymmetricDifference(.caseless)
                case (.pcre, UInt8(ascii: "m")): written.pcreOptions.formSymmetricDifference(.multiline)
                case (.pcre, UInt8(ascii: "s")): written.pcreOptions.formSymmetricDifference(.dotAll)
                case (.pcre, UInt8(ascii: "x")): written.pcreOptions.formSymmetricDifference(.extended)
                case (.pcre, UInt8(ascii: "A")): written.pcreOptions.formSymmetricDifference(.anchored)
                case (.pcre, UInt8(ascii: "E")): written.pcreOptions.formSymmetricDifference(.dollarEndOnly)
                case (.pcre, UInt8(ascii: "U")): written.pcreOptions.formSymmetricDifference(.ungreedy)
                case (.pcre, UInt8(ascii: "X")): warn("ignoring obsolete regexp option \"X\"")
                default:
                    let shown = String(decoding: [flag], as: UTF8.self)
                    let known = self == .regexp ? "i, m, x" : "i, m, s, x, A, E, U, X"
                    throw failure("unknown regexp option \"\(shown)\"; expected one of \(known)")
                }
                cursor = cursor.dropFirst()
            }
            rest = cursor
            return written
        }

        /// Compiles a written pattern with this dialect's engine.
        func compile(
            _ written: Written, capturing: Bool, failure: (String) -> TableError
        ) throws(TableError) -> any CompiledPattern {
            do throws(RuleProblem) {
                switch self {
                case .regexp:
                    var flags = written.posixFlags
                    if !capturing { flags.insert(.noSubexpressions) }
                    return try POSIXRegex(written.text, flags: flags)
                case .pcre:
                    return try PCRE2Regex(written.text, options: written.pcreOptions)
                }
            } catch {
                throw failure(error.message)
            }
        }
    }
}
