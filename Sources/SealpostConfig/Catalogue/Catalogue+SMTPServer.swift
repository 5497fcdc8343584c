private let noMilter = "Sealpost has no Milter client, so mail passes without these filters"
private let noProxyFilter = "Sealpost does not hand SMTP sessions to a before-queue proxy filter"

extension ParameterCatalogue {
    /// The SMTP server outside TLS and SASL: session, limits, restrictions and reply codes.
    static let smtpServer: [ParameterDefinition] = [
        // MARK: - Greeting and session
        ParameterDefinition(
            "smtpd_banner", .string, default: "$myhostname ESMTP $mail_name",
            "text after the 220 code of the greeting; it must begin with $myhostname",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_timeout", .time(defaultUnit: "s"), default: "${stress?{10}:{300}}s",
            "how long to wait for a client command or data before hanging up",
            status: .planned(.smtpServer), minimum: 1),
        ParameterDefinition(
            "smtpd_starttls_timeout", .time(defaultUnit: "s"), default: "${stress?{10}:{300}}s",
            "time limit for the TLS handshake after STARTTLS or on connect in wrapper mode",
            status: .planned(.smtpServer), minimum: 1),
        ParameterDefinition(
            "smtpd_per_request_deadline", .boolean,
            default: "${smtpd_per_record_deadline?{$smtpd_per_record_deadline}:{${stress?{yes}:{no}}}}",
            "make smtpd_timeout a deadline for a whole command or message, not each read",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_min_data_rate", .integer, default: "500",
            "bytes per second a client must send to extend the request deadline",
            status: .planned(.smtpServer), minimum: 1),
        ParameterDefinition(
            "smtpd_helo_required", .boolean, default: "no",
            "require HELO or EHLO before MAIL FROM",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_discard_ehlo_keywords", .list, default: "",
            "EHLO keywords hidden from clients (for example chunking or pipelining)",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_discard_ehlo_keyword_address_maps", .tables, default: "",
            "tables choosing the EHLO keywords to hide, by client address",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "disable_vrfy_command", .boolean, default: "no",
            "refuse VRFY so that addresses cannot be probed",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_noop_commands", .list, default: "",
            "commands answered with 250 Ok and otherwise ignored",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_forbidden_commands", .list, default: "CONNECT GET POST regexp:{{/^[^A-Z]/ Bogus}}",
            "commands that make the server hang up at once, such as HTTP requests",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "strict_rfc821_envelopes", .boolean, default: "no",
            "require strict RFC 821 syntax in MAIL FROM and RCPT TO addresses",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_peername_lookup", .boolean, default: "yes",
            "look up the client's host name in DNS",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_client_port_logging", .boolean, default: "no",
            "log the client's TCP port together with its address",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_log_access_permit_actions", .list, default: "",
            "permit actions of access tables that are logged like rejections",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_reject_footer", .string, default: "",
            "text appended to every 4xx and 5xx reply",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_reject_footer_maps", .tables, default: "",
            "tables choosing a reply footer by the text of the reply",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_delay_open_until_valid_rcpt", .boolean, default: "yes",
            "create the queue file only when the first recipient is accepted",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_authorized_xclient_hosts", .list, default: "",
            "clients allowed to override the session's client details with XCLIENT",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_authorized_xforward_hosts", .list, default: "",
            "clients allowed to pass on an earlier client's details with XFORWARD",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_upstream_proxy_protocol", .choice(["", "haproxy"]), default: "",
            "proxy protocol that precedes the session (haproxy); empty means none",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_upstream_proxy_timeout", .time(defaultUnit: "s"), default: "5s",
            "time limit for receiving the proxy protocol header",
            status: .planned(.smtpServer), minimum: 1),

        // MARK: - Bare newlines (SMTP smuggling)
        ParameterDefinition(
            "smtpd_forbid_bare_newline", .choice(["no", "yes", "normalize", "reject"]), default: "no",
            "how lines ending in a bare LF are treated: accept, normalize or reject",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_forbid_bare_newline_exclusions", .list, default: "$mynetworks",
            "clients exempt from smtpd_forbid_bare_newline",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_forbid_bare_newline_reject_code", .integer, default: "550",
            "reply code when a bare newline is rejected",
            status: .planned(.smtpServer), minimum: 500, maximum: 599),
        ParameterDefinition(
            "smtpd_forbid_unauth_pipelining", .boolean, default: "no",
            "hang up on clients that send commands ahead of replies without PIPELINING",
            status: .planned(.smtpServer)),

        // MARK: - Errors and limits per session
        ParameterDefinition(
            "smtpd_recipient_limit", .integer, default: "1000",
            "most recipients accepted for one message",
            status: .planned(.smtpServer), minimum: 1),
        ParameterDefinition(
            "smtpd_recipient_overshoot_limit", .integer, default: "1000",
            "recipients beyond smtpd_recipient_limit that count as errors",
            status: .planned(.smtpServer), minimum: 1),
        ParameterDefinition(
            "smtpd_soft_error_limit", .integer, default: "10",
            "errors after which each reply is delayed by smtpd_error_sleep_time",
            status: .planned(.smtpServer), minimum: 1),
        ParameterDefinition(
            "smtpd_hard_error_limit", .integer, default: "${stress?{1}:{20}}",
            "errors after which the server hangs up",
            status: .planned(.smtpServer), minimum: 1),
        ParameterDefinition(
            "smtpd_error_sleep_time", .time(defaultUnit: "s"), default: "1s",
            "delay before each error reply once the soft error limit is reached",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_junk_command_limit", .integer, default: "${stress?{1}:{100}}",
            "NOOP, VRFY, ETRN and RSET commands allowed before they count as errors",
            status: .planned(.smtpServer), minimum: 1),

        // MARK: - Limits per client
        ParameterDefinition(
            "smtpd_client_connection_count_limit", .integer, default: "50",
            "simultaneous connections allowed from one client; 0 means no limit",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_client_connection_rate_limit", .integer, default: "0",
            "connections per anvil_rate_time_unit allowed from one client",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_client_message_rate_limit", .integer, default: "0",
            "messages per anvil_rate_time_unit a client may send",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_client_recipient_rate_limit", .integer, default: "0",
            "recipients per anvil_rate_time_unit a client may send to",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_client_new_tls_session_rate_limit", .integer, default: "0",
            "new, not resumed, TLS sessions per anvil_rate_time_unit for one client",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_client_auth_rate_limit", .integer, default: "0",
            "AUTH commands per anvil_rate_time_unit a client may send",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_client_event_limit_exceptions", .list,
            default: "${smtpd_client_connection_limit_exceptions:$mynetworks}",
            "clients exempt from the per-client connection and rate limits",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "anvil_rate_time_unit", .time(defaultUnit: "s"), default: "60s",
            "the time unit over which the per-client rates are counted",
            status: .planned(.smtpServer), minimum: 1),

        // MARK: - Restrictions
        ParameterDefinition(
            "smtpd_client_restrictions", .list, default: "",
            "access checks on the client's address and name",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_helo_restrictions", .list, default: "",
            "access checks on the HELO or EHLO name",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_sender_restrictions", .list, default: "",
            "access checks on the MAIL FROM address",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_relay_restrictions", .list,
            default: "${{$compatibility_level} <level {1} ? {} : {permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination}}",
            "relay permission checks on each RCPT TO, kept apart from the spam checks of the recipient list",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_recipient_restrictions", .list, default: "",
            "spam and access checks on each RCPT TO",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_data_restrictions", .list, default: "",
            "access checks on the DATA command",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_end_of_data_restrictions", .list, default: "",
            "access checks after the whole message has arrived",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_etrn_restrictions", .list, default: "",
            "access checks on ETRN requests",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_restriction_classes", .list, default: "",
            "names of restriction lists defined in main.cf for use in access tables",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_delay_reject", .boolean, default: "yes",
            "hold client, HELO and sender rejections until RCPT TO, so the log shows the recipient",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_relay_before_recipient_restrictions", .boolean,
            default: "${{$compatibility_level} <level {3.6} ? {no} : {yes}}",
            "evaluate smtpd_relay_restrictions before smtpd_recipient_restrictions",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_reject_unlisted_recipient", .boolean, default: "yes",
            "reject recipients of this host's domains that no recipient table lists",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_reject_unlisted_sender", .boolean, default: "no",
            "reject senders of this host's domains that would be rejected as unlisted recipients",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "local_recipient_maps", .tables, default: "proxy:unix:passwd.byname $alias_maps",
            "tables of valid recipients in local domains; unknown ones are rejected at RCPT TO",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "permit_mx_backup_networks", .list, default: "",
            "networks the primary MX must be in for permit_mx_backup to relay",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "rbl_reply_maps", .tables, default: "",
            "tables choosing the reply template per DNS blocklist domain",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "default_rbl_reply", .string,
            default: "$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}",
            "reply template for DNS blocklist rejections",
            status: .planned(.smtpServer)),

        // MARK: - Policy services
        ParameterDefinition(
            "smtpd_policy_service_timeout", .time(defaultUnit: "s"), default: "100s",
            "time limit for sending a policy request and reading its reply",
            status: .planned(.smtpServer), minimum: 1),
        ParameterDefinition(
            "smtpd_policy_service_max_idle", .time(defaultUnit: "s"), default: "300s",
            "idle time after which a policy service connection is closed",
            status: .planned(.smtpServer), minimum: 1),
        ParameterDefinition(
            "smtpd_policy_service_max_ttl", .time(defaultUnit: "s"), default: "1000s",
            "age after which a policy service connection is closed",
            status: .planned(.smtpServer), minimum: 1),
        ParameterDefinition(
            "smtpd_policy_service_try_limit", .integer, default: "2",
            "attempts to get a policy reply before using the default action",
            status: .planned(.smtpServer), minimum: 1),
        ParameterDefinition(
            "smtpd_policy_service_retry_delay", .time(defaultUnit: "s"), default: "1s",
            "delay between attempts to reach a policy service",
            status: .planned(.smtpServer), minimum: 1),
        ParameterDefinition(
            "smtpd_policy_service_default_action", .string, default: "451 4.3.5 Server configuration problem",
            "reply used when no policy service answers",
            status: .planned(.smtpServer)),

        // MARK: - Reply codes
        ParameterDefinition(
            "reject_code", .integer, default: "554",
            "reply code of the reject restriction",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "defer_code", .integer, default: "450",
            "reply code of the defer restriction and of DEFER actions",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "access_map_reject_code", .integer, default: "554",
            "reply code of REJECT in an access table",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "access_map_defer_code", .integer, default: "450",
            "reply code of DEFER-type actions in an access table",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "unknown_client_reject_code", .integer, default: "450",
            "reply code when the client's name and address do not verify in DNS",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "unknown_hostname_reject_code", .integer, default: "450",
            "reply code when the HELO name has no DNS address or MX record",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "unknown_address_reject_code", .integer, default: "450",
            "reply code when a sender or recipient domain cannot be found",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "invalid_hostname_reject_code", .integer, default: "501",
            "reply code for a malformed HELO name",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "non_fqdn_reject_code", .integer, default: "504",
            "reply code for a HELO name or address that is not fully qualified",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "unknown_local_recipient_reject_code", .integer, default: "550",
            "reply code for unknown recipients in local domains",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "unknown_virtual_alias_reject_code", .integer, default: "550",
            "reply code for unknown recipients in virtual alias domains",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "unknown_virtual_mailbox_reject_code", .integer, default: "550",
            "reply code for unknown recipients in virtual mailbox domains",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "unknown_relay_recipient_reject_code", .integer, default: "550",
            "reply code for unknown recipients in relay domains",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "relay_domains_reject_code", .integer, default: "554",
            "reply code when the client may not relay to the recipient's domain",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "plaintext_reject_code", .integer, default: "450",
            "reply code when encryption is required but not in use",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "maps_rbl_reject_code", .integer, default: "554",
            "reply code when a DNS blocklist lists the client or sender",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "multi_recipient_bounce_reject_code", .integer, default: "550",
            "reply code of reject_multi_recipient_bounce",
            status: .planned(.smtpServer)),

        // MARK: - Milters and proxy filters
        ParameterDefinition(
            "milter_macro_daemon_name", .string, default: "$myhostname",
            "the {daemon_name} value that mail filters see, e.g. ORIGINATING for submission",
            status: .planned(.smtpServer)),
        ParameterDefinition(
            "smtpd_milters", .list, default: "",
            "Milter mail filters consulted during SMTP sessions",
            status: .unsupported(noMilter)),
        ParameterDefinition(
            "non_smtpd_milters", .list, default: "",
            "Milter mail filters for mail that did not arrive over SMTP",
            status: .unsupported(noMilter)),
        ParameterDefinition(
            "smtpd_proxy_filter", .string, default: "",
            "before-queue content filter that receives the SMTP session as it happens",
            status: .unsupported(noProxyFilter)),
    ]
}
