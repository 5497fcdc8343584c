/// Why an address argument was refused. The command parser answers all of these with Postfix's
/// `501 5.1.7 Bad sender address syntax` or `501 5.1.3 Bad recipient address syntax`; the case says
/// what was wrong, for the log.
public enum AddressSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    case empty
    case missingAngleBrackets
    case unexpectedText
    case badSourceRoute
    case badLocalPart
    case badDomain
    case badAddressLiteral
    case nonASCIIWithoutSMTPUTF8
    case controlCharacter
    case localPartTooLong
    case domainTooLong
    case pathTooLong
    /// A local part starting with `-` (Postfix refuses these unless `allow_min_user = yes`).
    case leadingHyphen
    case nullPathNotAllowed

    public var description: String {
        switch self {
        case .empty: return "empty address"
        case .missingAngleBrackets: return "address not in angle brackets"
        case .unexpectedText: return "text around the address"
        case .badSourceRoute: return "bad source route"
        case .badLocalPart: return "bad local part"
        case .badDomain: return "bad domain"
        case .badAddressLiteral: return "bad address literal"
        case .nonASCIIWithoutSMTPUTF8: return "non-ASCII domain without SMTPUTF8"
        case .controlCharacter: return "control character in address"
        case .localPartTooLong: return "local part too long"
        case .domainTooLong: return "domain too long"
        case .pathTooLong: return "address too long"
        case .leadingHyphen: return "local part starts with '-'"
        case .nullPathNotAllowed: return "null address"
        }
    }
}

/// The RFC 5321 address grammar, with the leniency Postfix shows (see `AddressGrammar.Options`).
public struct AddressGrammar: Sendable {
    /// How lenient the parser is, from configuration.
    public struct Options: Hashable, Sendable {
        /// `strict_rfc821_envelopes` (no): when false, an address without angle brackets is accepted.
        public var strictRFC821Envelopes: Bool
        /// `allow_min_user` (no): when false, a local part starting with `-` is refused.
        public var allowMinUser: Bool

        public init(strictRFC821Envelopes: Bool = false, allowMinUser: Bool = false) {
            self.strictRFC821Envelopes = strictRFC821Envelopes
            self.allowMinUser = allowMinUser
        }
    }

    public var limits: SMTPLimits
    public var options: Options

    public init(limits: SMTPLimits = .postfixDefaults, options: Options = Options()) {
        self.limits = limits
        self.options = options
    }

    // RFC 5321 section 4.1.2:
    //   Reverse-path   = Path / "<>"
    //   Forward-path   = Path
    //   Path           = "<" [ A-d-l ":" ] Mailbox ">"
    /// Parses a path argument. `allowNull` accepts `<>` (MAIL FROM); `smtputf8` permits UTF-8 in the
    /// domain (RFC 6531). UTF-8 in the local part is accepted either way, as Postfix accepts it; the
    /// command parser applies `strict_smtputf8`.
    public func parsePath(_ text: String, allowNull: Bool, smtputf8: Bool) -> Result<SMTPPath, AddressSyntaxError> {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return .failure(.empty) }
        if bytes.contains(where: ASCII.isControl) { return .failure(.controlCharacter) }
        let bracketed = bytes.first == ASCII.lessThan
        var inner = bytes[...]
        if bracketed {
            guard bytes.count >= 2, bytes.last == ASCII.greaterThan else { return .failure(.unexpectedText) }
            inner = bytes.dropFirst().dropLast()
        } else if options.strictRFC821Envelopes {
            return .failure(.missingAngleBrackets)
        }
        if bytes.count + (bracketed ? 0 : 2) > limits.maximumPathLength { return .failure(.pathTooLong) }
        if inner.isEmpty {
            guard allowNull else { return .failure(.nullPathNotAllowed) }
            guard bracketed else { return .failure(.empty) }
            return .success(SMTPPath(mailbox: nil, raw: text, hadAngleBrackets: true))
        }
        var route: [MailDomain] = []
        if inner.first == ASCII.at {
            // A-d-l = At-domain *( "," At-domain ); At-domain = "@" Domain
            guard let colon = inner.firstIndex(of: ASCII.colon) else { return .failure(.badSourceRoute) }
            for part in inner[inner.startIndex..<colon].split(separator: ASCII.comma, omittingEmptySubsequences: false) {
                guard part.first == ASCII.at,
                      case .success(let domain) = parseDomain(part.dropFirst(), smtputf8: smtputf8)
                else { return .failure(.badSourceRoute) }
                route.append(domain)
            }
            inner = inner[(colon + 1)...]
        }
        switch parseMailbox(inner, smtputf8: smtputf8) {
        case .failure(let error): return .failure(error)
        case .success(let mailbox):
            return .success(SMTPPath(mailbox: mailbox, sourceRoute: route, raw: text, hadAngleBrackets: bracketed))
        }
    }

    // RFC 5321 section 4.1.2:
    //   Mailbox = Local-part "@" ( Domain / address-literal )
    //   Local-part = Dot-string / Quoted-string
    /// Parses a mailbox; a mailbox without `@` is a bare local part (its domain is nil).
    public func parseMailbox<C: Collection>(_ bytes: C, smtputf8: Bool) -> Result<Mailbox, AddressSyntaxError>
    where C.Element == UInt8 {
        let bytes = Array(bytes)
        guard !bytes.isEmpty else { return .failure(.empty) }
        if bytes.contains(where: ASCII.isControl) { return .failure(.controlCharacter) }
        let local: (unquoted: [UInt8], end: Int, quoted: Bool)
        if bytes[0] == ASCII.quote {
            guard let parsed = parseQuotedString(bytes) else { return .failure(.badLocalPart) }
            local = (parsed.unquoted, parsed.end, true)
        } else {
            let end = bytes.lastIndex(of: ASCII.at) ?? bytes.count
            let dotString = bytes[..<end]
            // Postfix's RFC 822 tokenizer accepts empty atoms (`a..b`, `.a`, `a.`); only atext and dots.
            guard !dotString.isEmpty,
                  dotString.allSatisfy({ $0 == ASCII.dot || AddressGrammar.isAtext($0, utf8: true) })
            else { return .failure(.badLocalPart) }
            local = (Array(dotString), end, false)
        }
        // Counted without quotes and escapes, so the canonical form of an accepted address is accepted too.
        guard local.unquoted.count <= limits.maximumLocalPartLength else { return .failure(.localPartTooLong) }
        guard let localPart = String(validUTF8: local.unquoted),
              let rawLocalPart = String(validUTF8: bytes[..<local.end])
        else { return .failure(.badLocalPart) }
        if !options.allowMinUser && local.unquoted.first == ASCII.hyphen { return .failure(.leadingHyphen) }
        var domain: MailDomain?
        if local.end < bytes.count {
            guard bytes[local.end] == ASCII.at else { return .failure(.unexpectedText) }
            switch parseDomainOrLiteral(bytes[(local.end + 1)...], smtputf8: smtputf8) {
            case .failure(let error): return .failure(error)
            case .success(let parsed): domain = parsed
            }
        }
        return .success(Mailbox(localPart: localPart, rawLocalPart: rawLocalPart, localPartWasQuoted: local.quoted, domain: domain))
    }

    // RFC 5321 section 4.1.2 (RFC 6531 section 3.3 adds UTF8-non-ascii to qtextSMTP):
    //   Quoted-string = DQUOTE *QcontentSMTP DQUOTE
    //   QcontentSMTP = qtextSMTP / quoted-pairSMTP
    //   quoted-pairSMTP = %d92 %d32-126
    //   qtextSMTP = %d32-33 / %d35-91 / %d93-126
    private func parseQuotedString(_ bytes: [UInt8]) -> (unquoted: [UInt8], end: Int)? {
        var unquoted: [UInt8] = []
        var index = 1
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case ASCII.quote:
                return (unquoted, index + 1)
            case ASCII.backslash:
                guard index + 1 < bytes.count, (0x20...0x7E).contains(bytes[index + 1]) else { return nil }
                unquoted.append(bytes[index + 1])
                index += 2
            default:
                guard byte >= 0x20, byte != ASCII.delete else { return nil }
                unquoted.append(byte)
                index += 1
            }
        }
        return nil
    }

    private func parseDomainOrLiteral(_ bytes: ArraySlice<UInt8>, smtputf8: Bool) -> Result<MailDomain, AddressSyntaxError> {
        if bytes.first == ASCII.leftBracket { return parseAddressLiteral(bytes) }
        return parseDomain(bytes, smtputf8: smtputf8)
    }

    // RFC 5321 section 4.1.2 (RFC 6531 section 3.3 adds U-labels):
    //   Domain = sub-domain *("." sub-domain)
    //   sub-domain = Let-dig [Ldh-str]
    //   Let-dig = ALPHA / DIGIT
    //   Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig
    /// A domain name as Postfix's `valid_hostname()` accepts it: `_` allowed, labels of at most 63 octets,
    /// no hyphen at either end of a label, not all-numeric; one trailing dot, which trivial-rewrite strips.
    func parseDomain<C: Collection>(_ bytes: C, smtputf8: Bool) -> Result<MailDomain, AddressSyntaxError> where C.Element == UInt8 {
        var name = Array(bytes)
        guard let text = String(validUTF8: name) else { return .failure(.badDomain) }
        guard name.count <= limits.maximumDomainLength else { return .failure(.domainTooLong) }
        if name.last == ASCII.dot { name.removeLast() }
        guard !name.isEmpty else { return .failure(.badDomain) }
        var nonNumeric = false
        for label in name.split(separator: ASCII.dot, omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63, label.first != ASCII.hyphen, label.last != ASCII.hyphen else {
                return .failure(.badDomain)
            }
            for byte in label {
                if byte >= 0x80 {
                    guard smtputf8 else { return .failure(.nonASCIIWithoutSMTPUTF8) }
                    nonNumeric = true
                } else if ASCII.isAlpha(byte) || byte == ASCII.hyphen || byte == ASCII.underscore {
                    nonNumeric = true
                } else if !ASCII.isDigit(byte) {
                    return .failure(.badDomain)
                }
            }
        }
        guard nonNumeric else { return .failure(.badDomain) }
        return .success(MailDomain(text: text))
    }

    // RFC 5321 section 4.1.3:
    //   address-literal = "[" ( IPv4-address-literal / IPv6-address-literal / General-address-literal ) "]"
    //   IPv4-address-literal = Snum 3("."  Snum)
    //   IPv6-address-literal = "IPv6:" IPv6-addr
    func parseAddressLiteral(_ bytes: ArraySlice<UInt8>) -> Result<MailDomain, AddressSyntaxError> {
        guard bytes.count >= 3, bytes.last == ASCII.rightBracket, bytes.count <= limits.maximumDomainLength else {
            return .failure(.badAddressLiteral)
        }
        let inner = Array(bytes.dropFirst().dropLast())
        let text = String(decoding: bytes, as: UTF8.self)
        if ASCII.hasPrefixIgnoringCase(inner, "IPv6:") {
            guard let groups = AddressGrammar.parseIPv6(inner.dropFirst(5)) else { return .failure(.badAddressLiteral) }
            return .success(MailDomain(text: text, addressLiteral: .ipv6(groups)))
        }
        guard let octets = AddressGrammar.parseIPv4(inner[...]) else { return .failure(.badAddressLiteral) }
        return .success(MailDomain(text: text, addressLiteral: .ipv4(octets[0], octets[1], octets[2], octets[3])))
    }

    //   Snum = 1*3DIGIT  ; representing a decimal integer value in the range 0 through 255
    static func parseIPv4(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        let parts = bytes.split(separator: ASCII.dot, omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(ASCII.isDigit) else { return nil }
            let value = part.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard value <= 255 else { return nil }
            octets.append(UInt8(value))
        }
        return octets
    }

    //   IPv6-addr = IPv6-full / IPv6-comp / IPv6v4-full / IPv6v4-comp
    //   IPv6-hex  = 1*4HEXDIG
    //   IPv6-full = IPv6-hex 7(":" IPv6-hex)
    //   IPv6-comp = [IPv6-hex *5(":" IPv6-hex)] "::" [IPv6-hex *5(":" IPv6-hex)]
    //   IPv6v4-full = IPv6-hex 5(":" IPv6-hex) ":" IPv4-address-literal
    //   IPv6v4-comp = [IPv6-hex *3(":" IPv6-hex)] "::" [IPv6-hex *3(":" IPv6-hex ":")] IPv4-address-literal
    static func parseIPv6(_ bytes: ArraySlice<UInt8>) -> [UInt16]? {
        let text = Array(bytes)
        guard !text.isEmpty, text.count <= 45 else { return nil }
        func groups(_ part: ArraySlice<UInt8>, allowIPv4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ASCII.colon, omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if allowIPv4Tail && index == pieces.count - 1 && piece.contains(ASCII.dot) {
                    guard let v4 = parseIPv4(piece) else { return nil }
                    result.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                    result.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                    continue
                }
                guard (1...4).contains(piece.count), piece.allSatisfy(ASCII.isHexDigit) else { return nil }
                result.append(piece.reduce(0) { $0 << 4 | UInt16(ASCII.hexValue($1)!) })
            }
            return result
        }
        if let gap = findDoubleColon(text) {
            guard findDoubleColon(Array(text[(gap + 2)...])) == nil,
                  let head = groups(text[..<gap], allowIPv4Tail: false),
                  let tail = groups(text[(gap + 2)...], allowIPv4Tail: true),
                  head.count + tail.count <= 7
            else { return nil }
            return head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard let all = groups(text[...], allowIPv4Tail: true), all.count == 8 else { return nil }
        return all
    }

    private static func findDoubleColon(_ text: [UInt8]) -> Int? {
        guard text.count >= 2 else { return nil }
        for index in 0..<(text.count - 1) where text[index] == ASCII.colon && text[index + 1] == ASCII.colon {
            return index
        }
        return nil
    }

    // RFC 5322 section 3.2.3 (as RFC 5321 uses it), RFC 6531 section 3.3:
    //   atext = ALPHA / DIGIT / "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "/" / "=" / "?" /
    //           "^" / "_" / "`" / "{" / "|" / "}" / "~" / UTF8-non-ascii
    static func isAtext(_ byte: UInt8, utf8: Bool) -> Bool {
        if byte >= 0x80 { return utf8 }
        if ASCII.isAlphanumeric(byte) { return true }
        switch byte {
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "/"),
             UInt8(ascii: "="), UInt8(ascii: "?"), UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"),
             UInt8(ascii: "{"), UInt8(ascii: "|"), UInt8(ascii: "}"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
