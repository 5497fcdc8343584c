/// Quoting of local parts for the wire, by the rules of Postfix's `quote_821_local()`.
enum LocalPartQuoting {
    /// The local part as a Dot-string when it is one, otherwise as a Quoted-string with `"` and `\`
    /// escaped. UTF-8 is left as it is (RFC 6531 allows it in both forms).
    static func quoted(_ localPart: String) -> String {
        if isDotString(localPart) { return localPart }
        var result = "\""
        for scalar in localPart.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { result.unicodeScalars.append("\\") }
            result.unicodeScalars.append(scalar)
        }
        result += "\""
        return result
    }

    // RFC 5321 section 4.1.2:
    //   Dot-string = Atom *("."  Atom)
    //   Atom = 1*atext
    // RFC 6531 section 3.3: atext =/ UTF8-non-ascii
    /// `is_821_dot_string()`: no empty atoms, no specials, no spaces or controls.
    static func isDotString(_ localPart: String) -> Bool {
        let bytes = Array(localPart.utf8)
        guard let first = bytes.first, first != ASCII.dot, bytes.last != ASCII.dot else { return false }
        var previous: UInt8 = 0
        for byte in bytes {
            if byte == ASCII.dot && previous == ASCII.dot { return false }
            if byte != ASCII.dot && !AddressGrammar.isAtext(byte, utf8: true) { return false }
            previous = byte
        }
        return true
    }
}
