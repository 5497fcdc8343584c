private let clientSecurityLevels: ParameterKind = .choice([
    "", "none", "may", "encrypt", "dane", "dane-only", "fingerprint", "verify", "secure",
])
private let cipherGrades: ParameterKind = .choice(["export", "low", "medium", "high", "null"])
private let fingerprintDigests: ParameterKind = .choice(["md5", "sha1", "sha224", "sha256", "sha384", "sha512"])
private let inMemorySessionCache =
    "Sealpost keeps TLS sessions in memory in its single process, so no external cache database is needed"

extension ParameterCatalogue {
    /// TLS in the SMTP and LMTP clients: policy, client certificates, server verification and ciphers.
    static let tlsClient: [ParameterDefinition] = [
        // MARK: - SMTP: when TLS is used
        ParameterDefinition(
            "smtp_tls_security_level", clientSecurityLevels, default: "",
            "default TLS policy for SMTP deliveries, from none to secure",
            status: .implemented),
        ParameterDefinition(
            "smtp_use_tls", .boolean, default: "no",
            "legacy switch to use TLS when offered; smtp_tls_security_level = may replaces it",
            status: .implemented),
        ParameterDefinition(
            "smtp_enforce_tls", .boolean, default: "no",
            "legacy switch to require TLS; smtp_tls_security_level = encrypt replaces it",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_enforce_peername", .boolean, default: "yes",
            "legacy: with smtp_enforce_tls, also verify the server's name",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_policy_maps", .tables, default: "",
            "tables of TLS policies per SMTP destination",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_per_site", .tables, default: "",
            "legacy tables of TLS policies per SMTP destination or host",
            status: .planned(.delivery)),
        ParameterDefinition(
            "smtp_tls_wrappermode", .boolean, default: "no",
            "start TLS as soon as connected instead of with STARTTLS",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_note_starttls_offer", .boolean, default: "no",
            "log SMTP servers that offer STARTTLS when TLS is not used",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_loglevel", .list, default: "0",
            "how much SMTP client TLS activity is logged, from 0 to 4",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_block_early_mail_reply", .boolean, default: "no",
            "detect SMTP servers that answer injected commands before TLS (CVE-2009-3555)",
            status: .planned(.delivery)),
        ParameterDefinition(
            "smtp_tls_servername", .string, default: "",
            "SNI name sent to SMTP servers: empty, hostname, nexthop or a fixed name",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_connection_reuse", .boolean, default: "no",
            "make several SMTP deliveries over one TLS connection",
            status: .planned(.delivery)),

        // MARK: - SMTP: client certificates and keys
        ParameterDefinition(
            "smtp_tls_chain_files", .list, default: "",
            "files each holding the SMTP client's private key followed by its certificate chain",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_cert_file", .string, default: "",
            "RSA client certificate for SMTP in PEM form, certificate first, then its chain",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_key_file", .string, default: "$smtp_tls_cert_file",
            "RSA private key of the SMTP client certificate, unencrypted PEM",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_eccert_file", .string, default: "",
            "ECDSA client certificate for SMTP in PEM form",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_eckey_file", .string, default: "$smtp_tls_eccert_file",
            "ECDSA private key of the SMTP client certificate, unencrypted PEM",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_dcert_file", .string, default: "",
            "DSA client certificate for SMTP in PEM form (obsolete)",
            status: .planned(.delivery)),
        ParameterDefinition(
            "smtp_tls_dkey_file", .string, default: "$smtp_tls_dcert_file",
            "DSA private key of the SMTP client certificate (obsolete)",
            status: .planned(.delivery)),

        // MARK: - SMTP: verifying servers
        ParameterDefinition(
            "smtp_tls_CAfile", .string, default: "",
            "PEM file of CA certificates trusted to verify SMTP servers",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_CApath", .string, default: "",
            "directory of hashed CA certificates trusted to verify SMTP servers",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_trust_anchor_file", .list, default: "",
            "PEM files of trust-anchor certificates or keys for the verify and secure levels",
            status: .planned(.delivery)),
        ParameterDefinition(
            "smtp_tls_scert_verifydepth", .integer, default: "9",
            "longest SMTP server certificate chain that is verified",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_verify_cert_match", .list, default: "hostname",
            "names an SMTP server certificate must match at the verify level",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_secure_cert_match", .list, default: "nexthop, dot-nexthop",
            "names an SMTP server certificate must match at the secure level",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_fingerprint_cert_match", .list, default: "",
            "certificate or key fingerprints accepted at the fingerprint level",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_fingerprint_digest", fingerprintDigests,
            default: "${{$compatibility_level} <level {3.6} ? {md5} : {sha256}}",
            "digest for SMTP server fingerprints at the fingerprint level",
            status: .implemented),

        // MARK: - SMTP: protocols and ciphers
        ParameterDefinition(
            "smtp_tls_protocols", .tlsProtocols, default: ">=TLSv1",
            "TLS versions allowed with opportunistic SMTP TLS",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_mandatory_protocols", .tlsProtocols, default: ">=TLSv1",
            "TLS versions allowed when SMTP TLS is required",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_ciphers", cipherGrades, default: "medium",
            "cipher grade used with opportunistic SMTP TLS",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_mandatory_ciphers", cipherGrades, default: "medium",
            "lowest cipher grade allowed when SMTP TLS is required",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_exclude_ciphers", .list, default: "",
            "ciphers or cipher types the SMTP client never uses",
            status: .implemented),
        ParameterDefinition(
            "smtp_tls_mandatory_exclude_ciphers", .list, default: "",
            "further ciphers removed when SMTP TLS is required",
            status: .implemented),

        // MARK: - SMTP: sessions and DANE
        ParameterDefinition(
            "smtp_tls_session_cache_timeout", .time(defaultUnit: "s"), default: "3600s",
            "how long a cached SMTP client TLS session may be resumed",
            status: .implemented, maximum: 8640000),
        ParameterDefinition(
            "smtp_tls_session_cache_database", .string, default: "",
            "external table in which SMTP client TLS sessions are cached",
            status: .ignored(inMemorySessionCache)),
        ParameterDefinition(
            "smtp_tls_force_insecure_host_tlsa_lookup", .boolean, default: "no",
            "look up TLSA records even for hosts in unsigned DNS zones",
            status: .planned(.dane)),
        ParameterDefinition(
            "smtp_tls_dane_insecure_mx_policy", .choice(["may", "encrypt", "dane"]),
            default: "${{$smtp_tls_security_level} == {dane} ? {dane} : {may}}",
            "TLS policy for an MX host with TLSA records found through an unsigned MX lookup",
            status: .planned(.dane)),

        // MARK: - LMTP: when TLS is used
        ParameterDefinition(
            "lmtp_tls_security_level", clientSecurityLevels, default: "",
            "default TLS policy for LMTP deliveries, from none to secure",
            status: .implemented),
        ParameterDefinition(
            "lmtp_use_tls", .boolean, default: "no",
            "legacy switch to use TLS when offered; lmtp_tls_security_level = may replaces it",
            status: .implemented),
        ParameterDefinition(
            "lmtp_enforce_tls", .boolean, default: "no",
            "legacy switch to require TLS; lmtp_tls_security_level = encrypt replaces it",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_enforce_peername", .boolean, default: "yes",
            "legacy: with lmtp_enforce_tls, also verify the server's name",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_policy_maps", .tables, default: "",
            "tables of TLS policies per LMTP destination",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_per_site", .tables, default: "",
            "legacy tables of TLS policies per LMTP destination or host",
            status: .planned(.delivery)),
        ParameterDefinition(
            "lmtp_tls_wrappermode", .boolean, default: "no",
            "start TLS as soon as connected instead of with STARTTLS",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_note_starttls_offer", .boolean, default: "no",
            "log LMTP servers that offer STARTTLS when TLS is not used",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_loglevel", .list, default: "0",
            "how much LMTP client TLS activity is logged, from 0 to 4",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_block_early_mail_reply", .boolean, default: "no",
            "detect LMTP servers that answer injected commands before TLS (CVE-2009-3555)",
            status: .planned(.delivery)),
        ParameterDefinition(
            "lmtp_tls_servername", .string, default: "",
            "SNI name sent to LMTP servers: empty, hostname, nexthop or a fixed name",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_connection_reuse", .boolean, default: "no",
            "make several LMTP deliveries over one TLS connection",
            status: .planned(.delivery)),

        // MARK: - LMTP: client certificates and keys
        ParameterDefinition(
            "lmtp_tls_chain_files", .list, default: "",
            "files each holding the LMTP client's private key followed by its certificate chain",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_cert_file", .string, default: "",
            "RSA client certificate for LMTP in PEM form, certificate first, then its chain",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_key_file", .string, default: "$lmtp_tls_cert_file",
            "RSA private key of the LMTP client certificate, unencrypted PEM",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_eccert_file", .string, default: "",
            "ECDSA client certificate for LMTP in PEM form",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_eckey_file", .string, default: "$lmtp_tls_eccert_file",
            "ECDSA private key of the LMTP client certificate, unencrypted PEM",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_dcert_file", .string, default: "",
            "DSA client certificate for LMTP in PEM form (obsolete)",
            status: .planned(.delivery)),
        ParameterDefinition(
            "lmtp_tls_dkey_file", .string, default: "$lmtp_tls_dcert_file",
            "DSA private key of the LMTP client certificate (obsolete)",
            status: .planned(.delivery)),

        // MARK: - LMTP: verifying servers
        ParameterDefinition(
            "lmtp_tls_CAfile", .string, default: "",
            "PEM file of CA certificates trusted to verify LMTP servers",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_CApath", .string, default: "",
            "directory of hashed CA certificates trusted to verify LMTP servers",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_trust_anchor_file", .list, default: "",
            "PEM files of trust-anchor certificates or keys for the verify and secure levels",
            status: .planned(.delivery)),
        ParameterDefinition(
            "lmtp_tls_scert_verifydepth", .integer, default: "9",
            "longest LMTP server certificate chain that is verified",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_verify_cert_match", .list, default: "hostname",
            "names an LMTP server certificate must match at the verify level",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_secure_cert_match", .list, default: "nexthop",
            "names an LMTP server certificate must match at the secure level",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_fingerprint_cert_match", .list, default: "",
            "certificate or key fingerprints accepted at the fingerprint level",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_fingerprint_digest", fingerprintDigests,
            default: "${{$compatibility_level} <level {3.6} ? {md5} : {sha256}}",
            "digest for LMTP server fingerprints at the fingerprint level",
            status: .implemented),

        // MARK: - LMTP: protocols and ciphers
        ParameterDefinition(
            "lmtp_tls_protocols", .tlsProtocols, default: ">=TLSv1",
            "TLS versions allowed with opportunistic LMTP TLS",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_mandatory_protocols", .tlsProtocols, default: ">=TLSv1",
            "TLS versions allowed when LMTP TLS is required",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_ciphers", cipherGrades, default: "medium",
            "cipher grade used with opportunistic LMTP TLS",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_mandatory_ciphers", cipherGrades, default: "medium",
            "lowest cipher grade allowed when LMTP TLS is required",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_exclude_ciphers", .list, default: "",
            "ciphers or cipher types the LMTP client never uses",
            status: .implemented),
        ParameterDefinition(
            "lmtp_tls_mandatory_exclude_ciphers", .list, default: "",
            "further ciphers removed when LMTP TLS is required",
            status: .implemented),

        // MARK: - LMTP: sessions and DANE
        ParameterDefinition(
            "lmtp_tls_session_cache_timeout", .time(defaultUnit: "s"), default: "3600s",
            "how long a cached LMTP client TLS session may be resumed",
            status: .implemented, maximum: 8640000),
        ParameterDefinition(
            "lmtp_tls_session_cache_database", .string, default: "",
            "external table in which LMTP client TLS sessions are cached",
            status: .ignored(inMemorySessionCache)),
        ParameterDefinition(
            "lmtp_tls_force_insecure_host_tlsa_lookup", .boolean, default: "no",
            "look up TLSA records even for hosts in unsigned DNS zones",
            status: .planned(.dane)),
    ]
}
