/// Where one recipient of a queued message stands.
public enum RecipientStatus: UInt8, Sendable, Hashable {
    /// Not tried yet.
    case pending = 0
    /// Tried; failed temporarily; tried again at `nextAttempt`.
    case deferred = 1
    /// Delivered (or relayed): final.
    case delivered = 2
    /// Failed permanently (or expired): final; the sender is owed a bounce unless NOTIFY says otherwise.
    case bounced = 3

    /// Delivered and bounced recipients are never tried again.
    public var isFinal: Bool { self == .delivered || self == .bounced }
}

/// The DSN action of a successful delivery (RFC 3464 section 2.3.3).
public enum DSNAction: UInt8, Sendable, Hashable {
    case delivered = 1
    /// Passed on to a system that does not return DSNs.
    case relayed = 2
    /// Delivered to an alias or list that expanded it.
    case expanded = 3
}

/// The kinds of notice sent to a message's sender (RFC 3461's NOTIFY classes).
public struct NotificationKinds: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let success = NotificationKinds(rawValue: 1 << 0)
    public static let failure = NotificationKinds(rawValue: 1 << 1)
    public static let delay = NotificationKinds(rawValue: 1 << 2)
}

/// The delivery state of one recipient, folded from the message's state journal.
public struct RecipientState: Sendable, Hashable {
    public var status: RecipientStatus
    /// Delivery attempts recorded so far.
    public var attempts: Int
    public var lastAttempt: QueueTimestamp?
    /// For deferred recipients: not before this time.
    public var nextAttempt: QueueTimestamp?
    /// The enhanced status code of the last result (`4.4.1`, `5.1.1`, `2.0.0`).
    public var dsnStatus: String?
    /// The last result in words (`connect to mx.example.com[192.0.2.1]:25: Connection refused`),
    /// what `queue list` shows for deferred recipients and bounces quote.
    public var reason: String?
    /// The remote MTA that gave the result, if any.
    public var remoteMTA: String?
    /// How a delivered recipient was delivered.
    public var action: DSNAction?
    /// The notices already sent about this recipient.
    public var notified: NotificationKinds

    public init(
        status: RecipientStatus = .pending, attempts: Int = 0, lastAttempt: QueueTimestamp? = nil,
        nextAttempt: QueueTimestamp? = nil, dsnStatus: String? = nil, reason: String? = nil,
        remoteMTA: String? = nil, action: DSNAction? = nil, notified: NotificationKinds = []
    ) {
        self.status = status
        self.attempts = attempts
        self.lastAttempt = lastAttempt
        self.nextAttempt = nextAttempt
        self.dsnStatus = dsnStatus
        self.reason = reason
        self.remoteMTA = remoteMTA
        self.action = action
        self.notified = notified
    }
}

/// The result of one delivery attempt for a group of recipients, as a delivery agent reports it;
/// recorded durably with `QueuedMessage.record(_:)`.
public struct DeliveryOutcome: Sendable, Hashable {
    public enum Result: Sendable, Hashable {
        case delivered(DSNAction)
        case bounced
        case deferred(until: QueueTimestamp)
    }

    /// Indexes into the envelope's recipient list.
    public var recipients: [Int]
    public var result: Result
    public var time: QueueTimestamp
    /// The enhanced status code (`2.0.0`, `4.4.1`, `5.1.1`).
    public var dsnStatus: String
    /// The text for logs, `queue list` and DSNs.
    public var reason: String
    public var remoteMTA: String?

    public init(
        recipients: [Int], result: Result, time: QueueTimestamp = .now(), dsnStatus: String, reason: String,
        remoteMTA: String? = nil
    ) {
        self.recipients = recipients
        self.result = result
        self.time = time
        self.dsnStatus = dsnStatus
        self.reason = reason
        self.remoteMTA = remoteMTA
    }
}
