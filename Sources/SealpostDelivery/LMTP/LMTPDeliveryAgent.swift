import Logging
import NIOCore
import SealpostConfig
import SealpostDNS

/// Postfix's lmtp(8): the SMTP client's code speaking LMTP (RFC 2033) — LHLO instead of EHLO, one
/// reply per accepted recipient after the final dot — to `unix:/path`, `inet:host:port` or
/// `host:port` next hops, with the `lmtp_*` parameters.
public enum LMTPDeliveryAgent {
    /// The lmtp transport's agent from its service configuration (parameter prefix `lmtp`).
    public static func make(
        _ configuration: ServiceConfiguration, resolver: any MailDNSResolver, group: any EventLoopGroup, logger: Logger
    ) throws(SMTPClientConfigurationError) -> SMTPDeliveryAgent {
        try SMTPDeliveryAgent(
            settings: SMTPClientSettings(configuration, prefix: "lmtp"), resolver: resolver, group: group, logger: logger)
    }
}
