/// The mail transaction commands: MAIL, RCPT, BDAT, and their ESMTP parameters.
extension SMTPCommandParser {
    // RFC 5321 section 4.1.1.2 (RFC 1869 section 6 for the parameters):
    //   mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF
    //   Mail-parameters = esmtp-param *(SP esmtp-param)
    //   esmtp-param = esmtp-keyword ["=" esmtp-value]
    /// Postfix's `mail_cmd()`: the words `FROM:` and the address may be apart (`MAIL FROM: <a@b>`);
    /// SMTPUTF8 is looked for first because it decides what the address may hold; then the address;
    /// then the parameters, left to right, the first bad one answering for the command.
    func parseMail(_ arguments: [CommandToken]) -> Result {
        guard arguments.count >= 2, ASCII.equalsIgnoringCase(arguments[0].bytes, "FROM:") else {
            return .syntaxError(SMTPCommandError(.commandSyntax, .mailSyntax))
        }
        let parameters = arguments.dropFirst(2)
        guard !arguments[1].unterminated else {
            return .syntaxError(SMTPCommandError(.badSenderAddress(.unexpectedText), .badSenderAddress))
        }
        let smtpUTF8 = options.smtpUTF8Enabled && parameters.contains { ASCII.equalsIgnoringCase($0.bytes, "SMTPUTF8") }
        let path: SMTPPath
        switch grammar.parsePath(arguments[1].text, allowNull: true, smtputf8: smtpUTF8) {
        case .failure(let error): return .syntaxError(SMTPCommandError(.badSenderAddress(error), .badSenderAddress))
        case .success(let parsed): path = parsed
        }
        var result = MailParameters()
        for parameter in parameters {
            if let error = apply(parameter.bytes, to: &result) { return .syntaxError(error) }
        }
        if !smtpUTF8 && options.strictSMTPUTF8 && !(path.mailbox?.isASCII ?? true) {
            return .syntaxError(SMTPCommandError(.undeclaredSMTPUTF8, .mustDeclareSMTPUTF8))
        }
        return .command(.mail(path, result))
    }

    /// One MAIL parameter; nil when it was accepted.
    private func apply(_ word: [UInt8], to parameters: inout MailParameters) -> SMTPCommandError? {
        let text = String(decoding: word, as: UTF8.self)
        func value(after keyword: String) -> [UInt8] { Array(word.dropFirst(keyword.utf8.count)) }
        if ASCII.equalsIgnoringCase(word, "BODY=8BITMIME") {
            parameters.body = .eightBitMIME
        } else if ASCII.equalsIgnoringCase(word, "BODY=7BIT") {
            parameters.body = .sevenBit
        } else if options.binaryMIMEEnabled && ASCII.equalsIgnoringCase(word, "BODY=BINARYMIME") {
            parameters.body = .binaryMIME
        } else if ASCII.hasPrefixIgnoringCase(word, "SIZE=") {
            // RFC 1870: size-value = 1*20DIGIT. Postfix: all digits, then an off_t.
            let digits = value(after: "SIZE=")
            guard !digits.isEmpty, digits.allSatisfy(ASCII.isDigit) else {
                return SMTPCommandError(.badParameterValue, .badMessageSizeSyntax)
            }
            guard let size = Self.decimal(digits) else {
                return SMTPCommandError(.sizeOverflow, .messageSizeExceedsFileSystemLimit)
            }
            parameters.size = size
        } else if options.smtpUTF8Enabled && ASCII.equalsIgnoringCase(word, "SMTPUTF8") {
            parameters.smtpUTF8 = true
        } else if options.requireTLSEnabled && ASCII.equalsIgnoringCase(word, "REQUIRETLS") {
            parameters.requireTLS = true
        } else if ASCII.hasPrefixIgnoringCase(word, "AUTH=") {
            // RFC 4954 section 5: auth-param = "AUTH=" ( xtext / "<>" ). Postfix keeps the value as sent.
            guard parameters.authenticatedSender == nil else { return SMTPCommandError(.duplicateParameter, .multipleAuthOptions) }
            let raw = value(after: "AUTH=")
            if raw == Array("<>".utf8) {
                parameters.authenticatedSender = .unknown
            } else {
                let decoded = XText.decode(String(decoding: raw, as: UTF8.self)).flatMap { String(validUTF8: $0) }
                parameters.authenticatedSender = .mailbox((decoded ?? String(decoding: raw, as: UTF8.self)).printableForSMTP)
            }
        } else if ASCII.hasPrefixIgnoringCase(word, "RET=") {
            // RFC 3461 section 4.3: ret-value = "FULL" / "HDRS"
            guard options.dsnEnabled else { return SMTPCommandError(.dsnDisabled, .dsnDisabled) }
            let raw = value(after: "RET=")
            guard parameters.returnContent == nil else { return SMTPCommandError(.duplicateParameter, .badRETSyntax) }
            if ASCII.equalsIgnoringCase(raw, "FULL") {
                parameters.returnContent = .full
            } else if ASCII.equalsIgnoringCase(raw, "HDRS") {
                parameters.returnContent = .headers
            } else {
                return SMTPCommandError(.badParameterValue, .badRETSyntax)
            }
        } else if ASCII.hasPrefixIgnoringCase(word, "ENVID=") {
            // RFC 3461 section 4.4: envid-value = xtext; Postfix also wants printable text once decoded.
            guard options.dsnEnabled else { return SMTPCommandError(.dsnDisabled, .dsnDisabled) }
            guard parameters.envelopeID == nil else { return SMTPCommandError(.duplicateParameter, .badENVIDSyntax) }
            guard let decoded = XText.decode(String(decoding: value(after: "ENVID="), as: UTF8.self)),
                  decoded.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F) || $0 == ASCII.tab })
            else { return SMTPCommandError(.badParameterValue, .badENVIDSyntax) }
            parameters.envelopeID = String(decoding: decoded, as: UTF8.self)
        } else {
            return SMTPCommandError(.unsupportedParameter, .unsupportedOption(text))
        }
        return nil
    }

    // RFC 5321 section 4.1.1.3 (RFC 3461 section 4 for the parameters):
    //   rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path ) [SP Rcpt-parameters] CRLF
    /// Postfix's `rcpt_cmd()`. Whether the address may hold a UTF-8 domain depends on the transaction's
    /// MAIL FROM.
    func parseRecipient(_ arguments: [CommandToken], mailTransactionSMTPUTF8: Bool) -> Result {
        guard arguments.count >= 2, ASCII.equalsIgnoringCase(arguments[0].bytes, "TO:") else {
            return .syntaxError(SMTPCommandError(.commandSyntax, .rcptSyntax))
        }
        guard !arguments[1].unterminated else {
            return .syntaxError(SMTPCommandError(.badRecipientAddress(.unexpectedText), .badRecipientAddress))
        }
        let path: SMTPPath
        switch grammar.parsePath(arguments[1].text, allowNull: false, smtputf8: mailTransactionSMTPUTF8) {
        case .failure(let error): return .syntaxError(SMTPCommandError(.badRecipientAddress(error), .badRecipientAddress))
        case .success(let parsed): path = parsed
        }
        var result = RecipientParameters()
        for parameter in arguments.dropFirst(2) {
            if let error = apply(parameter.bytes, to: &result) { return .syntaxError(error) }
        }
        if !mailTransactionSMTPUTF8 && options.strictSMTPUTF8 && !(path.mailbox?.isASCII ?? true) {
            return .syntaxError(SMTPCommandError(.undeclaredSMTPUTF8, .mustDeclareSMTPUTF8))
        }
        return .command(.rcpt(path, result))
    }

    /// One RCPT parameter; nil when it was accepted.
    private func apply(_ word: [UInt8], to parameters: inout RecipientParameters) -> SMTPCommandError? {
        if ASCII.hasPrefixIgnoringCase(word, "NOTIFY=") {
            // RFC 3461 section 4.1:
            //   notify-esmtp-value = "NEVER" / 1#notify-list-element
            //   notify-list-element = "SUCCESS" / "FAILURE" / "DELAY"
            guard options.dsnEnabled else { return SMTPCommandError(.dsnDisabled, .dsnDisabled) }
            guard parameters.notify == nil else { return SMTPCommandError(.duplicateParameter, .badNOTIFYSyntax) }
            var notify: RecipientParameters.Notify = []
            for name in word.dropFirst(7).split(separator: ASCII.comma) {
                if ASCII.equalsIgnoringCase(name, "NEVER") {
                    notify.insert(.never)
                } else if ASCII.equalsIgnoringCase(name, "SUCCESS") {
                    notify.insert(.success)
                } else if ASCII.equalsIgnoringCase(name, "FAILURE") {
                    notify.insert(.failure)
                } else if ASCII.equalsIgnoringCase(name, "DELAY") {
                    notify.insert(.delay)
                } else {
                    return SMTPCommandError(.badParameterValue, .badNOTIFYSyntax)
                }
            }
            guard notify.isValid else { return SMTPCommandError(.badParameterValue, .badNOTIFYSyntax) }
            parameters.notify = notify
        } else if ASCII.hasPrefixIgnoringCase(word, "ORCPT=") {
            // RFC 3461 section 4.2: orcpt-parameter = "ORCPT=" original-recipient-address
            //   original-recipient-address = addr-type ";" xtext
            // RFC 6533 section 3: for addr-type "utf-8", utf-8-addr-xtext (unitext).
            guard options.dsnEnabled else { return SMTPCommandError(.dsnDisabled, .dsnDisabled) }
            guard parameters.originalRecipient == nil else { return SMTPCommandError(.duplicateParameter, .badORCPTSyntax) }
            let value = word.dropFirst(6)
            guard let semicolon = value.firstIndex(of: ASCII.semicolon), semicolon > value.startIndex else {
                return SMTPCommandError(.badParameterValue, .badORCPTSyntax)
            }
            let type = String(decoding: value[..<semicolon], as: UTF8.self)
            let coded = String(decoding: value[(semicolon + 1)...], as: UTF8.self)
            let address: String?
            if type.lowercased() == "utf-8" {
                address = UniText.decode(coded)
            } else {
                address = XText.decode(coded).flatMap { String(validUTF8: $0) }
            }
            guard let address, !address.utf8.contains(where: ASCII.isControl) else {
                return SMTPCommandError(.badParameterValue, .badORCPTSyntax)
            }
            parameters.originalRecipient = RecipientParameters.OriginalRecipient(addressType: type, address: address)
        } else {
            return SMTPCommandError(.unsupportedParameter, .unsupportedOption(String(decoding: word, as: UTF8.self)))
        }
        return nil
    }

    // RFC 3030 section 2:
    //   bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] CRLF
    //   chunk-size = 1*DIGIT
    //   end-marker = "LAST"
    /// A bad BDAT gets 521 (Postfix hangs up: what follows would be content read as commands).
    /// `BDAT 0` without LAST parses; the server answers it with `SMTPReply.nullBDATRequest`.
    func parseBDAT(_ arguments: [CommandToken]) -> Result {
        guard (1...2).contains(arguments.count),
              !arguments[0].bytes.isEmpty, arguments[0].bytes.allSatisfy(ASCII.isDigit),
              let size = Self.decimal(arguments[0].bytes),
              arguments.count == 1 || ASCII.equalsIgnoringCase(arguments[1].bytes, "LAST")
        else { return .syntaxError(SMTPCommandError(.commandSyntax, .bdatSyntax)) }
        return .command(.bdat(size: size, last: arguments.count == 2))
    }

    /// A decimal number, or nil when it does not fit an `Int`.
    static func decimal<C: Collection>(_ digits: C) -> Int? where C.Element == UInt8 {
        var value = 0
        for digit in digits {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int(digit - 0x30))
            if overflow1 || overflow2 { return nil }
            value = sum
        }
        return value
    }
}
