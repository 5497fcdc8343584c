import Logging
import SealpostConfig
import SealpostLog
import SealpostPolicy
import SealpostQueue
import SealpostRouting
import SealpostSASL
import SealpostTLS

/// Everything the sessions of one smtpd service share: settings, the access policy, the TLS
/// context, the queue, the alias expander, the client counters and the loggers. Built once per
/// service at start-up (and again on reload).
public final class SMTPServiceContext: Sendable {
    public let serviceKey: String
    public let settings: SMTPServerSettings
    public let policy: AccessPolicy
    public let clientVerifier: ClientHostnameVerifier
    /// The TLS context, nil when the service offers no TLS.
    public let tls: TLSContext?
    public let queue: QueueStore
    public let aliases: VirtualAliasExpander
    public let limiter: ClientLimiter
    /// SMTP AUTH, nil when `smtpd_sasl_auth_enable = no`.
    public let authenticator: SASLAuthenticator?
    public let authThrottle: SharedAuthenticationThrottle
    /// `smtpd_sasl_exceptions_networks`: clients (address, name) that EHLO does not offer AUTH to.
    public let saslExempt: @Sendable (String, String) -> Bool
    /// `smtpd_forbid_bare_newline_exclusions`: clients (address, name) exempt from the bare-LF rules.
    public let bareNewlineExempt: @Sendable (String, String) -> Bool
    /// `smtpd_noop_commands`: verbs answered with 250 and otherwise ignored.
    public let noopCommands: MatchList
    /// `smtpd_forbidden_commands`: verbs (such as HTTP's) that end the session at once.
    public let forbiddenCommands: MatchList
    /// Where committed messages go for delivery.
    public let onCommitted: @Sendable (QueueID) -> Void
    /// `fast_flush_domains`: the sites ETRN may ask for; nil when none.
    public let fastFlushDomains: MatchList?
    /// Asks the queue manager to deliver the deferred mail now (ETRN).
    public let onFlush: @Sendable (String) -> Void

    /// `syslog_name/smtpd`, `…/cleanup`, `…/qmgr` (pflogsumm counts by these names).
    let smtpdLog: Logger
    let cleanupLog: Logger
    let qmgrLog: Logger
    /// Kept for ``replacingTLS(_:)``, which makes the loggers anew.
    private let sink: LogSink

    public init(
        serviceKey: String, settings: SMTPServerSettings, policy: AccessPolicy, clientVerifier: ClientHostnameVerifier,
        tls: TLSContext?, queue: QueueStore, aliases: VirtualAliasExpander, limiter: ClientLimiter,
        authenticator: SASLAuthenticator?, authThrottle: SharedAuthenticationThrottle,
        saslExempt: @escaping @Sendable (String, String) -> Bool,
        bareNewlineExempt: @escaping @Sendable (String, String) -> Bool,
        noopCommands: MatchList, forbiddenCommands: MatchList,
        sink: LogSink, onCommitted: @escaping @Sendable (QueueID) -> Void,
        fastFlushDomains: MatchList? = nil, onFlush: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.serviceKey = serviceKey
        self.settings = settings
        self.policy = policy
        self.clientVerifier = clientVerifier
        self.tls = tls
        self.queue = queue
        self.aliases = aliases
        self.limiter = limiter
        self.authenticator = authenticator
        self.authThrottle = authThrottle
        self.saslExempt = saslExempt
        self.bareNewlineExempt = bareNewlineExempt
        self.noopCommands = noopCommands
        self.forbiddenCommands = forbiddenCommands
        self.onCommitted = onCommitted
        self.fastFlushDomains = fastFlushDomains
        self.onFlush = onFlush
        self.sink = sink
        func logger(_ process: String) -> Logger {
            let name = "\(settings.syslogName)/\(process)"
            return Logger(label: "sealpost.\(process)") { _ in PostfixLogHandler(sink: sink, programName: name) }
        }
        smtpdLog = logger("smtpd")
        cleanupLog = logger("cleanup")
        qmgrLog = logger("qmgr")
    }

    /// The same service with another TLS context: what the certificate watcher swaps in when the files behind the
    /// certificate parameters change, leaving tables, counters and restrictions as they are.
    public func replacingTLS(_ tls: TLSContext) -> SMTPServiceContext {
        SMTPServiceContext(
            serviceKey: serviceKey, settings: settings, policy: policy, clientVerifier: clientVerifier, tls: tls,
            queue: queue, aliases: aliases, limiter: limiter, authenticator: authenticator, authThrottle: authThrottle,
            saslExempt: saslExempt, bareNewlineExempt: bareNewlineExempt, noopCommands: noopCommands,
            forbiddenCommands: forbiddenCommands, sink: sink, onCommitted: onCommitted, fastFlushDomains: fastFlushDomains,
            onFlush: onFlush)
    }
}
