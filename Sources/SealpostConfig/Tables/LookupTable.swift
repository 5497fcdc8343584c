/// An opened lookup table: give it a key, get the value Postfix would get.
///
/// Fixed-string tables (`texthash:`, `hash:` and the other text-backed types, `inline:`) case-fold
/// the key themselves (see ``TableOptions/unicodeKeyFolding``); pattern tables (`regexp:`, `pcre:`,
/// `cidr:`) see the key as given, and their flags decide about case.
public protocol LookupTable: Sendable {
    /// The reference the table was opened from.
    var reference: TableReference { get }

    /// Whether keys are patterns (Postfix's `DICT_FLAG_PATTERN`: `regexp:`, `pcre:`, `cidr:`).
    /// Pattern tables are searched with full keys only, never with the partial keys (`user@`,
    /// `@domain`, parent domains, shorter networks) that Postfix derives for fixed-string tables.
    var isPattern: Bool { get }

    /// The value for `key`, or nil when the table has none.
    ///
    /// Throws only when the table cannot be searched (a temporary error: Postfix answers 4xx).
    func lookup(_ key: String) throws -> String?

    /// The warnings from the last successful load (empty for tables without a file).
    var warnings: [TableWarning] { get }

    /// Why the last attempt to reload a changed file failed, while the table keeps serving the
    /// previous contents; nil when the last load succeeded.
    var lastReloadError: TableError? { get }
}

extension LookupTable {
    /// No warnings.
    public var warnings: [TableWarning] { [] }
    /// Never failed to reload.
    public var lastReloadError: TableError? { nil }

    /// The first of `keys` that this table has a value for, as Postfix searches one table.
    public func find(_ keys: [LookupKey]) throws -> LookupMatch? {
        try TableList([self]).find(keys)
    }
}
