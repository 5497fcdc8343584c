import SealpostConfig

/// Everything one SMTP server service needs to build its TLS context, with Postfix 3.7's rules for which
/// parameter applies when (`smtpd.c` `main()` / `smtpd_start_tls()`, `tls_server.c`).
///
/// - The level: `smtpd_tls_security_level` when set (ignored in wrapper mode), else the legacy `smtpd_use_tls` /
///   `smtpd_enforce_tls`; `smtpd_tls_wrappermode = yes` always means `encrypt`.
/// - At `encrypt` (so also in wrapper mode) the mandatory parameters apply: `smtpd_tls_mandatory_protocols`,
///   `smtpd_tls_mandatory_ciphers`, and `smtpd_tls_mandatory_exclude_ciphers` on top of
///   `smtpd_tls_exclude_ciphers`; at `may` the opportunistic `smtpd_tls_protocols`, `smtpd_tls_ciphers` and
///   `smtpd_tls_exclude_ciphers`.
/// - Client certificates are asked for with `smtpd_tls_ask_ccert`, or with `smtpd_tls_req_ccert` at `encrypt`
///   (required only then); asking excludes anonymous (`aNULL`) suites, since a client can only send a certificate
///   to a server that showed one.
/// - `smtpd_tls_cert_file = none` (and no other certificate) means no certificate: anonymous suites only.
///
/// Files are read when the settings are made: an unusable file is an error naming its parameter.
public struct TLSServerSettings: Sendable {
    /// The TLS policy of the service.
    public enum SecurityLevel: String, Sendable, Hashable {
        case none, may, encrypt
    }

    /// The effective level (after the legacy switches and wrapper mode).
    public var securityLevel: SecurityLevel
    /// `smtpd_tls_wrappermode`: TLS from the first byte (port 465).
    public var wrapperMode: Bool
    /// Whether TLS is offered at all (`may` or `encrypt`).
    public var usesTLS: Bool { securityLevel != .none }
    /// Whether TLS is required (`encrypt`, or wrapper mode); the mandatory parameters apply.
    public var enforcesTLS: Bool { securityLevel == .encrypt }

    /// The server's keys and chains; empty with `none`.
    public var certificates: TLSCertificateSettings
    /// No certificate: anonymous suites only.
    public var isAnonymousOnly: Bool { certificates.certifiedKeys.isEmpty }
    /// `smtpd_tls_CAfile`, `smtpd_tls_CApath`, `tls_append_default_CA`.
    public var trust: TLSTrustSettings
    /// Client certificates are requested (`SSL_VERIFY_PEER`).
    public var asksForClientCertificate: Bool
    /// A trusted client certificate is required (`smtpd_tls_req_ccert` at `encrypt`).
    public var requiresClientCertificate: Bool
    /// When a certificate is required, whether the handshake itself fails without one
    /// (`SSL_VERIFY_FAIL_IF_NO_PEER_CERT`). Postfix 3.7 completes the handshake and then answers
    /// `421 4.7.1 … Error: No client certificate presented`; set this to false to do the same (the SMTP server
    /// then checks ``TLSSessionInfo/trust``). An untrusted certificate never fails the handshake: the SMTP
    /// server refuses it after, as Postfix does ("Client certificate not trusted").
    public var failsHandshakeWithoutClientCertificate: Bool
    /// `smtpd_tls_ccert_verifydepth`.
    public var clientCertificateVerifyDepth: Int
    /// `smtpd_tls_fingerprint_digest`.
    public var fingerprintDigest: TLSFingerprintDigest

    /// The protocol list that applies at the level.
    public var protocols: TLSProtocolPolicy
    /// The cipher grade and exclusions that apply at the level.
    public var ciphers: TLSCipherPolicy
    /// Curves, FFDHE groups and DH parameters.
    public var keyExchange: TLSKeyExchangeSettings
    /// `tls_preempt_cipherlist`.
    public var prefersServerCiphers: Bool
    /// `tls_disable_workarounds`, `tls_ssl_options`.
    public var sslOptions: TLSSSLOptions

    /// `smtpd_tls_session_cache_timeout` in seconds, as tlsmgr sanitises it: 0 disables session IDs and tickets
    /// alike, 1–119 becomes 120 (the catalogue already caps it at 100 days).
    public var sessionCacheTimeout: Int
    /// `smtpd_tls_always_issue_session_ids`.
    public var alwaysIssuesSessionIDs: Bool
    /// `tls_session_ticket_cipher`; empty turns tickets off.
    public var ticketCipher: String
    /// `tls_session_ticket_key_file` (Sealpost extension), loaded; nil for in-memory rotating keys.
    public var ticketKeyFile: TLSSessionTicketKeyFile?
    /// `smtpd_tls_tls13_session_tickets` (Sealpost extension): with `no`, TLS 1.3 handshakes send no ticket
    /// (`SSL_CTX_set_num_tickets(ctx, 0)`) — for clients such as some Microsoft servers that fail on them.
    public var issuesTLS13Tickets: Bool

    /// `tls_random_source`, `tls_random_bytes`, `tls_random_reseed_period`.
    public var randomSource: TLSRandomSource
    public var randomBytes: Int
    public var randomReseedPeriod: Int

    /// `smtpd_tls_loglevel` as a mask, and as the number 0–4 it amounts to.
    public var logMask: TLSLogMask
    public var logLevel: Int { logMask.level }

    /// `tls_server_sni_maps`: SNI name → chain files; nil when empty (SNI is then ignored, as Postfix does).
    public var serverNameMaps: TableList?

    /// Things Postfix would log as warnings while setting up (an obsolete parameter, `req_ccert` without
    /// `encrypt`, a chain file object that was skipped).
    public var warnings: [TLSConfigurationWarning]

    /// The settings of one service.
    public init(_ configuration: ServiceConfiguration) throws(TLSConfigurationError) {
        var warnings: [TLSConfigurationWarning] = []

        wrapperMode = configuration.bool("smtpd_tls_wrappermode")
        var useTLS = configuration.bool("smtpd_use_tls")
        var enforceTLS = configuration.bool("smtpd_enforce_tls")
        let level = configuration.string("smtpd_tls_security_level")
        if !wrapperMode && !level.isEmpty {
            switch level {
            case "none": (useTLS, enforceTLS) = (false, false)
            case "may": (useTLS, enforceTLS) = (true, false)
            default: (useTLS, enforceTLS) = (true, true)
            }
        }
        enforceTLS = wrapperMode || enforceTLS
        useTLS = useTLS || enforceTLS
        securityLevel = enforceTLS ? .encrypt : useTLS ? .may : .none

        let askCertificate = configuration.bool("smtpd_tls_ask_ccert")
        let requireCertificate = configuration.bool("smtpd_tls_req_ccert")
        asksForClientCertificate = askCertificate || (enforceTLS && requireCertificate)
        requiresClientCertificate = enforceTLS && requireCertificate
        failsHandshakeWithoutClientCertificate = requiresClientCertificate
        clientCertificateVerifyDepth = configuration.integer("smtpd_tls_ccert_verifydepth")
        fingerprintDigest = try TLSFingerprintDigest(
            configuration.string("smtpd_tls_fingerprint_digest"), parameter: "smtpd_tls_fingerprint_digest")
        if useTLS && !enforceTLS && requireCertificate {
            warnings.append(TLSConfigurationWarning(
                parameter: "smtpd_tls_req_ccert", "Can't require client certs unless TLS is required"))
        }

        if useTLS {
            certificates = try TLSCertificateSettings(configuration, prefix: "smtpd", allowNone: true, warnings: &warnings)
            trust = try TLSTrustSettings(configuration, prefix: "smtpd")
        } else {
            certificates = .empty
            trust = TLSTrustSettings(caFile: "", caPath: "", appendDefaultCA: false, prefix: "smtpd")
        }
        if useTLS && certificates.certifiedKeys.isEmpty {
            if asksForClientCertificate {
                throw TLSConfigurationError(
                    .anonymousWithClientCertificates, parameter: "smtpd_tls_cert_file",
                    reason: "Need a server cert to request client certs (smtpd_tls_ask_ccert or smtpd_tls_req_ccert): "
                        + "set smtpd_tls_chain_files or smtpd_tls_cert_file; TLS won't be enabled")
            }
            if !certificates.isExplicitlyNone {
                throw TLSConfigurationError(
                    .noServerCertificate, parameter: "smtpd_tls_cert_file",
                    reason: "No server certs available. TLS won't be enabled: set smtpd_tls_chain_files or "
                        + "smtpd_tls_cert_file (\"none\" for anonymous TLS without a certificate)")
            }
        }

        let protocolParameter = enforceTLS ? "smtpd_tls_mandatory_protocols" : "smtpd_tls_protocols"
        protocols = TLSProtocolPolicy(parameter: protocolParameter, selection: configuration.tlsProtocols(protocolParameter))
        if useTLS { try protocols.validate() }

        let gradeParameter = enforceTLS ? "smtpd_tls_mandatory_ciphers" : "smtpd_tls_ciphers"
        var exclusions = [TLSCipherExclusion(origin: "smtpd_tls_exclude_ciphers", names: configuration.list("smtpd_tls_exclude_ciphers"))]
        if enforceTLS {
            exclusions.append(TLSCipherExclusion(
                origin: "smtpd_tls_mandatory_exclude_ciphers", names: configuration.list("smtpd_tls_mandatory_exclude_ciphers")))
        }
        if asksForClientCertificate {
            exclusions.append(TLSCipherExclusion(origin: "smtpd_tls_ask_ccert", names: ["aNULL"]))
        }
        ciphers = try TLSCipherPolicy(
            grade: TLSCipherGrade(rawValue: configuration.string(gradeParameter)) ?? .medium,
            gradeParameter: gradeParameter, lists: TLSCipherLists(configuration), exclusions: exclusions.filter { !$0.names.isEmpty })

        keyExchange = try TLSKeyExchangeSettings(
            configuration, gradeParameter: "smtpd_tls_eecdh_grade",
            dhParameter: useTLS ? "smtpd_tls_dh1024_param_file" : nil, warnings: &warnings)
        if !configuration.string("smtpd_tls_dh512_param_file").isEmpty {
            warnings.append(TLSConfigurationWarning(
                parameter: "smtpd_tls_dh512_param_file",
                "smtpd_tls_dh512_param_file is obsolete and ignored: export-grade DH is no longer supported "
                    + "(Postfix 3.6 and later ignore it too); DHE uses smtpd_tls_dh1024_param_file"))
        }
        prefersServerCiphers = configuration.bool("tls_preempt_cipherlist")
        sslOptions = TLSSSLOptions(configuration, warnings: &warnings)

        let timeout = configuration.seconds("smtpd_tls_session_cache_timeout")
        sessionCacheTimeout = timeout <= 0 ? 0 : max(timeout, Self.minimumSessionLifetime)
        alwaysIssuesSessionIDs = configuration.bool("smtpd_tls_always_issue_session_ids")
        ticketCipher = configuration.string("tls_session_ticket_cipher")
        issuesTLS13Tickets = configuration.bool("smtpd_tls_tls13_session_tickets")
        let keyFile = configuration.string("tls_session_ticket_key_file")
        if useTLS && !keyFile.isEmpty {
            let (loaded, fileWarnings) = try TLSSessionTicketKeyFile.load(keyFile)
            ticketKeyFile = loaded
            warnings += fileWarnings
        } else {
            ticketKeyFile = nil
        }

        randomSource = TLSRandomSource(configuration.string("tls_random_source"))
        randomBytes = configuration.integer("tls_random_bytes")
        randomReseedPeriod = configuration.seconds("tls_random_reseed_period")
        logMask = try TLSLogMask(words: configuration.list("smtpd_tls_loglevel"), parameter: "smtpd_tls_loglevel")
        let sniMaps = configuration.tables("tls_server_sni_maps")
        if useTLS && !sniMaps.isEmpty {
            let options = TableOptions(unicodeKeyFolding: configuration.bool("smtputf8_enable"))
            do {
                serverNameMaps = TableList(try sniMaps.map { reference throws(TableError) in try reference.open(options) })
            } catch {
                throw TLSConfigurationError(
                    .invalidValue, parameter: "tls_server_sni_maps", reason: "tls_server_sni_maps: \(error)")
            }
        } else {
            serverNameMaps = nil
        }
        self.warnings = warnings
    }

    /// tlsmgr's `TLS_SESSION_LIFEMIN`: "May you live to 120!"
    public static let minimumSessionLifetime = 120
}
