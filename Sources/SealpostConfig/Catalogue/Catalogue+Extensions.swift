extension ParameterCatalogue {
    /// Sealpost's own parameters, named in Postfix's style and listed in the README's parameter table.
    static let extensions: [ParameterDefinition] = [
        // MARK: - TLS sessions
        ParameterDefinition(
            "tls_session_ticket_key_file", .string, default: "",
            "file with TLS session ticket keys shared by several Sealpost nodes",
            status: .planned(.tlsEngine), origin: .sealpost),
        ParameterDefinition(
            "smtpd_tls_tls13_session_tickets", .boolean, default: "yes",
            "issue TLS 1.3 session tickets; turn off for clients that fail STARTTLS on them",
            status: .planned(.tlsEngine), origin: .sealpost),
    ]
}
