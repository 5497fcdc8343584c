/// Expands `$name` references in parameter values exactly as Postfix's `mac_expand()` does.
///
/// Supported forms (Postfix 3.7):
/// - `$name`, `${name}`, `$(name)`: the value of `name`, expanded again; empty when undefined.
/// - `$$`: a literal `$`.
/// - `${name?text}`, `${name?{text}}`: `text` when `name` is non-empty, else nothing.
/// - `${name:text}`, `${name:{text}}`: `text` when `name` is empty or undefined, else nothing.
/// - `${name?{text1}:{text2}}`, `${name?{text1}:text2}`: one or the other.
/// - `${{text1} == {text2} ? {text3} : {text4}}` with `==`, `!=`, `<`, `<=`, `>=`, `>`: numeric
///   when both sides are all digits, else byte-wise; with the `level` suffix (`<level`, …) the
///   sides are compatibility levels (`3.6`, `2`, `3.7.1`).
///
/// Problems never stop expansion with an exception; they are collected in the outcome, as Postfix
/// logs them as warnings and goes on.
public struct ParameterExpander {
    /// Returns the raw (unexpanded) value of a parameter, or nil when it is not defined.
    public typealias Lookup = (String) -> String?

    /// The result of expanding one value.
    public struct Outcome: Sendable, Hashable {
        public var value: String
        /// Names that were used without being defined, in order of first use.
        public var undefinedNames: [String]
        /// Syntax errors and other problems, worded like Postfix's warnings.
        public var problems: [String]
    }

    private let lookup: Lookup
    private let recursive: Bool

    /// - Parameter recursive: whether looked-up values are expanded again (`postconf -x`, and every
    ///   daemon); `false` expands one level only.
    public init(recursive: Bool = true, lookup: @escaping Lookup) {
        self.lookup = lookup
        self.recursive = recursive
    }

    public func expand(_ text: String) -> Outcome {
        var run = Run(lookup: lookup, recursive: recursive, scanOnly: false)
        run.parse(Array(text.utf8))
        return Outcome(
            value: String(decoding: run.result, as: UTF8.self),
            undefinedNames: run.undefinedNames,
            problems: run.problems)
    }

    /// Every parameter name that `text` refers to, in any branch of any conditional, without
    /// expanding anything (Postfix's `MAC_EXP_FLAG_SCAN`). Used to find parameters that are defined
    /// but never used.
    public static func referencedNames(in text: String) -> [String] {
        guard text.utf8.contains(UInt8(ascii: "$")) else { return [] }
        var run = Run(lookup: { _ in nil }, recursive: false, scanOnly: true)
        run.parse(Array(text.utf8))
        return run.lookedUpNames
    }
}

private let maximumNesting = 100
private let maximumResultBytes = 1 << 20
/// References expanded for one value. Postfix has no such bound, but definitions that each use the
/// next twice (`p1 = $p2$p2`, …) and end in no text take 2^depth steps without growing the result;
/// real configurations stay in the hundreds.
private let maximumReferences = 100_000

private struct Run {
    let lookup: ParameterExpander.Lookup
    let recursive: Bool
    let scanOnly: Bool

    var result: [UInt8] = []
    var undefinedNames: [String] = []
    var lookedUpNames: [String] = []
    var problems: [String] = []
    var failed = false
    var level = 0
    var references = 0

    init(lookup: @escaping ParameterExpander.Lookup, recursive: Bool, scanOnly: Bool) {
        self.lookup = lookup
        self.recursive = recursive
        self.scanOnly = scanOnly
    }

    mutating func fail(_ problem: String) {
        failed = true
        if !problems.contains(problem) { problems.append(problem) }
    }

    mutating func emit(_ bytes: some Collection<UInt8>) {
        guard !scanOnly else { return }
        if result.count + bytes.count > maximumResultBytes {
            fail("expansion result longer than \(maximumResultBytes) bytes")
            return
        }
        result.append(contentsOf: bytes)
    }

    // mac_parse(): split text into literals and $ references.
    mutating func parse(_ text: [UInt8]) {
        var literal: [UInt8] = []
        var index = 0
        let end = text.count
        while index < end {
            let byte = text[index]
            if byte != UInt8(ascii: "$") {
                literal.append(byte)
                index += 1
                continue
            }
            if index + 1 < end && text[index + 1] == UInt8(ascii: "$") {
                literal.append(byte)
                index += 2
                continue
            }
            if !literal.isEmpty {
                emit(literal)
                literal.removeAll(keepingCapacity: true)
            }
            index += 1
            var expression: ArraySlice<UInt8>
            if index < end && (text[index] == UInt8(ascii: "{") || text[index] == UInt8(ascii: "(")) {
                let open = text[index]
                let close = open == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: ")")
                var depth = 1
                var scan = index + 1
                while depth > 0 {
                    guard scan < end else {
                        fail("truncated macro reference: \"\(String(decoding: text, as: UTF8.self))\"")
                        return
                    }
                    if text[scan] == open { depth += 1 }
                    if text[scan] == close { depth -= 1 }
                    scan += 1
                }
                expression = text[(index + 1)..<(scan - 1)]
                index = scan
            } else {
                var scan = index
                while scan < end && isNameByte(text[scan]) { scan += 1 }
                expression = text[index..<scan]
                index = scan
            }
            if expression.isEmpty {
                fail("empty macro name: \"\(String(decoding: text, as: UTF8.self))\"")
                return
            }
            expand(expression: Array(expression))
            if failed { return }
        }
        if !literal.isEmpty { emit(literal) }
    }

    // mac_expand_callback(): one ${...} or $name.
    mutating func expand(expression buffer: [UInt8]) {
        level += 1
        defer { level -= 1 }
        if level > maximumNesting {
            fail("unreasonable macro call nesting: \"\(String(decoding: buffer, as: UTF8.self))\"")
            return
        }
        references += 1
        if references > maximumReferences {
            fail("unreasonable amount of macro expansion (over \(maximumReferences) references): \"\(String(decoding: buffer, as: UTF8.self))\"")
            return
        }
        if failed { return }

        var cursor = 0
        let end = buffer.count
        let lookedUp: String?
        var operatorByte: UInt8 = 0
        var name = ""

        let afterSpace = skipSpace(buffer, from: 0)
        if afterSpace < end && buffer[afterSpace] == UInt8(ascii: "{") {
            cursor = afterSpace
            guard let truth = parseRelational(buffer, cursor: &cursor) else { return }
            lookedUp = scanOnly ? nil : (truth ? "true" : "")
            if cursor < end {
                operatorByte = buffer[cursor]
                guard operatorByte == UInt8(ascii: "?") || operatorByte == UInt8(ascii: ":") else {
                    fail("\"?\" or \":\" expected at: \"...}>>>\(preview(buffer, from: cursor))\"")
                    return
                }
                cursor += 1
            }
        } else {
            let start = afterSpace
            cursor = start
            var nameEnd = start
            while true {
                let spaceEnd = skipSpace(buffer, from: cursor)
                let next: UInt8 = spaceEnd < end ? buffer[spaceEnd] : 0
                if next == 0 {
                    nameEnd = cursor
                    break
                }
                if next == UInt8(ascii: "?") || next == UInt8(ascii: ":") {
                    nameEnd = cursor
                    operatorByte = next
                    cursor = spaceEnd + 1
                    break
                }
                if next == UInt8(ascii: "{") {
                    let function = String(decoding: buffer[start..<cursor], as: UTF8.self)
                    fail("unknown function \"\(function)\" at \"...>>>\(preview(buffer, from: start))\"")
                    return
                }
                guard isNameByte(buffer[cursor]) else {
                    fail(
                        "attribute name syntax error at: \"...\(String(decoding: buffer[..<cursor], as: UTF8.self))>>>\(preview(buffer, from: cursor))\""
                    )
                    return
                }
                cursor += 1
            }
            name = String(decoding: buffer[start..<nameEnd], as: UTF8.self)
            if scanOnly {
                if !lookedUpNames.contains(name) { lookedUpNames.append(name) }
                lookedUp = nil
            } else {
                lookedUp = lookup(name)
            }
        }

        let isTrue = !(lookedUp ?? "").isEmpty
        switch operatorByte {
        case UInt8(ascii: "?"), UInt8(ascii: ":"):
            if operatorByte == UInt8(ascii: "?") {
                guard let whenTrue = conditionalOperand(buffer, cursor: &cursor) else { return }
                if isTrue || scanOnly { parse(whenTrue) }
                if failed || cursor >= end { return }
                guard buffer[cursor] == UInt8(ascii: ":") else {
                    fail("\":\" expected at: \"...\(String(decoding: whenTrue, as: UTF8.self))}>>>\(preview(buffer, from: cursor))\"")
                    return
                }
                cursor += 1
            }
            guard let whenFalse = conditionalOperand(buffer, cursor: &cursor) else { return }
            if !isTrue || scanOnly { parse(whenFalse) }
            if failed { return }
            if cursor < end {
                fail("unexpected input at: \"...\(String(decoding: whenFalse, as: UTF8.self))}>>>\(preview(buffer, from: cursor))\"")
            }
        default:
            guard let value = lookedUp else {
                if !scanOnly && !name.isEmpty && !undefinedNames.contains(name) { undefinedNames.append(name) }
                return
            }
            if value.isEmpty || scanOnly { return }
            if recursive {
                parse(Array(value.utf8))
            } else {
                emit(Array(value.utf8))
            }
        }
    }

    /// The operand after `?` or `:`: a `{ … }` group, or all remaining text (Postfix 2.x form).
    mutating func conditionalOperand(_ buffer: [UInt8], cursor: inout Int) -> [UInt8]? {
        let afterSpace = skipSpace(buffer, from: cursor)
        if afterSpace < buffer.count && buffer[afterSpace] == UInt8(ascii: "{") {
            cursor = afterSpace
            return curlyPayload(buffer, cursor: &cursor)
        }
        let rest = Array(buffer[min(cursor, buffer.count)...])
        cursor = buffer.count
        return rest
    }

    /// The text between `{` at `cursor` and its matching `}`; moves `cursor` past the `}` and any
    /// whitespace after it.
    mutating func curlyPayload(_ buffer: [UInt8], cursor: inout Int) -> [UInt8]? {
        var depth = 1
        var scan = cursor + 1
        while true {
            guard scan < buffer.count else {
                fail("unbalanced {} in attribute expression: \"\(String(decoding: buffer[cursor...], as: UTF8.self))\"")
                return nil
            }
            if buffer[scan] == UInt8(ascii: "{") {
                depth += 1
            } else if buffer[scan] == UInt8(ascii: "}") {
                depth -= 1
                if depth == 0 { break }
            }
            scan += 1
        }
        let payload = Array(buffer[(cursor + 1)..<scan])
        cursor = skipSpace(buffer, from: scan + 1)
        return payload
    }

    /// `{left} op {right}`; returns the truth value, or nil after a problem.
    mutating func parseRelational(_ buffer: [UInt8], cursor: inout Int) -> Bool? {
        guard let left = curlyPayload(buffer, cursor: &cursor) else { return nil }
        let operatorCharacters = Array("<>!=?+-*/~&|%".utf8)
        let operatorStart = cursor
        while cursor < buffer.count && operatorCharacters.contains(buffer[cursor]) { cursor += 1 }
        let operatorText = String(decoding: buffer[operatorStart..<cursor], as: UTF8.self)
        guard let relation = Relation(rawValue: operatorText) else {
            fail(
                "\"==\" or \"!=\" or \"<\" or \"<=\" or \">=\" or \">\" expected at: \"...\(String(decoding: left, as: UTF8.self))}>>>\(preview(buffer, from: operatorStart))\""
            )
            return nil
        }
        var comparesLevels = false
        if cursor < buffer.count && isAlphanumeric(buffer[cursor]) {
            let suffixStart = cursor
            while cursor < buffer.count && isAlphanumeric(buffer[cursor]) { cursor += 1 }
            let suffix = String(decoding: buffer[suffixStart..<cursor], as: UTF8.self)
            guard suffix == "level" else {
                fail("bad operator suffix at: \"...\(operatorText)>>>\(suffix)\"")
                return nil
            }
            comparesLevels = true
        }
        cursor = skipSpace(buffer, from: cursor)
        guard cursor < buffer.count && buffer[cursor] == UInt8(ascii: "{") else {
            fail(
                "\"{expression}\" expected at: \"...{\(String(decoding: left, as: UTF8.self))} \(operatorText)>>>\(preview(buffer, from: cursor))\""
            )
            return nil
        }
        guard let right = curlyPayload(buffer, cursor: &cursor) else { return nil }

        let leftValue = subexpand(left)
        let rightValue = subexpand(right)
        if failed || scanOnly { return scanOnly ? false : nil }

        let difference: Int
        if comparesLevels {
            guard let leftLevel = CompatibilityLevel(leftValue) else {
                fail("malformed compatibility level syntax: \"\(leftValue)\"")
                return nil
            }
            guard let rightLevel = CompatibilityLevel(rightValue) else {
                fail("malformed compatibility level syntax: \"\(rightValue)\"")
                return nil
            }
            difference = leftLevel == rightLevel ? 0 : (leftLevel < rightLevel ? -1 : 1)
        } else if isAllDigits(leftValue) && isAllDigits(rightValue) {
            guard let l = Int(leftValue), let r = Int(rightValue) else {
                fail("bad conversion: \(leftValue) or \(rightValue)")
                return nil
            }
            difference = l == r ? 0 : (l < r ? -1 : 1)
        } else {
            let l = Array(leftValue.utf8)
            let r = Array(rightValue.utf8)
            difference = l == r ? 0 : (l.lexicographicallyPrecedes(r) ? -1 : 1)
        }
        return relation.holds(difference)
    }

    /// Expands an operand of a relational expression in a fresh run that shares the lookup and
    /// reports into this one.
    mutating func subexpand(_ text: [UInt8]) -> String {
        var inner = Run(lookup: lookup, recursive: recursive, scanOnly: scanOnly)
        inner.level = level
        inner.references = references
        inner.parse(text)
        references = inner.references
        for name in inner.undefinedNames where !undefinedNames.contains(name) { undefinedNames.append(name) }
        for name in inner.lookedUpNames where !lookedUpNames.contains(name) { lookedUpNames.append(name) }
        for problem in inner.problems { fail(problem) }
        return String(decoding: inner.result, as: UTF8.self)
    }

    func preview(_ buffer: [UInt8], from index: Int) -> String {
        String(decoding: buffer[min(index, buffer.count)...].prefix(20), as: UTF8.self)
    }
}

private enum Relation: String {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greaterOrEqual = ">=", greater = ">"

    func holds(_ difference: Int) -> Bool {
        switch self {
        case .equal: difference == 0
        case .notEqual: difference != 0
        case .less: difference < 0
        case .lessOrEqual: difference <= 0
        case .greaterOrEqual: difference >= 0
        case .greater: difference > 0
        }
    }
}

/// A Postfix compatibility level: `major[.minor[.patch]]`, compared number by number.
public struct CompatibilityLevel: Comparable, Sendable, Hashable {
    public var major: Int
    public var minor: Int
    public var patch: Int

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count),
            parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) && $0.count <= 9 })
        else { return nil }
        let numbers = parts.map { Int($0)! }
        major = numbers[0]
        minor = numbers.count > 1 ? numbers[1] : 0
        patch = numbers.count > 2 ? numbers[2] : 0
        guard minor <= 1023, patch <= 1023 else { return nil }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }
}

@inline(__always)
private func isNameByte(_ byte: UInt8) -> Bool {
    isAlphanumeric(byte) || byte == UInt8(ascii: "_")
}

@inline(__always)
private func isAlphanumeric(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
        || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
}

private func isAllDigits(_ text: String) -> Bool {
    !text.isEmpty && text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
}

private func skipSpace(_ buffer: [UInt8], from index: Int) -> Int {
    var index = index
    while index < buffer.count && isPostfixSpace(buffer[index]) { index += 1 }
    return index
}
