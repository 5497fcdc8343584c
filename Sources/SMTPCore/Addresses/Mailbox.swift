/// An RFC 5321 mailbox: `Local-part "@" ( Domain / address-literal )`, or a bare local part
/// (`<postmaster>`, or the unqualified forms Postfix accepts and qualifies with `$myorigin`).
public struct Mailbox: Hashable, Sendable, CustomStringConvertible {
    /// The local part unquoted (Postfix's "internal" form): `"john doe"` becomes `john doe`.
    public var localPart: String
    /// The local part as the client wrote it, quotes and backslashes included.
    public var rawLocalPart: String
    /// The local part was a Quoted-string.
    public var localPartWasQuoted: Bool
    /// Nil for an address without a domain.
    public var domain: MailDomain?

    public init(localPart: String, domain: MailDomain?) {
        self.localPart = localPart
        self.domain = domain
        let quoted = LocalPartQuoting.quoted(localPart)
        self.rawLocalPart = quoted
        self.localPartWasQuoted = quoted != localPart
    }

    init(localPart: String, rawLocalPart: String, localPartWasQuoted: Bool, domain: MailDomain?) {
        self.localPart = localPart
        self.rawLocalPart = rawLocalPart
        self.localPartWasQuoted = localPartWasQuoted
        self.domain = domain
    }

    /// `localPart@domain` in internal (unquoted) form, as Postfix logs and looks addresses up.
    public var internalForm: String {
        guard let domain else { return localPart }
        return localPart + "@" + domain.text
    }

    /// The address with the local part quoted only when it is not a dot-string (Postfix's
    /// `quote_821_local()`), as the SMTP client sends it.
    public var canonicalForm: String {
        let local = LocalPartQuoting.quoted(localPart)
        guard let domain else { return local }
        return local + "@" + domain.text
    }

    public var description: String { canonicalForm }

    // What relay checks need to see through address tricks (the decision is the server's).

    /// The unquoted local part holds `@` (`"user@elsewhere"@example.com`).
    public var localPartContainsAt: Bool { localPart.utf8.contains(ASCII.at) }
    /// The local part holds `%` (the "percent hack", `user%elsewhere@example.com`).
    public var localPartContainsPercent: Bool { localPart.utf8.contains(ASCII.percent) }
    /// The local part holds `!` (a UUCP bang path, `elsewhere!user@example.com`).
    public var localPartContainsBang: Bool { localPart.utf8.contains(ASCII.exclamation) }
    /// Any of `@`, `%`, `!` in the local part: routing operators that a relay check must not trust.
    public var localPartHasRoutingOperators: Bool { localPartContainsAt || localPartContainsPercent || localPartContainsBang }
    /// Local part and domain are ASCII; false means the address needs SMTPUTF8.
    public var isASCII: Bool { ASCII.isAllASCII(localPart.utf8) && (domain?.isASCII ?? true) }
    /// The mailbox is `postmaster` without a domain (RFC 5321 section 4.1.1.3), any case.
    public var isBarePostmaster: Bool { domain == nil && localPart.lowercased() == "postmaster" }
}
