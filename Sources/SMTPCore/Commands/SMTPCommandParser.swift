import NIOCore

/// Parses command lines into `SMTPCommand`s, refusing bad ones with the reply Postfix's smtpd gives.
///
/// The parser looks at one line at a time and knows nothing of the session, except whether the
/// current mail transaction declared SMTPUTF8 (which decides what RCPT addresses may hold). Checks that
/// depend on session state (order of commands, HELO required, TLS, limits per session) belong to the
/// server's state machine.
public struct SMTPCommandParser: Sendable {
    /// Configuration that changes what the parser accepts.
    public struct Options: Hashable, Sendable {
        /// `strict_rfc821_envelopes` and `allow_min_user`.
        public var address: AddressGrammar.Options
        /// `smtputf8_enable` (yes), and SMTPUTF8 not hidden by `smtpd_discard_ehlo_keywords`.
        public var smtpUTF8Enabled: Bool
        /// `strict_smtputf8` (no): refuse a non-ASCII address when SMTPUTF8 was not declared.
        public var strictSMTPUTF8: Bool
        /// DSN announced to this client (not in `smtpd_discard_ehlo_keywords`).
        public var dsnEnabled: Bool
        /// Accept `BODY=BINARYMIME` (Postfix does not support it and answers 555).
        public var binaryMIMEEnabled: Bool
        /// Accept `REQUIRETLS` (Postfix 3.10+: `requiretls_enable` and a TLS session); otherwise 555.
        public var requireTLSEnabled: Bool

        public init(
            address: AddressGrammar.Options = AddressGrammar.Options(),
            smtpUTF8Enabled: Bool = true,
            strictSMTPUTF8: Bool = false,
            dsnEnabled: Bool = true,
            binaryMIMEEnabled: Bool = false,
            requireTLSEnabled: Bool = false
        ) {
            self.address = address
            self.smtpUTF8Enabled = smtpUTF8Enabled
            self.strictSMTPUTF8 = strictSMTPUTF8
            self.dsnEnabled = dsnEnabled
            self.binaryMIMEEnabled = binaryMIMEEnabled
            self.requireTLSEnabled = requireTLSEnabled
        }
    }

    /// A parsed command, or the reply that refuses the line.
    public enum Result: Hashable, Sendable {
        case command(SMTPCommand)
        case syntaxError(SMTPCommandError)
    }

    public var limits: SMTPLimits
    public var options: Options

    public init(limits: SMTPLimits = .postfixDefaults, options: Options = Options()) {
        self.limits = limits
        self.options = options
    }

    var grammar: AddressGrammar { AddressGrammar(limits: limits, options: options.address) }

    /// Parses one command line (without its line ending).
    ///
    /// - Parameter mailTransactionSMTPUTF8: the MAIL FROM of the current transaction carried SMTPUTF8;
    ///   it permits UTF-8 domains in RCPT TO.
    public func parse(_ line: ByteBuffer, mailTransactionSMTPUTF8: Bool = false) -> Result {
        parse(bytes: Array(line.readableBytesView), mailTransactionSMTPUTF8: mailTransactionSMTPUTF8)
    }

    /// Parses a framed line.
    public func parse(_ line: SMTPLine, mailTransactionSMTPUTF8: Bool = false) -> Result {
        parse(line.bytes, mailTransactionSMTPUTF8: mailTransactionSMTPUTF8)
    }

    func parse(bytes: [UInt8], mailTransactionSMTPUTF8: Bool) -> Result {
        // Postfix: "Safety: protect internal interfaces against malformed UTF-8" (with smtputf8_enable).
        // Sealpost applies it always, so every field below is a valid String.
        guard String(validUTF8: bytes) != nil else { return .syntaxError(SMTPCommandError(.badUTF8, .badUTF8Syntax)) }
        // Postfix's C strings end at a NUL and treat CR as white space; no command has room for either.
        if bytes.contains(where: { ASCII.isControl($0) && $0 != ASCII.tab }) {
            return .syntaxError(SMTPCommandError(.badSyntax, .badSyntax))
        }
        let tokens = CommandTokenizer.tokens(bytes)
        guard let verb = tokens.first else { return .syntaxError(SMTPCommandError(.badSyntax, .badSyntax)) }
        let arguments = Array(tokens.dropFirst())
        let name = String(decoding: verb.bytes.map(ASCII.uppercased), as: UTF8.self)
        switch name {
        case "EHLO": return parseHello(arguments, extended: true)
        case "HELO": return parseHello(arguments, extended: false)
        case "MAIL": return parseMail(arguments)
        case "RCPT": return parseRecipient(arguments, mailTransactionSMTPUTF8: mailTransactionSMTPUTF8)
        case "DATA": return arguments.isEmpty ? .command(.data) : .syntaxError(SMTPCommandError(.commandSyntax, .dataSyntax))
        case "BDAT": return parseBDAT(arguments)
        case "RSET": return arguments.isEmpty ? .command(.rset) : .syntaxError(SMTPCommandError(.commandSyntax, .rsetSyntax))
        // RFC 5321 section 4.1.1.9: NOOP may carry a string, which is ignored.
        case "NOOP": return .command(.noop)
        // Postfix: "Don't bother checking the syntax."
        case "QUIT": return .command(.quit)
        case "STARTTLS":
            return arguments.isEmpty ? .command(.startTLS) : .syntaxError(SMTPCommandError(.commandSyntax, .startTLSSyntax))
        case "AUTH": return parseAuth(arguments)
        case "VRFY": return parseVerify(arguments)
        case "EXPN": return .command(.expn(Self.joined(arguments)))
        case "HELP": return .command(.help(arguments.isEmpty ? nil : Self.joined(arguments)))
        case "ETRN": return parseETRN(arguments)
        default: return .command(.unknown(verb: verb.text))
        }
    }

    /// The arguments joined by one space, as Postfix's `collapse_args()`.
    static func joined(_ tokens: [CommandToken]) -> String {
        tokens.map(\.text).joined(separator: " ")
    }

    /// A "verb" that looks like a message header label (`Subject:`): Postfix's `is_header()` test, on
    /// which it answers `SMTPReply.nonSMTPCommand` and hangs up.
    public static func looksLikeHeader(_ verb: String) -> Bool {
        let bytes = Array(verb.utf8)
        guard let colon = bytes.firstIndex(of: ASCII.colon), colon > 0 else { return false }
        return bytes[..<colon].allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
