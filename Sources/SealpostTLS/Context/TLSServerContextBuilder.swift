import Logging
internal import COpenSSL
internal import CSealpostShims

/// Builds the `SSL_CTX` of an SMTP server service from ``TLSServerSettings``, making the OpenSSL calls Postfix
/// 3.7's `tls_server_init()` makes (with the per-connection `tls_server_start()` settings folded in, since one
/// Sealpost context serves one service):
///
/// | setting | OpenSSL |
/// |---|---|
/// | entropy | `RAND_seed` with `tls_random_bytes` from `tls_random_source`, plus pid and time |
/// | security level | `SSL_CTX_set_security_level(0)`; 1 when a client certificate is required |
/// | verify depth | `SSL_CTX_set_verify_depth(smtpd_tls_ccert_verifydepth + 1)` |
/// | options | `SSL_OP_IGNORE_UNEXPECTED_EOF`, `SSL_OP_ALL` minus `tls_disable_workarounds` plus `tls_ssl_options` |
/// | tickets | `SSL_CTX_set_tlsext_ticket_key_evp_cb`, `SSL_CTX_set_num_tickets(1)` (0 when TLS 1.3 tickets are off); `SSL_OP_NO_TICKET` when the timeout is 0 or the cipher empty |
/// | protocols | `SSL_OP_NO_*` for exclusions, `SSL_CTX_set_min/max_proto_version` for `>=` / `<=` |
/// | preempt | `SSL_OP_CIPHER_SERVER_PREFERENCE` |
/// | log level ≥ 2 | `SSL_CTX_set_info_callback` |
/// | CA file/path | `SSL_CTX_load_verify_locations` (+ `SSL_CTX_set_default_verify_paths`) |
/// | certificates | `SSL_CTX_use_cert_and_key` per chain |
/// | DH | `SSL_CTX_set0_tmp_dh_pkey` from the file, else `SSL_CTX_set_dh_auto(1)` |
/// | groups | `SSL_CTX_set1_groups` |
/// | client certificates | `SSL_CTX_set_verify(PEER | CLIENT_ONCE [| FAIL_IF_NO_PEER_CERT])`, `SSL_CTX_set_client_CA_list` from the CA file |
/// | ciphers | `SSL_CTX_set_cipher_list(grade list + ":!exclusion"…)` |
/// | SNI | `SSL_CTX_set_tlsext_servername_callback` when `tls_server_sni_maps` is set (``TLSServerNameSelector``) |
/// | sessions | `SSL_CTX_set_session_id_context`, `SSL_CTX_set_session_cache_mode(SERVER)`, `SSL_CTX_set_timeout(2 × timeout)`; `SSL_SESS_CACHE_OFF` when nothing is cached |
public enum TLSServerContextBuilder {
    /// The session ID context: which kind of server made a session (Postfix uses "Postfix/TLS"). The same on every
    /// Sealpost node, so that tickets from a shared key file resume anywhere.
    static let sessionIDContext = Array("Sealpost/TLS".utf8)

    /// Makes the context. `logger` receives the TLS log lines of the settings' log level (level 2 handshake states,
    /// level 3 dumps, cache activity) for connections that have no sink of their own.
    public static func makeContext(_ settings: TLSServerSettings, logger: Logger? = nil) throws(TLSConfigurationError) -> TLSContext {
        guard settings.usesTLS else {
            throw TLSConfigurationError(
                .tlsNotEnabled, parameter: "smtpd_tls_security_level",
                reason: "TLS is not enabled for this service (smtpd_tls_security_level = none)")
        }
        var warnings = settings.warnings
        let result = try TLSContext.start(
            role: .server, randomSource: settings.randomSource, randomBytes: settings.randomBytes,
            randomReseedPeriod: settings.randomReseedPeriod, verifyDepth: settings.clientCertificateVerifyDepth,
            logMask: settings.logMask, logger: logger)
        let context = result.pointer
        let state = result.state
        if settings.requiresClientCertificate {
            // tls_server_start(): "When authenticating the peer, use 80-bit plus OpenSSL security level".
            SSL_CTX_set_security_level(context, 1)
        }

        var options = SSLOptions.bit("IGNORE_UNEXPECTED_EOF") | settings.sslOptions.bits
        let noTicket = SSLOptions.bit("NO_TICKET")
        let ticketable = !settings.ticketCipher.isEmpty && settings.sessionCacheTimeout > 0 && options & noTicket == 0
        if ticketable {
            let cipher = try TLSTicketKeyStore.fetchCipher(settings.ticketCipher, parameter: "tls_session_ticket_cipher")
            state.ticketKeys = TLSTicketKeyStore(
                cipher: cipher, cipherName: settings.ticketCipher, sessionTimeout: settings.sessionCacheTimeout,
                fixedKeys: settings.ticketKeyFile?.keys)
            guard TLSTicketKeyStore.install(on: context) else {
                throw TLSConfigurationError(
                    .openSSLFailure, parameter: "tls_session_ticket_cipher",
                    reason: "cannot install the session ticket key callback", openSSLErrors: OpenSSLErrorQueue.drain())
            }
            // One ticket per handshake: Postfix stores one session per peer, a second would clobber the first.
            SSL_CTX_set_num_tickets(context, 1)
        } else {
            options |= noTicket
        }
        if !settings.issuesTLS13Tickets {
            SSL_CTX_set_num_tickets(context, 0)
        }
        _ = sealpost_ctx_set_options(context, options)

        settings.protocols.apply(to: context, warnings: &warnings)
        if settings.prefersServerCiphers {
            _ = sealpost_ctx_set_options(context, SSLOptions.bit("CIPHER_SERVER_PREFERENCE"))
        }

        try settings.trust.apply(to: context)
        try settings.certificates.apply(to: context)
        try settings.keyExchange.applyDH(to: context, parameter: "smtpd_tls_dh1024_param_file")
        try settings.keyExchange.applyGroups(to: context, parameter: "smtpd_tls_eecdh_grade", warnings: &warnings)

        var verify = SSL_VERIFY_NONE
        if settings.asksForClientCertificate {
            verify = SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE
            if settings.requiresClientCertificate && settings.failsHandshakeWithoutClientCertificate {
                verify |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT
            }
        }
        SSL_CTX_set_verify(context, verify, continueAfterVerifyError)
        if settings.asksForClientCertificate && !settings.trust.caFile.isEmpty {
            // The CA names sent with the certificate request, so that clients pick a matching certificate.
            OpenSSLErrorQueue.clear()
            if let names = SSL_load_client_CA_file(settings.trust.caFile) {
                SSL_CTX_set_client_CA_list(context, names)
            } else {
                OpenSSLErrorQueue.clear()
                warnings.append(TLSConfigurationWarning(
                    parameter: "smtpd_tls_CAfile", "error loading client CA names from: \(settings.trust.caFile)"))
            }
        }
        state.asksForClientCertificate = settings.asksForClientCertificate
        state.fingerprintDigest = settings.fingerprintDigest

        try settings.ciphers.apply(to: context)

        let cachable = settings.sessionCacheTimeout > 0
        if cachable || ticketable || settings.alwaysIssuesSessionIDs {
            _ = sessionIDContext.withUnsafeBufferPointer {
                SSL_CTX_set_session_id_context(context, $0.baseAddress, UInt32($0.count))
            }
            // Sealpost's cache is OpenSSL's internal one (Postfix's is tlsmgr's database); without a timeout,
            // session IDs are still issued when asked for, but never stored.
            let mode = cachable
                ? SSL_SESS_CACHE_SERVER
                : SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_LOOKUP | SSL_SESS_CACHE_NO_INTERNAL_STORE
            _ = sealpost_ctx_set_session_cache_mode(context, Int(mode))
            // Twice the cache lifetime: a session must outlive the ticket keys that can decrypt it (tls_server.c).
            SSL_CTX_set_timeout(context, 2 * settings.sessionCacheTimeout)
        } else {
            _ = sealpost_ctx_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
        }

        if let maps = settings.serverNameMaps {
            let selector = TLSServerNameSelector(maps: maps, settings: settings, logger: logger)
            selector.defaultState = state
            state.serverNames = selector
            _ = sealpost_ctx_set_servername_callback(context, TLSServerNameSelector.callback)
        }

        OpenSSLErrorQueue.clear()
        result.warnings = warnings
        return result
    }

    /// Postfix's verify callback (`tls_verify_certificate_callback()`): it never fails the handshake — the verdict
    /// is read afterwards (`SSL_get_verify_result`) and the SMTP server decides — but remembers the error closest
    /// to the leaf, for the "certificate verification failed" log line.
    static let continueAfterVerifyError: @convention(c) (Int32, OpaquePointer?) -> Int32 = { ok, store in
        guard ok == 0, let store,
              let raw = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx())
        else { return 1 }
        let connection = TLSConnectionState.of(OpaquePointer(raw))
        let depth = Int(X509_STORE_CTX_get_error_depth(store))
        if let connection, connection.verificationError.map({ depth < $0.depth }) ?? true {
            let certificate = X509_STORE_CTX_get_current_cert(store)
            connection.verificationError = TLSVerificationError(
                depth: depth, code: Int(X509_STORE_CTX_get_error(store)),
                issuer: certificate.map { X509Text.oneline(X509_get_issuer_name($0)) } ?? "<unknown>")
        }
        return 1
    }
}
