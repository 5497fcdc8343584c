/// RFC 6533 section 3 unitext (`utf-8-addr-xtext`), the encoding of `ORCPT=utf-8;…`.
public enum UniText {
    // RFC 6533 section 3:
    //   utf-8-addr-xtext = 1*(QCHAR / EmbeddedUnicodeChar)
    //   QCHAR = %x21-2a / %x2c-3c / %x3e-5b / %x5d-7e   (ASCII printable except "+", "=", "\")
    //   EmbeddedUnicodeChar = %x5C.78 "{" HEXPOINT "}"
    //   HEXPOINT = ( ( "0"/"1" ) %x31-39 ) / "10" / "20" / "2B" / "3D" / "7F" / "5C" / ( HEXDIG 2HEXDIG ) ...
    /// Decodes `\x{HEX}` escapes to UTF-8; as Postfix's `uxtext_unquote()` other printable ASCII passes
    /// through. Refuses code points beyond U+10FFFF, surrogates, and text outside 33...126.
    public static func decode(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        var scalars = String.UnicodeScalarView()
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte >= 0x21, byte <= 0x7E else { return nil }
            if byte == ASCII.backslash, index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "x"),
               bytes[index + 2] == UInt8(ascii: "{") {
                var value: UInt32 = 0
                var cursor = index + 3
                var digits = 0
                while cursor < bytes.count, bytes[cursor] != UInt8(ascii: "}") {
                    guard let digit = ASCII.hexValue(bytes[cursor]), digits < 6 else { return nil }
                    value = value << 4 | UInt32(digit)
                    digits += 1
                    cursor += 1
                }
                guard cursor < bytes.count, digits > 0, let scalar = Unicode.Scalar(value) else { return nil }
                scalars.append(scalar)
                index = cursor + 1
            } else {
                scalars.append(Unicode.Scalar(byte))
                index += 1
            }
        }
        return String(scalars)
    }

    /// Encodes as unitext: printable ASCII except `+`, `=`, `\` as itself, the rest as `\x{HEX}`.
    public static func encode(_ string: String) -> String {
        var result = ""
        for scalar in string.unicodeScalars {
            let value = scalar.value
            if value > 32, value < 127, scalar != "+", scalar != "=", scalar != "\\" {
                result.unicodeScalars.append(scalar)
            } else {
                result += "\\x{" + String(value, radix: 16, uppercase: true) + "}"
            }
        }
        return result
    }
}
