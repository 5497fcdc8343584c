/// The DNS record types the restrictions ask about.
public enum DNSRecordType: UInt16, Sendable, Hashable, CaseIterable {
    case a = 1
    case ptr = 12
    case mx = 15
    case txt = 16
    case aaaa = 28
}

/// The answer to one DNS question, in Postfix's terms (dns.h: DNS_OK, DNS_NOTFOUND, DNS_NULLMX,
/// DNS_INVAL, DNS_RETRY, DNS_FAIL).
public enum DNSLookupResult: Sendable, Hashable {
    /// Records of the type: addresses in text form for A/AAAA, host names for MX (most preferred
    /// first) and PTR, strings for TXT.
    case found([String])
    /// The name does not exist, or has no record of the type (NXDOMAIN or NODATA).
    case notFound
    /// An MX record with the root as exchange: the domain accepts no mail (RFC 7505).
    case nullMX
    /// The reply was malformed, or a record held an invalid name.
    case malformed
    /// The lookup failed and may work later (SERVFAIL, timeout, no server reachable).
    case temporaryFailure
    /// The lookup failed and will not work (REFUSED, FORMERR, NOTIMP).
    case permanentFailure
}

/// The outcome of a lookup that goes through the system's name service (getnameinfo(3),
/// getaddrinfo(3): `/etc/hosts` first, then DNS), as Postfix's client name check uses it.
public enum NameServiceResult: Sendable, Hashable {
    /// Names (for an address) or addresses in text form (for a name).
    case found([String])
    case notFound
    case temporaryFailure
}

/// The DNS questions of the access restrictions. ``SystemDNSResolver`` asks the system's
/// resolver; tests supply a table of answers.
public protocol PolicyDNSResolver: Sendable {
    /// The records of one type for a name (an absolute name; no search domains).
    func lookup(_ name: String, type: DNSRecordType) async -> DNSLookupResult

    /// The host name of an address (PTR, or `/etc/hosts`), as getnameinfo(NI_NAMEREQD) gives it.
    func hostname(forAddress address: String) async -> NameServiceResult

    /// The addresses of a host name, as getaddrinfo() gives them.
    func addresses(forHostname name: String) async -> NameServiceResult
}

// dns_lookup.c, dns_lookup_rl(): the answer when several types are asked in order. Lookups stop
// at the first result named in `stopAt`; otherwise the "highest" status of all wins, in dns.h's
// order DNS_OK > DNS_POLICY > DNS_RETRY > DNS_INVAL > DNS_FAIL > DNS_NULLMX > DNS_NOTFOUND.
extension PolicyDNSResolver {
    func lookup(_ name: String, types: [DNSRecordType], stopAt: Set<DNSStop>) async -> DNSLookupResult {
        var best: DNSLookupResult?
        var status = DNSLookupResult.notFound
        for (index, type) in types.enumerated() {
            status = await lookup(name, type: type)
            switch status {
            case .found where stopAt.contains(.found): return status
            case .malformed where stopAt.contains(.malformed): return status
            case .nullMX where stopAt.contains(.nullMX): return status
            default: break
            }
            if index == types.count - 1 { break }
            if best == nil || status.rank >= best!.rank { best = status }
        }
        if let best, status.rank < best.rank { return best }
        return status
    }
}

/// Which results end a multi-type lookup early (DNS_REQ_FLAG_STOP_*).
enum DNSStop: Sendable, Hashable {
    case found, malformed, nullMX
}

extension DNSLookupResult {
    /// dns.h's numeric order of the statuses.
    fileprivate var rank: Int {
        switch self {
        case .found: 0
        case .temporaryFailure: -2
        case .malformed: -3
        case .permanentFailure: -4
        case .nullMX: -5
        case .notFound: -6
        }
    }
}
