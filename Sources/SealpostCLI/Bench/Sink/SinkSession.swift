import SMTPCore

/// One reply of the sink and what happens after it is sent.
struct SinkResponse: Equatable, Sendable {
    /// What the connection does once the reply is written.
    enum Next: Equatable, Sendable {
        case readCommands
        /// Read message content up to the end-of-data line.
        case readMessage
        /// Insert TLS at the front of the pipeline (the reply goes out in plaintext first).
        case startTLS
        case close
    }

    var reply: SMTPReply
    var delayMilliseconds = 0
    var next = Next.readCommands
    /// What the reply adds to the counters.
    var acceptedRecipients = 0
    var acceptedMessages = 0
}

/// The SMTP dialogue of one sink connection: a plain state machine, the channel handler performs what
/// it returns. Like smtp-sink(1) it accepts any addresses, but it still keeps the order MAIL, RCPT,
/// DATA so that a client's mistakes show up as errors.
struct SinkSession: Sendable {
    private enum Phase: Sendable {
        case idle
        case mail
        case recipients
    }

    let behavior: SinkBehavior
    let hostname: String
    private(set) var tlsActive: Bool
    private var phase = Phase.idle

    init(behavior: SinkBehavior, hostname: String = "sink.invalid", tlsActive: Bool = false) {
        self.behavior = behavior
        self.hostname = hostname
        self.tlsActive = tlsActive
    }

    /// The greeting, or an injected `CONNECT` failure that ends the connection.
    func greeting() -> SinkResponse {
        if let failure = injectedFailure("CONNECT") {
            return SinkResponse(reply: failure, delayMilliseconds: delay("CONNECT"), next: .close)
        }
        return SinkResponse(reply: SMTPReply("220 \(hostname) ESMTP Sealpost sink"), delayMilliseconds: delay("CONNECT"))
    }

    /// The answer to a command line.
    mutating func handle(_ command: SMTPCommand) -> SinkResponse {
        let name = command.verb
        if SinkBehavior.commandNames.contains(name), let failure = injectedFailure(name) {
            // QUIT ends the session whatever its reply says, as a client expects.
            return SinkResponse(reply: failure, delayMilliseconds: delay(name), next: command == .quit ? .close : .readCommands)
        }
        var response = answer(command)
        response.delayMilliseconds = delay(name)
        return response
    }

    /// The answer to the end of message content.
    mutating func endOfData(_ report: MessageContentReport) -> SinkResponse {
        phase = .idle
        if report.exceededSizeLimit {
            return SinkResponse(reply: SMTPReply("552 5.3.4 Error: message file too big"), delayMilliseconds: delay("."))
        }
        if let failure = injectedFailure(".") {
            return SinkResponse(reply: failure, delayMilliseconds: delay("."))
        }
        return SinkResponse(reply: SMTPReply("250 2.0.0 Ok: queued"), delayMilliseconds: delay("."), acceptedMessages: 1)
    }

    /// The answer to a line the parser refused.
    func refused(_ error: SMTPCommandError) -> SinkResponse {
        SinkResponse(reply: error.reply)
    }

    private mutating func answer(_ command: SMTPCommand) -> SinkResponse {
        switch command {
        case .ehlo:
            phase = .idle
            var lines = [hostname, "PIPELINING", "SIZE \(behavior.messageSizeLimit)"]
            if behavior.offersStartTLS && !tlsActive { lines.append("STARTTLS") }
            lines += ["8BITMIME", "ENHANCEDSTATUSCODES"]
            return SinkResponse(reply: SMTPReply(code: 250, lines: lines))
        case .helo:
            phase = .idle
            return SinkResponse(reply: SMTPReply("250 \(hostname)"))
        case .mail(_, let parameters):
            guard phase == .idle else { return SinkResponse(reply: SMTPReply("503 5.5.1 Error: nested MAIL command")) }
            if let size = parameters.size, size > behavior.messageSizeLimit {
                return SinkResponse(reply: SMTPReply("552 5.3.4 Message size exceeds fixed limit"))
            }
            phase = .mail
            return SinkResponse(reply: SMTPReply("250 2.1.0 Ok"))
        case .rcpt:
            guard phase != .idle else { return SinkResponse(reply: SMTPReply("503 5.5.1 Error: need MAIL command")) }
            phase = .recipients
            return SinkResponse(reply: SMTPReply("250 2.1.5 Ok"), acceptedRecipients: 1)
        case .data:
            guard phase == .recipients else {
                let need = phase == .idle ? "MAIL" : "RCPT"
                return SinkResponse(reply: SMTPReply("503 5.5.1 Error: need \(need) command"))
            }
            return SinkResponse(reply: SMTPReply("354 End data with <CR><LF>.<CR><LF>"), next: .readMessage)
        case .rset:
            phase = .idle
            return SinkResponse(reply: SMTPReply("250 2.0.0 Ok"))
        case .noop:
            return SinkResponse(reply: SMTPReply("250 2.0.0 Ok"))
        case .quit:
            return SinkResponse(reply: SMTPReply("221 2.0.0 Bye"), next: .close)
        case .startTLS:
            guard behavior.offersStartTLS else { return SinkResponse(reply: SMTPReply("502 5.5.1 Error: command not implemented")) }
            guard !tlsActive else { return SinkResponse(reply: SMTPReply("554 5.5.1 Error: TLS already active")) }
            // RFC 3207: everything learned before TLS is forgotten.
            tlsActive = true
            phase = .idle
            return SinkResponse(reply: SMTPReply("220 2.0.0 Ready to start TLS"), next: .startTLS)
        case .bdat, .vrfy, .expn, .help, .auth, .etrn, .unknown:
            return SinkResponse(reply: SMTPReply("502 5.5.2 Error: command not recognized"))
        }
    }

    private func injectedFailure(_ name: String) -> SMTPReply? {
        guard let code = behavior.failures[name] else { return nil }
        return SMTPReply("\(code) \(code / 100).0.0 Error: command failed")
    }

    private func delay(_ name: String) -> Int {
        behavior.delays[name] ?? 0
    }
}
