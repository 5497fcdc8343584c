import SealpostQueue

/// A delivery agent: Postfix's local, virtual, lmtp, smtp, error and discard services as Swift
/// values the queue manager calls. An agent is given one message and the recipients of it that
/// share a transport and next hop, tries them once, and reports a result for every recipient.
/// It never touches the queue file's records: the queue manager persists the results.
public protocol DeliveryAgent: Sendable {
    func deliver(_ request: DeliveryRequest) async -> DeliveryReport
}

/// One delivery attempt: a message and the recipients of it that go to one transport and next hop
/// (at most the transport's `*_destination_recipient_limit` of them).
public struct DeliveryRequest: Sendable {
    public struct Recipient: Sendable, Hashable {
        /// Position in the envelope's recipient list: the results refer to it.
        public var index: Int
        /// The resolved final address (after virtual alias expansion and canonicalisation).
        public var address: String
        /// The address as the client gave it, when it differs (`orig_to=` in the log).
        public var originalAddress: String?
        /// RFC 3461 NOTIFY and ORCPT, passed on to a server that announces DSN.
        public var notify: DSNNotify
        public var originalRecipient: String?

        public init(index: Int, address: String, originalAddress: String? = nil, notify: DSNNotify = [], originalRecipient: String? = nil) {
            self.index = index
            self.address = address
            self.originalAddress = originalAddress
            self.notify = notify
            self.originalRecipient = originalRecipient
        }
    }

    public var queueID: QueueID
    /// The master.cf service name that delivers (`smtp`, `relay`, `lmtp`, `virtual`, `local`, …).
    public var transport: String
    /// The next hop as the resolver gave it: a domain, `[host]:port`, `unix:/path`, an error text.
    public var nexthop: String
    /// The envelope sender; empty for the null sender `<>`.
    public var sender: String
    public var recipients: [Recipient]
    /// The whole envelope: ENVID, RET, BODY, SMTPUTF8, the client it came from.
    public var envelope: QueueEnvelope
    public var arrival: QueueTimestamp
    /// The content's length in bytes (header and body, CR LF line ends, not dot-stuffed).
    public var contentLength: Int
    /// Opens the content for reading; each call gives a new reader positioned at the start.
    public var openContent: @Sendable () throws(QueueError) -> MessageContentReader

    public init(
        queueID: QueueID, transport: String, nexthop: String, sender: String, recipients: [Recipient],
        envelope: QueueEnvelope, arrival: QueueTimestamp, contentLength: Int,
        openContent: @escaping @Sendable () throws(QueueError) -> MessageContentReader
    ) {
        self.queueID = queueID
        self.transport = transport
        self.nexthop = nexthop
        self.sender = sender
        self.recipients = recipients
        self.envelope = envelope
        self.arrival = arrival
        self.contentLength = contentLength
        self.openContent = openContent
    }
}

/// What one delivery attempt did, per recipient, with the times Postfix's `delays=c/d` report.
public struct DeliveryReport: Sendable {
    public var results: [RecipientResult]
    /// Seconds spent on connection set-up (DNS, connect, greeting, HELO, TLS): `delays=…/…/c/…`.
    public var setupSeconds: Double
    /// Seconds spent transmitting: `delays=…/…/…/d`.
    public var transmissionSeconds: Double
    /// Mail the agent hands back to the queue: recipients an alias expanded into that must be
    /// queued as new messages before the results are recorded (only the local agent makes these).
    public var forwarded: [ForwardedMail]

    public init(
        results: [RecipientResult], setupSeconds: Double = 0, transmissionSeconds: Double = 0, forwarded: [ForwardedMail] = []
    ) {
        self.results = results
        self.setupSeconds = setupSeconds
        self.transmissionSeconds = transmissionSeconds
        self.forwarded = forwarded
    }

    /// The same result for every recipient of `request` (a connection that failed, a bad next hop).
    public static func all(
        _ request: DeliveryRequest, _ status: RecipientResult.Status, dsn: String, text: String,
        relay: String = "none", setupSeconds: Double = 0
    ) -> DeliveryReport {
        DeliveryReport(
            results: request.recipients.map {
                RecipientResult(index: $0.index, status: status, dsn: dsn, text: text, relay: relay)
            },
            setupSeconds: setupSeconds)
    }
}

/// The result for one recipient, in the terms of Postfix's delivery status.
public struct RecipientResult: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        case sent, deferred, bounced
    }

    /// The recipient's index in the envelope (``DeliveryRequest/Recipient/index``).
    public var index: Int
    public var status: Status
    /// RFC 3463 enhanced status code: `2.0.0`, `4.4.1`, `5.1.1`.
    public var dsn: String
    /// The text in parentheses of the log line, `queue list` and the bounce:
    /// `250 2.0.0 Ok: queued as 4Xyz`, `host mx.example[192.0.2.1] said: 550 5.1.1 … (in reply to RCPT TO command)`,
    /// `connect to mx.example[192.0.2.1]:25: Connection refused`, `delivered to maildir`.
    public var text: String
    /// `relay=` in the log: `mx.example[192.0.2.1]:25`, `virtual`, `local`, `none`.
    public var relay: String
    /// RFC 3464 Remote-MTA (`dns; mx.example`), when a remote server gave the result.
    public var remoteMTA: String?
    /// RFC 3464 Diagnostic-Code (`smtp; 550 5.1.1 <u@example>: Recipient address rejected`).
    public var diagnostic: String?
    /// How a sent recipient went: delivered here, relayed to a server (DSN action `relayed` when it
    /// did not announce DSN), or expanded by an alias.
    public var action: DSNAction
    /// A problem for the administrator (logged as a warning) beyond the result.
    public var warning: String?

    public init(
        index: Int, status: Status, dsn: String, text: String, relay: String, remoteMTA: String? = nil,
        diagnostic: String? = nil, action: DSNAction = .delivered, warning: String? = nil
    ) {
        self.index = index
        self.status = status
        self.dsn = dsn
        self.text = text
        self.relay = relay
        self.remoteMTA = remoteMTA
        self.diagnostic = diagnostic
        self.action = action
        self.warning = warning
    }
}
