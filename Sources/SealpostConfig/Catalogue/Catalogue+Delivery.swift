private let noCommandDelivery =
    "Sealpost does not run external programs for delivery; use mailbox_transport with LMTP instead"
private let noAliasDatabase =
    "Sealpost reads hash: tables from their text source, so there is no alias database to rebuild"

extension ParameterCatalogue {
    /// Delivery: routing, the SMTP and LMTP clients, local delivery and virtual mailboxes.
    static let delivery: [ParameterDefinition] = [
        // MARK: - Routing
        ParameterDefinition(
            "relayhost", .list, default: "",
            "next hop for mail to other domains; empty means direct delivery to the MX hosts",
            status: .implemented),
        ParameterDefinition(
            "transport_maps", .tables, default: "",
            "tables choosing the transport and next hop by recipient address or domain",
            status: .implemented),
        ParameterDefinition(
            "default_transport", .string, default: "smtp",
            "transport for domains outside every other address class",
            status: .implemented),
        ParameterDefinition(
            "relay_transport", .string, default: "relay",
            "transport for mail to relay_domains",
            status: .implemented),
        ParameterDefinition(
            "local_transport", .string, default: "local:$myhostname",
            "transport for mail to mydestination domains",
            status: .implemented),
        ParameterDefinition(
            "virtual_transport", .string, default: "virtual",
            "transport for mail to virtual_mailbox_domains",
            status: .implemented),
        ParameterDefinition(
            "sender_dependent_relayhost_maps", .tables, default: "",
            "tables choosing the relayhost by sender address",
            status: .planned(.delivery)),
        ParameterDefinition(
            "sender_dependent_default_transport_maps", .tables, default: "",
            "tables choosing the default transport by sender address",
            status: .planned(.delivery)),
        ParameterDefinition(
            "smtp_fallback_relay", .list, default: "$fallback_relay",
            "hosts tried when a destination's own servers cannot be reached",
            status: .planned(.delivery)),

        // MARK: - SMTP client: finding servers
        ParameterDefinition(
            "disable_dns_lookups", .boolean, default: "no",
            "legacy switch that turns off DNS lookups; smtp_dns_support_level replaces it",
            status: .planned(.delivery)),
        ParameterDefinition(
            "smtp_host_lookup", .list, default: "dns",
            "how server addresses are found: dns, native (system resolver) or both",
            status: .planned(.delivery)),
        ParameterDefinition(
            "smtp_dns_support_level", .choice(["", "disabled", "enabled", "dnssec"]), default: "",
            "how the client uses DNS: disabled, enabled, or dnssec (needed for DANE)",
            status: .planned(.delivery)),
        ParameterDefinition(
            "smtp_dns_resolver_options", .list, default: "",
            "resolver flags for the client's DNS lookups (res_defnames, res_dnsrch)",
            status: .planned(.delivery)),
        ParameterDefinition(
            "smtp_address_preference", .choice(["ipv4", "ipv6", "any"]), default: "any",
            "IP version tried first when a server has both: ipv4, ipv6 or any",
            status: .implemented),
        ParameterDefinition(
            "smtp_balance_inet_protocols", .boolean, default: "yes",
            "mix IPv4 and IPv6 addresses in the list of addresses to try",
            status: .planned(.delivery)),
        ParameterDefinition(
            "smtp_mx_address_limit", .integer, default: "5",
            "most server addresses tried for one delivery; 0 means no limit",
            status: .implemented),
        ParameterDefinition(
            "smtp_mx_session_limit", .integer, default: "2",
            "most SMTP sessions for one delivery before it is deferred; 0 means no limit",
            status: .implemented),
        ParameterDefinition(
            "smtp_randomize_addresses", .boolean, default: "yes",
            "shuffle server addresses of equal MX preference",
            status: .planned(.delivery)),
        ParameterDefinition(
            "smtp_defer_if_no_mx_address_found", .boolean, default: "no",
            "defer rather than bounce when the MX hosts have no addresses",
            status: .planned(.delivery)),

        // MARK: - SMTP client: the session
        ParameterDefinition(
            "smtp_bind_address", .string, default: "",
            "local IPv4 address outgoing connections come from",
            status: .implemented),
        ParameterDefinition(
            "smtp_bind_address6", .string, default: "",
            "local IPv6 address outgoing connections come from",
            status: .planned(.delivery)),
        ParameterDefinition(
            "smtp_tcp_port", .string, default: "smtp",
            "server port or service name used when the next hop names none",
            status: .implemented),
        ParameterDefinition(
            "smtp_helo_name", .string, default: "$myhostname",
            "name sent in HELO and EHLO",
            status: .implemented),
        ParameterDefinition(
            "smtp_skip_5xx_greeting", .boolean, default: "yes",
            "move on to the next server when one greets with a 5xx reply",
            status: .implemented),
        ParameterDefinition(
            "smtp_line_length_limit", .size, default: "998",
            "longest line sent; longer lines are folded; 0 means no limit",
            status: .implemented),
        ParameterDefinition(
            "smtp_discard_ehlo_keywords", .list, default: "",
            "EHLO keywords of servers that the client ignores",
            status: .planned(.delivery)),
        ParameterDefinition(
            "smtp_discard_ehlo_keyword_address_maps", .tables, default: "",
            "tables choosing the EHLO keywords to ignore, by server address",
            status: .planned(.delivery)),
        ParameterDefinition(
            "smtp_generic_maps", .tables, default: "",
            "address rewriting tables applied to mail leaving over SMTP",
            status: .planned(.delivery)),
        ParameterDefinition(
            "smtp_sender_dependent_authentication", .boolean, default: "no",
            "choose the SASL login by sender address",
            status: .implemented),
        ParameterDefinition(
            "smtp_skip_quit_response", .boolean, default: "yes",
            "close the connection without waiting for the reply to QUIT",
            status: .planned(.delivery)),

        // MARK: - SMTP client: time limits
        ParameterDefinition(
            "smtp_connect_timeout", .time(defaultUnit: "s"), default: "30s",
            "time limit for making a TCP connection; 0 leaves it to the operating system",
            status: .implemented),
        ParameterDefinition(
            "smtp_helo_timeout", .time(defaultUnit: "s"), default: "300s",
            "time limit for the greeting and the reply to HELO or EHLO",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "smtp_starttls_timeout", .time(defaultUnit: "s"), default: "300s",
            "time limit for the TLS handshake and shutdown",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "smtp_xforward_timeout", .time(defaultUnit: "s"), default: "300s",
            "time limit for the reply to XFORWARD",
            status: .planned(.delivery), minimum: 1),
        ParameterDefinition(
            "smtp_mail_timeout", .time(defaultUnit: "s"), default: "300s",
            "time limit for the reply to MAIL FROM",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "smtp_rcpt_timeout", .time(defaultUnit: "s"), default: "300s",
            "time limit for the reply to RCPT TO",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "smtp_data_init_timeout", .time(defaultUnit: "s"), default: "120s",
            "time limit for the reply to DATA",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "smtp_data_xfer_timeout", .time(defaultUnit: "s"), default: "180s",
            "time limit for sending each part of the message content",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "smtp_data_done_timeout", .time(defaultUnit: "s"), default: "600s",
            "time limit for the reply after the message content",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "smtp_rset_timeout", .time(defaultUnit: "s"), default: "20s",
            "time limit for the reply to RSET",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "smtp_quit_timeout", .time(defaultUnit: "s"), default: "300s",
            "time limit for the reply to QUIT",
            status: .implemented, minimum: 1),

        // MARK: - SMTP client: connection reuse
        ParameterDefinition(
            "smtp_connection_cache_on_demand", .boolean, default: "yes",
            "keep connections open for reuse when a destination has a backlog",
            status: .planned(.delivery)),
        ParameterDefinition(
            "smtp_connection_cache_destinations", .list, default: "",
            "destinations whose connections are always kept for reuse",
            status: .planned(.delivery)),
        ParameterDefinition(
            "smtp_connection_cache_time_limit", .time(defaultUnit: "s"), default: "2s",
            "how long an unused connection is kept open",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "smtp_connection_reuse_time_limit", .time(defaultUnit: "s"), default: "300s",
            "age after which a connection is no longer reused",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "smtp_connection_reuse_count_limit", .integer, default: "0",
            "deliveries after which a connection is no longer reused; 0 means no limit",
            status: .implemented),

        // MARK: - LMTP client
        ParameterDefinition(
            "lmtp_lhlo_name", .string, default: "$myhostname",
            "name sent in LHLO",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tcp_port", .string, default: "24",
            "LMTP server port or service name used when the next hop names none",
            status: .implemented),
        ParameterDefinition(
            "lmtp_assume_final", .boolean, default: "no",
            "treat a successful LMTP delivery as final delivery in delivery status notifications",
            status: .implemented),
        ParameterDefinition(
            "lmtp_connect_timeout", .time(defaultUnit: "s"), default: "0s",
            "time limit for making an LMTP connection; 0 leaves it to the operating system",
            status: .implemented),
        ParameterDefinition(
            "lmtp_lhlo_timeout", .time(defaultUnit: "s"), default: "300s",
            "time limit for the greeting and the reply to LHLO",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "lmtp_starttls_timeout", .time(defaultUnit: "s"), default: "300s",
            "time limit for the LMTP TLS handshake and shutdown",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "lmtp_xforward_timeout", .time(defaultUnit: "s"), default: "300s",
            "time limit for the reply to XFORWARD over LMTP",
            status: .planned(.delivery), minimum: 1),
        ParameterDefinition(
            "lmtp_mail_timeout", .time(defaultUnit: "s"), default: "300s",
            "time limit for the reply to MAIL FROM over LMTP",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "lmtp_rcpt_timeout", .time(defaultUnit: "s"), default: "300s",
            "time limit for the reply to RCPT TO over LMTP",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "lmtp_data_init_timeout", .time(defaultUnit: "s"), default: "120s",
            "time limit for the reply to DATA over LMTP",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "lmtp_data_xfer_timeout", .time(defaultUnit: "s"), default: "180s",
            "time limit for sending each part of the message content over LMTP",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "lmtp_data_done_timeout", .time(defaultUnit: "s"), default: "600s",
            "time limit for the per-recipient replies after the message content",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "lmtp_rset_timeout", .time(defaultUnit: "s"), default: "20s",
            "time limit for the reply to RSET over LMTP",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "lmtp_quit_timeout", .time(defaultUnit: "s"), default: "300s",
            "time limit for the reply to QUIT over LMTP",
            status: .implemented, minimum: 1),

        // MARK: - Local delivery
        ParameterDefinition(
            "alias_maps", .tables, default: "hash:/etc/aliases",
            "alias tables consulted for recipients in local domains",
            status: .implemented),
        ParameterDefinition(
            "alias_database", .tables, default: "hash:/etc/aliases",
            "alias tables that newaliases rebuilds",
            status: .ignored(noAliasDatabase)),
        ParameterDefinition(
            "home_mailbox", .string, default: "",
            "mailbox path relative to the home directory; a trailing / means Maildir",
            status: .implemented),
        ParameterDefinition(
            "mail_spool_directory", .string, default: "/var/mail",
            "directory of system mailboxes; a trailing / means Maildir",
            status: .implemented),
        ParameterDefinition(
            "mailbox_transport", .string, default: "",
            "transport that delivers local mailboxes, such as lmtp to Dovecot",
            status: .planned(.localDelivery)),
        ParameterDefinition(
            "mailbox_transport_maps", .tables, default: "",
            "tables choosing a mailbox transport per recipient",
            status: .planned(.localDelivery)),
        ParameterDefinition(
            "fallback_transport", .string, default: "",
            "transport for local recipients that have no system account",
            status: .planned(.localDelivery)),
        ParameterDefinition(
            "fallback_transport_maps", .tables, default: "",
            "tables choosing a fallback transport per recipient",
            status: .planned(.localDelivery)),
        ParameterDefinition(
            "luser_relay", .string, default: "",
            "destination for mail to unknown local recipients",
            status: .planned(.localDelivery)),
        ParameterDefinition(
            "forward_path", .list, default: "$home/.forward${recipient_delimiter}${extension}, $home/.forward",
            ".forward files looked for, in order, for each local recipient",
            status: .planned(.localDelivery)),
        ParameterDefinition(
            "allow_mail_to_files", .list, default: "alias, forward",
            "where /file/name destinations are allowed: alias, forward, include",
            status: .implemented),
        ParameterDefinition(
            "mailbox_size_limit", .size, default: "51200000",
            "largest mailbox or Maildir message file local delivery writes; 0 means no limit",
            status: .implemented),
        ParameterDefinition(
            "mailbox_delivery_lock", .list, default: "fcntl, dotlock",
            "how mailbox files are locked during delivery: fcntl, flock, dotlock",
            status: .planned(.localDelivery)),
        ParameterDefinition(
            "duplicate_filter_limit", .integer, default: "1000",
            "recipients remembered so that each gets one copy after alias expansion",
            status: .planned(.localDelivery)),
        ParameterDefinition(
            "require_home_directory", .boolean, default: "no",
            "deliver only when the recipient's home directory exists",
            status: .planned(.localDelivery)),
        ParameterDefinition(
            "mailbox_command", .string, default: "",
            "external program that delivers to local mailboxes",
            status: .unsupported(noCommandDelivery)),
        ParameterDefinition(
            "mailbox_command_maps", .tables, default: "",
            "tables choosing a mailbox delivery program per recipient",
            status: .unsupported(noCommandDelivery)),
        ParameterDefinition(
            "allow_mail_to_commands", .list, default: "alias, forward",
            "where pipe-to-command destinations are allowed: alias, forward, include",
            status: .unsupported(noCommandDelivery)),

        // MARK: - Virtual mailboxes and aliases
        ParameterDefinition(
            "virtual_mailbox_domains", .list, default: "$virtual_mailbox_maps",
            "domains whose mailboxes this host keeps (the virtual mailbox class)",
            status: .implemented),
        ParameterDefinition(
            "virtual_mailbox_maps", .tables, default: "",
            "tables mapping each recipient to a mailbox path under virtual_mailbox_base",
            status: .implemented),
        ParameterDefinition(
            "virtual_mailbox_base", .string, default: "",
            "directory that virtual mailbox paths are relative to",
            status: .implemented),
        ParameterDefinition(
            "virtual_mailbox_limit", .size, default: "51200000",
            "largest mailbox or Maildir message file virtual delivery writes; 0 means no limit",
            status: .implemented),
        ParameterDefinition(
            "virtual_mailbox_lock", .list, default: "fcntl, dotlock",
            "how virtual mailbox files are locked during delivery: fcntl, flock, dotlock",
            status: .ignored("Maildir delivery needs no mailbox locks")),
        ParameterDefinition(
            "virtual_minimum_uid", .integer, default: "100",
            "lowest user ID virtual_uid_maps may give",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "virtual_uid_maps", .tables, default: "",
            "tables giving the user ID that owns each virtual mailbox",
            status: .implemented),
        ParameterDefinition(
            "virtual_gid_maps", .tables, default: "",
            "tables giving the group ID that owns each virtual mailbox",
            status: .implemented),
        ParameterDefinition(
            "virtual_alias_maps", .tables, default: "$virtual_maps",
            "alias tables that redirect recipients in any domain",
            status: .implemented),
        ParameterDefinition(
            "virtual_alias_domains", .list, default: "$virtual_alias_maps",
            "domains all of whose addresses are aliases for addresses elsewhere",
            status: .implemented),
        ParameterDefinition(
            "virtual_alias_expansion_limit", .integer, default: "1000",
            "most addresses one recipient may expand into through virtual_alias_maps",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "virtual_alias_recursion_limit", .integer, default: "1000",
            "deepest nesting of virtual alias expansion",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "virtual_alias_address_length_limit", .size, default: "1000",
            "longest address that virtual alias expansion may produce",
            status: .implemented, minimum: 1),
    ]
}
