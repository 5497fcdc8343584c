import SealpostConfig

/// `transport_maps` lookups as Postfix's transport(5) describes them.
enum TransportLookup {
    // Postfix, transport(5) and transport.c: the full address, the address without its
    // extension, the domain, then its parent domains (".parent", or "parent" when
    // parent_domain_matches_subdomains names transport_maps), then the "*" wildcard. Pattern
    // tables see the full address and the domain only.
    static func find(recipient: String, domain: String, in maps: TableList, parentMatches: Bool) throws -> String? {
        var keys: [LookupKey] = [LookupKey(recipient, isPartial: false)]
        if let at = recipient.lastIndex(of: "@"), let plus = recipient[..<at].firstIndex(of: "+") {
            keys.append(LookupKey(String(recipient[..<plus]) + String(recipient[at...]), isPartial: true))
        }
        keys.append(LookupKey(domain, isPartial: false))
        var rest = Substring(domain)
        while let dot = rest.dropFirst().firstIndex(of: ".") {
            rest = rest[dot...]
            keys.append(LookupKey(parentMatches ? String(rest.dropFirst()) : String(rest), isPartial: true))
        }
        keys.append(LookupKey("*", isPartial: true))
        return try maps.find(keys)?.value
    }

    // Postfix, transport.c update_entry(): ":nexthop" keeps the transport; "transport" or
    // "transport:" resets the next hop to the recipient domain ("Address is undeliverable" for
    // error and retry); "transport:nexthop" sets both.
    static func apply(_ entry: String, to current: (String, String), recipientDomain: String) -> (String, String) {
        let transport: String
        let nexthop: String
        if let colon = entry.firstIndex(of: ":") {
            transport = String(entry[..<colon])
            nexthop = String(entry[entry.index(after: colon)...])
        } else {
            transport = entry
            nexthop = ""
        }
        if transport.isEmpty {
            return (current.0, nexthop.isEmpty ? current.1 : nexthop)
        }
        if !nexthop.isEmpty { return (transport, nexthop) }
        if transport == "error" || transport == "retry" { return (transport, "Address is undeliverable") }
        return (transport, recipientDomain)
    }
}
