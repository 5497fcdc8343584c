/// Everything about a message except its content: who sent it, from where, to whom, and the
/// ESMTP and DSN parameters of the transaction (RFC 1652, 1870, 3461, 6531).
///
/// The values are plain strings as the SMTP server accepted them; mapping from the protocol
/// types is the server's job, so that the queue depends on no protocol module.
public struct QueueEnvelope: Sendable, Hashable {
    /// When the message arrived; nil when queued means the creation time of its queue ID.
    public var arrival: QueueTimestamp?
    /// The envelope sender (MAIL FROM), empty for the null sender `<>`.
    public var sender: String
    /// The recipients in RCPT order; recipient states are indexed by position in this list.
    public var recipients: [QueueRecipient]

    /// The client's verified host name, or `unknown` (Postfix's `client_name`).
    public var clientName: String?
    /// The client's IP address.
    public var clientAddress: String?
    public var clientPort: String?
    /// The HELO/EHLO argument.
    public var heloName: String?
    /// `SMTP`, `ESMTP`, `ESMTPS`, `ESMTPSA`, … as in the Received header.
    public var protocolName: String?
    public var saslMethod: String?
    public var saslUsername: String?
    public var saslSender: String?
    /// The TLS summary that went into the Received header, for logs and DSNs.
    public var tlsSummary: String?
    /// `milter_macro_daemon_name` of the receiving service, for milters run after queueing.
    public var milterDaemonName: String?

    /// ENVID (RFC 3461), as given (xtext-decoded by the server).
    public var envelopeID: String?
    /// RET (RFC 3461).
    public var returnContent: DSNReturn?
    /// BODY (RFC 1652, 3030).
    public var bodyType: BodyType?
    /// SMTPUTF8 (RFC 6531) was requested.
    public var smtputf8: Bool
    /// The size the client declared with SIZE (RFC 1870), if any.
    public var declaredSize: Int?

    /// Other named attributes (the invoking user of `sendmail`, a rewrite context, …), kept
    /// verbatim; names are short ASCII words.
    public var attributes: [String: String]

    public init(
        sender: String, recipients: [QueueRecipient], arrival: QueueTimestamp? = nil,
        clientName: String? = nil, clientAddress: String? = nil, clientPort: String? = nil,
        heloName: String? = nil, protocolName: String? = nil,
        saslMethod: String? = nil, saslUsername: String? = nil, saslSender: String? = nil,
        tlsSummary: String? = nil, milterDaemonName: String? = nil,
        envelopeID: String? = nil, returnContent: DSNReturn? = nil, bodyType: BodyType? = nil,
        smtputf8: Bool = false, declaredSize: Int? = nil, attributes: [String: String] = [:]
    ) {
        self.arrival = arrival
        self.sender = sender
        self.recipients = recipients
        self.clientName = clientName
        self.clientAddress = clientAddress
        self.clientPort = clientPort
        self.heloName = heloName
        self.protocolName = protocolName
        self.saslMethod = saslMethod
        self.saslUsername = saslUsername
        self.saslSender = saslSender
        self.tlsSummary = tlsSummary
        self.milterDaemonName = milterDaemonName
        self.envelopeID = envelopeID
        self.returnContent = returnContent
        self.bodyType = bodyType
        self.smtputf8 = smtputf8
        self.declaredSize = declaredSize
        self.attributes = attributes
    }
}

/// One envelope recipient with its DSN parameters.
public struct QueueRecipient: Sendable, Hashable {
    /// The address delivery goes to (after any rewriting before queueing).
    public var address: String
    /// The address as the client gave it, when rewriting changed it (Postfix's `orig_to=`).
    public var originalAddress: String?
    /// NOTIFY (RFC 3461); empty when the client gave none.
    public var notify: DSNNotify
    /// ORCPT (RFC 3461) as `addr-type;address`, xtext-decoded.
    public var originalRecipient: String?

    public init(address: String, originalAddress: String? = nil, notify: DSNNotify = [], originalRecipient: String? = nil) {
        self.address = address
        self.originalAddress = originalAddress
        self.notify = notify
        self.originalRecipient = originalRecipient
    }
}

/// The NOTIFY parameter of RCPT (RFC 3461 section 4.1). The empty set means "not given", which
/// RFC 3461 treats as FAILURE,DELAY; `never` excludes the others.
public struct DSNNotify: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let success = DSNNotify(rawValue: 1 << 0)
    public static let failure = DSNNotify(rawValue: 1 << 1)
    public static let delay = DSNNotify(rawValue: 1 << 2)
    public static let never = DSNNotify(rawValue: 1 << 3)

    /// Whether a notice of `kind` is wanted, with RFC 3461's default for an absent NOTIFY.
    public func wants(_ kind: NotificationKinds) -> Bool {
        if contains(.never) { return false }
        let effective: DSNNotify = isEmpty ? [.failure, .delay] : self
        if kind.contains(.success), effective.contains(.success) { return true }
        if kind.contains(.failure), effective.contains(.failure) { return true }
        if kind.contains(.delay), effective.contains(.delay) { return true }
        return false
    }
}

/// The RET parameter of MAIL (RFC 3461 section 4.3).
public enum DSNReturn: UInt8, Sendable, Hashable {
    case full = 1
    case headers = 2
}

/// The BODY parameter of MAIL (RFC 1652, RFC 3030).
public enum BodyType: UInt8, Sendable, Hashable {
    case sevenBit = 1
    case eightBitMIME = 2
    case binaryMIME = 3
}
