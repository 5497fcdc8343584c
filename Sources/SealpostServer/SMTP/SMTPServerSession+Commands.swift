import NIOCore
import SMTPCore
import SealpostPolicy

/// The command handlers, in the order of Postfix's smtpd.c, with its replies.
extension SMTPServerSession {
    /// Commands allowed before STARTTLS when TLS is required (Postfix's SMTPD_CMD_FLAG_PRE_TLS).
    static let preTLSCommands: Set<String> = ["EHLO", "HELO", "STARTTLS", "NOOP", "RSET", "QUIT"]
    /// The commands counted in the disconnect line; any other is unknown (or a noop_commands entry).
    static let knownCommands: Set<String> = [
        "EHLO", "HELO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT", "STARTTLS", "AUTH", "VRFY", "ETRN",
    ]

    /// Handles one command line; false ends the session.
    func handle(line: SMTPLine) async -> Bool {
        if line.ending == .bareLineFeed && settings.bareNewline == .reject && !isExemptFromBareNewlineRules {
            log.info("reject: bare <LF> received from \(clientLabel)")
            reply(SMTPReply.bareLineFeedReceived(myHostname: settings.hostname, code: settings.bareNewlineRejectCode))
            return false
        }
        let parsed = parser.parse(line, mailTransactionSMTPUTF8: transaction?.parameters.smtpUTF8 ?? false)
        let verb = Self.verb(of: line)
        if case .syntaxError(let error) = parsed, error.kind == .badUTF8 || error.kind == .badSyntax {
            await replyError(error.reply)
            return true
        }
        if (try? service.noopCommands.matches(verb)) == true {
            reply("250 2.0.0 Ok")
            junkCommand()
            return true
        }
        let known = Self.knownCommands.contains(verb)
        if known { noteCommand(verb) }
        if !known && (SMTPCommandParser.looksLikeHeader(verb) || (try? service.forbiddenCommands.matches(verb)) == true) {
            log.warning("non-SMTP command from \(clientLabel): \(String(decoding: line.bytes.readableBytesView.prefix(100), as: UTF8.self))")
            reply(SMTPReply.nonSMTPCommand)
            return false
        }
        if let denied = accessDenied, verb != "QUIT" {
            await replyError(denied)
            return true
        }
        guard known else {
            await replyError(SMTPReply.commandNotRecognized)
            return true
        }
        if settings.tlsLevel == .encrypt && tlsInfo == nil && !Self.preTLSCommands.contains(verb) {
            await replyError("530 5.7.0 Must issue a STARTTLS command first")
            return true
        }
        lastCommand = verb
        switch parsed {
        case .syntaxError(let error):
            await replyError(error.reply)
            return true
        case .command(let command):
            return await execute(command)
        }
    }

    /// Runs a parsed command; false ends the session.
    private func execute(_ command: SMTPCommand) async -> Bool {
        switch command {
        case .ehlo(let name): await hello(name, extended: true)
        case .helo(let name): await hello(name, extended: false)
        case .mail(let path, let parameters): await mail(path, parameters)
        case .rcpt(let path, let parameters): await recipient(path, parameters)
        case .data: return await data()
        case .bdat(let size, let last): return await chunk(size: size, last: last)
        case .rset:
            endTransaction()
            junkCommand()
            reply("250 2.0.0 Ok")
            accept("RSET")
        case .noop:
            junkCommand()
            reply("250 2.0.0 Ok")
            accept("NOOP")
        case .quit:
            reply("221 2.0.0 Bye")
            accept("QUIT")
            return false
        case .startTLS: return await startTLS()
        case .auth(let mechanism, let initialResponse): return await authenticate(mechanism: mechanism, initialResponse: initialResponse)
        case .vrfy(let request): await verify(request)
        case .etrn(let domain): await etrn(domain)
        case .expn, .help, .unknown:
            await replyError(SMTPReply.commandNotRecognized)
        }
        if pipeliningEndsHere(command) && hasPendingInput() {
            noteImproperPipelining(after: command.verb)
            if settings.forbidUnauthorizedPipelining {
                reply("554 5.5.0 Error: SMTP protocol synchronization")
                return false
            }
        }
        return true
    }

    /// RFC 2920: EHLO, DATA, VRFY, EXPN, TURN, QUIT and NOOP may only end a group of commands;
    /// before EHLO with PIPELINING nothing may be pipelined at all.
    private func pipeliningEndsHere(_ command: SMTPCommand) -> Bool {
        switch command {
        case .ehlo, .helo, .data, .vrfy, .expn, .quit, .noop, .startTLS, .auth: return true
        default: return !isESMTP
        }
    }

    // MARK: - HELO / EHLO

    private func hello(_ name: String, extended: Bool) async {
        let verdict = await service.policy.checkHelo(&policySession, heloName: name, command: extended ? "EHLO" : "HELO")
        record(verdict)
        if let rejection = verdict.reply {
            await replyError(policyReplyLines(rejection))
            return
        }
        endTransaction()
        heloName = name
        isESMTP = extended
        policySession.heloName = Self.printable(name)
        policySession.protocolName = extended ? "ESMTP" : "SMTP"
        accept(extended ? "EHLO" : "HELO")
        guard extended else {
            reply("250 \(settings.hostname)")
            return
        }
        var keywords = [settings.hostname, "PIPELINING"]
        keywords.append(settings.enforcesSizeLimit ? "SIZE \(settings.messageSizeLimit)" : "SIZE")
        if !settings.vrfyDisabled { keywords.append("VRFY") }
        keywords.append("ETRN")
        if settings.tlsLevel != .none && service.tls != nil && tlsInfo == nil { keywords.append("STARTTLS") }
        if let mechanisms = await offeredMechanisms(), !mechanisms.isEmpty {
            keywords.append("AUTH " + mechanisms.joined(separator: " "))
            if settings.brokenSASLAuthClients { keywords.append("AUTH=" + mechanisms.joined(separator: " ")) }
        }
        keywords += ["ENHANCEDSTATUSCODES", "8BITMIME", "DSN"]
        if settings.smtputf8Enabled { keywords.append("SMTPUTF8") }
        keywords.append("CHUNKING")
        let offered = keywords.enumerated().filter { index, keyword in
            index == 0 || !settings.discardedEHLOKeywords.contains(String(keyword.split(separator: " ")[0]).uppercased())
        }.map(\.element)
        reply(offered.map { "250 \($0)" })
    }

    // MARK: - MAIL

    private func mail(_ path: SMTPPath, _ parameters: MailParameters) async {
        if settings.heloRequired && heloName == nil {
            await replyError("503 5.5.1 Error: send HELO/EHLO first")
            return
        }
        if let current = transaction {
            await replyError(current.receivingChunks != nil ? "503 5.5.1 Error: MAIL after BDAT" : "503 5.5.1 Error: nested MAIL command")
            return
        }
        if case .refused(let count) = service.limiter.admit(.message, address: policySession.client.address, name: policySession.client.name) {
            log.warning("Message delivery request rate limit exceeded: \(count) from \(clientLabel) for service \(service.serviceKey)")
            await replyError("450 4.7.1 Error: too much mail from \(policySession.client.address)")
            return
        }
        let sender = path.address
        if !path.isNull && !service.policy.isAcceptableAddress(sender, smtputf8: parameters.smtpUTF8) {
            await replyError(SMTPReply.badSenderAddress)
            return
        }
        if let size = parameters.size, settings.enforcesSizeLimit, size > settings.messageSizeLimit {
            await replyError("552 5.3.4 Message size exceeds fixed limit")
            return
        }
        let space = service.queue.checkSpace()
        if !space.isSufficient {
            if let warning = space.warning { log.warning("\(warning)") }
            await replyError("452 4.3.1 Insufficient system storage")
            return
        }
        policySession.smtputf8 = parameters.smtpUTF8
        let verdict = await service.policy.checkMail(&policySession, sender: sender)
        record(verdict)
        if verdict.hangUp { return }
        if let rejection = verdict.reply {
            await replyError(policyReplyLines(rejection))
            return
        }
        policySession.sender = sender
        transaction = Transaction(sender: path, parameters: parameters)
        accept("MAIL")
        reply("250 2.1.0 Ok")
    }

    // MARK: - RCPT

    private func recipient(_ path: SMTPPath, _ parameters: RecipientParameters) async {
        guard var current = transaction else {
            await replyError("503 5.5.1 Error: need MAIL command")
            return
        }
        if current.receivingChunks != nil {
            await replyError("503 5.5.1 Error: RCPT after BDAT")
            return
        }
        if settings.recipientLimit > 0 && current.recipients.count >= settings.recipientLimit {
            // Postfix answers the first smtpd_recipient_overshoot_limit of these quietly; after
            // that each one is an error, so a client that keeps going meets the hard error limit.
            transaction?.recipientOvershoot += 1
            if current.recipientOvershoot < settings.recipientOvershootLimit {
                reply("452 4.5.3 Error: too many recipients")
            } else {
                await replyError("452 4.5.3 Error: too many recipients")
            }
            return
        }
        if case .refused(let count) = service.limiter.admit(.recipient, address: policySession.client.address, name: policySession.client.name) {
            log.warning("Recipient address rate limit exceeded: \(count) from \(clientLabel) for service \(service.serviceKey)")
            await replyError("450 4.7.1 Error: too many recipients from \(policySession.client.address)")
            return
        }
        let address = path.mailbox?.isBarePostmaster == true ? "postmaster" : path.address
        if !service.policy.isAcceptableAddress(address, smtputf8: current.parameters.smtpUTF8) {
            await replyError(SMTPReply.badRecipientAddress)
            return
        }
        let verdict = await service.policy.checkRecipient(&policySession, recipient: address)
        record(verdict)
        if verdict.hangUp { return }
        if let rejection = verdict.reply {
            await replyError(policyReplyLines(rejection))
            return
        }
        policySession.recipientAccepted(address)
        current.recipients.append((path, parameters))
        transaction = current
        accept("RCPT")
        reply("250 2.1.5 Ok")
    }

    // MARK: - RSET, NOOP, VRFY, ETRN

    /// NOOP, VRFY, ETRN and RSET beyond `smtpd_junk_command_limit` count as errors (the tarpit).
    private func junkCommand() {
        junkCount += 1
        if junkCount > settings.junkCommandLimit { errorCount += 1 }
    }

    private func verify(_ request: SMTPCommand.VerifyRequest) async {
        junkCommand()
        if settings.vrfyDisabled {
            await replyError("502 5.5.1 VRFY command is disabled")
            return
        }
        let address = request.mailbox.internalForm
        let verdict = await service.policy.checkRecipient(&policySession, recipient: address, command: "VRFY")
        record(verdict)
        if let rejection = verdict.reply {
            await replyError(policyReplyLines(rejection))
            return
        }
        accept("VRFY")
        reply("252 2.0.0 \(request.argument)")
    }

    private func etrn(_ domain: String) async {
        junkCommand()
        if heloName == nil {
            await replyError("503 Error: send HELO/EHLO first")
            return
        }
        if transaction != nil {
            await replyError("503 Error: MAIL transaction in progress")
            return
        }
        let verdict = await service.policy.checkETRN(&policySession, domain: domain)
        record(verdict)
        if let rejection = verdict.reply {
            await replyError(policyReplyLines(rejection))
            return
        }
        // smtpd.c etrn_cmd() and flush_send_site(): only sites of fast_flush_domains may ask.
        // Sealpost keeps no per-site list of deferred mail: the whole deferred queue is tried.
        let site = domain.hasPrefix("@") ? String(domain.dropFirst()) : domain
        guard let sites = service.fastFlushDomains, (try? sites.matches(site)) == true else {
            await replyError("459 4.3.0 <\(domain)>: service unavailable")
            return
        }
        service.onFlush(site)
        reply("250 Queuing started")
    }

    // MARK: - Helpers

    /// Forgets the mail transaction (RSET, EHLO, end of a message).
    func endTransaction() {
        transaction?.receivingChunks?.abort()
        transaction = nil
        policySession.resetTransaction()
    }

    func reply(_ smtpReply: SMTPReply) {
        for line in smtpReply.wireLines {
            var text = line
            if settings.softBounce, text.hasPrefix("5") { text = "4" + text.dropFirst() }
            output.writeString(text)
            output.writeString("\r\n")
        }
    }

    func replyError(_ smtpReply: SMTPReply) async {
        await replyError(smtpReply.wireLines.map { line in
            // replyError re-joins lines with continuation marks; give it final-form lines.
            line.count > 3 && line[line.index(line.startIndex, offsetBy: 3)] == "-" ? String(line.prefix(3)) + " " + line.dropFirst(4) : line
        })
    }

    /// The client is exempt from `smtpd_forbid_bare_newline` (`smtpd_forbid_bare_newline_exclusions`,
    /// by default `$mynetworks`).
    var isExemptFromBareNewlineRules: Bool {
        service.bareNewlineExempt(policySession.client.address, policySession.client.name)
    }

    static func verb(of line: SMTPLine) -> String {
        let bytes = line.bytes.readableBytesView.prefix(while: { $0 != 0x20 && $0 != 0x09 })
        return String(decoding: bytes.prefix(32), as: UTF8.self).uppercased()
    }

    /// Postfix's printable(): anything not printable becomes '?'.
    static func printable(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.value < 32 || $0.value == 127 ? "?" : Character($0) })
    }
}
