/// A `static:value` or `static:{ text with spaces }` table: every key has the same value.
final class StaticTable: LookupTable {
    let reference: TableReference
    private let value: String

    // Postfix, DATABASE_README "static": "static:{ text with whitespace }" (Postfix 3.2) or
    // static:text; dict_static(3) strips the braces and the whitespace inside them (extpar), and
    // text after the closing brace is an error.
    init(reference: TableReference) throws(TableError) {
        self.reference = reference
        switch PostfixList.unbraceIfGrouped(reference.name) {
        case .success(let text): value = text
        case .failure(let error):
            throw TableError(
                .syntax, file: reference.description, "bad static:name syntax: \(error); expected static:{text}")
        }
    }

    /// Postfix marks static tables as fixed-string (`DICT_FLAG_FIXED`), so they see every key;
    /// the first key already matches, so this changes nothing but is kept for fidelity.
    var isPattern: Bool { false }

    func lookup(_ key: String) throws -> String? { value }
}
