import Synchronization
internal import COpenSSL
internal import CSealpostShims

/// The Swift objects an `SSL_CTX` needs in its OpenSSL callbacks, stored in the context's ex-data.
///
/// The ex-data holds a retained reference that is released when OpenSSL finally frees the `SSL_CTX` — which
/// may be after the ``TLSContext`` is gone, while `SSL` objects made from it still live — so a callback never
/// sees a freed object.
final class TLSContextState: @unchecked Sendable {
    let role: TLSContext.Role
    /// Log features (`*_tls_loglevel`) and where context-wide lines go when a connection has no sink of its own.
    var logMask: TLSLogMask = []
    var logSink: TLSLogSink?
    /// Server: the session ticket keys (nil when tickets are off).
    var ticketKeys: TLSTicketKeyStore?
    /// `tls_random_source`, read again when a context is used.
    var entropy: TLSEntropySeeder?
    /// Client: the per-destination session cache (nil when `smtp_tls_session_cache_timeout` is 0).
    var clientSessionCache: TLSClientSessionCache?
    /// Client: the settings per-connection set-up applies.
    var clientSettings: TLSClientSettings?
    /// Server: whether client certificates are requested (the Received header says which it was).
    var asksForClientCertificate = false
    /// The digest for peer fingerprints (`smtpd_tls_fingerprint_digest`, `smtp_tls_fingerprint_digest`).
    var fingerprintDigest: TLSFingerprintDigest?
    /// Server: the contexts chosen by SNI name (`tls_server_sni_maps`); nil when the parameter is empty.
    var serverNames: TLSServerNameSelector?

    init(role: TLSContext.Role) {
        self.role = role
    }

    /// Stores a retained reference in the context's ex-data.
    func attach(to context: OpaquePointer) {
        let retained = Unmanaged.passRetained(self).toOpaque()
        if SSL_CTX_set_ex_data(context, Self.index, retained) != 1 {
            Unmanaged<TLSContextState>.fromOpaque(retained).release()
        }
    }

    /// The state of an `SSL_CTX`, if a ``TLSContext`` made it.
    static func of(_ context: OpaquePointer?) -> TLSContextState? {
        guard let context, let raw = SSL_CTX_get_ex_data(context, index) else { return nil }
        return Unmanaged<TLSContextState>.fromOpaque(raw).takeUnretainedValue()
    }

    static let index: Int32 = sealpost_ctx_ex_new_index { _, pointer, _, _, _, _ in
        guard let pointer else { return }
        Unmanaged<TLSContextState>.fromOpaque(pointer).release()
    }

    /// The sink for a connection's lines: its own, else the context's.
    func sink(for ssl: OpaquePointer?) -> TLSLogSink? {
        TLSConnectionState.of(ssl)?.logSink ?? logSink
    }

    /// Logs a line when `mask` is enabled; `message` gets the connection's peer name (`host[addr]`).
    func log(ssl: OpaquePointer?, mask: TLSLogMask, _ message: (String) -> String) {
        let connection = TLSConnectionState.of(ssl)
        let effective = connection?.logMask ?? logMask
        guard effective.contains(mask), let sink = connection?.logSink ?? logSink else { return }
        sink.emit(message(connection?.peerName ?? "unknown"))
    }
}

/// What Sealpost keeps per `SSL` object (ex-data, released when OpenSSL frees the `SSL`).
final class TLSConnectionState: @unchecked Sendable {
    /// `host[addr]` (server) or `host[addr]:port` (client), for log lines.
    var peerName: String
    var logSink: TLSLogSink?
    /// Overrides the context's mask (Postfix adds `untrusted` when a certificate is required).
    var logMask: TLSLogMask?
    /// Client: where the session goes in ``TLSClientSessionCache``.
    var sessionCacheKey: String?
    /// Client: the security level the connection was set up for.
    var clientLevel: TLSClientSecurityLevel?
    /// Client: whether the level requires the certificate to match (`fingerprint` and above).
    var mustMatch = false
    /// Client: whether a match can never make the session "Verified" (Postfix's half-DANE).
    var neverSecured = false
    /// The verification error closest to the leaf, recorded by the verify callback.
    var verificationError: TLSVerificationError?
    /// Server: the SNI name whose chain the connection presents (set when `tls_server_sni_maps` matched).
    var serverName: String?

    init(peerName: String) {
        self.peerName = peerName
    }

    /// Attaches a new state to `ssl`, replacing any earlier one.
    @discardableResult
    static func attach(to ssl: OpaquePointer, peerName: String) -> TLSConnectionState {
        if let existing = of(ssl) {
            existing.peerName = peerName
            return existing
        }
        let state = TLSConnectionState(peerName: peerName)
        let retained = Unmanaged.passRetained(state).toOpaque()
        if SSL_set_ex_data(ssl, index, retained) != 1 {
            Unmanaged<TLSConnectionState>.fromOpaque(retained).release()
        }
        return state
    }

    static func of(_ ssl: OpaquePointer?) -> TLSConnectionState? {
        guard let ssl, let raw = SSL_get_ex_data(ssl, index) else { return nil }
        return Unmanaged<TLSConnectionState>.fromOpaque(raw).takeUnretainedValue()
    }

    static let index: Int32 = sealpost_ctx_ssl_ex_new_index { _, pointer, _, _, _, _ in
        guard let pointer else { return }
        Unmanaged<TLSConnectionState>.fromOpaque(pointer).release()
    }
}

extension TLSContext {
    /// Sets up one connection's logging: its peer name for log lines, and (optionally) its own sink, so that level 2
    /// handshake states and level 3 dumps land in that connection's log. The connection code calls this right after
    /// `SSL_new`.
    func attachLogging(to ssl: OpaquePointer, peerName: String, sink: TLSLogSink? = nil, mask: TLSLogMask? = nil) {
        let connection = TLSConnectionState.attach(to: ssl, peerName: peerName)
        if let sink { connection.logSink = sink }
        if let mask { connection.logMask = mask }
    }

    /// The sink and mask that apply to `ssl`.
    func logging(for ssl: OpaquePointer) -> (sink: TLSLogSink?, mask: TLSLogMask) {
        let connection = TLSConnectionState.of(ssl)
        return (connection?.logSink ?? state.logSink, connection?.logMask ?? state.logMask)
    }
}
