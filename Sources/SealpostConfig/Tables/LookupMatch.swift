/// The result of searching tables with a sequence of keys: the first value found.
public struct LookupMatch: Sendable, Hashable {
    /// The table's value.
    public var value: String
    /// The key that matched.
    public var key: LookupKey
    /// The table that had the value.
    public var table: TableReference

    /// A match of `key` in `table`.
    public init(value: String, key: LookupKey, table: TableReference) {
        self.value = value
        self.key = key
        self.table = table
    }

    // postconf(5), propagate_unmatched_extensions: "What address lookup tables copy an address
    // extension from the lookup key to the lookup result." mail_addr_crunch(3) inserts the
    // extension before the last '@' of each result address, or appends it when there is none.
    /// `address` with the key's unmatched extension inserted before its last `@` (or appended when
    /// it has none); `address` unchanged when the key matched with its extension.
    public func propagatingExtension(to address: String) -> String {
        guard let ext = key.unmatchedExtension, !ext.isEmpty else { return address }
        let bytes = Array(address.utf8)
        guard let at = bytes.lastIndex(of: UInt8(ascii: "@")) else { return address + ext }
        return String(decoding: bytes[..<at] + Array(ext.utf8) + bytes[at...], as: UTF8.self)
    }
}
