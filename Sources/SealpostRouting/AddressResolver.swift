/// Postfix's trivial-rewrite resolver: where an envelope recipient goes, and whether the
/// destination is ours (the relay decision of `reject_unauth_destination` rests on it).
///
/// It follows `resolve_addr()` in Postfix's resolve.c: local domains (`mydestination` and our own
/// interface address literals) are stripped one after another; routing operators left in the
/// local part (`user%host`, `host!user`, a quoted `"user@host"`) are turned into addresses and
/// resolved again; what remains decides the address class. So `"user@evil"@ourdomain`,
/// `user%evil@ourdomain`, `evil!user@ourdomain` and `@ourdomain:user@evil` all resolve to a remote
/// destination, never to ours.
public struct AddressResolver: Sendable {
    public let settings: RoutingSettings

    public init(settings: RoutingSettings) {
        self.settings = settings
    }

    /// Postfix's address classes.
    public enum AddressClass: String, Sendable, Hashable {
        /// `mydestination` and our own addresses: the local transport.
        case local
        /// `virtual_alias_domains`: every address must be an alias (no mailboxes).
        case alias
        /// `virtual_mailbox_domains`: the virtual transport.
        case virtual
        /// `relay_domains`: the relay transport.
        case relay
        /// Everything else: the default transport (`relayhost` if set).
        case `default`

        /// Mail that ends here (Postfix's RESOLVE_CLASS_FINAL).
        public var isFinal: Bool { self == .local || self == .alias || self == .virtual }
    }

    /// The outcome for one recipient.
    public struct Resolution: Sendable, Hashable {
        /// The recipient after rewriting, in `user@domain` form.
        public var recipient: String
        public var addressClass: AddressClass
        /// The delivery transport (`local`, `virtual`, `smtp`, `relay`, `error`, …).
        public var transport: String
        /// Transport-specific: a domain, `[host]:port`, or the error text for `error`.
        public var nexthop: String
        /// The local part still carries routing operators (`@`, `%`, `!`): the destination is
        /// uncertain, so relay permission does not apply (unless `allow_untrusted_routing`).
        public var isRouted: Bool
        /// The address is not valid (a bad domain or literal).
        public var isInvalid: Bool
    }

    /// The resolution of `address` (internal form: the local part unquoted, then `@domain`).
    /// Throws only when a table cannot be searched (a temporary failure).
    public func resolve(_ address: String) throws -> Resolution {
        var parts = AddressParts(address)
        var savedDomain: String?
        var remoteDomain: String?
        let limit = address.utf8.count + 100
        var rounds = 0

        resolving: while true {
            rounds += 1
            if rounds > limit { return Resolution(recipient: address, addressClass: .default, transport: settings.defaultTransport, nexthop: "", isRouted: true, isInvalid: true) }

            if var domain = parts.domain {
                // Strip a trailing dot, but not dot-dot or "@.".
                if domain.hasSuffix("."), domain.count > 1, !domain.hasSuffix("..") { domain.removeLast() }
                if domain.isEmpty && settings.resolveNullDomain {
                    parts.domain = nil
                } else {
                    parts.domain = domain
                }
            }
            if let domain = parts.domain {
                // resolve.c strips an empty domain ("user@") like a local one, without asking
                // resolve_local(): "user%remote@" goes on to user@remote, and "user@" ends up
                // invalid.
                if !domain.isEmpty {
                    guard try isLocal(domain) else {
                        remoteDomain = domain
                        break resolving
                    }
                }
                savedDomain = domain
                parts.domain = nil
            }

            // After stripping the local domain, routing operators in what is left make a new address.
            if let rewritten = rewritingRoutingOperators(parts.local) {
                parts = rewritten
                continue
            }
            if parts.local.isEmpty {
                parts = AddressParts(settings.emptyAddressRecipient)
                continue
            }
            if savedDomain == nil {
                parts.domain = settings.myhostname
                continue
            }
            break
        }

        let domain = remoteDomain ?? savedDomain ?? settings.myhostname
        var recipient = "\(parts.local)@\(domain)"
        var isInvalid = false
        var isLocalAfterAll = remoteDomain == nil
        if domain.hasPrefix("[") {
            isInvalid = !Self.isValidAddressLiteral(domain)
        } else if !Self.isValidHostname(domain) {
            if settings.resolveNumericDomain && Self.isIPAddress(domain) {
                recipient = "\(parts.local)@[\(domain)]"
                if try isLocal("[\(domain)]") { isLocalAfterAll = true }
            } else {
                isInvalid = true
            }
        }
        if !settings.allowMinUser && recipient.hasPrefix("-") { isInvalid = true }
        let isRouted = parts.local.contains(where: { $0 == "@" || $0 == "!" || $0 == "%" })

        if isInvalid {
            return Resolution(recipient: recipient, addressClass: .default, transport: settings.defaultTransport, nexthop: domain, isRouted: isRouted, isInvalid: true)
        }
        var resolution = try classify(recipient: recipient, domain: recipient.split(separator: "@").last.map(String.init) ?? domain, local: isLocalAfterAll)
        resolution.isRouted = isRouted
        return resolution
    }

    /// Whether a recipient domain is ours: `mydestination`, or an address literal of
    /// `inet_interfaces`/`proxy_interfaces` (Postfix's resolve_local).
    public func isLocal(_ domain: String) throws -> Bool {
        var name = domain
        if name.hasSuffix(".") { name.removeLast() }
        if name.isEmpty || name.hasSuffix(".") { return false }
        if try settings.localDomains.matches(name) { return true }
        if name.hasPrefix("[") && name.hasSuffix("]") {
            var literal = String(name.dropFirst().dropLast()).lowercased()
            if literal.hasPrefix("ipv6:") { literal.removeFirst(5) }
            return settings.ownAddresses.contains(literal)
        }
        return false
    }

    private func classify(recipient: String, domain: String, local: Bool) throws -> Resolution {
        var transport: String
        var nexthop: String
        let addressClass: AddressClass
        if local {
            (transport, nexthop) = split(settings.localTransport, defaultNexthop: domain)
            addressClass = .local
        } else if try settings.virtualAliasDomains.matches(domain) {
            transport = "error"
            nexthop = "5.1.1 User unknown" + (settings.showUnknownTableName ? " in virtual alias table" : "")
            addressClass = .alias
        } else if try settings.virtualMailboxDomains.matches(domain) {
            (transport, nexthop) = split(settings.virtualTransport, defaultNexthop: domain)
            addressClass = .virtual
        } else {
            let isRelay = try settings.relayDomains.matches(domain)
            addressClass = isRelay ? .relay : .default
            let channel = isRelay ? settings.relayTransport : settings.defaultTransport
            let hop = settings.relayhost.isEmpty ? domain : settings.relayhost
            (transport, nexthop) = split(channel, defaultNexthop: hop)
        }
        if addressClass != .alias, let maps = settings.transportMaps,
            let entry = try TransportLookup.find(recipient: recipient, domain: domain, in: maps, parentMatches: settings.transportParentMatches)
        {
            (transport, nexthop) = TransportLookup.apply(entry, to: (transport, nexthop), recipientDomain: domain)
        }
        return Resolution(recipient: recipient, addressClass: addressClass, transport: transport, nexthop: nexthop, isRouted: false, isInvalid: false)
    }

    /// `transport:nexthop` from a `*_transport` parameter; an explicit nexthop wins.
    private func split(_ channel: String, defaultNexthop: String) -> (String, String) {
        guard let colon = channel.firstIndex(of: ":") else { return (channel, defaultNexthop) }
        let nexthop = String(channel[channel.index(after: colon)...])
        return (String(channel[..<colon]), nexthop.isEmpty ? defaultNexthop : nexthop)
    }

    // Postfix, resolve.c: with no local domain left, "foo%bar" becomes foo@bar and "site!user"
    // becomes user@site; a quoted local part is cracked open (resolve_dequoted_address) when it
    // holds @ (or % / ! when those operators are enabled). The result is resolved again.
    private func rewritingRoutingOperators(_ local: String) -> AddressParts? {
        if AddressParts.isDotString(local) {
            if settings.swapBangPath, let bang = local.firstIndex(of: "!") {
                return AddressParts(local: String(local[local.index(after: bang)...]), domain: String(local[..<bang]))
                    .withRewrite(settings)
            }
            if settings.percentHack, let percent = local.lastIndex(of: "%") {
                return AddressParts(local: String(local[..<percent]), domain: String(local[local.index(after: percent)...]))
                    .withRewrite(settings)
            }
            return nil
        }
        // A quoted local part (it needs quoting in RFC 822 terms).
        guard settings.resolveDequotedAddress else { return nil }
        if let at = local.lastIndex(of: "@") {
            return AddressParts(local: String(local[..<at]), domain: String(local[local.index(after: at)...])).withRewrite(settings)
        }
        if settings.percentHack, let percent = local.lastIndex(of: "%") {
            return AddressParts(local: String(local[..<percent]), domain: String(local[local.index(after: percent)...])).withRewrite(settings)
        }
        if settings.swapBangPath, local.contains("!") {
            return AddressParts(local: local, domain: nil).bangSwapped(settings)
        }
        return nil
    }

    // MARK: - Syntax

    /// A valid host name (letters, digits, hyphens, dots; labels of 1–63; not all numeric), or a
    /// UTF-8 name.
    static func isValidHostname(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 255, !name.hasPrefix("."), !name.hasSuffix("."), !name.contains("..") else {
            return false
        }
        let labels = name.split(separator: ".")
        for label in labels {
            guard label.utf8.count <= 63, !label.hasPrefix("-"), !label.hasSuffix("-") else { return false }
            guard label.unicodeScalars.allSatisfy({ $0.value > 127 || $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" })
            else { return false }
        }
        // An all-numeric name is an address, not a host name.
        return !labels.allSatisfy { $0.allSatisfy(\.isNumber) }
    }

    static func isIPAddress(_ text: String) -> Bool {
        IPAddressText.isIPv4(text) || IPAddressText.isIPv6(text)
    }

    /// `[1.2.3.4]` or `[IPv6:…]`.
    static func isValidAddressLiteral(_ literal: String) -> Bool {
        guard literal.hasPrefix("[") && literal.hasSuffix("]") else { return false }
        let inner = String(literal.dropFirst().dropLast())
        if inner.lowercased().hasPrefix("ipv6:") { return IPAddressText.isIPv6(String(inner.dropFirst(5))) }
        return IPAddressText.isIPv4(inner)
    }
}

/// An address split at its last `@`.
struct AddressParts: Hashable {
    var local: String
    var domain: String?

    init(local: String, domain: String?) {
        self.local = local
        self.domain = domain
    }

    init(_ address: String) {
        if let at = address.lastIndex(of: "@") {
            local = String(address[..<at])
            domain = String(address[address.index(after: at)...])
        } else {
            local = address
            domain = nil
        }
    }

    /// Whether the local part is an RFC 822 dot-string (Postfix's quote_822_local would leave it
    /// unquoted). 8-bit characters are allowed, as Postfix leaves them alone.
    static func isDotString(_ local: String) -> Bool {
        let bytes = Array(local.utf8)
        guard let first = bytes.first, first != UInt8(ascii: "."), bytes.last != UInt8(ascii: ".") else { return false }
        var previous: UInt8 = 0
        for byte in bytes {
            if byte == UInt8(ascii: ".") && previous == UInt8(ascii: ".") { return false }
            if byte == UInt8(ascii: " ") || byte < 32 || byte == 127 { return false }
            if "()<>@,;:\\\"[]".utf8.contains(byte) { return false }
            previous = byte
        }
        return true
    }

    /// Postfix's rewrite_tree() for an address that now has a domain: strip a source route,
    /// append `.$mydomain` to a dotless domain when `append_dot_mydomain`, strip one trailing dot.
    func withRewrite(_ settings: RoutingSettings) -> AddressParts {
        var result = self
        if result.local.hasPrefix("@"), let colon = result.local.firstIndex(of: ":") {
            result.local = String(result.local[result.local.index(after: colon)...])
        }
        if var domain = result.domain {
            if settings.appendDotMydomain, !domain.isEmpty, !domain.hasPrefix("["), !domain.contains("."), !settings.mydomain.isEmpty {
                domain += "." + settings.mydomain
            }
            if domain.hasSuffix("."), domain.count > 1, !domain.hasSuffix("..") { domain.removeLast() }
            result.domain = domain
        }
        return result
    }

    /// `site!user` → `user@site` (first `!`).
    func bangSwapped(_ settings: RoutingSettings) -> AddressParts {
        guard let bang = local.firstIndex(of: "!") else { return self }
        return AddressParts(local: String(local[local.index(after: bang)...]), domain: String(local[..<bang])).withRewrite(settings)
    }
}

/// Recognising textual IP addresses without the network stack.
enum IPAddressText {
    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) && Int(part)! <= 255
        }
    }

    static func isIPv6(_ text: String) -> Bool {
        guard text.contains(":"), text.count <= 45 else { return false }
        var candidate = text
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            guard isIPv4(String(text[text.index(after: lastColon)...])) else { return false }
            candidate = String(text[...lastColon]) + "0:0"
        }
        let doubleColons = candidate.components(separatedBy: "::").count - 1
        guard doubleColons <= 1 else { return false }
        let groups = candidate.split(separator: ":", omittingEmptySubsequences: true)
        guard groups.allSatisfy({ $0.count <= 4 && $0.allSatisfy(\.isHexDigit) }) else { return false }
        return doubleColons == 1 ? groups.count < 8 : groups.count == 8
    }
}

extension String {
    fileprivate func components(separatedBy separator: String) -> [Substring] {
        var parts: [Substring] = []
        var rest = self[...]
        while let range = rest.range(of: separator) {
            parts.append(rest[..<range.lowerBound])
            rest = rest[range.upperBound...]
        }
        parts.append(rest)
        return parts
    }
}

extension Substring {
    fileprivate func range(of needle: String) -> Range<Index>? {
        guard !needle.isEmpty, count >= needle.count else { return nil }
        var index = startIndex
        while index < endIndex {
            if self[index...].hasPrefix(needle) { return index..<self.index(index, offsetBy: needle.count) }
            index = self.index(after: index)
        }
        return nil
    }
}
