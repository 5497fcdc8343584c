import SealpostQueue

/// Mail that local delivery could not finish itself: recipients an alias or `:include:` file
/// expanded into that must go through the queue again (remote addresses, and every member of a
/// list with an `owner-` alias or of an `:include:` file), as Postfix's local(8) resubmits them
/// through cleanup (forward.c).
///
/// The queue manager must, before it records the results of the report that carries it,
/// commit a new message with this envelope and the original content after ``headerLines``
/// (`Delivered-To:`, so that a forwarding loop is seen at the next hop); when that commit fails
/// it must record the original recipient as deferred instead of sent.
public struct ForwardedMail: Sendable, Hashable {
    /// The recipient of the original message that was expanded (its envelope index).
    public var originalIndex: Int
    /// The new envelope sender: the original sender, or the `owner-` alias of a list.
    public var sender: String
    /// The new recipients with NOTIFY (without SUCCESS, which the expansion itself answered),
    /// ORCPT and the original address carried over, as RFC 3461 section 5.2.7 asks.
    public var recipients: [QueueRecipient]
    /// ENVID and RET for the new message; empty when a list owner took over the message.
    public var envelopeID: String?
    public var returnContent: DSNReturn?
    /// Header lines (without line ends) to put in front of the original content.
    public var headerLines: [String]

    public init(
        originalIndex: Int, sender: String, recipients: [QueueRecipient], envelopeID: String?, returnContent: DSNReturn?,
        headerLines: [String]
    ) {
        self.originalIndex = originalIndex
        self.sender = sender
        self.recipients = recipients
        self.envelopeID = envelopeID
        self.returnContent = returnContent
        self.headerLines = headerLines
    }
}
