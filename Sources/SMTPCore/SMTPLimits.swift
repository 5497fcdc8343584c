/// Every limit the SMTP protocol layer enforces, in one place.
///
/// The server fills this from configuration (the Postfix parameter is named beside each field); the
/// defaults are Postfix 3.7's. Nothing in `SMTPCore` holds more input than these limits allow.
public struct SMTPLimits: Hashable, Sendable {
    /// `line_length_limit` (2048): the longest command line, and the length at which a line of message
    /// content counts as long. As in Postfix's `smtp_get()`, a line is too long when its text, without
    /// the CR LF, is `lineLengthLimit` octets or more.
    public var lineLengthLimit: Int

    /// `smtpd_sasl_response_limit` (12288): the longest line a client may send in answer to a `334`
    /// AUTH challenge. The server switches the framer to this limit while AUTH is in progress.
    public var saslResponseLimit: Int

    /// `message_size_limit` (10240000): the most message octets the DATA and BDAT decoders accept before
    /// they report the message as too big; 0 means no limit, as in Postfix.
    public var messageSizeLimit: Int

    /// RFC 5321 section 4.5.3.1.1: the longest local part (64 octets), counted without its quotes and
    /// backslashes. Postfix itself enforces no such limit; a long local part is a bad address here.
    public var maximumLocalPartLength: Int

    /// RFC 5321 section 4.5.3.1.2: the longest domain (255 octets), as Postfix's `valid_hostname()`.
    public var maximumDomainLength: Int

    /// RFC 5321 section 4.5.3.1.3: the longest path, angle brackets included (256 octets).
    public var maximumPathLength: Int

    /// The longest line of a server reply the client side accepts (Postfix's SMTP client reads reply
    /// lines with `line_length_limit`).
    public var maximumReplyLineLength: Int

    /// The most octets one (multi-line) reply may hold before the reply parser gives up on it.
    public var maximumReplyLength: Int

    /// The most lines one multi-line reply may hold.
    public var maximumReplyLines: Int

    public init(
        lineLengthLimit: Int = 2048,
        saslResponseLimit: Int = 12288,
        messageSizeLimit: Int = 10_240_000,
        maximumLocalPartLength: Int = 64,
        maximumDomainLength: Int = 255,
        maximumPathLength: Int = 256,
        maximumReplyLineLength: Int = 2048,
        maximumReplyLength: Int = 65536,
        maximumReplyLines: Int = 256
    ) {
        self.lineLengthLimit = max(lineLengthLimit, 16)
        self.saslResponseLimit = max(saslResponseLimit, 16)
        self.messageSizeLimit = max(messageSizeLimit, 0)
        self.maximumLocalPartLength = max(maximumLocalPartLength, 1)
        self.maximumDomainLength = max(maximumDomainLength, 1)
        self.maximumPathLength = max(maximumPathLength, 4)
        self.maximumReplyLineLength = max(maximumReplyLineLength, 16)
        self.maximumReplyLength = max(maximumReplyLength, self.maximumReplyLineLength)
        self.maximumReplyLines = max(maximumReplyLines, 1)
    }

    /// Postfix 3.7's defaults.
    public static let postfixDefaults = SMTPLimits()
}
