/// A list of tables searched as one, like a Postfix `*_maps` parameter (`maps(3)`): for each key,
/// every table in order; the first value found wins.
public struct TableList: Sendable {
    /// The tables, in search order.
    public var tables: [any LookupTable]

    /// A list of already opened tables.
    public init(_ tables: [any LookupTable]) {
        self.tables = tables
    }

    // postconf(5), e.g. virtual_alias_maps: "Optional lookup tables … Specify zero or more
    // "type:name" lookup tables, separated by whitespace or comma. Tables will be searched in the
    // specified order until a match is found." maps_create() splits the value with mystrtokq(),
    // keeping {…} groups together.
    /// Opens every table named in a parameter value such as `hash:/etc/postfix/virtual,
    /// regexp:/etc/postfix/virtual.re`; an empty value gives an empty list.
    public init(parsing value: String, options: TableOptions = TableOptions()) throws(TableError) {
        var tables: [any LookupTable] = []
        for word in PostfixList.split(value) {
            tables.append(try TableReference(parsing: word).open(options))
        }
        self.tables = tables
    }

    // maps_find(3): an empty key is not looked up; with partial keys, only tables with the
    // requested flag (fixed-string tables) are searched; an empty value is a configuration error
    // ("… should return NO RESULT in case of NOT FOUND") and so is a table error: both stop the
    // search.
    /// The first value any table has for `key`; pattern tables are skipped for partial keys.
    ///
    /// Throws a ``TableError`` with code `emptyResult` when a table's value is empty, and passes on
    /// any table's lookup error; Postfix answers both with a temporary error.
    public func lookup(_ key: String, partial: Bool = false) throws -> (value: String, table: TableReference)? {
        guard !key.isEmpty else { return nil }
        for table in tables where !(partial && table.isPattern) {
            guard let value = try table.lookup(key) else { continue }
            if value.isEmpty {
                throw TableError(
                    .emptyResult, file: table.reference.description,
                    "lookup of \"\(key)\" returns an empty string result; a table should return no result when a key is not found"
                )
            }
            return (value, table.reference)
        }
        return nil
    }

    /// The first key of `keys` that any table has a value for (keys in order, and for each key
    /// the tables in order), as produced by ``AddressKeys``.
    public func find(_ keys: [LookupKey]) throws -> LookupMatch? {
        for key in keys {
            if let (value, table) = try lookup(key.text, partial: key.isPartial) {
                return LookupMatch(value: value, key: key, table: table)
            }
        }
        return nil
    }
}
