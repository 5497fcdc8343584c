#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SealpostConfig
import SealpostRouting

/// The reply codes of the restrictions, from their parameters (mail_params.h defaults).
public struct PolicyReplyCodes: Sendable, Hashable {
    public var reject = 554
    public var deferAll = 450
    public var accessMapReject = 554
    public var accessMapDefer = 450
    public var relayDomainsReject = 554
    public var unknownClient = 450
    public var unknownHostname = 450
    public var unknownAddress = 450
    public var invalidHostname = 501
    public var nonFQDN = 504
    public var unknownLocalRecipient = 550
    public var unknownVirtualAlias = 550
    public var unknownVirtualMailbox = 550
    public var unknownRelayRecipient = 550
    public var plaintext = 450
    public var multiRecipientBounce = 550

    public init() {}
}

/// Everything the restrictions read from the configuration, converted and with every table and
/// list opened.
struct PolicySettings: Sendable {
    var codes = PolicyReplyCodes()
    var delayReject = true
    var relayBeforeRecipientRestrictions = true
    var rejectUnlistedRecipient = true
    var rejectUnlistedSender = false
    var skipUnknownRecipientChecks = false
    var softBounce = false
    var showUnknownTableName = true
    var allowUntrustedRouting = false
    var smtputf8Enable = true
    var nullAccessKey = "<>"
    /// unknown_helo_hostname_tempfail_action / unknown_address_tempfail_action: true for
    /// defer_if_permit, false for defer.
    var unknownHeloTempfailDefersIfPermit = true
    var unknownAddressTempfailDefersIfPermit = true
    var mailName = "Sealpost"
    var myhostname = "localhost"
    var doubleBounceSender = "double-bounce"
    var saslEnabled = false
    var tlsAskClientCertificate = false
    var clientPortLogging = false
    /// info_log_address_format = external: addresses in log lines are quoted as in SMTP.
    var logExternalAddressForm = true
    var rejectFooter = ""
    var rejectFooterMaps: TableList?
    var expansionFilter = MacroExpansion.defaultFilter
    var logPermitActions: MatchList?

    var mynetworks: ClientMatchList
    /// The addresses of `inet_interfaces` (permit_inet_interfaces).
    var interfaceAddresses: Set<[UInt8]>
    var relayDomains: MatchList
    var resolver: AddressResolver
    var rewrite: AddressForms.RewriteSettings
    var keys: AddressKeys
    var parentDomainMatchesSubdomains: Bool

    var localRecipientMaps: TableList?
    var virtualAliasMaps: TableList?
    var virtualMailboxMaps: TableList?
    var relayRecipientMaps: TableList?
    var canonicalMaps: TableList?
    var recipientCanonicalMaps: TableList?
    var senderCanonicalMaps: TableList?
    var relayClientCertificates: TableList?
    var senderLoginMaps: TableList

    var clientRestrictions: [RestrictionItem] = []
    var heloRestrictions: [RestrictionItem] = []
    var senderRestrictions: [RestrictionItem] = []
    var relayRestrictions: [RestrictionItem] = []
    var recipientRestrictions: [RestrictionItem] = []
    var dataRestrictions: [RestrictionItem] = []
    var endOfDataRestrictions: [RestrictionItem] = []
    var etrnRestrictions: [RestrictionItem] = []
    var classes: [String: [RestrictionItem]] = [:]

    /// The address search used by recipient tables and sender login maps.
    var addressSearch: AddressTableSearch {
        let resolver = self.resolver
        return AddressTableSearch(keys: keys, myorigin: rewrite.myorigin, isLocalDomain: { try resolver.isLocal($0) })
    }
}

extension PolicySettings {
    /// Reads and checks the settings; `location` says where a parameter is set, for errors.
    init(
        _ configuration: ServiceConfiguration, host: HostFacts, options: TableOptions,
        location: (String) -> SourceLocation?
    ) throws(PolicyConfigurationError) {
        func fail(_ error: PolicyConfigurationError) -> PolicyConfigurationError {
            var error = error
            if error.location == nil { error.location = location(error.parameter) }
            return error
        }
        // Parameters Sealpost does not catalogue: their Postfix 3.7 default, or main.cf's value.
        func uncatalogued(_ name: String) -> String {
            configuration.scope.expanded(name)?.value ?? ""
        }
        // Reply codes are checked when a reply is made, as in Postfix (smtpd_check_reject()).
        let code = configuration.integer

        let parentStyle = Set(configuration.list("parent_domain_matches_subdomains"))
        var tableCache: [String: TableList] = [:]
        // The alias tables inside local_recipient_maps (`$alias_maps`) are postalias(1) sources
        // (`name: value`), as the local delivery agent reads them.
        let aliasTables = Set(configuration.tables("alias_maps").map(\.description))
        func tables(_ name: String) throws(PolicyConfigurationError) -> TableList? {
            let references = configuration.tables(name)
            guard !references.isEmpty else { return nil }
            var opened: [any LookupTable] = []
            for reference in references {
                let isAliasTable = name == "local_recipient_maps" && aliasTables.contains(reference.description)
                let cacheKey = (isAliasTable ? "alias " : "") + reference.description
                if let cached = tableCache[cacheKey] {
                    opened += cached.tables
                    continue
                }
                do {
                    var tableOptions = options
                    tableOptions.aliasFileFormat = isAliasTable
                    let table = try reference.open(tableOptions)
                    tableCache[cacheKey] = TableList([table])
                    opened.append(table)
                } catch {
                    throw fail(PolicyConfigurationError(parameter: name, value: reference.description, "cannot open table: \(error)"))
                }
            }
            return TableList(opened)
        }

        let routing: RoutingSettings
        do {
            routing = try RoutingSettings(configuration, host: host)
        } catch {
            throw fail(PolicyConfigurationError(parameter: error.parameter, error.message))
        }

        do {
            mynetworks = try ClientMatchList(
                parameter: "mynetworks", words: configuration.list("mynetworks"),
                parentMatchesSubdomains: parentStyle.contains("mynetworks"), options: options)
        } catch {
            throw fail(error)
        }
        interfaceAddresses = Set(Self.interfaceAddresses(configuration.list("inet_interfaces"), host: host).compactMap(IPNetwork.addressBytes))
        relayDomains = routing.relayDomains
        resolver = AddressResolver(settings: routing)
        rewrite = AddressForms.RewriteSettings(
            myorigin: configuration.string("myorigin"), mydomain: configuration.string("mydomain"),
            swapBangPath: configuration.bool("swap_bangpath"), percentHack: configuration.bool("allow_percent_hack"),
            appendAtMyorigin: configuration.bool("append_at_myorigin"), appendDotMydomain: configuration.bool("append_dot_mydomain"))
        parentDomainMatchesSubdomains = parentStyle.contains("smtpd_access_maps")
        doubleBounceSender = configuration.string("double_bounce_sender")
        keys = AddressKeys(
            recipientDelimiter: configuration.string("recipient_delimiter"),
            ownerRequestSpecial: configuration.bool("owner_request_special"),
            doubleBounceSender: doubleBounceSender, parentDomainMatchesSubdomains: parentDomainMatchesSubdomains)

        localRecipientMaps = try tables("local_recipient_maps")
        virtualAliasMaps = try tables("virtual_alias_maps")
        virtualMailboxMaps = try tables("virtual_mailbox_maps")
        relayRecipientMaps = try tables("relay_recipient_maps")
        canonicalMaps = try tables("canonical_maps")
        recipientCanonicalMaps = try tables("recipient_canonical_maps")
        senderCanonicalMaps = try tables("sender_canonical_maps")
        relayClientCertificates = try tables("relay_clientcerts")
        senderLoginMaps = try tables("smtpd_sender_login_maps") ?? TableList([])
        rejectFooterMaps = try tables("smtpd_reject_footer_maps")

        codes.reject = code("reject_code")
        codes.deferAll = code("defer_code")
        codes.accessMapReject = code("access_map_reject_code")
        codes.accessMapDefer = code("access_map_defer_code")
        codes.relayDomainsReject = code("relay_domains_reject_code")
        codes.unknownClient = code("unknown_client_reject_code")
        codes.unknownHostname = code("unknown_hostname_reject_code")
        codes.unknownAddress = code("unknown_address_reject_code")
        codes.invalidHostname = code("invalid_hostname_reject_code")
        codes.nonFQDN = code("non_fqdn_reject_code")
        codes.unknownLocalRecipient = code("unknown_local_recipient_reject_code")
        codes.unknownVirtualAlias = code("unknown_virtual_alias_reject_code")
        codes.unknownVirtualMailbox = code("unknown_virtual_mailbox_reject_code")
        codes.unknownRelayRecipient = code("unknown_relay_recipient_reject_code")
        codes.plaintext = code("plaintext_reject_code")
        codes.multiRecipientBounce = code("multi_recipient_bounce_reject_code")

        delayReject = configuration.bool("smtpd_delay_reject")
        relayBeforeRecipientRestrictions = configuration.bool("smtpd_relay_before_recipient_restrictions")
        rejectUnlistedRecipient = configuration.bool("smtpd_reject_unlisted_recipient")
        rejectUnlistedSender = configuration.bool("smtpd_reject_unlisted_sender")
        softBounce = configuration.bool("soft_bounce")
        showUnknownTableName = configuration.bool("show_user_unknown_table_name")
        allowUntrustedRouting = configuration.bool("allow_untrusted_routing")
        smtputf8Enable = configuration.bool("smtputf8_enable")
        mailName = configuration.string("mail_name")
        myhostname = configuration.string("myhostname")
        saslEnabled = configuration.bool("smtpd_sasl_auth_enable")
        tlsAskClientCertificate = configuration.bool("smtpd_tls_ask_ccert")
        clientPortLogging = configuration.bool("smtpd_client_port_logging")
        // smtpd.c raw_table[]: smtpd_reject_footer and smtpd_expansion_filter are not $-expanded
        // when read; the footer's $names are expanded for each reply.
        rejectFooter = configuration.scope.raw("smtpd_reject_footer")?.value ?? ""
        nullAccessKey = uncatalogued("smtpd_null_access_lookup_key")
        let overrides = PostfixList.split(uncatalogued("receive_override_options")).map { $0.lowercased() }
        skipUnknownRecipientChecks = overrides.contains("no_unknown_recipient_checks")
        if let filter = configuration.scope.raw("smtpd_expansion_filter")?.value {
            expansionFilter = Set(Self.unescape(filter))
        }
        for (parameter, keyPath) in [
            ("unknown_helo_hostname_tempfail_action", \PolicySettings.unknownHeloTempfailDefersIfPermit),
            ("unknown_address_tempfail_action", \PolicySettings.unknownAddressTempfailDefersIfPermit),
        ] {
            switch uncatalogued(parameter).lowercased() {
            case "defer_if_permit": self[keyPath: keyPath] = true
            case "defer": self[keyPath: keyPath] = false
            case let value:
                throw fail(PolicyConfigurationError(parameter: parameter, value: value, "bad configuration: \(parameter) = \(value); expected defer_if_permit or defer"))
            }
        }
        switch uncatalogued("info_log_address_format").lowercased() {
        case "external": logExternalAddressForm = true
        case "internal": logExternalAddressForm = false
        case let value:
            throw fail(PolicyConfigurationError(
                parameter: "info_log_address_format", value: value,
                "invalid parameter setting \"info_log_address_format = \(value)\"; expected external or internal"))
        }
        let permitActions = configuration.list("smtpd_log_access_permit_actions")
        if !permitActions.isEmpty {
            do {
                logPermitActions = try MatchList(
                    parameter: "smtpd_log_access_permit_actions", value: permitActions.joined(separator: ", "), style: .exact,
                    options: options)
            } catch {
                throw fail(PolicyConfigurationError(parameter: error.parameter, error.message))
            }
        }
    }

    /// The addresses an `inet_interfaces` value stands for: `all` is every address of the host,
    /// `loopback-only` the loopback addresses; names are looked up.
    static func interfaceAddresses(_ interfaces: [String], host: HostFacts) -> [String] {
        var result: [String] = []
        for interface in interfaces.map({ $0.lowercased() }) {
            switch interface {
            case "all":
                result += host.interfaceAddresses.map(\.address)
            case "loopback-only":
                result += ["127.0.0.1", "::1"]
            default:
                var bare = interface
                if bare.hasPrefix("[") && bare.hasSuffix("]") { bare = String(bare.dropFirst().dropLast()) }
                if IPNetwork.addressBytes(bare) != nil {
                    result.append(bare)
                } else {
                    result += resolvedAddresses(bare)
                }
            }
        }
        return result
    }

    private static func resolvedAddresses(_ name: String) -> [String] {
        var hints = addrinfo()
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var head: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &head) == 0, let first = head else { return [] }
        defer { freeaddrinfo(head) }
        var result: [String] = []
        for entry in sequence(first: first, next: { $0.pointee.ai_next }) {
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 {
                result.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
        }
        return result
    }

    // Postfix's unescape(): \a \b \f \n \r \t \v, \ddd octal, and \c for any other c.
    static func unescape(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        var result: [UInt8] = []
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count else {
                result.append(bytes[index])
                index += 1
                continue
            }
            let next = bytes[index + 1]
            index += 2
            switch next {
            case UInt8(ascii: "a"): result.append(7)
            case UInt8(ascii: "b"): result.append(8)
            case UInt8(ascii: "f"): result.append(12)
            case UInt8(ascii: "n"): result.append(10)
            case UInt8(ascii: "r"): result.append(13)
            case UInt8(ascii: "t"): result.append(9)
            case UInt8(ascii: "v"): result.append(11)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var value = Int(next - UInt8(ascii: "0"))
                var digits = 1
                while digits < 3, index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "7") {
                    value = value * 8 + Int(bytes[index] - UInt8(ascii: "0"))
                    index += 1
                    digits += 1
                }
                result.append(UInt8(truncatingIfNeeded: value))
            default: result.append(next)
            }
        }
        return result
    }
}
