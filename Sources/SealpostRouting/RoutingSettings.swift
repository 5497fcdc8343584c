#if canImport(Glibc)
import Glibc
#endif
import SealpostConfig

/// What Postfix's trivial-rewrite needs from the configuration, typed and with its lists and
/// tables opened.
public struct RoutingSettings: Sendable {
    public var myhostname: String
    public var mydomain: String
    public var myorigin: String
    /// `mydestination`: domains delivered locally.
    public var localDomains: MatchList
    /// The addresses of `inet_interfaces` and `proxy_interfaces`: `user@[address]` for one of them
    /// is local too.
    public var ownAddresses: Set<String>
    public var virtualAliasDomains: MatchList
    public var virtualMailboxDomains: MatchList
    public var relayDomains: MatchList
    public var swapBangPath: Bool
    public var percentHack: Bool
    public var appendAtMyorigin: Bool
    public var appendDotMydomain: Bool
    public var resolveDequotedAddress: Bool
    public var resolveNullDomain: Bool
    public var resolveNumericDomain: Bool
    public var allowMinUser: Bool
    public var showUnknownTableName: Bool
    public var emptyAddressRecipient: String
    public var localTransport: String
    public var virtualTransport: String
    public var relayTransport: String
    public var defaultTransport: String
    /// `relayhost`, the next hop for everything not local, virtual or explicitly routed.
    public var relayhost: String
    public var transportMaps: TableList?
    /// Whether `transport_maps` lookups try `parent` rather than `.parent` for subdomains.
    public var transportParentMatches: Bool

    /// Reads the settings from a service's (or main.cf's) configuration.
    public init(_ configuration: ServiceConfiguration, host: HostFacts) throws(MatchListError) {
        let parentStyle = Set(configuration.list("parent_domain_matches_subdomains"))
        func list(_ name: String, _ style: MatchList.Style) throws(MatchListError) -> MatchList {
            try MatchList(parameter: name, value: configuration.list(name).joined(separator: ", "), style: style)
        }
        myhostname = configuration.string("myhostname")
        mydomain = configuration.string("mydomain")
        myorigin = configuration.string("myorigin")
        localDomains = try list("mydestination", .exact)
        virtualAliasDomains = try list("virtual_alias_domains", .exact)
        virtualMailboxDomains = try list("virtual_mailbox_domains", .exact)
        relayDomains = try list("relay_domains", .domain(parentMatchesSubdomains: parentStyle.contains("relay_domains")))
        ownAddresses = Self.addresses(of: configuration.list("inet_interfaces"), host: host)
            .union(Self.addresses(of: configuration.list("proxy_interfaces"), host: host))
        swapBangPath = configuration.bool("swap_bangpath")
        percentHack = configuration.bool("allow_percent_hack")
        appendAtMyorigin = configuration.bool("append_at_myorigin")
        appendDotMydomain = configuration.bool("append_dot_mydomain")
        resolveDequotedAddress = configuration.bool("resolve_dequoted_address")
        resolveNullDomain = configuration.bool("resolve_null_domain")
        resolveNumericDomain = configuration.bool("resolve_numeric_domain")
        allowMinUser = configuration.bool("allow_min_user")
        showUnknownTableName = configuration.bool("show_user_unknown_table_name")
        emptyAddressRecipient = configuration.string("empty_address_recipient")
        localTransport = configuration.string("local_transport")
        virtualTransport = configuration.string("virtual_transport")
        relayTransport = configuration.string("relay_transport")
        defaultTransport = configuration.string("default_transport")
        relayhost = configuration.list("relayhost").first ?? ""
        let transportTables = configuration.tables("transport_maps")
        if transportTables.isEmpty {
            transportMaps = nil
        } else {
            do {
                transportMaps = TableList(try transportTables.map { try $0.open() })
            } catch {
                throw MatchListError(parameter: "transport_maps", message: "\(error)")
            }
        }
        transportParentMatches = parentStyle.contains("transport_maps")
    }

    /// The interface addresses a list such as `inet_interfaces` stands for: `all` is every address
    /// of the host, `loopback-only` the loopback ones; names and addresses otherwise.
    static func addresses(of interfaces: [String], host: HostFacts) -> Set<String> {
        var result: Set<String> = []
        for interface in interfaces.map({ $0.lowercased() }) {
            switch interface {
            case "all":
                result.formUnion(host.interfaceAddresses.map(\.address))
            case "loopback-only":
                result.formUnion(["127.0.0.1", "::1"])
            default:
                let bare = interface.hasPrefix("[") && interface.hasSuffix("]") ? String(interface.dropFirst().dropLast()) : interface
                result.formUnion(resolvedAddresses(bare))
            }
        }
        return Set(result.map { $0.lowercased() })
    }

    private static func resolvedAddresses(_ name: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var head: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &head) == 0, let first = head else { return [name] }
        defer { freeaddrinfo(head) }
        var result: [String] = []
        for entry in sequence(first: first, next: { $0.pointee.ai_next }) {
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 {
                result.append(String(cString: text))
            }
        }
        return result
    }
}
