/// RFC 3461 section 4 xtext, the encoding of ENVID, ORCPT and AUTH= values.
public enum XText {
    // RFC 3461 section 4:
    //   xtext = *( xchar / hexchar )
    //   xchar = any ASCII CHAR between "!" (33) and "~" (126) inclusive, except for "+" and "=".
    //   hexchar = ASCII "+" immediately followed by two upper case hexadecimal digits
    /// Decodes xtext. As Postfix's `xtext_unquote()`, lower-case hex digits and `=` are accepted;
    /// anything outside 33...126 and a `+` without two hex digits are refused.
    public static func decode(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte >= 0x21, byte <= 0x7E else { return nil }
            if byte == ASCII.plus {
                guard index + 2 < bytes.count, let high = ASCII.hexValue(bytes[index + 1]), let low = ASCII.hexValue(bytes[index + 2])
                else { return nil }
                decoded.append(high << 4 | low)
                index += 3
            } else {
                decoded.append(byte)
                index += 1
            }
        }
        return decoded
    }

    /// Encodes bytes as xtext: `+`, `=`, and everything outside 33...126 become `+XX`, as in Postfix's
    /// `xtext_quote()`; so do `<`, `>`, `"` and `\`, which SMTP command tokenizers (Postfix's among them)
    /// take as quoting, so that a value can never swallow the parameter after it.
    public static func encode<C: Sequence>(_ bytes: C) -> String where C.Element == UInt8 {
        var result: [UInt8] = []
        for byte in bytes {
            if byte > 32, byte < 127, byte != ASCII.plus, byte != ASCII.equals, byte != ASCII.lessThan,
               byte != ASCII.greaterThan, byte != ASCII.quote, byte != ASCII.backslash {
                result.append(byte)
            } else {
                result.append(ASCII.plus)
                result.append(hexDigit(byte >> 4))
                result.append(hexDigit(byte & 0x0F))
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    public static func encode(_ string: String) -> String { encode(string.utf8) }

    static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x41 + nibble - 10 }
}
