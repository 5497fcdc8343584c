/// Commands that set up or tear down the session: EHLO, HELO, AUTH, ETRN, VRFY.
extension SMTPCommandParser {
    // RFC 5321 section 4.1.1.1:
    //   ehlo = "EHLO" SP ( Domain / address-literal ) CRLF
    //   helo = "HELO" SP Domain CRLF
    /// Postfix takes any words as the name (joined by one space) and judges them later, in
    /// `smtpd_helo_restrictions`; only a missing argument is a syntax error here.
    func parseHello(_ arguments: [CommandToken], extended: Bool) -> Result {
        guard !arguments.isEmpty else {
            return .syntaxError(SMTPCommandError(.commandSyntax, extended ? .ehloSyntax : .heloSyntax))
        }
        let name = Self.joined(arguments)
        return .command(extended ? .ehlo(name) : .helo(name))
    }

    // RFC 4954 section 4:
    //   auth-command = "AUTH" SP sasl-mech [SP initial-response] *(CRLF [base64]) [CRLF cancel-response] CRLF
    //   sasl-mech = 1*20mech-char
    //   initial-response = base64 / "="
    func parseAuth(_ arguments: [CommandToken]) -> Result {
        guard (1...2).contains(arguments.count) else { return .syntaxError(SMTPCommandError(.commandSyntax, .authSyntax)) }
        return .command(.auth(mechanism: arguments[0].text, initialResponse: arguments.count == 2 ? arguments[1].text : nil))
    }

    // RFC 1985 section 5:
    //   etrn = "ETRN" SP [ "@" / "#" ] Domain CRLF
    /// The node name keeps its `@` or `#`; Postfix checks the rest as a host name or an address literal.
    func parseETRN(_ arguments: [CommandToken]) -> Result {
        guard arguments.count == 1 else { return .syntaxError(SMTPCommandError(.commandSyntax, .etrnSyntax)) }
        var node = arguments[0].bytes[...]
        if node.first == ASCII.at || node.first == ASCII.hash { node = node.dropFirst() }
        let valid: Bool
        if node.first == ASCII.leftBracket {
            valid = grammar.parseAddressLiteral(node).isSuccess
        } else {
            valid = grammar.parseDomain(node, smtputf8: false).isSuccess && node.last != ASCII.dot
        }
        guard valid else { return .syntaxError(SMTPCommandError(.commandSyntax, .etrnInvalidParameter)) }
        return .command(.etrn(arguments[0].text))
    }

    // RFC 5321 section 4.1.1.6, RFC 6531 section 3.7.4.1:
    //   vrfy = "VRFY" SP String [ SP "SMTPUTF8" ] CRLF
    /// Postfix reads the words as one address, without requiring angle brackets.
    func parseVerify(_ arguments: [CommandToken]) -> Result {
        var arguments = arguments
        var smtpUTF8 = false
        if options.smtpUTF8Enabled, arguments.count > 1, ASCII.equalsIgnoringCase(arguments.last!.bytes, "SMTPUTF8") {
            arguments.removeLast()
            smtpUTF8 = true
        }
        guard !arguments.isEmpty else {
            return .syntaxError(SMTPCommandError(.commandSyntax, .vrfySyntax(smtputf8Enabled: options.smtpUTF8Enabled)))
        }
        let argument = Self.joined(arguments)
        var lenient = grammar
        lenient.options.strictRFC821Envelopes = false
        switch lenient.parsePath(argument, allowNull: false, smtputf8: smtpUTF8) {
        case .failure(let error):
            return .syntaxError(SMTPCommandError(.badRecipientAddress(error), .badRecipientAddress))
        case .success(let path):
            let mailbox = path.mailbox!
            if !smtpUTF8 && options.strictSMTPUTF8 && !mailbox.isASCII {
                return .syntaxError(SMTPCommandError(.undeclaredSMTPUTF8, .mustDeclareSMTPUTF8))
            }
            return .command(.vrfy(SMTPCommand.VerifyRequest(argument: argument, mailbox: mailbox, smtpUTF8: smtpUTF8)))
        }
    }
}
