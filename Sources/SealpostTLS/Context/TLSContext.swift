import Logging
internal import COpenSSL

/// An OpenSSL `SSL_CTX`: the immutable TLS set-up of one service (server) or one kind of
/// destination (client), from which every connection's `SSL` object is made.
///
/// Built by ``TLSServerContextBuilder`` and ``TLSClientContextBuilder`` from typed settings, then
/// shared: after it is built nothing changes it, so making connections from several threads is
/// safe (OpenSSL locks the session cache and reference counts itself).
public final class TLSContext: @unchecked Sendable {
    /// Which end of the handshake the context's connections take.
    public enum Role: Sendable, Hashable {
        case server
        case client
    }

    public let role: Role
    /// The `SSL_CTX *`, owned.
    let pointer: OpaquePointer
    /// What the builders hang off the `SSL_CTX` (logging, ticket keys, entropy, the client session cache); also
    /// referenced from the `SSL_CTX`'s ex-data, so that OpenSSL callbacks find it and it lives as long as any
    /// `SSL` made from the context.
    let state: TLSContextState
    /// What the builder found worth logging (Postfix logs these as warnings and carries on). Set by the builder
    /// before the context is handed out, never after.
    public internal(set) var warnings: [TLSConfigurationWarning]

    /// Takes ownership of `pointer` (freed with the context).
    init(role: Role, taking pointer: OpaquePointer, state: TLSContextState? = nil, warnings: [TLSConfigurationWarning] = []) {
        self.role = role
        self.pointer = pointer
        self.state = state ?? TLSContextState(role: role)
        self.warnings = warnings
        self.state.attach(to: pointer)
    }

    deinit {
        SSL_CTX_free(pointer)
    }

    /// The log features this context was built with (`smtpd_tls_loglevel`).
    public var logMask: TLSLogMask { state.logMask }

    /// Reads `tls_random_source` again when `tls_random_reseed_period` has passed (Postfix's tlsmgr does this on a
    /// timer; Sealpost does it when a context is used). Call before a handshake; cheap when not due.
    @discardableResult
    public func reseedRandomIfDue() -> Result<Int, TLSConfigurationError> {
        state.entropy?.reseedIfDue() ?? .success(0)
    }
}

extension TLSContext {
    /// The common first steps of both builders: seed OpenSSL from `tls_random_source`, make the `SSL_CTX`, wrap it
    /// (so that it is freed if a later step throws) with a fresh state, and apply Postfix's base settings: security
    /// level 0 ("backwards compatible security as a base for opportunistic TLS", `tls_server.c`/`tls_client.c`),
    /// the verify depth plus one, and log features and sink.
    static func start(
        role: Role, randomSource: TLSRandomSource, randomBytes: Int, randomReseedPeriod: Int, verifyDepth: Int,
        logMask: TLSLogMask, logger: Logger?
    ) throws(TLSConfigurationError) -> TLSContext {
        let entropy = try TLSEntropySeeder(source: randomSource, bytes: randomBytes, reseedPeriod: randomReseedPeriod)
        OpenSSLErrorQueue.clear()
        guard let pointer = SSL_CTX_new(role == .server ? TLS_server_method() : TLS_client_method()) else {
            throw TLSConfigurationError(
                .openSSLFailure, parameter: "", reason: "cannot allocate \(role == .server ? "server" : "client") SSL_CTX",
                openSSLErrors: OpenSSLErrorQueue.drain())
        }
        let state = TLSContextState(role: role)
        let context = TLSContext(role: role, taking: pointer, state: state)
        state.entropy = entropy
        state.logMask = logMask
        state.logSink = logger.map { TLSLogSink(logger: $0) }
        SSL_CTX_set_security_level(pointer, 0)
        SSL_CTX_set_verify_depth(pointer, Int32(verifyDepth + 1))
        if logMask.contains(.debug) {
            SSL_CTX_set_info_callback(pointer, TLSHandshakeLog.infoCallback)
        }
        return context
    }
}
