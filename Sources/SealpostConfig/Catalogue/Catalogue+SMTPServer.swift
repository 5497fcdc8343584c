private let noMilter = "Sealpost has no Milter client, so mail passes without these filters"
private let noProxyFilter = "Sealpost does not hand SMTP sessions to a before-queue proxy filter"

extension ParameterCatalogue {
    /// The SMTP server outside TLS and SASL: session, limits, restrictions and reply codes.
    static let smtpServer: [ParameterDefinition] = [
        // MARK: - Greeting and session
        ParameterDefinition(
            "smtpd_banner", .string, default: "$myhostname ESMTP $mail_name",
            "text after the 220 code of the greeting; it must begin with $myhostname",
            status: .implemented),
        ParameterDefinition(
            "smtpd_timeout", .time(defaultUnit: "s"), default: "${stress?{10}:{300}}s",
            "how long to wait for a client command or data before hanging up",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "smtpd_starttls_timeout", .time(defaultUnit: "s"), default: "${stress?{10}:{300}}s",
            "time limit for the TLS handshake after STARTTLS or on connect in wrapper mode",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "smtpd_per_request_deadline", .boolean,
            default: "${smtpd_per_record_deadline?{$smtpd_per_record_deadline}:{${stress?{yes}:{no}}}}",
            "make smtpd_timeout a deadline for a whole command or message, not each read",
            status: .planned(.later)),
        ParameterDefinition(
            "smtpd_min_data_rate", .integer, default: "500",
            "bytes per second a client must send to extend the request deadline",
            status: .planned(.later), minimum: 1),
        ParameterDefinition(
            "smtpd_helo_required", .boolean, default: "no",
            "require HELO or EHLO before MAIL FROM",
            status: .planned(.later)),
        ParameterDefinition(
            "smtpd_discard_ehlo_keywords", .list, default: "",
            "EHLO keywords hidden from clients (for example chunking or pipelining)",
            status: .implemented),
        ParameterDefinition(
            "smtpd_discard_ehlo_keyword_address_maps", .tables, default: "",
            "tables choosing the EHLO keywords to hide, by client address",
            status: .planned(.later)),
        ParameterDefinition(
            "disable_vrfy_command", .boolean, default: "no",
            "refuse VRFY so that addresses cannot be probed",
            status: .implemented),
        ParameterDefinition(
            "smtpd_noop_commands", .list, default: "",
            "commands answered with 250 Ok and otherwise ignored",
            status: .implemented),
        ParameterDefinition(
            "smtpd_forbidden_commands", .list, default: "CONNECT GET POST regexp:{{/^[^A-Z]/ Bogus}}",
            "commands that make the server hang up at once, such as HTTP requests",
            status: .implemented),
        ParameterDefinition(
            "strict_rfc821_envelopes", .boolean, default: "no",
            "require strict RFC 821 syntax in MAIL FROM and RCPT TO addresses",
            status: .implemented),
        ParameterDefinition(
            "smtpd_peername_lookup", .boolean, default: "yes",
            "look up the client's host name in DNS",
            status: .implemented),
        ParameterDefinition(
            "smtpd_client_port_logging", .boolean, default: "no",
            "log the client's TCP port together with its address",
            status: .implemented),
        ParameterDefinition(
            "smtpd_log_access_permit_actions", .list, default: "",
            "permit actions of access tables that are logged like rejections",
            status: .implemented),
        ParameterDefinition(
            "smtpd_reject_footer", .string, default: "",
            "text appended to every 4xx and 5xx reply",
            status: .implemented),
        ParameterDefinition(
            "smtpd_reject_footer_maps", .tables, default: "",
            "tables choosing a reply footer by the text of the reply",
            status: .implemented),
        ParameterDefinition(
            "smtpd_delay_open_until_valid_rcpt", .boolean, default: "yes",
            "create the queue file only when the first recipient is accepted",
            status: .ignored("Sealpost always opens the queue file when the message content starts (as Postfix with the default yes)")),
        ParameterDefinition(
            "smtpd_authorized_xclient_hosts", .list, default: "",
            "clients allowed to override the session's client details with XCLIENT",
            status: .unsupported("XCLIENT is not supported")),
        ParameterDefinition(
            "smtpd_authorized_xforward_hosts", .list, default: "",
            "clients allowed to pass on an earlier client's details with XFORWARD",
            status: .unsupported("XFORWARD is not supported")),
        ParameterDefinition(
            "smtpd_upstream_proxy_protocol", .choice(["", "haproxy"]), default: "",
            "proxy protocol that precedes the session (haproxy); empty means none",
            status: .unsupported("the HAProxy protocol is not supported")),
        ParameterDefinition(
            "smtpd_upstream_proxy_timeout", .time(defaultUnit: "s"), default: "5s",
            "time limit for receiving the proxy protocol header",
            status: .unsupported("the HAProxy protocol is not supported"), minimum: 1),

        // MARK: - Bare newlines (SMTP smuggling)
        ParameterDefinition(
            "smtpd_forbid_bare_newline", .choice(["no", "yes", "normalize", "reject"]), default: "no",
            "how lines ending in a bare LF are treated: accept, normalize or reject",
            status: .unsupported("the HAProxy protocol is not supported")),
        ParameterDefinition(
            "smtpd_forbid_bare_newline_exclusions", .list, default: "$mynetworks",
            "clients exempt from smtpd_forbid_bare_newline",
            status: .implemented),
        ParameterDefinition(
            "smtpd_forbid_bare_newline_reject_code", .integer, default: "550",
            "reply code when a bare newline is rejected",
            status: .implemented, minimum: 500, maximum: 599),
        ParameterDefinition(
            "smtpd_forbid_unauth_pipelining", .boolean, default: "no",
            "hang up on clients that send commands ahead of replies without PIPELINING",
            status: .implemented),

        // MARK: - Errors and limits per session
        ParameterDefinition(
            "smtpd_recipient_limit", .integer, default: "1000",
            "most recipients accepted for one message",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "smtpd_recipient_overshoot_limit", .integer, default: "1000",
            "recipients beyond smtpd_recipient_limit answered before each further one counts as an error",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "smtpd_soft_error_limit", .integer, default: "10",
            "errors after which each reply is delayed by smtpd_error_sleep_time",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "smtpd_hard_error_limit", .integer, default: "${stress?{1}:{20}}",
            "errors after which the server hangs up",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "smtpd_error_sleep_time", .time(defaultUnit: "s"), default: "1s",
            "delay before each error reply once the soft error limit is reached",
            status: .implemented),
        ParameterDefinition(
            "smtpd_junk_command_limit", .integer, default: "${stress?{1}:{100}}",
            "NOOP, VRFY, ETRN and RSET commands allowed before they count as errors",
            status: .implemented, minimum: 1),

        // MARK: - Limits per client
        ParameterDefinition(
            "smtpd_client_connection_count_limit", .integer, default: "50",
            "simultaneous connections allowed from one client; 0 means no limit",
            status: .implemented),
        ParameterDefinition(
            "smtpd_client_connection_rate_limit", .integer, default: "0",
            "connections per anvil_rate_time_unit allowed from one client",
            status: .implemented),
        ParameterDefinition(
            "smtpd_client_message_rate_limit", .integer, default: "0",
            "messages per anvil_rate_time_unit a client may send",
            status: .implemented),
        ParameterDefinition(
            "smtpd_client_recipient_rate_limit", .integer, default: "0",
            "recipients per anvil_rate_time_unit a client may send to",
            status: .implemented),
        ParameterDefinition(
            "smtpd_client_new_tls_session_rate_limit", .integer, default: "0",
            "new, not resumed, TLS sessions per anvil_rate_time_unit for one client",
            status: .implemented),
        ParameterDefinition(
            "smtpd_client_auth_rate_limit", .integer, default: "0",
            "AUTH commands per anvil_rate_time_unit a client may send",
            status: .implemented),
        ParameterDefinition(
            "smtpd_client_event_limit_exceptions", .list,
            default: "${smtpd_client_connection_limit_exceptions:$mynetworks}",
            "clients exempt from the per-client connection and rate limits",
            status: .implemented),
        ParameterDefinition(
            "anvil_rate_time_unit", .time(defaultUnit: "s"), default: "60s",
            "the time unit over which the per-client rates are counted",
            status: .implemented, minimum: 1),

        // MARK: - Restrictions
        ParameterDefinition(
            "smtpd_client_restrictions", .list, default: "",
            "access checks on the client's address and name",
            status: .implemented),
        ParameterDefinition(
            "smtpd_helo_restrictions", .list, default: "",
            "access checks on the HELO or EHLO name",
            status: .implemented),
        ParameterDefinition(
            "smtpd_sender_restrictions", .list, default: "",
            "access checks on the MAIL FROM address",
            status: .implemented),
        ParameterDefinition(
            "smtpd_relay_restrictions", .list,
            default: "${{$compatibility_level} <level {1} ? {} : {permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination}}",
            "relay permission checks on each RCPT TO, kept apart from the spam checks of the recipient list",
            status: .implemented),
        ParameterDefinition(
            "smtpd_recipient_restrictions", .list, default: "",
            "spam and access checks on each RCPT TO",
            status: .implemented),
        ParameterDefinition(
            "smtpd_data_restrictions", .list, default: "",
            "access checks on the DATA command",
            status: .implemented),
        ParameterDefinition(
            "smtpd_end_of_data_restrictions", .list, default: "",
            "access checks after the whole message has arrived",
            status: .implemented),
        ParameterDefinition(
            "smtpd_etrn_restrictions", .list, default: "",
            "access checks on ETRN requests",
            status: .implemented),
        ParameterDefinition(
            "smtpd_restriction_classes", .list, default: "",
            "names of restriction lists defined in main.cf for use in access tables",
            status: .implemented),
        ParameterDefinition(
            "smtpd_delay_reject", .boolean, default: "yes",
            "hold client, HELO and sender rejections until RCPT TO, so the log shows the recipient",
            status: .implemented),
        ParameterDefinition(
            "smtpd_relay_before_recipient_restrictions", .boolean,
            default: "${{$compatibility_level} <level {3.6} ? {no} : {yes}}",
            "evaluate smtpd_relay_restrictions before smtpd_recipient_restrictions",
            status: .implemented),
        ParameterDefinition(
            "smtpd_reject_unlisted_recipient", .boolean, default: "yes",
            "reject recipients of this host's domains that no recipient table lists",
            status: .implemented),
        ParameterDefinition(
            "smtpd_reject_unlisted_sender", .boolean, default: "no",
            "reject senders of this host's domains that would be rejected as unlisted recipients",
            status: .implemented),
        ParameterDefinition(
            "local_recipient_maps", .tables, default: "proxy:unix:passwd.byname $alias_maps",
            "tables of valid recipients in local domains; unknown ones are rejected at RCPT TO",
            status: .implemented),
        ParameterDefinition(
            "permit_mx_backup_networks", .list, default: "",
            "networks the primary MX must be in for permit_mx_backup to relay",
            status: .planned(.later)),
        ParameterDefinition(
            "rbl_reply_maps", .tables, default: "",
            "tables choosing the reply template per DNS blocklist domain",
            status: .planned(.later)),
        ParameterDefinition(
            "default_rbl_reply", .string,
            default: "$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}",
            "reply template for DNS blocklist rejections",
            status: .planned(.later)),

        // MARK: - Policy services
        ParameterDefinition(
            "smtpd_policy_service_timeout", .time(defaultUnit: "s"), default: "100s",
            "time limit for sending a policy request and reading its reply",
            status: .planned(.later), minimum: 1),
        ParameterDefinition(
            "smtpd_policy_service_max_idle", .time(defaultUnit: "s"), default: "300s",
            "idle time after which a policy service connection is closed",
            status: .planned(.later), minimum: 1),
        ParameterDefinition(
            "smtpd_policy_service_max_ttl", .time(defaultUnit: "s"), default: "1000s",
            "age after which a policy service connection is closed",
            status: .planned(.later), minimum: 1),
        ParameterDefinition(
            "smtpd_policy_service_try_limit", .integer, default: "2",
            "attempts to get a policy reply before using the default action",
            status: .planned(.later), minimum: 1),
        ParameterDefinition(
            "smtpd_policy_service_retry_delay", .time(defaultUnit: "s"), default: "1s",
            "delay between attempts to reach a policy service",
            status: .planned(.later), minimum: 1),
        ParameterDefinition(
            "smtpd_policy_service_default_action", .string, default: "451 4.3.5 Server configuration problem",
            "reply used when no policy service answers",
            status: .planned(.later)),

        // MARK: - Reply codes
        ParameterDefinition(
            "reject_code", .integer, default: "554",
            "reply code of the reject restriction",
            status: .implemented),
        ParameterDefinition(
            "defer_code", .integer, default: "450",
            "reply code of the defer restriction and of DEFER actions",
            status: .implemented),
        ParameterDefinition(
            "access_map_reject_code", .integer, default: "554",
            "reply code of REJECT in an access table",
            status: .implemented),
        ParameterDefinition(
            "access_map_defer_code", .integer, default: "450",
            "reply code of DEFER-type actions in an access table",
            status: .implemented),
        ParameterDefinition(
            "unknown_client_reject_code", .integer, default: "450",
            "reply code when the client's name and address do not verify in DNS",
            status: .implemented),
        ParameterDefinition(
            "unknown_hostname_reject_code", .integer, default: "450",
            "reply code when the HELO name has no DNS address or MX record",
            status: .implemented),
        ParameterDefinition(
            "unknown_address_reject_code", .integer, default: "450",
            "reply code when a sender or recipient domain cannot be found",
            status: .implemented),
        ParameterDefinition(
            "invalid_hostname_reject_code", .integer, default: "501",
            "reply code for a malformed HELO name",
            status: .implemented),
        ParameterDefinition(
            "non_fqdn_reject_code", .integer, default: "504",
            "reply code for a HELO name or address that is not fully qualified",
            status: .implemented),
        ParameterDefinition(
            "unknown_local_recipient_reject_code", .integer, default: "550",
            "reply code for unknown recipients in local domains",
            status: .implemented),
        ParameterDefinition(
            "unknown_virtual_alias_reject_code", .integer, default: "550",
            "reply code for unknown recipients in virtual alias domains",
            status: .implemented),
        ParameterDefinition(
            "unknown_virtual_mailbox_reject_code", .integer, default: "550",
            "reply code for unknown recipients in virtual mailbox domains",
            status: .implemented),
        ParameterDefinition(
            "unknown_relay_recipient_reject_code", .integer, default: "550",
            "reply code for unknown recipients in relay domains",
            status: .implemented),
        ParameterDefinition(
            "relay_domains_reject_code", .integer, default: "554",
            "reply code when the client may not relay to the recipient's domain",
            status: .implemented),
        ParameterDefinition(
            "plaintext_reject_code", .integer, default: "450",
            "reply code when encryption is required but not in use",
            status: .implemented),
        ParameterDefinition(
            "maps_rbl_reject_code", .integer, default: "554",
            "reply code when a DNS blocklist lists the client or sender",
            status: .planned(.later)),
        ParameterDefinition(
            "multi_recipient_bounce_reject_code", .integer, default: "550",
            "reply code of reject_multi_recipient_bounce",
            status: .implemented),

        // MARK: - Milters and proxy filters
        ParameterDefinition(
            "milter_macro_daemon_name", .string, default: "$myhostname",
            "the {daemon_name} value that mail filters see, e.g. ORIGINATING for submission",
            status: .implemented),
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
