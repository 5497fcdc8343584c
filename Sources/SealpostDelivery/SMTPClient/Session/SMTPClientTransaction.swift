import SealpostQueue

/// The envelope of one mail transaction as the client sends it: MAIL FROM with its ESMTP
/// parameters, one RCPT TO per recipient.
public struct SMTPClientTransaction: Sendable, Hashable {
    public struct Recipient: Sendable, Hashable {
        /// The request's recipient index, carried through to the results.
        public var index: Int
        public var address: String
        public var notify: DSNNotify
        /// ORCPT as `addr-type;address`, xtext-decoded.
        public var originalRecipient: String?

        public init(index: Int, address: String, notify: DSNNotify = [], originalRecipient: String? = nil) {
            self.index = index
            self.address = address
            self.notify = notify
            self.originalRecipient = originalRecipient
        }
    }

    /// Empty for the null sender.
    public var sender: String
    public var recipients: [Recipient]
    /// The content size for SIZE=.
    public var size: Int
    public var bodyType: BodyType?
    public var smtputf8: Bool
    public var envelopeID: String?
    public var returnContent: DSNReturn?

    public init(
        sender: String, recipients: [Recipient], size: Int, bodyType: BodyType? = nil, smtputf8: Bool = false,
        envelopeID: String? = nil, returnContent: DSNReturn? = nil
    ) {
        self.sender = sender
        self.recipients = recipients
        self.size = size
        self.bodyType = bodyType
        self.smtputf8 = smtputf8
        self.envelopeID = envelopeID
        self.returnContent = returnContent
    }
}

/// A failure that ends a session before (or instead of) per-recipient replies: Postfix's
/// `smtp_site_fail()` / `smtp_stream_except()` reasons, with its DSN code.
public struct SMTPSessionFailure: Sendable, Hashable, Error {
    /// RFC 3463 code (`4.4.2`, `4.7.4`, or the server's).
    public var dsn: String
    /// The log text: `TLS is required, but was not offered by host mx[192.0.2.1]`.
    public var text: String
    /// The server's reply behind the failure, when there was one (`smtp; …` diagnostic).
    public var reply: SMTPClientReplyText?
    /// At `may`: try the same address again without STARTTLS (Postfix's RETRY_AS_PLAINTEXT).
    public var retryInPlaintext: Bool
    /// Whether the failure came from the remote server or from us (DSN_BY_LOCAL_MTA).
    public var byRemoteServer: Bool

    public init(dsn: String, text: String, reply: SMTPClientReplyText? = nil, retryInPlaintext: Bool = false, byRemoteServer: Bool = false) {
        self.dsn = dsn
        self.text = text
        self.reply = reply
        self.retryInPlaintext = retryInPlaintext
        self.byRemoteServer = byRemoteServer
    }

    /// Whether the failure is temporary (4.x.x): the next server is tried.
    public var isTemporary: Bool { !dsn.hasPrefix("5") }
}

/// A server reply as Postfix records it: the wire lines joined by spaces, with the DSN code from the
/// reply or derived from its class.
public struct SMTPClientReplyText: Sendable, Hashable {
    public var code: Int
    public var dsn: String
    /// `550 5.1.1 <u@example>: Recipient address rejected: …` (multi-line replies joined by spaces).
    public var text: String

    public init(code: Int, dsn: String, text: String) {
        self.code = code
        self.dsn = dsn
        self.text = text
    }
}

/// What the server said about one recipient in one transaction.
public enum SMTPRecipientOutcome: Sendable, Hashable {
    /// Accepted through the end of data: the reply to the final dot (LMTP: this recipient's reply).
    case delivered(SMTPClientReplyText)
    /// Refused, with the reply and the command it answered (`RCPT TO command`, `end of DATA command`).
    case refused(SMTPClientReplyText, inReplyTo: String)
    /// Not given a reply of its own: the session failed first.
    case failed(SMTPSessionFailure)
}

/// The result of one transaction on a session.
public struct SMTPTransactionOutcome: Sendable, Hashable {
    /// One outcome per transaction recipient, keyed by ``SMTPClientTransaction/Recipient/index``.
    public var recipients: [Int: SMTPRecipientOutcome]
    /// Whether the server announced DSN: a delivered recipient's action is then `delivered`, else `relayed`.
    public var serverSupportsDSN: Bool
}
