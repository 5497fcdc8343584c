import SealpostConfig

/// A Postfix match list: the patterns of parameters such as `mydestination`, `relay_domains`,
/// `virtual_mailbox_domains` or `parent_domain_matches_subdomains`.
///
/// As Postfix's `match_list`: patterns separated by commas and whitespace; `!pattern` negates
/// (a negated match ends the search with "no match"); `type:table` looks the string up in a table;
/// `/file/name` reads more patterns from a file; everything else is compared case-insensitively.
/// The first pattern that matches decides.
public struct MatchList: Sendable {
    /// How a literal pattern compares with the string.
    public enum Style: Sendable, Hashable {
        /// The whole string must equal the pattern (Postfix's string_list: `mydestination`,
        /// `virtual_*_domains`).
        case exact
        /// Host or domain names (Postfix's domain_list): `example.com` also matches its subdomains
        /// when `parentMatchesSubdomains` (the list's parameter is named in
        /// `parent_domain_matches_subdomains`); `.example.com` matches subdomains only otherwise.
        case domain(parentMatchesSubdomains: Bool)
    }

    private enum Matcher: Sendable {
        case literal(String)
        case table(any LookupTable)
    }

    private let patterns: [(negated: Bool, matcher: Matcher)]
    private let style: Style
    /// The parameter the list came from, for messages.
    public let parameter: String

    /// Parses a list; tables are opened and files read now, so errors surface at start-up.
    public init(parameter: String, value: String, style: Style, options: TableOptions = TableOptions()) throws(MatchListError) {
        self.parameter = parameter
        self.style = style
        var patterns: [(Bool, Matcher)] = []
        try Self.collect(PostfixList.split(value), into: &patterns, parameter: parameter, options: options, depth: 0)
        self.patterns = patterns
    }

    /// Whether `string` matches. Throws when a table cannot be searched (a temporary error).
    public func matches(_ string: String) throws -> Bool {
        let folded = string.lowercased()
        for (negated, matcher) in patterns {
            let hit: Bool
            switch matcher {
            case .literal(let pattern):
                hit = Self.matches(folded, literal: pattern, style: style)
            case .table(let table):
                hit = try Self.matches(folded, table: table, style: style)
            }
            if hit { return !negated }
        }
        return false
    }

    /// Whether the list has no patterns at all.
    public var isEmpty: Bool { patterns.isEmpty }

    // Postfix, match_ops.c match_hostname(): exact name; with parent matching, any parent
    // domain; otherwise a pattern starting with "." matches subdomains.
    private static func matches(_ name: String, literal pattern: String, style: Style) -> Bool {
        if name == pattern { return true }
        guard case .domain(let parentMatches) = style else { return false }
        if parentMatches {
            return name.hasSuffix("." + pattern)
        }
        return pattern.hasPrefix(".") && name.count > pattern.count && name.hasSuffix(pattern)
    }

    // Postfix, match_ops.c: tables are searched with the whole name, and with domain lists also
    // with its parents (".parent", or "parent" with parent matching) when the table holds fixed
    // strings; pattern tables see the whole name only.
    private static func matches(_ name: String, table: any LookupTable, style: Style) throws -> Bool {
        if try table.lookup(name) != nil { return true }
        guard case .domain(let parentMatches) = style, !table.isPattern else { return false }
        var rest = Substring(name)
        while let dot = rest.dropFirst().firstIndex(of: ".") {
            rest = rest[dot...]
            let key = parentMatches ? String(rest.dropFirst()) : String(rest)
            if try table.lookup(key) != nil { return true }
        }
        return false
    }

    private static func collect(
        _ words: [String], into patterns: inout [(Bool, Matcher)], parameter: String, options: TableOptions, depth: Int
    ) throws(MatchListError) {
        for word in words {
            var pattern = Substring(word)
            var negated = false
            while pattern.hasPrefix("!") {
                negated.toggle()
                pattern = pattern.dropFirst()
            }
            guard !pattern.isEmpty else { throw MatchListError(parameter: parameter, message: "empty pattern after \"!\"") }
            if pattern.hasPrefix("/") {
                guard depth < 8 else { throw MatchListError(parameter: parameter, message: "\(pattern): files include each other too deeply") }
                guard !negated else {
                    throw MatchListError(parameter: parameter, message: "!\(pattern): a negated file name is not supported; negate the patterns inside it")
                }
                try collect(Self.readPatternFile(String(pattern), parameter: parameter), into: &patterns, parameter: parameter, options: options, depth: depth + 1)
            } else if pattern.contains(":") && !pattern.hasPrefix("[") && Self.looksLikeTable(pattern) {
                do {
                    patterns.append((negated, .table(try TableReference(parsing: String(pattern)).open(options))))
                } catch {
                    throw MatchListError(parameter: parameter, message: error.description)
                }
            } else {
                patterns.append((negated, .literal(pattern.lowercased())))
            }
        }
    }

    /// `type:name` as opposed to an IPv6 address or `host:port`: the part before the colon is a
    /// lookup table type name.
    private static func looksLikeTable(_ pattern: Substring) -> Bool {
        var type = pattern[..<pattern.firstIndex(of: ":")!]
        if type == "proxy", let next = pattern.dropFirst(6).firstIndex(of: ":") { type = pattern[pattern.index(pattern.startIndex, offsetBy: 6)..<next] }
        return !type.isEmpty && type.allSatisfy { $0.isLetter || $0.isNumber }
    }

    // Postfix, match_list.c: "/file/name" is replaced by the patterns in the file, one or more
    // per line, with comments and blank lines ignored.
    private static func readPatternFile(_ path: String, parameter: String) throws(MatchListError) -> [String] {
        switch readFile(path) {
        case .success(let bytes):
            return LogicalLineReader.read(bytes).lines.flatMap { PostfixList.split($0.text) }
        case .failure(let error):
            throw MatchListError(parameter: parameter, message: "cannot read \(path): \(error)")
        }
    }
}

/// A match list that could not be parsed or whose table could not be opened.
public struct MatchListError: Error, Sendable, Hashable, CustomStringConvertible {
    public var parameter: String
    public var message: String
    public var description: String { "\(parameter): \(message)" }
}
