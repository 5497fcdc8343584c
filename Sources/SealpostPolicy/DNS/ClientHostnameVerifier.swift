/// The client name lookup smtpd does when a client connects (smtpd_peer.c,
/// `smtpd_peer_sockaddr_to_hostname()`): the PTR name, then a forward lookup that must list the
/// client address, else the verified name is `unknown`.
public struct ClientHostnameVerifier: Sendable {
    public let resolver: any PolicyDNSResolver
    /// `smtpd_peername_lookup`: with `no`, both names are `unknown` (a permanent failure).
    public var lookupEnabled: Bool

    public init(resolver: any PolicyDNSResolver, lookupEnabled: Bool = true) {
        self.resolver = resolver
        self.lookupEnabled = lookupEnabled
    }

    /// The client's identity, and the warnings Postfix logs for names that do not verify
    /// ("hostname x does not resolve to address y").
    public func identify(address: String, port: String = "0") async -> (client: ClientIdentity, warnings: [PolicyLogRecord]) {
        guard lookupEnabled else { return (ClientIdentity(address: address, port: port), []) }
        let name: String
        switch await resolver.hostname(forAddress: address) {
        case .temporaryFailure:
            return (ClientIdentity(address: address, port: port, nameStatus: .temporaryFailure), [])
        case .notFound, .found([]):
            return (ClientIdentity(address: address, port: port, nameStatus: .permanentFailure), [])
        case .found(let names):
            // myaddrinfo.c, sockaddr_to_hostname(): numeric and malformed names are refused.
            if HostnameSyntax.isValidHostAddress(names[0]) {
                return (
                    ClientIdentity(address: address, port: port, nameStatus: .permanentFailure),
                    [PolicyLogRecord(level: .warning, message: "numeric hostname: \(names[0])")]
                )
            }
            guard HostnameSyntax.isValidHostname(names[0]) else {
                return (ClientIdentity(address: address, port: port, nameStatus: .permanentFailure), [])
            }
            name = names[0]
        }
        let unverified = { (status: ClientNameStatus) in
            ClientIdentity(
                address: address, port: port, name: "unknown", nameStatus: status, reverseName: name, reverseNameStatus: .ok)
        }
        switch await resolver.addresses(forHostname: name) {
        case .temporaryFailure:
            return (
                unverified(.temporaryFailure),
                [PolicyLogRecord(level: .warning, message: "hostname \(name) does not resolve to address \(address): Temporary failure in name resolution")]
            )
        case .notFound:
            return (
                unverified(.forged),
                [PolicyLogRecord(level: .warning, message: "hostname \(name) does not resolve to address \(address): Name or service not known")]
            )
        case .found(let addresses):
            let wanted = IPNetwork.addressBytes(address)
            if addresses.contains(where: { IPNetwork.addressBytes($0) == wanted }) {
                return (ClientIdentity(address: address, port: port, name: name, nameStatus: .ok), [])
            }
            return (
                unverified(.forged),
                [PolicyLogRecord(level: .warning, message: "hostname \(name) does not resolve to address \(address)")]
            )
        }
    }
}
