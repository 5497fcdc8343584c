private let cipherGrades: ParameterKind = .choice(["export", "low", "medium", "high", "null"])
private let fingerprintDigests: ParameterKind = .choice(["md5", "sha1", "sha224", "sha256", "sha384", "sha512"])
private let inMemorySessionCache =
    "Sealpost keeps TLS sessions in memory in its single process, so no external cache database is needed"

extension ParameterCatalogue {
    /// TLS in the SMTP server: when TLS is used, certificates, client certificates, ciphers and sessions.
    static let tlsServer: [ParameterDefinition] = [
        // MARK: - When TLS is used
        ParameterDefinition(
            "smtpd_tls_security_level", .choice(["", "none", "may", "encrypt"]), default: "",
            "TLS policy: none, may (offer STARTTLS) or encrypt (require TLS)",
            status: .implemented),
        ParameterDefinition(
            "smtpd_use_tls", .boolean, default: "no",
            "legacy switch to offer STARTTLS; smtpd_tls_security_level = may replaces it",
            status: .implemented),
        ParameterDefinition(
            "smtpd_enforce_tls", .boolean, default: "no",
            "legacy switch to require TLS; smtpd_tls_security_level = encrypt replaces it",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_wrappermode", .boolean, default: "no",
            "start TLS as soon as a client connects instead of after STARTTLS (port 465)",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_auth_only", .boolean, default: "no",
            "offer AUTH only once the session is encrypted",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_received_header", .boolean, default: "no",
            "record the TLS protocol, cipher and client certificate in the Received header",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_loglevel", .list, default: "0",
            "how much TLS activity is logged, from 0 (nothing) to 4 (full dumps)",
            status: .implemented),

        // MARK: - Server certificates and keys
        ParameterDefinition(
            "smtpd_tls_chain_files", .list, default: "",
            "files each holding a private key followed by its certificate chain (preferred form)",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_cert_file", .string, default: "",
            "RSA certificate in PEM form, server certificate first, then its chain",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_key_file", .string, default: "$smtpd_tls_cert_file",
            "RSA private key in PEM form, unencrypted; may be the certificate file",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_eccert_file", .string, default: "",
            "ECDSA certificate in PEM form, server certificate first, then its chain",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_eckey_file", .string, default: "$smtpd_tls_eccert_file",
            "ECDSA private key in PEM form, unencrypted",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_dcert_file", .string, default: "",
            "DSA certificate in PEM form (obsolete)",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_dkey_file", .string, default: "$smtpd_tls_dcert_file",
            "DSA private key in PEM form (obsolete)",
            status: .implemented),

        // MARK: - Client certificates
        ParameterDefinition(
            "smtpd_tls_ask_ccert", .boolean, default: "no",
            "ask clients to present a certificate",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_req_ccert", .boolean, default: "no",
            "require a verified client certificate; implies encryption",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_ccert_verifydepth", .integer, default: "9",
            "longest client certificate chain that is verified",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_CAfile", .string, default: "",
            "PEM file of CA certificates trusted for, and named in requests for, client certificates",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_CApath", .string, default: "",
            "directory of hashed CA certificates trusted for client certificates",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_fingerprint_digest", fingerprintDigests,
            default: "${{$compatibility_level} <level {3.6} ? {md5} : {sha256}}",
            "digest for client certificate fingerprints in access checks",
            status: .implemented),
        ParameterDefinition(
            "relay_clientcerts", .tables, default: "",
            "tables of client certificate fingerprints allowed to relay (permit_tls_clientcerts)",
            status: .implemented),

        // MARK: - Protocols, ciphers and key exchange
        ParameterDefinition(
            "smtpd_tls_protocols", .tlsProtocols, default: ">=TLSv1",
            "TLS versions allowed with opportunistic TLS",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_mandatory_protocols", .tlsProtocols, default: ">=TLSv1",
            "TLS versions allowed when TLS is required",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_ciphers", cipherGrades, default: "medium",
            "cipher grade used with opportunistic TLS",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_mandatory_ciphers", cipherGrades, default: "medium",
            "lowest cipher grade allowed when TLS is required",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_exclude_ciphers", .list, default: "",
            "ciphers or cipher types removed at every security level",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_mandatory_exclude_ciphers", .list, default: "",
            "further ciphers removed when TLS is required",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_eecdh_grade", .choice(["none", "strong", "ultra", "auto"]), default: "auto",
            "elliptic-curve key exchange: none, one fixed curve (strong, ultra) or negotiated (auto)",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_dh1024_param_file", .string, default: "",
            "PEM file of finite-field DHE parameters (2048 bits or more, despite the name)",
            status: .implemented),
        ParameterDefinition(
            "smtpd_tls_dh512_param_file", .string, default: "",
            "PEM file of 512-bit DHE parameters for export ciphers",
            status: .ignored("obsolete: Postfix 3.x ignores it too; DHE uses smtpd_tls_dh1024_param_file")),

        // MARK: - Sessions
        ParameterDefinition(
            "smtpd_tls_session_cache_timeout", .time(defaultUnit: "s"), default: "3600s",
            "how long a TLS session or session ticket can be resumed",
            status: .implemented, maximum: 8640000),
        ParameterDefinition(
            "smtpd_tls_session_cache_database", .string, default: "",
            "external table in which TLS sessions are cached between processes",
            status: .ignored(inMemorySessionCache)),
        ParameterDefinition(
            "smtpd_tls_always_issue_session_ids", .boolean, default: "yes",
            "issue TLS session IDs even when sessions are not cached",
            status: .implemented),
    ]
}
