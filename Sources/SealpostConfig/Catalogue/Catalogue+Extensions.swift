extension ParameterCatalogue {
    /// Sealpost's own parameters, named in Postfix's style and listed in the README's parameter table.
    static let extensions: [ParameterDefinition] = [
        // MARK: - TLS sessions
        ParameterDefinition(
            "tls_session_ticket_key_file", .string, default: "",
            "file with TLS session ticket keys shared by several Sealpost nodes",
            status: .implemented, origin: .sealpost),
        ParameterDefinition(
            "smtpd_tls_tls13_session_tickets", .boolean, default: "yes",
            "issue TLS 1.3 session tickets; turn off for clients that fail STARTTLS on them",
            status: .implemented, origin: .sealpost),
        ParameterDefinition(
            "smtpd_tls_reload_interval", .time(defaultUnit: "s"), default: "2s",
            "how often the smtpd_tls_* certificate files are checked for changes and reloaded (0 = only on reload)",
            status: .implemented, origin: .sealpost),

        // MARK: - SMTP AUTH
        ParameterDefinition(
            "smtpd_client_auth_failure_limit", .integer, default: "10",
            "failed SMTP AUTH attempts per client address within the window before it is cut off (0 = no limit)",
            status: .implemented, origin: .sealpost),
        ParameterDefinition(
            "smtpd_client_auth_failure_window", .time(defaultUnit: "s"), default: "10m",
            "the time window in which smtpd_client_auth_failure_limit counts failed logins",
            status: .implemented, origin: .sealpost),
    ]
}
