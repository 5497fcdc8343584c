import Logging
import SealpostConfig
internal import COpenSSL
internal import CSealpostShims

/// One outbound TLS connection's destination and policy: what Postfix's `TLS_CLIENT_START_PROPS` carry.
public struct TLSClientDestination: Sendable, Hashable {
    /// The next-hop domain (the recipient domain, or the relay host without brackets and port).
    public var nexthop: String
    /// The server's host name (from the MX lookup; the next hop when MX lookups are suppressed).
    public var hostname: String
    /// The server's address and port, for log lines and the session cache key.
    public var address: String
    public var port: Int
    /// A per-destination level (`smtp_tls_policy_maps`); nil uses the settings' default.
    public var level: TLSClientSecurityLevel?
    /// A per-destination `match=` list; nil uses `smtp_tls_verify_cert_match` / `smtp_tls_secure_cert_match`.
    public var matchNames: [String]?
    /// Per-destination fingerprints; nil uses `smtp_tls_fingerprint_cert_match`.
    public var fingerprints: [[UInt8]]?
    /// TLSA records for the DANE levels.
    public var tlsaRecords: [TLSARecord]
    /// The TLSA base domain (and the SNI name with DANE).
    public var daneBaseDomain: String?
    /// A per-destination `servername=`; nil uses `smtp_tls_servername`.
    public var serverName: TLSServerNameChoice?
    /// A per-destination `protocols=` (`smtp_tls_policy_maps`); nil uses the level's protocol list.
    public var protocols: TLSProtocolSelection?
    /// A per-destination `ciphers=` grade; nil uses the level's grade.
    public var cipherGrade: TLSCipherGrade?
    /// A per-destination `exclude=` list, added to the level's exclusions.
    public var exclusions: [String]

    public init(
        nexthop: String, hostname: String, address: String, port: Int = 25, level: TLSClientSecurityLevel? = nil,
        matchNames: [String]? = nil, fingerprints: [[UInt8]]? = nil, tlsaRecords: [TLSARecord] = [],
        daneBaseDomain: String? = nil, serverName: TLSServerNameChoice? = nil, protocols: TLSProtocolSelection? = nil,
        cipherGrade: TLSCipherGrade? = nil, exclusions: [String] = []
    ) {
        self.protocols = protocols
        self.cipherGrade = cipherGrade
        self.exclusions = exclusions
        self.nexthop = nexthop
        self.hostname = hostname
        self.address = address
        self.port = port
        self.level = level
        self.matchNames = matchNames
        self.fingerprints = fingerprints
        self.tlsaRecords = tlsaRecords
        self.daneBaseDomain = daneBaseDomain
        self.serverName = serverName
    }

    /// `host[addr]:port`, as Postfix's SMTP client names a peer in its logs.
    public var peerName: String { "\(hostname)[\(address)]:\(port)" }
}

/// Builds the SMTP client's `SSL_CTX` from ``TLSClientSettings`` (Postfix's `tls_client_init()`), and sets up each
/// connection for its destination (`tls_client_start()`): protocols and ciphers by level, SNI, name checks,
/// fingerprint or DANE matching, the cached session.
public enum TLSClientContextBuilder {
    public static func makeContext(_ settings: TLSClientSettings, logger: Logger? = nil) throws(TLSConfigurationError) -> TLSContext {
        var warnings = settings.warnings
        let result = try TLSContext.start(
            role: .client, randomSource: settings.randomSource, randomBytes: settings.randomBytes,
            randomReseedPeriod: settings.randomReseedPeriod, verifyDepth: settings.verifyDepth,
            logMask: settings.logMask, logger: logger)
        let context = result.pointer
        let state = result.state
        guard TLSDANE.enable(context: context, fingerprintDigest: settings.fingerprintDigest) else {
            throw TLSConfigurationError(
                .openSSLFailure, parameter: "", reason: "OpenSSL DANE initialization failed",
                openSSLErrors: OpenSSLErrorQueue.drain())
        }
        _ = sealpost_ctx_set_options(context, SSLOptions.bit("IGNORE_UNEXPECTED_EOF") | settings.sslOptions.bits)

        try settings.trust.apply(to: context)
        try settings.certificates.apply(to: context)
        try settings.keyExchange.applyGroups(to: context, parameter: "tls_eecdh_auto_curves", warnings: &warnings)
        SSL_CTX_set_verify(context, SSL_VERIFY_NONE, TLSServerContextBuilder.continueAfterVerifyError)

        // The context's defaults are those of the default level; each connection applies its own level.
        let level = max(settings.defaultLevel, .may)
        try settings.cipherPolicy(for: level).apply(to: context)
        settings.protocols(for: level).apply(to: context, warnings: &warnings)

        if settings.sessionCacheTimeout > 0 {
            _ = sealpost_ctx_set_session_cache_mode(
                context, Int(SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE))
            SSL_CTX_sess_set_new_cb(context, TLSClientSessionCache.newSessionCallback)
            SSL_CTX_set_timeout(context, 2 * settings.sessionCacheTimeout)
            state.clientSessionCache = TLSClientSessionCache(timeout: settings.sessionCacheTimeout)
        } else {
            _ = sealpost_ctx_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
        }
        state.clientSettings = settings
        state.fingerprintDigest = settings.fingerprintDigest
        result.warnings = warnings
        OpenSSLErrorQueue.clear()
        return result
    }
}

extension TLSContext {
    /// The client's per-destination session cache (nil for servers and when the timeout is 0).
    public var clientSessionCache: TLSClientSessionCache? { state.clientSessionCache }

    /// The session cache key for a destination: Postfix's server ID (service, next hop and port, host name,
    /// address) salted, as `tls_serverid_digest()` salts it, with what changes the handshake or its verdict — the
    /// level, protocols, ciphers, SNI name, TLSA records — and Sealpost adds the match names and fingerprints, so
    /// that a session verified for one policy is never resumed under another (a resumed session keeps its
    /// verification result).
    public func sessionCacheKey(for destination: TLSClientDestination) -> String? {
        guard let settings = state.clientSettings else { return nil }
        let level = destination.level ?? settings.defaultLevel
        let ciphers = (try? settings.cipherPolicy(for: level, destination: destination).cipherString) ?? ""
        let names = destination.matchNames ?? settings.matchNames(for: level)
        let fingerprints = level == .fingerprint ? (destination.fingerprints ?? settings.fingerprints) : []
        return "\(settings.prefix):\(destination.nexthop):\(destination.port)&\(destination.hostname)&\(destination.address)"
            + "&\(level.name)&\(settings.protocols(for: level, destination: destination).selection.text)&\(ciphers)"
            + "&\(serverName(for: destination, settings: settings, level: level) ?? "")"
            + "&\(names.joined(separator: ":"))&\(fingerprints.map(Digest.lowercaseHex).joined(separator: ":"))"
            + "&\(destination.tlsaRecords.map(\.description).joined(separator: ","))"
    }

    /// Sets up a client `SSL` made from this context for `destination`, as `tls_client_start()` does before the
    /// handshake. Throws when the destination's policy cannot be applied (no names to match, no usable
    /// fingerprint or TLSA record at a level that needs one, a bad SNI name).
    func prepareClientConnection(_ ssl: OpaquePointer, for destination: TLSClientDestination) throws(TLSConfigurationError) {
        guard let settings = state.clientSettings else {
            throw TLSConfigurationError(.invalidValue, parameter: "", reason: "not a client context")
        }
        var level = destination.level ?? settings.defaultLevel
        guard level > .none else {
            throw TLSConfigurationError(
                .tlsNotEnabled, parameter: "\(settings.prefix)_tls_security_level",
                reason: "\(destination.peerName): TLS security level is none")
        }
        let connection = TLSConnectionState.attach(to: ssl, peerName: destination.peerName)
        if level.mustMatch {
            connection.logMask = state.logMask.union(.untrusted)
        }

        let protocols = settings.protocols(for: level, destination: destination)
        if !protocols.apply(toConnection: ssl) {
            state.log(ssl: ssl, mask: .summary) { "\($0): error setting TLS version bounds from \(protocols.parameter)" }
        }
        try settings.cipherPolicy(for: level, destination: destination).apply(toConnection: ssl)

        var sni = serverName(for: destination, settings: settings, level: level)
        switch level {
        case .halfDANE, .dane, .daneOnly:
            guard TLSDANE.enable(ssl: ssl, baseDomain: destination.daneBaseDomain ?? destination.hostname) else {
                throw TLSConfigurationError(
                    .openSSLFailure, parameter: "", reason: "\(destination.peerName): error enabling DANE-based certificate validation")
            }
            sni = destination.daneBaseDomain ?? destination.hostname
            try addNameChecks(ssl, names: destination.matchNames ?? [], settings: settings, required: false)
            let usable = destination.tlsaRecords.filter { TLSDANE.add(ssl: ssl, record: $0) == .usable }.count
            if usable == 0 {
                if level == .daneOnly {
                    throw TLSConfigurationError(
                        .invalidValue, parameter: "", reason: "\(destination.peerName): all TLSA records unusable")
                }
                state.log(ssl: ssl, mask: .summary) { "\($0): all TLSA records unusable, fallback to unauthenticated TLS" }
                level = .encrypt
            }
        case .fingerprint:
            guard TLSDANE.enable(ssl: ssl, baseDomain: nil) else {
                throw TLSConfigurationError(
                    .openSSLFailure, parameter: "", reason: "\(destination.peerName): error enabling fingerprint certificate validation")
            }
            let fingerprints = destination.fingerprints ?? settings.fingerprints
            var usable = 0
            for fingerprint in fingerprints {
                for selector: UInt8 in [0, 1] {
                    let record = TLSARecord(usage: 3, selector: selector, matchingType: TLSDANE.fingerprintMatchingType, data: fingerprint)
                    if TLSDANE.add(ssl: ssl, record: record) == .usable { usable += 1 }
                }
            }
            guard usable > 0 else {
                throw TLSConfigurationError(
                    .invalidValue, parameter: "\(settings.prefix)_tls_fingerprint_cert_match",
                    reason: "nexthop domain \(destination.nexthop): configured at fingerprint security level, "
                        + "but with no fingerprints to match.")
            }
        case .verify, .secure:
            let strategies = destination.matchNames ?? settings.matchNames(for: level)
            let names = TLSPeerNames.expectedNames(
                strategies: strategies, nexthop: destination.nexthop, hostname: destination.hostname)
            try addNameChecks(ssl, names: names, settings: settings, required: true)
        case .none, .may, .encrypt:
            break
        }

        if let sni {
            guard sni.utf8.count <= 255, sealpost_ctx_client_set_sni(ssl, sni) == 1 else {
                OpenSSLErrorQueue.clear()
                throw TLSConfigurationError(
                    .invalidValue, parameter: "\(settings.prefix)_tls_servername",
                    reason: "\(destination.peerName): error setting SNI hostname to: \(sni)")
            }
        }
        if level.mustMatch {
            SSL_set_security_level(ssl, 1)
        }
        connection.clientLevel = level
        connection.mustMatch = level.mustMatch
        connection.neverSecured = level.neverSecured

        if let cache = state.clientSessionCache, let key = sessionCacheKey(for: destination) {
            connection.sessionCacheKey = key
            if let session = cache.session(for: key) {
                _ = SSL_set_session(ssl, session)
                SSL_SESSION_free(session)
            }
        }
        OpenSSLErrorQueue.clear()
    }

    /// After a failed client handshake: forget the destination's cached session (Postfix's `uncache_session()`).
    func clientHandshakeFailed(_ ssl: OpaquePointer) {
        if let key = TLSConnectionState.of(ssl)?.sessionCacheKey {
            state.clientSessionCache?.remove(key)
        }
    }

    private func serverName(for destination: TLSClientDestination, settings: TLSClientSettings, level: TLSClientSecurityLevel) -> String? {
        if level.isDANEBased { return destination.daneBaseDomain ?? destination.hostname }
        switch destination.serverName ?? settings.serverName {
        case .none: return nil
        case .hostname: return destination.hostname
        case .nexthop: return destination.nexthop
        case .literal(let name): return name
        }
    }

    private func addNameChecks(
        _ ssl: OpaquePointer, names: [String], settings: TLSClientSettings, required: Bool
    ) throws(TLSConfigurationError) {
        SSL_set_hostflags(ssl, TLSPeerNames.hostFlags(wildcardMatchesMultipleLabels: settings.wildcardMatchesMultipleLabels))
        var added = 0
        for name in names where SSL_add1_host(ssl, name) == 1 {
            added += 1
        }
        OpenSSLErrorQueue.clear()
        if required && added == 0 {
            throw TLSConfigurationError(
                .invalidValue, parameter: "\(settings.prefix)_tls_verify_cert_match",
                reason: "could not configure peer name checks: no usable name in \(names)")
        }
    }
}
