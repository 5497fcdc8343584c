import SealpostConfig

/// The parameters that shape delivery status notifications: who writes them, who gets copies,
/// how much of the original they quote, and the times the delay text mentions.
public struct BounceSettings: Sendable, Hashable {
    /// `myhostname`: `Reporting-MTA`, the boundary, the text's "at host …", and the domain of
    /// `MAILER-DAEMON` and of the double-bounce sender (Postfix's mail_addr.c uses `myhostname`
    /// for both).
    public var hostname: String
    /// `myorigin`: the domain that unqualified notice recipients (`postmaster`) get, as cleanup's
    /// `append_at_myorigin` gives it.
    public var origin: String
    /// `mail_name`: the `X-<mail_name>-Queue-ID` and `X-<mail_name>-Sender` fields and the
    /// `Diagnostic-Code: X-<mail_name>; …` type, with RFC 822 specials turned into `-` as
    /// bounce_notify_util.c does.
    public var mailName: String
    /// `bounce_size_limit`: a message larger than this is returned as headers only (Postfix does
    /// not cut a message in the middle, which would break its MIME structure); 0 means no limit,
    /// and then the whole message is held in memory while the notice is written.
    public var sizeLimit: Int
    /// `notify_classes`, lowercased: `bounce`, `2bounce`, `delay`, `resource`, `software`, …
    public var notifyClasses: Set<String>
    /// `bounce_notice_recipient`: gets the postmaster copy of single bounces (class `bounce`).
    public var bounceNoticeRecipient: String
    /// `2bounce_notice_recipient`: gets bounces of mail from the null sender (class `2bounce`,
    /// or `bounce`) and success notices for such mail.
    public var doubleBounceNoticeRecipient: String
    /// `delay_notice_recipient`: gets copies of delay warnings (class `delay`).
    public var delayNoticeRecipient: String
    /// `error_notice_recipient`: gets transcripts of protocol, policy, resource and software
    /// errors (classes `protocol`, `policy`, `resource`, `software`); the SMTP server sends
    /// those, not the bounce composer, so it is carried here only so that one struct holds every
    /// notice recipient.
    public var errorNoticeRecipient: String
    /// `double_bounce_sender`: the local part of the envelope sender of postmaster notices.
    public var doubleBounceSender: String
    /// `delay_warning_time` in seconds; 0 turns delay warnings off.
    public var delayWarningTime: Int
    /// `maximal_queue_lifetime` in seconds: when a deferred message is bounced, and the
    /// `Will-Retry-Until` of delay warnings.
    public var maximalQueueLifetime: Int
    /// `bounce_queue_lifetime` in seconds: the same for mail from the null sender.
    public var bounceQueueLifetime: Int
    /// `soft_bounce`: when set, the queue manager must turn every permanent failure into a
    /// deferral (and so never ask for a failure notice). The composer does not look at it; it is
    /// here so that the queue manager reads all bounce parameters from one place.
    public var softBounce: Bool

    public init(
        hostname: String, origin: String? = nil, mailName: String = "Sealpost", sizeLimit: Int = 50000,
        notifyClasses: Set<String> = ["resource", "software"],
        bounceNoticeRecipient: String = "postmaster", doubleBounceNoticeRecipient: String = "postmaster",
        delayNoticeRecipient: String = "postmaster", errorNoticeRecipient: String = "postmaster",
        doubleBounceSender: String = "double-bounce", delayWarningTime: Int = 0,
        maximalQueueLifetime: Int = 5 * 86400, bounceQueueLifetime: Int = 5 * 86400, softBounce: Bool = false
    ) {
        self.hostname = hostname
        self.origin = origin ?? hostname
        self.mailName = mailName
        self.sizeLimit = sizeLimit
        self.notifyClasses = notifyClasses
        self.bounceNoticeRecipient = bounceNoticeRecipient
        self.doubleBounceNoticeRecipient = doubleBounceNoticeRecipient
        self.delayNoticeRecipient = delayNoticeRecipient
        self.errorNoticeRecipient = errorNoticeRecipient
        self.doubleBounceSender = doubleBounceSender
        self.delayWarningTime = delayWarningTime
        self.maximalQueueLifetime = maximalQueueLifetime
        self.bounceQueueLifetime = bounceQueueLifetime
        self.softBounce = softBounce
    }

    /// Reads `myhostname`, `myorigin`, `mail_name`, `bounce_size_limit`, `notify_classes`, the four
    /// `*_notice_recipient`s, `double_bounce_sender`, `delay_warning_time`,
    /// `maximal_queue_lifetime`, `bounce_queue_lifetime` and `soft_bounce`.
    public init(_ configuration: ServiceConfiguration) {
        self.init(
            hostname: configuration.string("myhostname"),
            origin: configuration.string("myorigin"),
            mailName: configuration.string("mail_name"),
            sizeLimit: configuration.integer("bounce_size_limit"),
            notifyClasses: Set(configuration.list("notify_classes").map { $0.lowercased() }),
            bounceNoticeRecipient: configuration.string("bounce_notice_recipient"),
            doubleBounceNoticeRecipient: configuration.string("2bounce_notice_recipient"),
            delayNoticeRecipient: configuration.string("delay_notice_recipient"),
            errorNoticeRecipient: configuration.string("error_notice_recipient"),
            doubleBounceSender: configuration.string("double_bounce_sender"),
            delayWarningTime: configuration.seconds("delay_warning_time"),
            maximalQueueLifetime: configuration.seconds("maximal_queue_lifetime"),
            bounceQueueLifetime: configuration.seconds("bounce_queue_lifetime"),
            softBounce: configuration.bool("soft_bounce"))
    }

    /// `double-bounce@myhostname`: the sender of postmaster notices (mail_addr_double_bounce()).
    public var doubleBounceAddress: String { "\(doubleBounceSender)@\(hostname)" }

    /// `MAILER-DAEMON@myhostname` (mail_addr_mail_daemon()).
    public var mailerDaemonAddress: String { "MAILER-DAEMON@\(hostname)" }

    /// How long a message from `sender` may stay in the queue before it is bounced:
    /// `bounce_queue_lifetime` for the null sender, `maximal_queue_lifetime` for the rest.
    public func queueLifetime(forSender sender: String) -> Int {
        sender.isEmpty ? bounceQueueLifetime : maximalQueueLifetime
    }

    /// `mail_name` with RFC 822 specials and white space turned into `-`, as the
    /// `X-…-Queue-ID` field name needs it.
    var fieldMailName: String {
        String(mailName.map { " \t\r\n()<>@,;:\\\".[]".contains($0) ? "-" : $0 })
    }
}
