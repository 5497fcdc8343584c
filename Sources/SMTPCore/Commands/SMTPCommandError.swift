/// A command line the server must refuse, with the reply Postfix gives for it.
///
/// The description names the kind of error and never repeats the command's arguments, so a
/// mistyped AUTH line cannot leak a credential into a log.
public struct SMTPCommandError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong; stable, for tests and counters.
    public enum Kind: Hashable, Sendable {
        /// The line is not valid UTF-8.
        case badUTF8
        /// Empty line, NUL or another control character.
        case badSyntax
        /// The verb's arguments do not fit its syntax.
        case commandSyntax
        case badSenderAddress(AddressSyntaxError)
        case badRecipientAddress(AddressSyntaxError)
        /// A non-ASCII address without SMTPUTF8 while `strict_smtputf8 = yes`.
        case undeclaredSMTPUTF8
        /// An ESMTP parameter that is unknown or not enabled.
        case unsupportedParameter
        case badParameterValue
        /// A parameter given twice where Postfix refuses that.
        case duplicateParameter
        /// `SIZE=` too large to represent.
        case sizeOverflow
        /// A DSN parameter while DSN is not offered to this client.
        case dsnDisabled
    }

    public var kind: Kind
    /// The reply to send.
    public var reply: SMTPReply

    public init(_ kind: Kind, _ reply: SMTPReply) {
        self.kind = kind
        self.reply = reply
    }

    public var description: String {
        "\(kind): \(reply.code) \(reply.enhancedStatus.map { $0.description + " " } ?? "")\((reply.lines.first ?? "").prefix(60))"
    }
}
