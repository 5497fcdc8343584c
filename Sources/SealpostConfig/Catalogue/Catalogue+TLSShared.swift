private let noTLSManager =
    "Sealpost has no tlsmgr process; OpenSSL 3 seeds and reseeds its own generator from the kernel"
private let legacyFingerprintsRemoved =
    "a migration aid for fingerprints from Postfix 2.9.0 to 2.9.5, since removed "
    + "from Postfix; Sealpost computes fingerprints the correct way"

extension ParameterCatalogue {
    /// TLS settings shared by the server and the clients: cipher grades, curves, trust, OpenSSL and entropy.
    static let tlsShared: [ParameterDefinition] = [
        // MARK: - Cipher grades and OpenSSL options
        ParameterDefinition(
            "tls_high_cipherlist", .string, default: "aNULL:-aNULL:HIGH:@STRENGTH",
            "OpenSSL cipher list behind the \"high\" cipher grade",
            status: .implemented),
        ParameterDefinition(
            "tls_medium_cipherlist", .string, default: "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH",
            "OpenSSL cipher list behind the \"medium\" cipher grade",
            status: .implemented),
        ParameterDefinition(
            "tls_low_cipherlist", .string, default: "aNULL:-aNULL:HIGH:MEDIUM:LOW:+RC4:@STRENGTH",
            "OpenSSL cipher list behind the \"low\" cipher grade",
            status: .implemented),
        ParameterDefinition(
            "tls_export_cipherlist", .string, default: "aNULL:-aNULL:HIGH:MEDIUM:LOW:EXPORT:+RC4:@STRENGTH",
            "OpenSSL cipher list behind the \"export\" cipher grade",
            status: .implemented),
        ParameterDefinition(
            "tls_null_cipherlist", .string, default: "eNULL:!aNULL",
            "OpenSSL cipher list behind the \"null\" grade: authentication without encryption",
            status: .implemented),
        ParameterDefinition(
            "tls_preempt_cipherlist", .boolean, default: "no",
            "choose the cipher by this side's preference order rather than the client's",
            status: .implemented),
        ParameterDefinition(
            "tls_ssl_options", .list, default: "",
            "OpenSSL SSL_OP_* options to turn on, by name or as a hexadecimal mask",
            status: .implemented),
        ParameterDefinition(
            "tls_disable_workarounds", .list, default: "",
            "OpenSSL bug workarounds to turn off, by name or as a hexadecimal mask",
            status: .implemented),

        // MARK: - Key exchange
        ParameterDefinition(
            "tls_eecdh_auto_curves", .list, default: "X25519 X448 prime256v1 secp521r1 secp384r1",
            "elliptic curves offered for ECDHE with the \"auto\" grade, most preferred first",
            status: .implemented),
        ParameterDefinition(
            "tls_eecdh_strong_curve", .string, default: "prime256v1",
            "the curve used with the \"strong\" ECDHE grade",
            status: .implemented),
        ParameterDefinition(
            "tls_eecdh_ultra_curve", .string, default: "secp384r1",
            "the curve used with the \"ultra\" ECDHE grade",
            status: .implemented),
        ParameterDefinition(
            "tls_ffdhe_auto_groups", .list, default: "ffdhe2048 ffdhe3072",
            "finite-field DHE groups offered for key exchange, most preferred first",
            status: .implemented, origin: .laterPostfix("3.8")),

        // MARK: - Trust and name matching
        ParameterDefinition(
            "tls_append_default_CA", .boolean, default: "no",
            "trust the system's default CAs in addition to the configured CAfile and CApath",
            status: .implemented),
        ParameterDefinition(
            "tls_wildcard_matches_multiple_labels", .boolean, default: "yes",
            "let a wildcard certificate name match more than one name label",
            status: .implemented),
        ParameterDefinition(
            "tls_legacy_public_key_fingerprints", .boolean, default: "no",
            "accept the wrong public-key fingerprints that Postfix 2.9.0 to 2.9.5 computed",
            status: .ignored(legacyFingerprintsRemoved)),
        ParameterDefinition(
            "tls_dane_digests", .list, default: "sha512 sha256",
            "digest algorithms used for DANE TLSA records, most preferred first",
            status: .planned(.dane)),
        ParameterDefinition(
            "tls_server_sni_maps", .tables, default: "",
            "tables choosing the server's key and certificate chain by SNI name",
            status: .implemented),

        // MARK: - Sessions and shutdown
        ParameterDefinition(
            "tls_session_ticket_cipher", .string, default: "aes-256-cbc",
            "cipher that protects TLS session tickets; empty turns tickets off",
            status: .implemented),
        ParameterDefinition(
            "tls_fast_shutdown_enable", .boolean, default: "yes",
            "close TLS connections without waiting for the peer's close_notify",
            status: .implemented),

        // MARK: - OpenSSL configuration
        ParameterDefinition(
            "tls_config_file", .string, default: "default",
            "OpenSSL configuration file to load: default, none or a path",
            status: .implemented),
        ParameterDefinition(
            "tls_config_name", .string, default: "",
            "application name that selects a section of tls_config_file",
            status: .implemented),

        // MARK: - Entropy
        ParameterDefinition(
            "tls_random_source", .string, default: "dev:/dev/urandom",
            "entropy source for the TLS random pool: dev:, egd: or a file",
            status: .implemented),
        ParameterDefinition(
            "tls_random_bytes", .size, default: "32",
            "bytes read from tls_random_source at each reseed",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "tls_daemon_random_bytes", .size, default: "32",
            "random bytes a Postfix daemon takes from tlsmgr at start-up",
            status: .ignored(noTLSManager), minimum: 1),
        ParameterDefinition(
            "tls_random_reseed_period", .time(defaultUnit: "s"), default: "3600s",
            "longest time between reseeds of the TLS random pool",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "tls_random_exchange_name", .string, default: "${data_directory}/prng_exch",
            "file in which the TLS manager saves random state across restarts",
            status: .ignored(noTLSManager)),
        ParameterDefinition(
            "tls_random_prng_update_period", .time(defaultUnit: "s"), default: "3600s",
            "how often the TLS manager saves its random state",
            status: .ignored(noTLSManager), minimum: 1),
    ]
}
