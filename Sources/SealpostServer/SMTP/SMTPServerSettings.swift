import SMTPCore
import SealpostConfig
import SealpostTLS

/// What one smtpd service needs from its configuration, typed (defaults ← main.cf ← the
/// service's `-o` overrides).
public struct SMTPServerSettings: Sendable {
    /// `myhostname`.
    public var hostname: String
    /// `smtpd_banner`, expanded.
    public var banner: String
    /// `mail_name`, for the Received header.
    public var mailName: String
    /// `syslog_name` of the service.
    public var syslogName: String
    public var limits: SMTPLimits
    /// `smtpd_timeout`.
    public var commandTimeout: Int
    /// `smtpd_starttls_timeout`.
    public var startTLSTimeout: Int
    /// `tls_fast_shutdown_enable`: send our close_notify and close without waiting for the peer's.
    public var tlsFastShutdown: Bool
    public var softErrorLimit: Int
    public var hardErrorLimit: Int
    /// `smtpd_error_sleep_time`, seconds.
    public var errorSleepTime: Int
    public var junkCommandLimit: Int
    public var recipientLimit: Int
    /// `smtpd_recipient_overshoot_limit`: RCPTs over the limit answered before each counts as an error.
    public var recipientOvershootLimit: Int
    public var heloRequired: Bool
    public var vrfyDisabled: Bool
    public var smtputf8Enabled: Bool
    /// `strict_smtputf8`: refuse non-ASCII addresses from clients that did not declare SMTPUTF8.
    public var strictSMTPUTF8: Bool
    /// `strict_rfc821_envelopes`: addresses must be in angle brackets.
    public var strictRFC821Envelopes: Bool
    /// `allow_min_user`: addresses may start with '-'.
    public var allowMinUser: Bool
    /// `smtpd_forbid_bare_newline`: no, yes/reject, or normalize.
    public var bareNewline: BareNewlinePolicy
    public var bareNewlineRejectCode: Int
    /// `smtpd_forbid_unauth_pipelining`.
    public var forbidUnauthorizedPipelining: Bool
    /// `smtpd_discard_ehlo_keywords`, uppercased.
    public var discardedEHLOKeywords: Set<String>
    /// `message_size_limit`; 0 means no limit.
    public var messageSizeLimit: Int
    public var headerSizeLimit: Int
    /// `smtpd_client_connection_count_limit` and the per-client rate limits (0 = no limit).
    public var clientConnectionLimit: Int
    public var clientConnectionRateLimit: Int
    public var clientMessageRateLimit: Int
    public var clientRecipientRateLimit: Int
    public var clientAuthRateLimit: Int
    public var clientNewTLSSessionRateLimit: Int
    /// `anvil_rate_time_unit`, seconds.
    public var rateTimeUnit: Int
    /// TLS: the level and its switches.
    public var tlsLevel: TLSLevel
    public var wrapperMode: Bool
    public var authOnlyWithTLS: Bool
    public var tlsReceivedHeader: Bool
    /// `smtpd_sasl_auth_enable`.
    public var saslEnabled: Bool
    public var brokenSASLAuthClients: Bool
    public var saslAuthenticatedHeader: Bool
    /// `milter_macro_daemon_name`, recorded with each message.
    public var milterDaemonName: String
    /// `smtpd_peername_lookup`.
    public var peerNameLookup: Bool
    /// `smtpd_client_port_logging`.
    public var clientPortLogging: Bool
    public var softBounce: Bool

    /// How lines that end in a bare LF are treated (Postfix 3.9 `smtpd_forbid_bare_newline`).
    public enum BareNewlinePolicy: Sendable, Hashable {
        case allow, normalize, reject
    }

    /// `smtpd_tls_security_level` (or the legacy switches), with wrapper mode meaning encrypt.
    public enum TLSLevel: String, Sendable, Hashable {
        case none, may, encrypt
    }

    public init(_ configuration: ServiceConfiguration) {
        hostname = configuration.string("myhostname")
        banner = configuration.string("smtpd_banner")
        mailName = configuration.string("mail_name")
        syslogName = configuration.string("syslog_name")
        messageSizeLimit = configuration.integer("message_size_limit")
        headerSizeLimit = configuration.integer("header_size_limit")
        var limits = SMTPLimits.postfixDefaults
        limits.lineLengthLimit = configuration.integer("line_length_limit")
        limits.saslResponseLimit = configuration.integer("smtpd_sasl_response_limit")
        limits.messageSizeLimit = messageSizeLimit
        self.limits = limits
        commandTimeout = configuration.seconds("smtpd_timeout")
        startTLSTimeout = configuration.seconds("smtpd_starttls_timeout")
        tlsFastShutdown = configuration.bool("tls_fast_shutdown_enable")
        softErrorLimit = configuration.integer("smtpd_soft_error_limit")
        hardErrorLimit = configuration.integer("smtpd_hard_error_limit")
        errorSleepTime = configuration.seconds("smtpd_error_sleep_time")
        junkCommandLimit = configuration.integer("smtpd_junk_command_limit")
        recipientLimit = configuration.integer("smtpd_recipient_limit")
        recipientOvershootLimit = configuration.integer("smtpd_recipient_overshoot_limit")
        heloRequired = configuration.bool("smtpd_helo_required")
        vrfyDisabled = configuration.bool("disable_vrfy_command")
        smtputf8Enabled = configuration.bool("smtputf8_enable")
        strictSMTPUTF8 = configuration.bool("strict_smtputf8")
        strictRFC821Envelopes = configuration.bool("strict_rfc821_envelopes")
        allowMinUser = configuration.bool("allow_min_user")
        switch configuration.string("smtpd_forbid_bare_newline") {
        case "yes", "reject": bareNewline = .reject
        case "normalize": bareNewline = .normalize
        default: bareNewline = .allow
        }
        bareNewlineRejectCode = configuration.integer("smtpd_forbid_bare_newline_reject_code")
        forbidUnauthorizedPipelining = configuration.bool("smtpd_forbid_unauth_pipelining")
        discardedEHLOKeywords = Set(configuration.list("smtpd_discard_ehlo_keywords").map { $0.uppercased() })
        clientConnectionLimit = configuration.integer("smtpd_client_connection_count_limit")
        clientConnectionRateLimit = configuration.integer("smtpd_client_connection_rate_limit")
        clientMessageRateLimit = configuration.integer("smtpd_client_message_rate_limit")
        clientRecipientRateLimit = configuration.integer("smtpd_client_recipient_rate_limit")
        clientAuthRateLimit = configuration.integer("smtpd_client_auth_rate_limit")
        clientNewTLSSessionRateLimit = configuration.integer("smtpd_client_new_tls_session_rate_limit")
        rateTimeUnit = configuration.seconds("anvil_rate_time_unit")

        wrapperMode = configuration.bool("smtpd_tls_wrappermode")
        let level = configuration.string("smtpd_tls_security_level")
        if wrapperMode {
            tlsLevel = .encrypt
        } else if !level.isEmpty {
            tlsLevel = TLSLevel(rawValue: level) ?? .none
        } else if configuration.bool("smtpd_enforce_tls") {
            tlsLevel = .encrypt
        } else if configuration.bool("smtpd_use_tls") {
            tlsLevel = .may
        } else {
            tlsLevel = .none
        }
        authOnlyWithTLS = configuration.bool("smtpd_tls_auth_only")
        tlsReceivedHeader = configuration.bool("smtpd_tls_received_header")
        saslEnabled = configuration.bool("smtpd_sasl_auth_enable")
        brokenSASLAuthClients = configuration.bool("broken_sasl_auth_clients")
        saslAuthenticatedHeader = configuration.bool("smtpd_sasl_authenticated_header")
        milterDaemonName = configuration.string("milter_macro_daemon_name")
        peerNameLookup = configuration.bool("smtpd_peername_lookup")
        clientPortLogging = configuration.bool("smtpd_client_port_logging")
        softBounce = configuration.bool("soft_bounce")
    }

    /// Whether a size limit applies (`message_size_limit` > 0).
    public var enforcesSizeLimit: Bool { messageSizeLimit > 0 }

    /// How the TLS layer of a connection behaves: the handshake may take `smtpd_starttls_timeout`;
    /// at the end, with `tls_fast_shutdown_enable = no`, we wait up to `smtpd_timeout` for the
    /// client's close_notify, as Postfix does.
    var tlsHandlerConfiguration: TLSHandlerConfiguration {
        TLSHandlerConfiguration(
            handshakeTimeout: .seconds(Int64(startTLSTimeout)),
            closeNotifyTimeout: tlsFastShutdown ? .zero : .seconds(Int64(commandTimeout)))
    }
}
