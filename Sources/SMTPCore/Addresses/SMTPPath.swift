/// The address argument of MAIL FROM (a Reverse-path) or RCPT TO (a Forward-path).
public struct SMTPPath: Hashable, Sendable, CustomStringConvertible {
    /// Nil for the null reverse-path `<>`.
    public var mailbox: Mailbox?
    /// The domains of a source route (`<@a,@b:user@c>` gives `a`, `b`), parsed and then ignored as
    /// RFC 5321 section 4.1.1.3 and appendix C allow.
    public var sourceRoute: [MailDomain]
    /// The argument as the client sent it.
    public var raw: String
    /// The client wrote the angle brackets (false only with `strict_rfc821_envelopes = no`).
    public var hadAngleBrackets: Bool

    public init(mailbox: Mailbox?, sourceRoute: [MailDomain] = [], raw: String? = nil, hadAngleBrackets: Bool = true) {
        self.mailbox = mailbox
        self.sourceRoute = sourceRoute
        self.hadAngleBrackets = hadAngleBrackets
        self.raw = raw ?? (mailbox.map { "<" + $0.canonicalForm + ">" } ?? "<>")
    }

    /// The null reverse-path `<>`.
    public static let null = SMTPPath(mailbox: nil)

    public var isNull: Bool { mailbox == nil }

    /// `<canonical>` (or `<>`), as the SMTP client sends it: no source route, local part quoted only when needed.
    public var canonicalForm: String { "<" + (mailbox?.canonicalForm ?? "") + ">" }

    /// The address in internal form (unquoted local part), empty for `<>`, as Postfix logs `from=<…>`.
    public var address: String { mailbox?.internalForm ?? "" }

    public var description: String { canonicalForm }
}
