/// What ``TLSHandler`` tells the handlers behind it through `userInboundEventTriggered`.
public enum TLSUserEvent: Sendable {
    /// The handshake completed; application data flows from here on. Fired before any decrypted
    /// byte is passed on, so an SMTP server can reset its session state first (RFC 3207: forget
    /// everything learned before TLS).
    case handshakeCompleted(TLSHandshakeResult)
    /// close_notify went both ways; the channel closes next.
    case shutdownCompleted
    /// The connection ended without the peer's close_notify, so its last data may have been cut
    /// off. Common and harmless for SMTP, where QUIT/221 already ended the dialogue; reported so a
    /// caller can log it the way Postfix does, never as an error.
    case uncleanShutdown
}
