/// Postfix's host name and address syntax checks (`valid_hostname.c`, `valid_mailhost_addr.c`,
/// `valid_utf8_hostname.c`), byte for byte: the HELO, address and client-name restrictions
/// depend on exactly what they accept.
public enum HostnameSyntax {
    /// RFC 1035 limits, as `valid_hostname.h` has them.
    static let maximumNameLength = 255
    static let maximumLabelLength = 63

    // valid_hostname(3): letters, digits, '_' and '-' in labels of 1 to 63 characters separated by
    // single dots, no leading or trailing dot, no hyphen at either end of a label, not all numeric,
    // at most 255 characters.
    /// Whether `name` is a syntactically valid ASCII host name.
    public static func isValidHostname(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty else { return false }
        var labelLength = 0
        var nonNumeric = false
        for (index, byte) in bytes.enumerated() {
            let next: UInt8? = index + 1 < bytes.count ? bytes[index + 1] : nil
            if isASCIIAlphanumeric(byte) || byte == UInt8(ascii: "_") {
                labelLength += 1
                if labelLength > maximumLabelLength { return false }
                if !isASCIIDigit(byte) { nonNumeric = true }
            } else if byte == UInt8(ascii: ".") {
                if labelLength == 0 || next == nil { return false }
                labelLength = 0
            } else if byte == UInt8(ascii: "-") {
                nonNumeric = true
                labelLength += 1
                if labelLength == 1 || next == nil || next == UInt8(ascii: ".") { return false }
            } else {
                return false
            }
        }
        return nonNumeric && bytes.count <= maximumNameLength
    }

    // valid_hostaddr(3): IPv6 when the text has a ':', IPv4 otherwise.
    /// Whether `address` is an IPv4 or IPv6 address as Postfix writes them (no brackets).
    public static func isValidHostAddress(_ address: String) -> Bool {
        let bytes = Array(address.utf8)
        guard !bytes.isEmpty else { return false }
        return bytes.contains(UInt8(ascii: ":")) ? isValidIPv6(bytes[...]) : isValidIPv4(bytes[...])
    }

    // valid_mailhost_addr(3): an address literal's inside, with an optional case-insensitive
    // "IPv6:" prefix that selects the IPv6 syntax.
    /// The bare address of an address literal's inside (`192.0.2.1`, `IPv6:2001:db8::1`), or nil
    /// when it is not valid.
    public static func mailhostAddress(_ literal: String) -> String? {
        let bytes = Array(literal.utf8)
        if bytes.count >= 5, String(decoding: bytes[0..<5], as: UTF8.self).lowercased() == "ipv6:" {
            let bare = bytes[5...]
            return isValidIPv6(bare) ? String(decoding: bare, as: UTF8.self) : nil
        }
        return isValidIPv4(bytes[...]) ? literal : nil
    }

    // valid_utf8_hostname(3): with SMTPUTF8, a non-ASCII name is valid when its IDNA (A-label) form
    // is; otherwise the ASCII rules apply.
    /// Whether `name` is a valid host name, allowing non-ASCII labels when `allowUTF8`.
    public static func isValidUTF8Hostname(_ name: String, allowUTF8: Bool) -> Bool {
        guard !name.isEmpty else { return false }
        if allowUTF8 && !name.utf8.allSatisfy({ $0 < 0x80 }) {
            guard let ascii = Punycode.asciiDomain(name) else { return false }
            return isValidHostname(ascii)
        }
        return isValidHostname(name)
    }

    // dup_if_truncate() in smtpd_check.c: "Truncate hostnames ending in dot but not dot-dot."
    /// `name` without one trailing dot (not when it ends in two dots, nor for a lone ".").
    static func truncatingTrailingDot(_ name: String) -> String {
        let bytes = Array(name.utf8)
        if bytes.count > 1 && bytes[bytes.count - 1] == UInt8(ascii: ".") && bytes[bytes.count - 2] != UInt8(ascii: ".") {
            return String(decoding: bytes.dropLast(), as: UTF8.self)
        }
        return name
    }

    static func isValidIPv4(_ bytes: ArraySlice<UInt8>) -> Bool {
        var inByte = false
        var byteCount = 0
        var value = 0
        let allZeroOrDot = bytes.allSatisfy { $0 == UInt8(ascii: "0") || $0 == UInt8(ascii: ".") }
        for index in bytes.indices {
            let byte = bytes[index]
            if isASCIIDigit(byte) {
                if !inByte {
                    inByte = true
                    value = 0
                    byteCount += 1
                }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                if value > 255 { return false }
            } else if byte == UInt8(ascii: ".") {
                if !inByte || index + 1 == bytes.endIndex { return false }
                // "Allow 0.0.0.0 but not 0.1.2.3".
                if byteCount == 1 && value == 0 && !allZeroOrDot { return false }
                inByte = false
            } else {
                return false
            }
        }
        return byteCount == 4
    }

    // valid_ipv6_hostaddr(3): eight hex fields of at most 4 digits, or fewer with one "::", with
    // an optional IPv4 tail; a ':' at the start must be part of "::".
    static func isValidIPv6(_ bytes: ArraySlice<UInt8>) -> Bool {
        var nullField = 0
        var field = 0
        var length = 0
        var index = bytes.startIndex
        while true {
            guard index < bytes.endIndex else {
                if field < 2 { return false }
                if length == 0 && nullField != field - 1 { return false }
                return true
            }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "."):
                if field < 2 || field > 6 { return false }
                return isValidIPv4(bytes[(index - length)...])
            case UInt8(ascii: ":"):
                let next: UInt8? = index + 1 < bytes.endIndex ? bytes[index + 1] : nil
                if field == 0 && length == 0, let next, isASCIIAlphanumeric(next) { return false }
                field += 1
                if field > 7 { return false }
                index += 1
                length = 0
                if index < bytes.endIndex && bytes[index] == UInt8(ascii: ":") {
                    if nullField > 0 { return false }
                    nullField = field
                }
            default:
                var end = index
                while end < bytes.endIndex && isHexDigit(bytes[end]) { end += 1 }
                length = end - index
                if length > 4 { return false }
                if length == 0 {
                    // Neither ':', '.', end of text nor a hex digit.
                    return false
                }
                index = end
            }
        }
    }
}

func isASCIIDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

func isASCIIAlphanumeric(_ byte: UInt8) -> Bool {
    isASCIIDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
}

func isHexDigit(_ byte: UInt8) -> Bool {
    isASCIIDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
}

/// Postfix's `printable()` (printable.c): every byte that is not printable ASCII becomes
/// `replacement`, except that well-formed-looking UTF-8 sequences are kept when `allowUTF8`
/// (`smtputf8_enable`), with Postfix's loose test (a lead byte 194–254 followed by continuation
/// bytes).
func printableText(_ bytes: [UInt8], replacement: UInt8 = UInt8(ascii: " "), allowUTF8: Bool) -> [UInt8] {
    var result = bytes
    var index = 0
    while index < result.count {
        let byte = result[index]
        if byte < 0x80 && byte >= 0x20 && byte != 0x7F {
            // ok
        } else if allowUTF8 && byte >= 194 && byte <= 254 && index + 1 < result.count && result[index + 1] >= 128
            && result[index + 1] < 192
        {
            while index + 1 < result.count && result[index + 1] >= 128 && result[index + 1] < 192 { index += 1 }
        } else {
            result[index] = replacement
        }
        index += 1
    }
    return result
}

/// RFC 3492 Punycode, for turning non-ASCII domain labels into their `xn--` form (the DNS
/// questions and the syntax check of UTF-8 names need it).
///
/// This is the encoding only: Unicode normalisation and the UTS #46 mapping that Postfix gets
/// from ICU (`uidna_nameToASCII`) are not applied; labels are only lowercased.
enum Punycode {
    private static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700, initialBias = 72, initialN = 128

    /// The ASCII form of a domain: non-ASCII labels encoded as `xn--…`; nil when a label cannot be
    /// encoded.
    static func asciiDomain(_ domain: String) -> String? {
        var labels: [String] = []
        for label in domain.lowercased().split(separator: ".", omittingEmptySubsequences: false) {
            if label.utf8.allSatisfy({ $0 < 0x80 }) {
                labels.append(String(label))
            } else {
                guard let encoded = encode(Array(label.unicodeScalars)) else { return nil }
                labels.append("xn--" + encoded)
            }
        }
        return labels.joined(separator: ".")
    }

    private static func adapt(_ delta: Int, _ points: Int, _ first: Bool) -> Int {
        var delta = first ? delta / damp : delta / 2
        delta += delta / points
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }

    private static func digit(_ value: Int) -> Character {
        Character(Unicode.Scalar(UInt8(value < 26 ? value + 97 : value + 22)))
    }

    static func encode(_ input: [Unicode.Scalar]) -> String? {
        var output = ""
        let basic = input.filter { $0.value < 0x80 }
        for scalar in basic { output.unicodeScalars.append(scalar) }
        var handled = basic.count
        if handled > 0 { output.append("-") }
        var n = initialN
        var delta = 0
        var bias = initialBias
        while handled < input.count {
            guard let m = input.map({ Int($0.value) }).filter({ $0 >= n }).min() else { return nil }
            let (product, overflow) = (m - n).multipliedReportingOverflow(by: handled + 1)
            guard !overflow else { return nil }
            delta += product
            n = m
            for scalar in input {
                let c = Int(scalar.value)
                if c < n { delta += 1 }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, handled + 1, handled == basic.count)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return output
    }
}
