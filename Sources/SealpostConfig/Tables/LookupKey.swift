/// One key of a lookup sequence, as Postfix derives them from an address, domain or client.
public struct LookupKey: Sendable, Hashable, CustomStringConvertible {
    /// The key text (not case-folded: fixed-string tables fold it themselves).
    public var text: String
    /// Whether the key is a derived part (`user@domain` without extension, `user`, `@domain`,
    /// `domain`, a parent domain, a shorter network…). Pattern tables are not searched with partial
    /// keys (Postfix passes `DICT_FLAG_FIXED` to `maps_find()` for them).
    public var isPartial: Bool
    /// The address extension (with its delimiter, e.g. `+foo`) that the key left out; a match on
    /// this key leaves it unmatched, for `propagate_unmatched_extensions`.
    public var unmatchedExtension: String?

    /// A key; a full key unless `isPartial`.
    public init(_ text: String, isPartial: Bool = false, unmatchedExtension: String? = nil) {
        self.text = text
        self.isPartial = isPartial
        self.unmatchedExtension = unmatchedExtension
    }

    /// The key text, with `(partial)` after a partial key.
    public var description: String { isPartial ? "\(text) (partial)" : text }
}
