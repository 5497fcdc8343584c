/// The ESMTP parameters of a MAIL FROM command.
public struct MailParameters: Hashable, Sendable {
    /// RFC 6152 / RFC 3030 `BODY=`.
    public enum Body: String, Hashable, Sendable {
        case sevenBit = "7BIT"
        case eightBitMIME = "8BITMIME"
        case binaryMIME = "BINARYMIME"
    }

    /// RFC 3461 `RET=`.
    public enum Return: String, Hashable, Sendable {
        case full = "FULL"
        case headers = "HDRS"
    }

    /// RFC 4954 `AUTH=`: the authenticated sender an earlier hop vouched for.
    public enum AuthenticatedSender: Hashable, Sendable {
        /// `AUTH=<>`: the sender is not known to be authenticated.
        case unknown
        /// The xtext-decoded mailbox (as text; Postfix keeps it without validating it).
        case mailbox(String)
    }

    /// RFC 1870 `SIZE=`: the size the client declares.
    public var size: Int?
    public var body: Body?
    /// RFC 6531 `SMTPUTF8`.
    public var smtpUTF8: Bool
    public var returnContent: Return?
    /// RFC 3461 `ENVID=`, xtext-decoded.
    public var envelopeID: String?
    public var authenticatedSender: AuthenticatedSender?
    /// RFC 8689 `REQUIRETLS`.
    public var requireTLS: Bool

    public init(
        size: Int? = nil, body: Body? = nil, smtpUTF8: Bool = false, returnContent: Return? = nil,
        envelopeID: String? = nil, authenticatedSender: AuthenticatedSender? = nil, requireTLS: Bool = false
    ) {
        self.size = size
        self.body = body
        self.smtpUTF8 = smtpUTF8
        self.returnContent = returnContent
        self.envelopeID = envelopeID
        self.authenticatedSender = authenticatedSender
        self.requireTLS = requireTLS
    }

    /// The parameters as the client sends them, space separated, in a fixed order.
    public var encoded: [String] {
        var words: [String] = []
        if let size { words.append("SIZE=\(size)") }
        if let body { words.append("BODY=" + body.rawValue) }
        if smtpUTF8 { words.append("SMTPUTF8") }
        if requireTLS { words.append("REQUIRETLS") }
        if let returnContent { words.append("RET=" + returnContent.rawValue) }
        if let envelopeID { words.append("ENVID=" + XText.encode(envelopeID)) }
        switch authenticatedSender {
        case .none: break
        case .unknown: words.append("AUTH=<>")
        case .mailbox(let mailbox): words.append("AUTH=" + XText.encode(mailbox))
        }
        return words
    }
}
