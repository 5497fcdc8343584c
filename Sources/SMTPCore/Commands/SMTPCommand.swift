import NIOCore

/// One SMTP command, parsed (server side) or to be sent (client side).
public enum SMTPCommand: Hashable, Sendable, CustomStringConvertible {
    /// `EHLO domain`; the argument as sent (several words joined by one space, as Postfix does).
    case ehlo(String)
    /// `HELO domain`.
    case helo(String)
    /// `MAIL FROM:<reverse-path> [parameters]`.
    case mail(SMTPPath, MailParameters)
    /// `RCPT TO:<forward-path> [parameters]`.
    case rcpt(SMTPPath, RecipientParameters)
    case data
    /// RFC 3030 `BDAT size [LAST]`.
    case bdat(size: Int, last: Bool)
    case rset
    /// `VRFY string [SMTPUTF8]`.
    case vrfy(VerifyRequest)
    /// `EXPN string` (Postfix does not implement it and answers as for an unknown command).
    case expn(String)
    /// `HELP [string]` (Postfix does not implement it either).
    case help(String?)
    /// `NOOP [string]`.
    case noop
    case quit
    /// RFC 3207.
    case startTLS
    /// RFC 4954 `AUTH mechanism [initial-response]`. The response is a credential: it never appears in
    /// `description`.
    case auth(mechanism: String, initialResponse: String?)
    /// RFC 1985 `ETRN [@|#]domain`.
    case etrn(String)
    /// Any other verb, as sent.
    case unknown(verb: String)

    /// The argument of VRFY.
    public struct VerifyRequest: Hashable, Sendable {
        /// The argument as sent; Postfix's `252 2.0.0 <argument>` reply repeats it.
        public var argument: String
        /// The address in it.
        public var mailbox: Mailbox
        /// The client asked for SMTPUTF8 (RFC 6531 section 3.7.4.1).
        public var smtpUTF8: Bool

        public init(argument: String, mailbox: Mailbox, smtpUTF8: Bool = false) {
            self.argument = argument
            self.mailbox = mailbox
            self.smtpUTF8 = smtpUTF8
        }
    }

    /// The verb in upper case, as Postfix counts commands in its `disconnect` log line.
    public var verb: String {
        switch self {
        case .ehlo: return "EHLO"
        case .helo: return "HELO"
        case .mail: return "MAIL"
        case .rcpt: return "RCPT"
        case .data: return "DATA"
        case .bdat: return "BDAT"
        case .rset: return "RSET"
        case .vrfy: return "VRFY"
        case .expn: return "EXPN"
        case .help: return "HELP"
        case .noop: return "NOOP"
        case .quit: return "QUIT"
        case .startTLS: return "STARTTLS"
        case .auth: return "AUTH"
        case .etrn: return "ETRN"
        case .unknown(let verb): return verb.uppercased().printableForSMTP
        }
    }

    /// The command for logs; AUTH shows only its mechanism.
    public var description: String {
        switch self {
        case .auth(let mechanism, let response):
            return "AUTH " + mechanism.printableForSMTP + (response == nil ? "" : " <redacted>")
        default:
            var buffer = ByteBuffer()
            try? write(to: &buffer)
            return String(decoding: buffer.readableBytesView.dropLast(2), as: UTF8.self).printableForSMTP
        }
    }
}

/// A value that cannot be put on the wire as it is.
public struct SMTPEncodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Which part of the command holds the bad value.
    public var field: String
    public var description: String { "\(field) holds a character that cannot be sent in an SMTP command" }
}

extension SMTPCommand {
    /// Writes the command line with its CR LF (RFC 5321 section 4.1.1). Throws when a field holds a
    /// control character or (where the grammar has no room for it) a space, so the client can never be
    /// made to send two commands for one.
    public func write(to buffer: inout ByteBuffer) throws(SMTPEncodingError) {
        var words: [String]
        switch self {
        case .ehlo(let domain): words = ["EHLO", try Self.word(domain, field: "EHLO domain", spaces: false)]
        case .helo(let domain): words = ["HELO", try Self.word(domain, field: "HELO domain", spaces: false)]
        case .mail(let path, let parameters):
            words = ["MAIL", "FROM:" + (try Self.word(path.canonicalForm, field: "MAIL FROM address", spaces: true))]
            for parameter in parameters.encoded { words.append(try Self.word(parameter, field: "MAIL parameter", spaces: false)) }
        case .rcpt(let path, let parameters):
            words = ["RCPT", "TO:" + (try Self.word(path.canonicalForm, field: "RCPT TO address", spaces: true))]
            for parameter in parameters.encoded { words.append(try Self.word(parameter, field: "RCPT parameter", spaces: false)) }
        case .data: words = ["DATA"]
        case .bdat(let size, let last): words = ["BDAT", String(max(size, 0))] + (last ? ["LAST"] : [])
        case .rset: words = ["RSET"]
        case .vrfy(let request):
            words = ["VRFY", try Self.word(request.argument, field: "VRFY argument", spaces: true)]
            if request.smtpUTF8 { words.append("SMTPUTF8") }
        case .expn(let argument): words = ["EXPN", try Self.word(argument, field: "EXPN argument", spaces: true)]
        case .help(let argument):
            words = ["HELP"]
            if let argument { words.append(try Self.word(argument, field: "HELP argument", spaces: true)) }
        case .noop: words = ["NOOP"]
        case .quit: words = ["QUIT"]
        case .startTLS: words = ["STARTTLS"]
        case .auth(let mechanism, let response):
            words = ["AUTH", try Self.word(mechanism, field: "AUTH mechanism", spaces: false)]
            if let response { words.append(try Self.word(response, field: "AUTH initial response", spaces: false)) }
        case .etrn(let node): words = ["ETRN", try Self.word(node, field: "ETRN argument", spaces: false)]
        case .unknown(let verb): words = [try Self.word(verb, field: "verb", spaces: false)]
        }
        buffer.writeString(words.joined(separator: " "))
        buffer.writeInteger(ASCII.cr)
        buffer.writeInteger(ASCII.lf)
    }

    /// The encoded command line in a new buffer.
    public func encoded() throws(SMTPEncodingError) -> ByteBuffer {
        var buffer = ByteBuffer()
        try write(to: &buffer)
        return buffer
    }

    private static func word(_ text: String, field: String, spaces: Bool) throws(SMTPEncodingError) -> String {
        guard !text.isEmpty, !text.utf8.contains(where: { ASCII.isControl($0) || (!spaces && $0 == ASCII.space) }) else {
            throw SMTPEncodingError(field: field)
        }
        return text
    }
}
