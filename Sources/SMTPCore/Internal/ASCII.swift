/// Byte values the SMTP grammars name.
enum ASCII {
    static let nul: UInt8 = 0x00
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let hash: UInt8 = 0x23
    static let percent: UInt8 = 0x25
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let hyphen: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let lessThan: UInt8 = 0x3C
    static let equals: UInt8 = 0x3D
    static let greaterThan: UInt8 = 0x3E
    static let at: UInt8 = 0x40
    static let leftBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let rightBracket: UInt8 = 0x5D
    static let underscore: UInt8 = 0x5F
    static let exclamation: UInt8 = 0x21
    static let delete: UInt8 = 0x7F

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    static func isAlpha(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
    static func isAlphanumeric(_ byte: UInt8) -> Bool { isDigit(byte) || isAlpha(byte) }
    static func isHexDigit(_ byte: UInt8) -> Bool { isDigit(byte) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x66) }
    /// C0 controls and DEL.
    static func isControl(_ byte: UInt8) -> Bool { byte < 0x20 || byte == delete }
    static func isWhitespace(_ byte: UInt8) -> Bool { byte == space || byte == tab }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }

    static func uppercased(_ byte: UInt8) -> UInt8 { (byte >= 0x61 && byte <= 0x7A) ? byte - 0x20 : byte }

    /// Case-insensitive comparison of ASCII bytes with an ASCII keyword.
    static func equalsIgnoringCase<C: Collection>(_ bytes: C, _ keyword: String) -> Bool where C.Element == UInt8 {
        let utf8 = keyword.utf8
        guard bytes.count == utf8.count else { return false }
        return zip(bytes, utf8).allSatisfy { uppercased($0) == uppercased($1) }
    }

    /// Case-insensitive prefix test.
    static func hasPrefixIgnoringCase<C: Collection>(_ bytes: C, _ keyword: String) -> Bool where C.Element == UInt8 {
        let utf8 = keyword.utf8
        guard bytes.count >= utf8.count else { return false }
        return zip(bytes, utf8).allSatisfy { uppercased($0) == uppercased($1) }
    }

    static func isAllASCII<C: Sequence>(_ bytes: C) -> Bool where C.Element == UInt8 { bytes.allSatisfy { $0 < 0x80 } }
}

extension String {
    /// The string from UTF-8 bytes, or nil when they are not valid UTF-8.
    init?<C: Collection>(validUTF8 bytes: C) where C.Element == UInt8 {
        guard let string = String(validating: bytes, as: UTF8.self) else { return nil }
        self = string
    }

    /// A copy in which every C0 control and DEL is replaced by `?`, as Postfix's `printable()` does, so
    /// client text echoed into logs or replies can never break a line.
    var printableForSMTP: String {
        guard utf8.contains(where: ASCII.isControl) else { return self }
        return String(decoding: utf8.map { ASCII.isControl($0) ? UInt8(ascii: "?") : $0 }, as: UTF8.self)
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
