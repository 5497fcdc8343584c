import NIOCore

/// How a command line ended.
public enum SMTPLineEnding: Hashable, Sendable {
    /// CR LF, as RFC 5321 requires.
    case crlf
    /// A LF without CR before it. Postfix accepts it as the end of a command unless
    /// `smtpd_forbid_bare_newline = reject` (and the client is not in
    /// `smtpd_forbid_bare_newline_exclusions`): then it answers `SMTPReply.bareLineFeedReceived` and
    /// hangs up.
    case bareLineFeed
}

/// One complete command line, without its line ending.
///
/// Its description shows only its length: a line may be an AUTH response, which is a credential.
public struct SMTPLine: Hashable, Sendable, CustomStringConvertible {
    /// The line's octets, CR LF (or the bare LF) removed.
    public var bytes: ByteBuffer
    public var ending: SMTPLineEnding
    /// The line holds a NUL octet.
    public var containsNUL: Bool
    /// The line holds a CR that is not part of its CR LF ending.
    public var containsBareCarriageReturn: Bool

    public init(bytes: ByteBuffer, ending: SMTPLineEnding = .crlf) {
        self.bytes = bytes
        self.ending = ending
        let view = bytes.readableBytesView
        containsNUL = view.contains(ASCII.nul)
        containsBareCarriageReturn = view.contains(ASCII.cr)
    }

    public var description: String {
        "SMTPLine(\(bytes.readableBytes) octets, \(ending == .crlf ? "CR LF" : "bare LF"))"
    }
}

/// A command line longer than the limit. Postfix (`smtpd_chat_query_limit()`) keeps the first
/// `line_length_limit` octets, skips the rest up to the next LF, logs "request longer than N" and
/// then handles the kept prefix as the command; the server may do the same or reply with an error.
public struct SMTPOverlongLine: Hashable, Sendable, CustomStringConvertible {
    /// The first `lineLengthLimit` octets of the line.
    public var prefix: ByteBuffer
    /// How many octets after the prefix were thrown away (the line ending not counted).
    public var discardedOctets: Int
    /// The excess itself exceeded the limit, so the framer stopped reading input, as Postfix's
    /// `smtp_get()` does ("disabling input"): the server should reply and close the connection.
    public var inputStopped: Bool

    public init(prefix: ByteBuffer, discardedOctets: Int, inputStopped: Bool) {
        self.prefix = prefix
        self.discardedOctets = discardedOctets
        self.inputStopped = inputStopped
    }

    public var description: String {
        "SMTPOverlongLine(\(prefix.readableBytes) + \(discardedOctets) octets\(inputStopped ? ", input stopped" : ""))"
    }
}
