/// How a client host name lookup ended (smtpd.h, SMTPD_PEER_CODE_*).
public enum ClientNameStatus: Int, Sendable, Hashable {
    /// The name is known and, for the verified name, forward-confirmed.
    case ok = 2
    /// A temporary DNS failure: the name is "unknown" for now.
    case temporaryFailure = 4
    /// No name (no PTR record, or the lookup is disabled).
    case permanentFailure = 5
    /// The PTR name does not resolve back to the client address ("forged").
    case forged = 6
}

/// What smtpd knows about the connecting client from the start of the session.
public struct ClientIdentity: Sendable, Hashable {
    /// The client address, without brackets (`192.0.2.1`, `2001:db8::1`).
    public var address: String
    /// The client TCP port, as text.
    public var port: String
    /// The verified (forward-confirmed) host name, or `unknown`.
    public var name: String
    public var nameStatus: ClientNameStatus
    /// The name from the PTR lookup alone, or `unknown`.
    public var reverseName: String
    public var reverseNameStatus: ClientNameStatus

    /// A client whose names were looked up (see ``ClientHostnameVerifier``), or set by hand.
    public init(
        address: String, port: String = "0", name: String = "unknown", nameStatus: ClientNameStatus = .permanentFailure,
        reverseName: String? = nil, reverseNameStatus: ClientNameStatus? = nil
    ) {
        self.address = address
        self.port = port
        self.name = name
        self.nameStatus = nameStatus
        self.reverseName = reverseName ?? name
        self.reverseNameStatus = reverseNameStatus ?? nameStatus
    }
}

/// The TLS facts of the session, computed by the TLS layer.
public struct TLSSessionFacts: Sendable, Hashable {
    /// The client presented a certificate (Postfix's TLS_CERT_IS_PRESENT).
    public var peerCertificatePresent: Bool
    /// The certificate chain verified against the trusted CAs (TLS_CERT_IS_TRUSTED).
    public var peerCertificateVerified: Bool
    /// The certificate subject's CommonName (Postfix's `peer_CN`), used in reply texts.
    public var subjectCommonName: String
    /// The issuer's CommonName.
    public var issuerCommonName: String
    /// The certificate fingerprint with `smtpd_tls_fingerprint_digest`, colon-separated
    /// uppercase hex as Postfix prints it (`AB:CD:…`).
    public var certificateFingerprint: String
    /// The public-key fingerprint with the same digest.
    public var publicKeyFingerprint: String

    public init(
        peerCertificatePresent: Bool = false, peerCertificateVerified: Bool = false, subjectCommonName: String = "",
        issuerCommonName: String = "", certificateFingerprint: String = "", publicKeyFingerprint: String = ""
    ) {
        self.peerCertificatePresent = peerCertificatePresent
        self.peerCertificateVerified = peerCertificateVerified
        self.subjectCommonName = subjectCommonName
        self.issuerCommonName = issuerCommonName
        self.certificateFingerprint = certificateFingerprint
        self.publicKeyFingerprint = publicKeyFingerprint
    }
}

/// A successful SASL login.
public struct SASLLogin: Sendable, Hashable {
    public var method: String
    public var username: String

    public init(method: String, username: String) {
        self.method = method
        self.username = username
    }
}

/// What the access tables asked for, to be carried out by the server and cleanup (Postfix keeps
/// them in `saved_filter`, `saved_redirect`, `saved_bcc`, `saved_flags`, `discard` and
/// `prepend`). They belong to the current mail transaction: ``PolicySession/resetTransaction()``
/// clears them.
public struct PolicyActions: Sendable, Hashable {
    /// HOLD: put the message on hold.
    public var hold = false
    /// DISCARD: claim success and throw the message away.
    public var discard = false
    /// FILTER transport:destination (the last one wins).
    public var filter: String?
    /// REDIRECT user@domain (the last one wins).
    public var redirect: String?
    /// BCC user@domain, in order.
    public var bcc: [String] = []
    /// PREPEND header texts, in order.
    public var prependedHeaders: [String] = []

    public init() {}

    /// Whether no action is pending.
    public var isEmpty: Bool { self == PolicyActions() }
}

/// One SMTP session as the access policy sees it: the facts the server fills in, plus the
/// policy's memory between stages (Postfix keeps both in SMTPD_STATE).
///
/// The server owns it, updates the facts as the session goes on (HELO, AUTH, STARTTLS, MAIL,
/// accepted recipients, the queue ID) and passes it to each ``AccessPolicy`` check.
public struct PolicySession: Sendable {
    public var client: ClientIdentity
    /// The HELO/EHLO argument, once given.
    public var heloName: String?
    /// `SMTP` or `ESMTP`.
    public var protocolName: String
    /// The accepted MAIL FROM address in internal form (`""` is the null sender), nil outside a
    /// mail transaction.
    public var sender: String?
    /// The first accepted recipient of the transaction (Postfix's `state->recipient`).
    public var firstRecipient: String?
    /// Recipients accepted so far in this transaction.
    public var recipientCount: Int
    /// The SASL login, when the client authenticated.
    public var sasl: SASLLogin?
    /// TLS facts, nil while the session is plaintext.
    public var tls: TLSSessionFacts?
    /// The client sent commands before it was allowed to (Postfix's SMTPD_FLAG_ILL_PIPELINING).
    public var improperPipelining: Bool
    /// The transaction asked for SMTPUTF8 (MAIL FROM … SMTPUTF8).
    public var smtputf8: Bool
    /// The queue ID once the queue file exists; it replaces NOQUEUE in log lines.
    public var queueID: String?

    /// What the access tables asked for in this transaction.
    public internal(set) var actions: PolicyActions

    // Policy memory (SMTPD_STATE: defer_if_permit and the per-stage flags, the recipient-table
    // check flags).
    var deferIfPermit = Deferral.Slot()
    var deferIfPermitClient = false
    var deferIfPermitHelo = false
    var deferIfPermitSender = false
    var deferIfReject = Deferral.Slot()
    var senderTablesChecked = false
    var recipientTablesChecked = false

    /// A session for a client that just connected.
    public init(
        client: ClientIdentity, protocolName: String = "SMTP", tls: TLSSessionFacts? = nil
    ) {
        self.client = client
        self.heloName = nil
        self.protocolName = protocolName
        self.sender = nil
        self.firstRecipient = nil
        self.recipientCount = 0
        self.sasl = nil
        self.tls = tls
        self.improperPipelining = false
        self.smtputf8 = false
        self.queueID = nil
        self.actions = PolicyActions()
    }

    /// Records an accepted recipient (smtpd's rcpt_cmd(): the count, and the first recipient).
    public mutating func recipientAccepted(_ recipient: String) {
        recipientCount += 1
        if firstRecipient == nil { firstRecipient = recipient }
    }

    /// Ends the mail transaction (RSET, end of DATA, a new EHLO): forgets the sender, the
    /// recipients, the queue ID and the access-table actions (Postfix's mail_reset()).
    public mutating func resetTransaction() {
        sender = nil
        firstRecipient = nil
        recipientCount = 0
        queueID = nil
        smtputf8 = false
        actions = PolicyActions()
    }
}

/// A remembered reason to defer (Postfix's SMTPD_DEFER): the first reason of its kind wins.
struct Deferral: Sendable, Hashable {
    var errorClass: ErrorClass
    var code: Int
    var dsn: String
    var reason: String

    /// The deferral and whether it is in force. Postfix keeps the text when the flag drops, and
    /// a stage can raise the flag again from an earlier stage's memory.
    struct Slot: Sendable, Hashable {
        var isActive = false
        var deferral: Deferral?
    }
}

/// Postfix's MAIL_ERROR_* classes that matter to the policy: software, resource and data errors
/// are never turned into warnings by warn_if_reject.
enum ErrorClass: Sendable, Hashable {
    case policy, protocolError, bounce, software, resource, data
}
