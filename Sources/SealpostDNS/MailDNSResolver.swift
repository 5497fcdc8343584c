/// The DNS questions of mail delivery: the mail exchangers of a domain and the addresses of a
/// host. ``StubResolver`` asks the name servers of resolv.conf over UDP and TCP; tests supply a
/// table of answers.
public protocol MailDNSResolver: Sendable {
    /// The MX records of `domain`, most preferred first; records of equal preference in random
    /// order (as Postfix's dns_rr_shuffle). A root exchange (`0 .`) is ``DNSAnswer/nullMX``.
    /// A domain without MX records is ``DNSAnswer/notFound``: the caller then decides on the
    /// implicit MX (RFC 5321 section 5.1), the domain's own addresses.
    func mailExchangers(of domain: String) async -> DNSAnswer<[MailExchanger]>

    /// The addresses of `host` in text form, of the given families in the order given
    /// (`inet_protocols`); a family without records contributes nothing.
    func addresses(of host: String, families: [AddressFamily]) async -> DNSAnswer<[String]>

    /// The TLSA records of a service, `_port._protocol.host` (RFC 6698), for DANE; only an
    /// `authenticated` answer may be used (RFC 7672 section 2.2).
    func tlsaRecords(port: UInt16, protocol: String, host: String) async -> DNSAnswer<[DNSTLSARecord]>
}

extension MailDNSResolver {
    /// A resolver that cannot look up TLSA records says so as a temporary failure: DANE must then
    /// defer rather than silently treat the destination as having no TLSA records.
    public func tlsaRecords(port: UInt16, protocol: String, host: String) async -> DNSAnswer<[DNSTLSARecord]> {
        .temporaryFailure("this resolver does not look up TLSA records")
    }
}

/// One MX record.
public struct MailExchanger: Sendable, Hashable {
    public var preference: UInt16
    /// The exchange's name, without the trailing dot.
    public var host: String

    public init(preference: UInt16, host: String) {
        self.preference = preference
        self.host = host
    }
}

public enum AddressFamily: String, Sendable, Hashable {
    case ipv4, ipv6
}

/// The outcome of one question, in Postfix's terms (dns.h: DNS_OK, DNS_NOTFOUND, DNS_NULLMX,
/// DNS_RETRY, DNS_FAIL).
public enum DNSAnswer<Records: Sendable & Hashable>: Sendable, Hashable {
    /// The records; `authenticated` when the server set the AD bit (a validating resolver said
    /// the answer is DNSSEC-secure — what DANE needs).
    case found(Records, authenticated: Bool)
    /// NXDOMAIN, or the name exists without records of the type (NODATA).
    case notFound
    /// An MX record with the root as exchange: the domain accepts no mail (RFC 7505).
    case nullMX
    /// SERVFAIL, a timeout, no server reachable: may work later. The text says which.
    case temporaryFailure(String)
    /// REFUSED, FORMERR, NOTIMP, a malformed answer or name: will not work. The text says which.
    case permanentFailure(String)
}
