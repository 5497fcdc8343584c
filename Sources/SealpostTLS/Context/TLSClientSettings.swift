import SealpostConfig

/// The SMTP client's TLS security levels, ordered as Postfix orders them (`tls_level.c`).
public enum TLSClientSecurityLevel: Int, Sendable, Hashable, Comparable, CaseIterable {
    case none = 0, may, encrypt, fingerprint, halfDANE, dane, daneOnly, verify, secure

    /// The level a `*_tls_security_level` value names (`halfdane` is internal and not accepted).
    public init?(name: String) {
        switch name.lowercased() {
        case "none": self = .none
        case "may": self = .may
        case "encrypt": self = .encrypt
        case "fingerprint": self = .fingerprint
        case "dane": self = .dane
        case "dane-only": self = .daneOnly
        case "verify": self = .verify
        case "secure": self = .secure
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .none: "none"
        case .may: "may"
        case .encrypt: "encrypt"
        case .fingerprint: "fingerprint"
        case .halfDANE: "halfdane"
        case .dane: "dane"
        case .daneOnly: "dane-only"
        case .verify: "verify"
        case .secure: "secure"
        }
    }

    /// `TLS_REQUIRED`: TLS is mandatory (the mandatory protocols and ciphers apply).
    public var requiresTLS: Bool { self > .may }
    /// `TLS_MUST_MATCH`: the certificate must match (fingerprint, DANE, names).
    public var mustMatch: Bool { self > .encrypt }
    /// `TLS_DANE_BASED`.
    public var isDANEBased: Bool { self >= .halfDANE && self <= .daneOnly }
    /// `TLS_NEVER_SECURED`.
    public var neverSecured: Bool { self == .halfDANE }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Which name the client sends in the SNI extension (`smtp_tls_servername`).
public enum TLSServerNameChoice: Sendable, Hashable {
    /// Empty: no SNI (Postfix's default, except with DANE).
    case none
    /// The server's host name (from the MX lookup).
    case hostname
    /// The next-hop domain.
    case nexthop
    /// A fixed name.
    case literal(String)

    init(_ value: String, parameter: String) throws(TLSConfigurationError) {
        switch value {
        case "": self = .none
        case "hostname": self = .hostname
        case "nexthop": self = .nexthop
        default:
            guard TLSPeerNames.isValidHostname(value) else {
                throw TLSConfigurationError(
                    .invalidValue, parameter: parameter,
                    reason: "\"\(parameter) = \(value)\" specifies an invalid hostname")
            }
            self = .literal(value)
        }
    }
}

/// Everything the SMTP (or LMTP) client needs for its TLS context and for setting up each connection, with
/// Postfix 3.7's rules (`smtp.c`, `smtp_tls_policy.c`, `tls_client.c`):
///
/// - The default level is `smtp_tls_security_level`, else from the legacy `smtp_use_tls` / `smtp_enforce_tls` /
///   `smtp_tls_enforce_peername`.
/// - At `may` the opportunistic `smtp_tls_protocols` and `smtp_tls_ciphers` apply; above it the mandatory ones
///   and `smtp_tls_mandatory_exclude_ciphers`; `encrypt` also excludes `eNULL`, `fingerprint` and above `aNULL`.
/// - `verify` matches names by `smtp_tls_verify_cert_match`, `secure` by `smtp_tls_secure_cert_match`;
///   `fingerprint` matches `smtp_tls_fingerprint_cert_match` against the certificate or its public key.
public struct TLSClientSettings: Sendable {
    /// `smtp` or `lmtp`: the parameter prefix.
    public var prefix: String
    /// The level used when a destination has no policy of its own.
    public var defaultLevel: TLSClientSecurityLevel
    /// The client's own keys and chains (`smtp_tls_chain_files`, `smtp_tls_cert_file`, …), usually none.
    public var certificates: TLSCertificateSettings
    /// `smtp_tls_CAfile`, `smtp_tls_CApath`, `tls_append_default_CA`.
    public var trust: TLSTrustSettings
    /// `smtp_tls_scert_verifydepth`.
    public var verifyDepth: Int
    /// The opportunistic (`may`) and mandatory (above `may`) protocol lists.
    public var opportunisticProtocols: TLSProtocolPolicy
    public var mandatoryProtocols: TLSProtocolPolicy
    /// `smtp_tls_ciphers`, `smtp_tls_mandatory_ciphers`.
    public var opportunisticGrade: TLSCipherGrade
    public var mandatoryGrade: TLSCipherGrade
    public var cipherLists: TLSCipherLists
    /// `smtp_tls_exclude_ciphers`, `smtp_tls_mandatory_exclude_ciphers`.
    public var exclusions: [String]
    public var mandatoryExclusions: [String]
    /// `smtp_tls_verify_cert_match`, `smtp_tls_secure_cert_match`.
    public var verifyCertMatch: [String]
    public var secureCertMatch: [String]
    /// `smtp_tls_fingerprint_cert_match`, decoded from hex (colons optional).
    public var fingerprints: [[UInt8]]
    /// `smtp_tls_fingerprint_digest`.
    public var fingerprintDigest: TLSFingerprintDigest
    /// `smtp_tls_servername`.
    public var serverName: TLSServerNameChoice
    /// `tls_wildcard_matches_multiple_labels`: whether `*.example.net` matches `a.b.example.net`.
    public var wildcardMatchesMultipleLabels: Bool
    /// `tls_eecdh_auto_curves`, `tls_ffdhe_auto_groups` (the client always offers the "auto" list).
    public var keyExchange: TLSKeyExchangeSettings
    public var sslOptions: TLSSSLOptions
    /// `smtp_tls_session_cache_timeout`, sanitised like the server's (0 off, at least 120).
    public var sessionCacheTimeout: Int
    public var randomSource: TLSRandomSource
    public var randomBytes: Int
    public var randomReseedPeriod: Int
    /// `smtp_tls_loglevel`.
    public var logMask: TLSLogMask
    public var logLevel: Int { logMask.level }
    public var warnings: [TLSConfigurationWarning]

    /// The settings of the SMTP client (`prefix` "smtp") or the LMTP client ("lmtp").
    public init(_ configuration: ServiceConfiguration, prefix: String = "smtp") throws(TLSConfigurationError) {
        var warnings: [TLSConfigurationWarning] = []
        self.prefix = prefix
        let levelText = configuration.string("\(prefix)_tls_security_level")
        if !levelText.isEmpty, let level = TLSClientSecurityLevel(name: levelText) {
            defaultLevel = level
        } else if configuration.bool("\(prefix)_enforce_tls") {
            defaultLevel = configuration.bool("\(prefix)_tls_enforce_peername") ? .verify : .encrypt
        } else {
            defaultLevel = configuration.bool("\(prefix)_use_tls") ? .may : .none
        }
        certificates = try TLSCertificateSettings(configuration, prefix: prefix, allowNone: false, warnings: &warnings)
        trust = try TLSTrustSettings(configuration, prefix: prefix)
        verifyDepth = configuration.integer("\(prefix)_tls_scert_verifydepth")
        opportunisticProtocols = TLSProtocolPolicy(
            parameter: "\(prefix)_tls_protocols", selection: configuration.tlsProtocols("\(prefix)_tls_protocols"))
        mandatoryProtocols = TLSProtocolPolicy(
            parameter: "\(prefix)_tls_mandatory_protocols",
            selection: configuration.tlsProtocols("\(prefix)_tls_mandatory_protocols"))
        opportunisticGrade = TLSCipherGrade(rawValue: configuration.string("\(prefix)_tls_ciphers")) ?? .medium
        mandatoryGrade = TLSCipherGrade(rawValue: configuration.string("\(prefix)_tls_mandatory_ciphers")) ?? .medium
        cipherLists = TLSCipherLists(configuration)
        exclusions = configuration.list("\(prefix)_tls_exclude_ciphers")
        mandatoryExclusions = configuration.list("\(prefix)_tls_mandatory_exclude_ciphers")
        verifyCertMatch = TLSCipherPolicy.words(configuration.list("\(prefix)_tls_verify_cert_match"))
        secureCertMatch = TLSCipherPolicy.words(configuration.list("\(prefix)_tls_secure_cert_match"))
        fingerprintDigest = try TLSFingerprintDigest(
            configuration.string("\(prefix)_tls_fingerprint_digest"), parameter: "\(prefix)_tls_fingerprint_digest")
        fingerprints = try Self.decodeFingerprints(
            configuration.list("\(prefix)_tls_fingerprint_cert_match"), parameter: "\(prefix)_tls_fingerprint_cert_match")
        serverName = try TLSServerNameChoice(
            configuration.string("\(prefix)_tls_servername"), parameter: "\(prefix)_tls_servername")
        wildcardMatchesMultipleLabels = configuration.bool("tls_wildcard_matches_multiple_labels")
        keyExchange = try TLSKeyExchangeSettings(configuration, gradeParameter: nil, dhParameter: nil, warnings: &warnings)
        sslOptions = TLSSSLOptions(configuration, warnings: &warnings)
        let timeout = configuration.seconds("\(prefix)_tls_session_cache_timeout")
        sessionCacheTimeout = timeout <= 0 ? 0 : max(timeout, TLSServerSettings.minimumSessionLifetime)
        randomSource = TLSRandomSource(configuration.string("tls_random_source"))
        randomBytes = configuration.integer("tls_random_bytes")
        randomReseedPeriod = configuration.seconds("tls_random_reseed_period")
        logMask = try TLSLogMask(words: configuration.list("\(prefix)_tls_loglevel"), parameter: "\(prefix)_tls_loglevel")
        self.warnings = warnings
        // Check the lists now, so that a bad value stops start-up rather than a delivery.
        for level in [TLSClientSecurityLevel.may, .encrypt, .verify] {
            _ = try cipherPolicy(for: level)
        }
        if defaultLevel > .none { try protocols(for: defaultLevel).validate() }
    }

    /// The protocol list for a level: opportunistic at `may`, mandatory above.
    public func protocols(for level: TLSClientSecurityLevel) -> TLSProtocolPolicy {
        level == .may ? opportunisticProtocols : mandatoryProtocols
    }

    /// The cipher grade and exclusions for a level (Postfix's `set_cipher_grade()`).
    public func cipherPolicy(for level: TLSClientSecurityLevel, grade override: TLSCipherGrade? = nil)
        throws(TLSConfigurationError) -> TLSCipherPolicy
    {
        let mandatory = level.requiresTLS
        let gradeParameter = mandatory ? "\(prefix)_tls_mandatory_ciphers" : "\(prefix)_tls_ciphers"
        var list = [TLSCipherExclusion(origin: "\(prefix)_tls_exclude_ciphers", names: exclusions)]
        if mandatory {
            list.append(TLSCipherExclusion(origin: "\(prefix)_tls_mandatory_exclude_ciphers", names: mandatoryExclusions))
        }
        if level == .encrypt {
            list.append(TLSCipherExclusion(origin: "\(prefix)_tls_security_level = encrypt", names: ["eNULL"]))
        } else if level.mustMatch {
            list.append(TLSCipherExclusion(origin: "\(prefix)_tls_security_level = \(level.name)", names: ["aNULL"]))
        }
        return try TLSCipherPolicy(
            grade: override ?? (mandatory ? mandatoryGrade : opportunisticGrade), gradeParameter: gradeParameter,
            lists: cipherLists, exclusions: list.filter { !$0.names.isEmpty })
    }

    /// The protocol list for a destination: its own `protocols=` from `smtp_tls_policy_maps`, else the level's.
    public func protocols(for level: TLSClientSecurityLevel, destination: TLSClientDestination) -> TLSProtocolPolicy {
        guard let selection = destination.protocols else { return protocols(for: level) }
        return TLSProtocolPolicy(parameter: "\(prefix)_tls_policy_maps", selection: selection)
    }

    /// The cipher policy for a destination: its `ciphers=` grade and `exclude=` list from
    /// `smtp_tls_policy_maps` on top of the level's (Postfix's `tls_client_start()` props).
    public func cipherPolicy(for level: TLSClientSecurityLevel, destination: TLSClientDestination)
        throws(TLSConfigurationError) -> TLSCipherPolicy
    {
        guard destination.cipherGrade != nil || !destination.exclusions.isEmpty else { return try cipherPolicy(for: level) }
        var policy = try cipherPolicy(for: level, grade: destination.cipherGrade)
        if !destination.exclusions.isEmpty {
            policy = try TLSCipherPolicy(
                grade: policy.grade, gradeParameter: policy.gradeParameter, lists: cipherLists,
                exclusions: policy.exclusions + [TLSCipherExclusion(origin: "\(prefix)_tls_policy_maps", names: destination.exclusions)])
        }
        return policy
    }

    /// The name strategies or patterns for a level (`verify` / `secure`); empty for other levels.
    public func matchNames(for level: TLSClientSecurityLevel) -> [String] {
        switch level {
        case .verify: verifyCertMatch
        case .secure: secureCertMatch
        default: []
        }
    }

    /// Fingerprints as Postfix ≥ 3.6 reads them: hex digits with optional colons (also used for the
    /// `match=` attribute of `smtp_tls_policy_maps`).
    public static func decodeFingerprints(_ values: [String], parameter: String) throws(TLSConfigurationError) -> [[UInt8]] {
        var result: [[UInt8]] = []
        for value in values {
            let hex = value.filter { $0 != ":" }
            guard let bytes = TLSSessionTicketKeyFile.hexBytes(hex), !bytes.isEmpty, bytes.count <= 64 else {
                throw TLSConfigurationError(
                    .invalidValue, parameter: parameter, reason: "\(parameter): malformed fingerprint value: \(value)")
            }
            result.append(bytes)
        }
        return result
    }
}
