/// A lookup table named the way `main.cf` names it: `type:name`.
///
/// `name` is a file path for file tables, the `{…}` text for `inline:` and the inline forms of
/// `cidr:`, `regexp:` and `pcre:`, and the value for `static:`.
public struct TableReference: Sendable, Hashable, CustomStringConvertible {
    /// The lookup table types Sealpost implements.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// `texthash:` — Postfix's in-memory table read from a `postmap`-format text file.
        case texthash
        /// `hash:` — read from the text source file (Postfix reads `file.db`).
        case hash
        /// `lmdb:` — read from the text source file (Postfix reads `file.lmdb`).
        case lmdb
        /// `btree:` — read from the text source file (Postfix reads `file.db`).
        case btree
        /// `cdb:` — read from the text source file (Postfix reads `file.cdb`).
        case cdb
        /// `inline:{ key=value, … }`.
        case inline
        /// `static:value` or `static:{ text }`: the same value for every key.
        case `static`
        /// `cidr:` — network/prefix patterns, from a file or inline.
        case cidr
        /// `regexp:` — POSIX extended regular expressions, from a file or inline.
        case regexp
        /// `pcre:` — Perl-compatible regular expressions (PCRE2), from a file or inline.
        case pcre
        /// `unix:passwd.byname` and `unix:group.byname` — the system's user and group databases.
        case unix

        /// Whether this type reads Postfix's `key whitespace value` text format. Sealpost reads
        /// the text source file for `hash:`, `lmdb:`, `btree:` and `cdb:` too: no `postmap` step.
        public var readsKeyValueText: Bool {
            switch self {
            case .texthash, .hash, .lmdb, .btree, .cdb: true
            default: false
            }
        }
    }

    /// The table type.
    public var kind: Kind
    /// What follows the first colon (after any `proxy:` prefix).
    public var name: String

    /// A reference to the table of `kind` named `name`.
    public init(kind: Kind, name: String) {
        self.kind = kind
        self.name = name
    }

    // Postfix, dict_open(3): a table is "type:name", split at the first colon, with neither part
    // empty; "proxy:type:name" asks the proxymap(8) server to open "type:name" (Sealpost is one
    // process, so the prefix is dropped).
    /// Parses `type:name` text, such as `hash:/etc/postfix/access` or `inline:{ a=b }`.
    public init(parsing text: String) throws(TableError) {
        let trimmed = PostfixList.trimmed(text)
        var rest = Substring(trimmed)
        if rest.hasPrefix("proxy:") { rest = rest.dropFirst("proxy:".count) }
        guard let colon = rest.firstIndex(of: ":"), colon != rest.startIndex,
            rest.index(after: colon) != rest.endIndex
        else {
            throw TableError(.notTypeName, "expected a lookup table as type:name instead of \"\(trimmed)\"")
        }
        let type = String(rest[..<colon])
        guard let kind = Kind(rawValue: type) else {
            let supported = Kind.allCases.map(\.rawValue).sorted().joined(separator: ", ")
            throw TableError(
                .unsupportedType,
                "unsupported lookup table type \"\(type)\" in \"\(trimmed)\"; supported types: \(supported)")
        }
        self.kind = kind
        self.name = String(rest[rest.index(after: colon)...])
    }

    /// Whether the table's content is written in the reference itself rather than in a file.
    public var isInline: Bool {
        switch kind {
        case .inline, .static: true
        case .cidr, .regexp, .pcre: name.utf8.first == UInt8(ascii: "{")
        default: false
        }
    }

    /// `type:name`, without any `proxy:` prefix.
    public var description: String { "\(kind.rawValue):\(name)" }
}
