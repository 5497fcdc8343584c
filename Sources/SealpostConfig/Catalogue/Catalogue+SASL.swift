private let noCyrus = "Sealpost has no Cyrus SASL back end"
private let builtInClientSASL =
    "Sealpost's client has one built-in SASL implementation; there is no plug-in to choose"

extension ParameterCatalogue {
    /// SASL authentication: the SMTP server's AUTH and the SMTP and LMTP clients' logins.
    static let sasl: [ParameterDefinition] = [
        // MARK: - SMTP server
        ParameterDefinition(
            "smtpd_sasl_auth_enable", .boolean, default: "no",
            "offer AUTH to SMTP clients",
            status: .implemented),
        ParameterDefinition(
            "smtpd_sasl_type", .choice(["cyrus", "dovecot", "passwd-file"]), default: "cyrus",
            "the SASL back end that checks client credentials: dovecot, or passwd-file (built in); cyrus is not supported",
            status: .implemented),
        ParameterDefinition(
            "smtpd_sasl_path", .string, default: "smtpd",
            "where the back end is reached: the Dovecot auth socket, or Cyrus's application name",
            status: .implemented),
        ParameterDefinition(
            "smtpd_sasl_service", .string, default: "smtp",
            "service name passed to the SASL back end with each login",
            status: .implemented),
        ParameterDefinition(
            "smtpd_sasl_security_options", .list, default: "noanonymous",
            "mechanism properties required before TLS (noanonymous, noplaintext, …)",
            status: .implemented),
        ParameterDefinition(
            "smtpd_sasl_tls_security_options", .list, default: "$smtpd_sasl_security_options",
            "mechanism properties required once the session is encrypted",
            status: .implemented),
        ParameterDefinition(
            "smtpd_sasl_mechanism_filter", .list, default: "!external, static:rest",
            "which of the back end's mechanisms are offered to clients",
            status: .implemented),
        ParameterDefinition(
            "smtpd_sasl_authenticated_header", .boolean, default: "no",
            "record the login name in the Received header",
            status: .implemented),
        ParameterDefinition(
            "smtpd_sasl_exceptions_networks", .list, default: "",
            "clients that are never offered AUTH",
            status: .implemented),
        ParameterDefinition(
            "smtpd_sasl_response_limit", .size, default: "12288",
            "longest AUTH response accepted from a client",
            status: .implemented, minimum: 12288),
        ParameterDefinition(
            "smtpd_sender_login_maps", .tables, default: "",
            "tables saying which logins may use which MAIL FROM address",
            status: .implemented),
        ParameterDefinition(
            "broken_sasl_auth_clients", .boolean, default: "no",
            "also announce AUTH in the obsolete AUTH= form that old clients expect",
            status: .implemented),
        ParameterDefinition(
            "smtpd_sasl_local_domain", .string, default: "",
            "Cyrus SASL realm in which client logins are checked",
            status: .unsupported(noCyrus)),
        ParameterDefinition(
            "cyrus_sasl_config_path", .string, default: "",
            "search path for Cyrus SASL configuration files",
            status: .unsupported(noCyrus)),

        // MARK: - SMTP client
        ParameterDefinition(
            "smtp_sasl_auth_enable", .boolean, default: "no",
            "log in to servers that offer AUTH",
            status: .implemented),
        ParameterDefinition(
            "smtp_sasl_password_maps", .tables, default: "",
            "tables of username:password per destination or sender",
            status: .implemented),
        ParameterDefinition(
            "smtp_sasl_security_options", .list, default: "noplaintext, noanonymous",
            "mechanism properties required on unencrypted sessions",
            status: .implemented),
        ParameterDefinition(
            "smtp_sasl_tls_security_options", .list, default: "$smtp_sasl_security_options",
            "mechanism properties required over TLS without a verified server",
            status: .implemented),
        ParameterDefinition(
            "smtp_sasl_tls_verified_security_options", .list, default: "$smtp_sasl_tls_security_options",
            "mechanism properties required over TLS with a verified server",
            status: .planned(.delivery)),
        ParameterDefinition(
            "smtp_sasl_mechanism_filter", .list, default: "",
            "which of the server's mechanisms the client may use",
            status: .implemented),
        ParameterDefinition(
            "smtp_sasl_auth_cache_name", .tables, default: "",
            "table remembering failed logins, so that mail is not retried with a bad password",
            status: .planned(.delivery)),
        ParameterDefinition(
            "smtp_sasl_auth_cache_time", .time(defaultUnit: "d"), default: "90d",
            "how long an entry in smtp_sasl_auth_cache_name stays valid",
            status: .planned(.delivery)),
        ParameterDefinition(
            "smtp_sasl_auth_soft_bounce", .boolean, default: "yes",
            "defer mail instead of bouncing it when a login is rejected",
            status: .implemented),
        ParameterDefinition(
            "smtp_sasl_type", .string, default: "cyrus",
            "SASL plug-in of the client (Postfix only has cyrus)",
            status: .ignored(builtInClientSASL)),
        ParameterDefinition(
            "smtp_sasl_path", .string, default: "",
            "plug-in specific configuration of the client's SASL",
            status: .ignored(builtInClientSASL)),
        ParameterDefinition(
            "send_cyrus_sasl_authzid", .boolean, default: "no",
            "send the login name as the authorization identity too (Cyrus)",
            status: .unsupported(noCyrus)),

        // MARK: - LMTP client
        ParameterDefinition(
            "lmtp_sasl_auth_enable", .boolean, default: "no",
            "log in to LMTP servers that offer AUTH",
            status: .implemented),
        ParameterDefinition(
            "lmtp_sasl_password_maps", .tables, default: "",
            "tables of username:password per LMTP destination or sender",
            status: .implemented),
        ParameterDefinition(
            "lmtp_sasl_security_options", .list, default: "noplaintext, noanonymous",
            "mechanism properties required on unencrypted LMTP sessions",
            status: .implemented),
        ParameterDefinition(
            "lmtp_sasl_tls_security_options", .list, default: "$lmtp_sasl_security_options",
            "mechanism properties required over LMTP TLS without a verified server",
            status: .implemented),
        ParameterDefinition(
            "lmtp_sasl_tls_verified_security_options", .list, default: "$lmtp_sasl_tls_security_options",
            "mechanism properties required over LMTP TLS with a verified server",
            status: .planned(.delivery)),
        ParameterDefinition(
            "lmtp_sasl_mechanism_filter", .list, default: "",
            "which of the LMTP server's mechanisms the client may use",
            status: .implemented),
        ParameterDefinition(
            "lmtp_sasl_auth_cache_name", .tables, default: "",
            "table remembering failed LMTP logins",
            status: .planned(.delivery)),
        ParameterDefinition(
            "lmtp_sasl_auth_cache_time", .time(defaultUnit: "d"), default: "90d",
            "how long an entry in lmtp_sasl_auth_cache_name stays valid",
            status: .planned(.delivery)),
        ParameterDefinition(
            "lmtp_sasl_auth_soft_bounce", .boolean, default: "yes",
            "defer mail instead of bouncing it when an LMTP login is rejected",
            status: .implemented),
        ParameterDefinition(
            "lmtp_sasl_type", .string, default: "cyrus",
            "SASL plug-in of the LMTP client",
            status: .ignored(builtInClientSASL)),
        ParameterDefinition(
            "lmtp_sasl_path", .string, default: "",
            "plug-in specific configuration of the LMTP client's SASL",
            status: .ignored(builtInClientSASL)),
    ]
}
