/// How fixed-string tables fold keys before storing and searching them.
enum KeyFolding: Sendable, Hashable {
    /// ASCII letters only: Postfix with `smtputf8_enable = no` (`lowercase()`).
    case ascii
    /// Unicode full case folding (so `Straße` and `STRASSE` are one key): Postfix with
    /// `smtputf8_enable = yes`, which folds keys with ICU's `ucasemap_utf8FoldCase()`.
    case unicode

    /// The folded key, as bytes (Postfix compares keys byte by byte, not by canonical equivalence).
    func fold(_ key: String) -> [UInt8] {
        switch self {
        case .ascii:
            return key.utf8.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 }
        case .unicode:
            guard key.utf8.contains(where: { $0 >= 0x80 }) else { return KeyFolding.ascii.fold(key) }
            var folded = String.UnicodeScalarView()
            for scalar in key.unicodeScalars {
                folded.append(contentsOf: Self.caseFolded(scalar))
            }
            return Array(String(folded).utf8)
        }
    }

    // Unicode CaseFolding.txt, statuses C and F (ICU's U_FOLD_CASE_DEFAULT): the standard library
    // has no case-folding mapping, but for every assigned character it equals lowercase(uppercase(c))
    // repeated until it no longer changes (ẞ → ß → ss), except that dotless ı stays, and Cherokee
    // small letters fold to their capitals. Checked against Python's str.casefold() for all of
    // Unicode 14 when this was written.
    private static func caseFolded(_ scalar: Unicode.Scalar) -> [Unicode.Scalar] {
        let properties = scalar.properties
        guard properties.changesWhenCaseFolded || (properties.changesWhenUppercased && scalar.value != 0x131) else {
            return [scalar]
        }
        let upper = Array(properties.uppercaseMapping.unicodeScalars)
        if let first = upper.first, (0x13A0...0x13F5).contains(first.value) { return upper }
        var current = [scalar]
        for _ in 0..<3 {
            let next = current.flatMap { $0.properties.uppercaseMapping.unicodeScalars }
                .flatMap { $0.properties.lowercaseMapping.unicodeScalars }
            if next == current { break }
            current = next
        }
        return current
    }
}
