/// Postfix's "safe" alphanumeric alphabet for queue IDs: digits, then upper- and lower-case letters
/// without vowels, so that no ID spells a word. Digit values follow ASCII order, which is what makes
/// fixed-width encodings sort as their numbers do.
enum SafeAlphabet {
    static let characters: [UInt8] = Array("0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz".utf8)

    /// The value of each byte in the alphabet, or -1.
    private static let values: [Int8] = {
        var values = [Int8](repeating: -1, count: 256)
        for (value, character) in characters.enumerated() { values[Int(character)] = Int8(value) }
        return values
    }()

    static func value(of character: UInt8) -> Int? {
        let value = values[Int(character)]
        return value < 0 ? nil : Int(value)
    }

    /// `value` in `base`, most significant digit first, left-padded with '0' to `width`.
    static func encode(_ value: UInt64, base: UInt64, width: Int) -> [UInt8] {
        var digits: [UInt8] = []
        var rest = value
        while rest != 0 {
            digits.append(characters[Int(rest % base)])
            rest /= base
        }
        while digits.count < width { digits.append(UInt8(ascii: "0")) }
        return digits.reversed()
    }

    /// The number `digits` spell in `base`; nil for a character outside the base or on overflow.
    static func decode(_ digits: ArraySlice<UInt8>, base: UInt64) -> UInt64? {
        var result: UInt64 = 0
        for character in digits {
            guard let digit = value(of: character), UInt64(digit) < base else { return nil }
            let (shifted, overflow) = result.multipliedReportingOverflow(by: base)
            let (sum, carry) = shifted.addingReportingOverflow(UInt64(digit))
            if overflow || carry { return nil }
            result = sum
        }
        return result
    }
}
