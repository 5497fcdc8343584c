/// The keys Postfix looks up, in order, for an address, a domain or an SMTP client — as pure
/// functions, so the order can be read and tested; search them with ``TableList/find(_:)``.
///
/// Keys are not case-folded here: fixed-string tables fold them, pattern tables see them as they
/// are. Empty keys are left out (Postfix's `maps_find()` never looks them up).
public struct AddressKeys: Sendable, Hashable {
    /// `recipient_delimiter`: the characters that start an address extension (several are
    /// allowed since Postfix 2.11; the first one in the localpart counts). Empty: no extensions.
    public var recipientDelimiter: String
    /// `owner_request_special`: do not split `owner-list` or `list-request` when `-` is a
    /// delimiter.
    public var ownerRequestSpecial: Bool
    /// `double_bounce_sender`, a localpart that is never split.
    public var doubleBounceSender: String
    /// Whether `parent_domain_matches_subdomains` lists `smtpd_access_maps`: then access tables
    /// are searched with bare parent domains (`example.com`, `com`) instead of `.example.com`,
    /// `.com`.
    public var parentDomainMatchesSubdomains: Bool

    /// Key rules with Postfix's defaults for the other settings.
    public init(
        recipientDelimiter: String = "",
        ownerRequestSpecial: Bool = true,
        doubleBounceSender: String = "double-bounce",
        parentDomainMatchesSubdomains: Bool = false
    ) {
        self.recipientDelimiter = recipientDelimiter
        self.ownerRequestSpecial = ownerRequestSpecial
        self.doubleBounceSender = doubleBounceSender
        self.parentDomainMatchesSubdomains = parentDomainMatchesSubdomains
    }

    // virtual(5), TABLE SEARCH ORDER and ADDRESS EXTENSION: "user+foo@domain, user@domain,
    // user+foo, user, and @domain", where user+foo and user are tried only when the domain is
    // $myorigin, in $mydestination, $inet_interfaces or $proxy_interfaces.
    // mail_addr_find(3) with MA_FIND_DEFAULT: only the first key is a full key; a match on a key
    // without the extension leaves the extension unmatched (propagate_unmatched_extensions).
    /// The keys of `virtual_alias_maps`, `virtual_mailbox_maps`, `canonical_maps` and the other
    /// address-rewriting tables; `domainIsLocal` says whether the caller found the address's
    /// domain local (`$myorigin`, `$mydestination`, `$inet_interfaces`, `$proxy_interfaces`).
    public func aliasKeys(for address: String, domainIsLocal: Bool) -> [LookupKey] {
        let bytes = Array(address.utf8)
        var (keys, stripped) = addressWithAndWithoutExtension(address)
        if let at = bytes.lastIndex(of: UInt8(ascii: "@")) {
            if domainIsLocal {
                keys.append(LookupKey(text(bytes[..<at]), isPartial: true))
                if let stripped {
                    let bare = Array(stripped.address.utf8)
                    let bareAt = bare.lastIndex(of: UInt8(ascii: "@")) ?? bare.count
                    keys.append(
                        LookupKey(text(bare[..<bareAt]), isPartial: true, unmatchedExtension: stripped.extension))
                }
            }
            keys.append(LookupKey(text(bytes[at...]), isPartial: true))
        }
        return keys.filter { !$0.text.isEmpty }
    }

    // access(5), EMAIL ADDRESS PATTERNS and EMAIL ADDRESS EXTENSION: "user+foo@domain,
    // user@domain, domain, user+foo@, and user@", where domain is followed by its parent domains
    // (".domain.tld" style unless parent_domain_matches_subdomains lists smtpd_access_maps).
    // smtpd_check.c, check_mail_access(): MA_FIND_FULL | MA_FIND_NOEXT | MA_FIND_DOMAIN |
    // MA_FIND_LOCALPART_AT | (MA_FIND_PDMS or MA_FIND_PDDMDS); every key after the first is partial,
    // so regexp:, pcre: and cidr: tables see only the whole address.
    /// The keys of `check_sender_access` and `check_recipient_access` for an address (Postfix
    /// needs an `@domain`; without one only the address and its extension-less form are keys).
    public func accessKeys(forAddress address: String) -> [LookupKey] {
        let bytes = Array(address.utf8)
        var (keys, stripped) = addressWithAndWithoutExtension(address)
        guard let at = bytes.lastIndex(of: UInt8(ascii: "@")) else { return keys.filter { !$0.text.isEmpty } }
        for domain in domainAndParents(bytes[(at + 1)...]) {
            keys.append(LookupKey(domain, isPartial: true))
        }
        keys.append(LookupKey(text(bytes[...at]), isPartial: true))
        if let stripped, let bareAt = Array(stripped.address.utf8).lastIndex(of: UInt8(ascii: "@")) {
            let bare = Array(stripped.address.utf8)
            keys.append(LookupKey(text(bare[...bareAt]), isPartial: true, unmatchedExtension: stripped.extension))
        }
        return keys.filter { !$0.text.isEmpty }
    }

    // access(5), HOST NAME/ADDRESS PATTERNS: "domain.tld", then its parent domains (".domain.tld"
    // style unless parent_domain_matches_subdomains lists smtpd_access_maps).
    // smtpd_check.c, check_domain_access(): the name is a full key, its parents are partial keys,
    // and a numerical name (an IP address) gets no parent lookups.
    /// The keys of `check_helo_access`, `check_client_access` (host name part) and the other
    /// host-name checks.
    public func accessKeys(forHostname hostname: String) -> [LookupKey] {
        let bytes = Array(hostname.utf8)
        guard !bytes.isEmpty else { return [] }
        if Self.isHostAddress(hostname) { return [LookupKey(hostname)] }
        return domainAndParents(bytes[...]).enumerated().map { index, name in
            LookupKey(name, isPartial: index > 0)
        }
    }

    // access(5), HOST NAME/ADDRESS PATTERNS: "net.work.addr.ess, net.work.addr, net.work, net"
    // for IPv4 and "net:work:addr:ess, net:work:addr, net:work, net" for IPv6, made by repeatedly
    // truncating the last ".octet" or ":octetpair". smtpd_check.c, check_addr_access(): the address
    // is a full key, the truncated forms are partial keys.
    /// The keys for a client IP address: the address, then its shorter network forms.
    public static func accessKeys(forClientAddress address: String) -> [LookupKey] {
        let delimiter = address.utf8.contains(UInt8(ascii: ":")) ? UInt8(ascii: ":") : UInt8(ascii: ".")
        var bytes = Array(address.utf8)[...]
        var keys = [LookupKey(address)]
        while let cut = bytes.lastIndex(of: delimiter) {
            bytes = bytes[..<cut]
            keys.append(LookupKey(String(decoding: bytes, as: UTF8.self), isPartial: true))
        }
        return keys.filter { !$0.text.isEmpty }
    }

    // smtpd_check.c, check_namadr_access(): the host name and its parents first ("a domain
    // wildcard may pre-empt a more specific address table entry"), then the address and its
    // networks.
    /// The keys of `check_client_access` and `check_reverse_client_hostname_access`: host name
    /// keys, then address keys.
    public func accessKeys(forClientName hostname: String, address: String) -> [LookupKey] {
        accessKeys(forHostname: hostname) + Self.accessKeys(forClientAddress: address)
    }

    // postconf(5), recipient_delimiter: "The set of characters that can separate an email address
    // localpart, user name, or a .forward file name from its extension." split_addr(3): the
    // localpart is cut at the first delimiter character, unless the cut would leave it empty, and
    // never for postmaster, MAILER-DAEMON, the double-bounce sender, or (when '-' is a delimiter
    // and owner_request_special is on) owner-* and *-request.
    /// The address without its extension, and the extension with its delimiter (`+foo`); nil when
    /// the address has none.
    public func splitExtension(_ address: String) -> (address: String, extension: String)? {
        let delimiters = Set(recipientDelimiter.utf8)
        let bytes = Array(address.utf8)
        guard !delimiters.isEmpty, bytes.contains(where: delimiters.contains) else { return nil }
        let at = bytes.lastIndex(of: UInt8(ascii: "@")) ?? bytes.count
        let localpart = bytes[..<at]
        let local = text(localpart)
        if equalsIgnoringASCIICase(local, "postmaster") || equalsIgnoringASCIICase(local, "MAILER-DAEMON")
            || equalsIgnoringASCIICase(local, doubleBounceSender)
        {
            return nil
        }
        if delimiters.contains(UInt8(ascii: "-")) && ownerRequestSpecial {
            if localpart.count >= 6 && equalsIgnoringASCIICase(text(localpart.prefix(6)), "owner-") { return nil }
            if localpart.count > 8 && equalsIgnoringASCIICase(text(localpart.suffix(8)), "-request") { return nil }
        }
        guard let cut = localpart.firstIndex(where: delimiters.contains), cut != localpart.startIndex else { return nil }
        return (text(bytes[..<cut] + bytes[at...]), text(localpart[cut...]))
    }

    // mail_addr_find(3), MA_FIND_FULL and MA_FIND_NOEXT: "user+foo@domain" as a full key, then
    // "user@domain" as a partial key when the address has an extension.
    /// The first keys of every address lookup, and the address split at its extension.
    private func addressWithAndWithoutExtension(
        _ address: String
    ) -> (keys: [LookupKey], stripped: (address: String, extension: String)?) {
        let stripped = splitExtension(address)
        var keys = [LookupKey(address)]
        if let stripped {
            keys.append(LookupKey(stripped.address, isPartial: true, unmatchedExtension: stripped.extension))
        }
        return (keys, stripped)
    }

    /// The domain, then its parents in the configured style; mail_addr_find(3) with MA_FIND_PDMS
    /// (bare parents) or MA_FIND_PDDMDS (dot-parents).
    private func domainAndParents(_ domain: ArraySlice<UInt8>) -> [String] {
        var names: [String] = []
        var start = domain.startIndex
        while start < domain.endIndex {
            names.append(text(domain[start...]))
            guard let dot = domain[(start + 1)...].firstIndex(of: UInt8(ascii: ".")) else { break }
            start = parentDomainMatchesSubdomains ? dot + 1 : dot
        }
        return names
    }

    // valid_hostaddr(3): a dotted quad of decimal octets up to 255, or an IPv6 address of hex
    // fields (at most 4 digits) with at most one "::" and an optional IPv4 tail.
    /// Whether `text` is written as an IP address (without brackets).
    static func isHostAddress(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return false }
        return bytes.contains(UInt8(ascii: ":")) ? isIPv6Address(bytes[...]) : isIPv4Address(bytes[...])
    }

    private static func isIPv4Address(_ bytes: ArraySlice<UInt8>) -> Bool {
        var inOctet = false
        var octets = 0
        var value = 0
        for index in bytes.indices {
            let byte = bytes[index]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                if !inOctet {
                    inOctet = true
                    value = 0
                    octets += 1
                }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                if value > 255 { return false }
            } else if byte == UInt8(ascii: ".") {
                if !inOctet || index + 1 == bytes.endIndex { return false }
                // 0.0.0.0 is an address, 0.1.2.3 is not.
                if octets == 1 && value == 0 && bytes.contains(where: { $0 != UInt8(ascii: "0") && $0 != UInt8(ascii: ".") }) {
                    return false
                }
                inOctet = false
            } else {
                return false
            }
        }
        return octets == 4
    }

    private static func isIPv6Address(_ bytes: ArraySlice<UInt8>) -> Bool {
        var field = 0
        var nullField = 0
        var length = 0
        var index = bytes.startIndex
        while true {
            guard index < bytes.endIndex else {
                if field < 2 { return false }
                return !(length == 0 && nullField != field - 1)
            }
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") {
                if field < 2 || field > 6 { return false }
                return isIPv4Address(bytes[(index - length)...])
            } else if byte == UInt8(ascii: ":") {
                if field == 0 && length == 0 && index + 1 < bytes.endIndex && isASCIIAlphanumeric(bytes[index + 1]) {
                    return false
                }
                field += 1
                if field > 7 { return false }
                index += 1
                length = 0
                if index < bytes.endIndex && bytes[index] == UInt8(ascii: ":") {
                    if nullField > 0 { return false }
                    nullField = field
                }
            } else {
                var end = index
                while end < bytes.endIndex && isHexDigit(bytes[end]) { end += 1 }
                length = end - index
                if length == 0 || length > 4 { return false }
                index = end
            }
        }
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
    }
}

private func text<C: Collection<UInt8>>(_ bytes: C) -> String {
    String(decoding: bytes, as: UTF8.self)
}

private func equalsIgnoringASCIICase(_ left: String, _ right: String) -> Bool {
    KeyFolding.ascii.fold(left) == KeyFolding.ascii.fold(right)
}
