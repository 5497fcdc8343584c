import NIOCore

/// How a ``TLSHandler`` times its handshake and its close.
///
/// Logging (Postfix's TLS log levels, including the level 3 and 4 packet dumps) comes from the
/// ``TLSContext`` and the connection's log sink, not from here.
public struct TLSHandlerConfiguration: Sendable {
    /// How long the handshake may take before the channel is closed with
    /// ``TLSHandlerError/Code/handshakeTimedOut`` (`smtpd_starttls_timeout`, `smtp_starttls_timeout`);
    /// nil waits for ever (some other timeout must then guard the connection).
    public var handshakeTimeout: TimeAmount?
    /// How long to wait for the peer's close_notify after sending ours before closing anyway.
    public var closeNotifyTimeout: TimeAmount
    /// Decrypted bytes gathered before they are passed on, even in the middle of one network read,
    /// so that a peer sending without pause never makes the handler hold more than this (plus a record).
    public var maximumPlaintextBatch: Int

    public init(
        handshakeTimeout: TimeAmount? = nil,
        closeNotifyTimeout: TimeAmount = .seconds(5),
        maximumPlaintextBatch: Int = 64 * 1024
    ) {
        self.handshakeTimeout = handshakeTimeout
        self.closeNotifyTimeout = closeNotifyTimeout
        self.maximumPlaintextBatch = max(1, maximumPlaintextBatch)
    }
}
