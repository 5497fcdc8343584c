import SealpostConfig
import SealpostDNS
import SealpostRouting
import SealpostTLS

/// Which dialect the client speaks: SMTP (EHLO, one reply to the end of data) or LMTP (LHLO, one
/// reply per accepted recipient after the end of data, RFC 2033).
public enum MailClientProtocol: String, Sendable, Hashable {
    case smtp, lmtp

    /// The greeting command's name, as Postfix names it in its texts.
    var helloCommand: String { self == .smtp ? "EHLO" : "LHLO" }
}

/// The SMTP or LMTP client's settings from one transport's service configuration (`smtp`, `relay`,
/// `lmtp`, ...), read with the parameter prefix `smtp` or `lmtp` as Postfix's smtp(8) does.
///
/// Parameters Postfix knows but Sealpost's client does not act on are listed in ``startupNotes`` so
/// that start-up can say so instead of silently ignoring them.
public struct SMTPClientSettings: Sendable {
    /// Time limits for each stage of the dialogue (`smtp_*_timeout`), in seconds; 0 means none.
    public struct Timeouts: Sendable, Hashable {
        public var connect: Int
        public var helo: Int
        public var mail: Int
        public var rcpt: Int
        public var dataInit: Int
        public var dataTransfer: Int
        public var dataDone: Int
        public var rset: Int
        public var quit: Int
        public var startTLS: Int

        public init(
            connect: Int = 30, helo: Int = 300, mail: Int = 300, rcpt: Int = 300, dataInit: Int = 120,
            dataTransfer: Int = 180, dataDone: Int = 600, rset: Int = 20, quit: Int = 300, startTLS: Int = 300
        ) {
            self.connect = connect
            self.helo = helo
            self.mail = mail
            self.rcpt = rcpt
            self.dataInit = dataInit
            self.dataTransfer = dataTransfer
            self.dataDone = dataDone
            self.rset = rset
            self.quit = quit
            self.startTLS = startTLS
        }
    }

    /// SASL client settings (`smtp_sasl_*`).
    public struct SASL: Sendable {
        public var enabled: Bool
        public var passwordMaps: TableList?
        public var senderDependent: Bool
        /// `smtp_sasl_security_options` (without TLS) and `smtp_sasl_tls_security_options` (with TLS).
        public var plaintextOptions: [String]
        public var tlsOptions: [String]
        /// `smtp_sasl_mechanism_filter`, lowercased; empty allows every mechanism.
        public var mechanismFilter: [String]
        /// `smtp_sasl_auth_soft_bounce`: a rejected login defers instead of bouncing.
        public var softBounce: Bool
    }

    public var protocolKind: MailClientProtocol
    /// `smtp` or `lmtp`.
    public var prefix: String
    /// `smtp_helo_name` / `lmtp_lhlo_name`.
    public var heloName: String
    /// `myhostname`, for "mail for x loops back to myself".
    public var myHostname: String
    public var timeouts: Timeouts
    /// The TLS engine's settings (levels, protocols, ciphers, verification, session cache).
    public var tls: TLSClientSettings
    /// `smtp_tls_policy_maps`.
    public var tlsPolicy: SMTPTLSPolicyTable?
    /// `smtp_tls_wrappermode`: TLS from the first byte (port 465) instead of STARTTLS.
    public var tlsWrapperMode: Bool
    /// `smtp_tls_note_starttls_offer`.
    public var noteStartTLSOffer: Bool
    public var sasl: SASL
    /// `smtp_connection_cache_on_demand`: keep a connection open after delivery for the next
    /// request to the same destination.
    public var connectionCacheOnDemand: Bool
    /// `smtp_connection_cache_time_limit`: how long an idle connection is kept.
    public var connectionCacheTimeLimit: Int
    /// `smtp_connection_reuse_time_limit`: how long one connection is used for new deliveries.
    public var connectionReuseTimeLimit: Int
    /// `smtp_connection_reuse_count_limit`: 0 means no limit.
    public var connectionReuseCountLimit: Int
    /// `inet_protocols` as address families, in `smtp_address_preference` order.
    public var addressFamilies: [AddressFamily]
    /// `smtp_skip_5xx_greeting`: a 5xx greeting moves on to the next server instead of bouncing.
    public var skip5xxGreeting: Bool
    /// `smtp_mx_address_limit`, `smtp_mx_session_limit`: 0 means no limit.
    public var mxAddressLimit: Int
    public var mxSessionLimit: Int
    /// `smtp_line_length_limit`: longer lines are folded with CR LF SPACE; 0 means no folding.
    public var lineLengthLimit: Int
    /// `smtp_never_send_ehlo` (HELO only) and `smtp_always_send_ehlo` (EHLO even without ESMTP in the greeting).
    public var neverSendEHLO: Bool
    public var alwaysSendEHLO: Bool
    /// `smtp_bind_address`: the local address of outgoing connections; empty lets the system choose.
    public var bindAddress: String
    /// `smtp_tcp_port` / `lmtp_tcp_port`: the port when the next hop names none.
    public var defaultPort: Int
    /// `minimal_backoff_time`: at `may`, a failed handshake is retried in plaintext only for a
    /// message that has waited at least this long (Postfix's PREACTIVE_DELAY test), so that a
    /// server with a passing TLS problem is not given mail in clear at once.
    public var minimalBackoffTime: Int
    /// `lmtp_assume_final`: an LMTP server's 250 after the dot is final delivery (DSN action
    /// `delivered`) even when it does not announce DSN.
    public var assumeFinal: Bool
    /// The addresses of `inet_interfaces` and `proxy_interfaces`: a server at one of them is
    /// ourselves ("mail for x loops back to myself"). Empty turns the check off.
    public var ownAddresses: Set<String>
    /// Parameters that are set but have no effect in Sealpost's client, one sentence each.
    public var startupNotes: [String]

    /// Reads the settings of the client whose parameters start with `prefix` (`smtp` or `lmtp`);
    /// `host` gives the interface addresses behind `inet_interfaces = all` for the loop check
    /// (nil leaves ``ownAddresses`` empty).
    public init(_ configuration: ServiceConfiguration, prefix: String = "smtp", host: HostFacts? = nil) throws(SMTPClientConfigurationError) {
        self.prefix = prefix
        protocolKind = prefix == "lmtp" ? .lmtp : .smtp
        let names = ParameterNames(configuration: configuration, prefix: prefix)
        var notes: [String] = []

        heloName = configuration.string(protocolKind == .lmtp ? "lmtp_lhlo_name" : "\(prefix)_helo_name")
        myHostname = configuration.string("myhostname")
        timeouts = Timeouts(
            connect: names.seconds("connect_timeout", default: 30),
            helo: names.seconds(protocolKind == .lmtp ? "lhlo_timeout" : "helo_timeout", default: 300),
            mail: names.seconds("mail_timeout", default: 300),
            rcpt: names.seconds("rcpt_timeout", default: 300),
            dataInit: names.seconds("data_init_timeout", default: 120),
            dataTransfer: names.seconds("data_xfer_timeout", default: 180),
            dataDone: names.seconds("data_done_timeout", default: 600),
            rset: names.seconds("rset_timeout", default: 20),
            quit: names.seconds("quit_timeout", default: 300),
            startTLS: names.seconds("starttls_timeout", default: 300))

        do {
            tls = try TLSClientSettings(configuration, prefix: prefix)
        } catch {
            throw SMTPClientConfigurationError(parameter: error.parameter, reason: error.reason)
        }
        for warning in tls.warnings { notes.append("\(warning)") }
        tlsPolicy = try names.tables("tls_policy_maps").map { SMTPTLSPolicyTable(tables: $0, parameter: "\(prefix)_tls_policy_maps") }
        tlsWrapperMode = names.bool("tls_wrappermode", default: false)
        noteStartTLSOffer = names.bool("tls_note_starttls_offer", default: false)

        sasl = SASL(
            enabled: names.bool("sasl_auth_enable", default: false),
            passwordMaps: try names.tables("sasl_password_maps"),
            senderDependent: names.bool("sender_dependent_authentication", default: false),
            plaintextOptions: names.list("sasl_security_options", default: ["noplaintext", "noanonymous"]).map { $0.lowercased() },
            tlsOptions: names.list("sasl_tls_security_options", default: ["noplaintext", "noanonymous"]).map { $0.lowercased() },
            mechanismFilter: names.list("sasl_mechanism_filter", default: []).map { $0.lowercased() },
            softBounce: names.bool("sasl_auth_soft_bounce", default: true))
        if sasl.enabled && sasl.passwordMaps == nil {
            notes.append("\(prefix)_sasl_auth_enable = yes without \(prefix)_sasl_password_maps: no credentials to send")
        }

        connectionCacheOnDemand = names.bool("connection_cache_on_demand", default: true)
        connectionCacheTimeLimit = names.seconds("connection_cache_time_limit", default: 2)
        connectionReuseTimeLimit = names.seconds("connection_reuse_time_limit", default: 300)
        connectionReuseCountLimit = names.integer("connection_reuse_count_limit", default: 0)

        addressFamilies = Self.families(
            inetProtocols: configuration.list("inet_protocols").map { $0.lowercased() },
            preference: names.string("address_preference", default: "any"))
        skip5xxGreeting = names.bool("skip_5xx_greeting", default: true)
        mxAddressLimit = names.integer("mx_address_limit", default: 5)
        mxSessionLimit = names.integer("mx_session_limit", default: 2)
        lineLengthLimit = names.integer("line_length_limit", default: 998)
        neverSendEHLO = names.bool("never_send_ehlo", default: false)
        alwaysSendEHLO = names.bool("always_send_ehlo", default: true)
        bindAddress = names.string("bind_address", default: "")
        let portText = names.string("tcp_port", default: protocolKind == .lmtp ? "24" : "smtp")
        defaultPort = Self.port(portText) ?? (protocolKind == .lmtp ? 24 : 25)
        assumeFinal = protocolKind == .lmtp && configuration.bool("lmtp_assume_final")
        minimalBackoffTime = configuration.seconds("minimal_backoff_time")

        if let host {
            ownAddresses = (try? RoutingSettings(configuration, host: host))?.ownAddresses ?? []
        } else {
            ownAddresses = []
        }

        // Accepted for compatibility, without effect: said once at start-up.
        // Postfix enables these for servers it takes for a Cisco PIX; Sealpost has none to apply.
        if protocolKind == .smtp, Self.isSetByAdministrator("\(prefix)_pix_workarounds", in: configuration) {
            notes.append("\(prefix)_pix_workarounds: PIX firewall workarounds are not implemented; Sealpost sends as if none were needed")
        }
        for name in ["bind_address6", "generic_maps", "discard_ehlo_keywords", "discard_ehlo_keyword_address_maps", "fallback_relay",
                     "tls_per_site", "tls_block_early_mail_reply"]
        where names.isSetDifferently(name, from: "") {
            notes.append("\(prefix)_\(name) is set but not implemented by Sealpost's \(prefix) client; it has no effect")
        }
        if names.bool("tls_connection_reuse", default: false) {
            notes.append("\(prefix)_tls_connection_reuse: Sealpost reuses TLS connections in process (no tlsproxy); the parameter has no further effect")
        }
        if tls.defaultLevel.isDANEBased {
            notes.append("\(prefix)_tls_security_level = \(tls.defaultLevel.name): Sealpost's client does not look up TLSA records yet; "
                + "dane acts as encrypt and dane-only defers")
        }
        if connectionCacheOnDemand, Self.isSetByAdministrator("\(prefix)_connection_cache_on_demand", in: configuration) {
            notes.append("\(prefix)_connection_cache_on_demand: Sealpost keeps every connection for \(connectionCacheTimeLimit)s after delivery, not only for destinations with a backlog")
        }
        startupNotes = notes
    }

    /// Whether main.cf or the service's `-o` sets the parameter (a default the administrator never
    /// chose is not worth a start-up note).
    static func isSetByAdministrator(_ name: String, in configuration: ServiceConfiguration) -> Bool {
        switch configuration.scope.raw(name)?.source {
        case .mainConf?, .serviceOverride?: true
        default: false
        }
    }

    /// `inet_protocols` (`all`, `ipv4`, `ipv6`) ordered by `smtp_address_preference`.
    static func families(inetProtocols: [String], preference: String) -> [AddressFamily] {
        var families: [AddressFamily] = []
        if inetProtocols.contains("all") || inetProtocols.contains("ipv4") { families.append(.ipv4) }
        if inetProtocols.contains("all") || inetProtocols.contains("ipv6") { families.append(.ipv6) }
        if families.isEmpty { families = [.ipv4] }
        if preference == "ipv6" { families.sort { a, _ in a == .ipv6 } }
        return families
    }

    /// A port number or one of the service names mail uses.
    static func port(_ text: String) -> Int? {
        if let number = Int(text), (1...65535).contains(number) { return number }
        switch text.lowercased() {
        case "smtp": return 25
        case "lmtp": return 24
        case "submission": return 587
        case "smtps", "submissions": return 465
        default: return nil
        }
    }
}

/// A client setting that stops start-up: the parameter and why.
public struct SMTPClientConfigurationError: Error, Sendable, CustomStringConvertible {
    public var parameter: String
    public var reason: String

    public init(parameter: String, reason: String) {
        self.parameter = parameter
        self.reason = reason
    }

    public var description: String { parameter.isEmpty ? reason : "\(parameter): \(reason)" }
}

/// Reads `prefix_name` parameters, with Postfix's default when the name is not catalogued (the
/// catalogue lacks some `lmtp_*` twins of `smtp_*` parameters). An LMTP client never reads an
/// `smtp_*` value: `smtp_tls_wrappermode` for a relay host must not turn on TLS for Dovecot.
private struct ParameterNames {
    let configuration: ServiceConfiguration
    let prefix: String

    func name(_ base: String) -> String? {
        let candidate = "\(prefix)_\(base)"
        return configuration.values[candidate] != nil ? candidate : nil
    }

    func isSetDifferently(_ base: String, from value: String) -> Bool {
        guard let name = name(base) else { return false }
        switch configuration[name] {
        case .string(let text), .choice(let text): return text != value
        case .list(let items): return items.joined(separator: ",") != value
        case .tables(let tables): return !tables.isEmpty
        case .boolean(let flag): return flag
        default: return false
        }
    }

    func seconds(_ base: String, default value: Int) -> Int { name(base).map { configuration.seconds($0) } ?? value }
    func bool(_ base: String, default value: Bool) -> Bool { name(base).map { configuration.bool($0) } ?? value }
    func integer(_ base: String, default value: Int) -> Int { name(base).map { configuration.integer($0) } ?? value }
    func string(_ base: String, default value: String) -> String { name(base).map { configuration.string($0) } ?? value }
    func list(_ base: String, default value: [String]) -> [String] { name(base).map { configuration.list($0) } ?? value }

    func tables(_ base: String) throws(SMTPClientConfigurationError) -> TableList? {
        guard let name = name(base) else { return nil }
        let references = configuration.tables(name)
        guard !references.isEmpty else { return nil }
        var opened: [any LookupTable] = []
        for reference in references {
            do {
                opened.append(try reference.open())
            } catch {
                throw SMTPClientConfigurationError(parameter: name, reason: "cannot open \(reference): \(error)")
            }
        }
        return TableList(opened)
    }
}
