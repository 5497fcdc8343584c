import NIOCore
import SMTPCore
import SealpostQueue
import SealpostTLS

/// The SMTP/LMTP client dialogue as a plain state machine: events in (bytes from the server, the
/// TLS handshake's result, a timeout, the connection's end), actions out (what to send, when to
/// start TLS or send the content, the transaction's outcome). No I/O: the channel handler performs
/// the actions, and tests drive it directly.
///
/// The order and the failure texts follow Postfix's `smtp_helo()` and `smtp_xfer()`: greeting,
/// EHLO (HELO fallback) or LHLO, STARTTLS as the level demands and EHLO again, AUTH, then MAIL,
/// RCPT and DATA — pipelined when announced — and the content, with one reply to the final dot
/// (LMTP: one per accepted recipient). A session that completed a transaction stays ``Phase/idle``
/// and may carry the next one after an RSET probe.
public struct SMTPClientStateMachine {
    public enum Action: Sendable, Hashable {
        /// Write these bytes (one command, or a pipelined batch) to the server.
        case send(String)
        /// Put TLS at the front of the connection now; report ``tlsCompleted(matched:)`` or ``tlsFailed(_:)``.
        case startTLS
        /// Write the message content (dot-stuffed, long lines folded) and the final `.` line.
        case sendContent
        /// An informational log line in Postfix's words (`Host offered STARTTLS: [mx.example]`).
        case note(String)
        /// The transaction is over. When `reusable`, the session is idle and may carry another
        /// transaction; otherwise the connection must be closed (after any QUIT already sent).
        case finished(SMTPTransactionOutcome, reusable: Bool)

        /// Whether the action puts bytes on the wire that the server will answer.
        var writes: Bool {
            switch self {
            case .send, .startTLS, .sendContent: true
            case .note, .finished: false
            }
        }
    }

    public enum Phase: Sendable, Hashable {
        case connecting, greeting, hello, startTLSReply, tlsHandshake, auth, resetProbe, envelope, content, idle, done
    }

    private enum Command: Sendable, Hashable {
        case mail, rcpt(Int), data
    }

    public private(set) var phase: Phase = .connecting
    /// The capabilities of the last EHLO or LHLO reply (nil after HELO).
    public private(set) var capabilities: EHLOCapabilities?
    /// Whether TLS is active on the connection.
    public private(set) var tlsActive = false
    /// Seconds to wait for the server's next reply, or nil when no reply is awaited.
    public private(set) var replyTimeout: Int?

    public let configuration: SMTPClientSessionConfiguration
    private var parser = SMTPReplyParser()
    private var transaction: SMTPClientTransaction?
    private var where_ = "receiving the initial server greeting"
    private var usedEHLO = false
    private var authMechanism = ""
    private var authStep = 0
    // Transaction state.
    private var unsent: [Command] = []
    private var pending: [Command] = []
    private var mailRefusal: SMTPClientReplyText?
    private var accepted: [Int] = []
    private var outcomes: [Int: SMTPRecipientOutcome] = [:]
    private var dotRepliesExpected = 0
    private var discardingData = false
    /// Whether the whole content and its dot went out (a reply before that is an early rejection).
    private var contentComplete = false

    /// A session that will carry `transaction` once it is set up.
    public init(configuration: SMTPClientSessionConfiguration, transaction: SMTPClientTransaction) {
        self.configuration = configuration
        self.transaction = transaction
    }

    // MARK: Events

    /// The TCP (or UNIX-domain) connection is up. With wrapper mode TLS starts first.
    public mutating func connected() -> [Action] {
        guard phase == .connecting else { return [] }
        if configuration.wrapperMode {
            phase = .tlsHandshake
            replyTimeout = nil
            return [.startTLS]
        }
        phase = .greeting
        where_ = "receiving the initial server greeting"
        replyTimeout = configuration.timeouts.helo
        return []
    }

    /// Bytes from the server: every complete reply in them is taken in turn.
    public mutating func received(_ bytes: inout ByteBuffer) -> [Action] {
        var actions: [Action] = []
        // After the 220 to STARTTLS, what follows in the same read came before TLS: it is not read
        // as replies (the shell discards it; CVE-2011-0411 in reverse).
        while phase != .done && phase != .tlsHandshake {
            let result: SMTPReplyParser.Result
            do {
                result = try parser.next(from: &bytes)
            } catch {
                actions += fail(
                    SMTPSessionFailure(dsn: "4.4.2", text: "host \(configuration.peerName) sent a malformed reply while \(where_): \(error)"),
                    polite: false)
                break
            }
            guard case .reply(let reply) = result else { break }
            let answer = handle(reply)
            actions += answer
            // Every byte of this read arrived before what we answer now is written: more of them
            // would be a reply to a command the server has not seen — out of step, or injected.
            if bytes.readableBytes > 0, phase != .done, phase != .tlsHandshake, answer.contains(where: \.writes) {
                actions.removeAll(where: \.writes)
                actions += fail(
                    SMTPSessionFailure(dsn: "4.4.2", text: "host \(configuration.peerName) sent a premature reply while \(where_)"),
                    polite: false)
                break
            }
        }
        if phase == .done || phase == .tlsHandshake { bytes.moveReaderIndex(forwardBy: bytes.readableBytes) }
        return actions
    }

    /// The TLS handshake completed; `matched` is whether the certificate satisfied the level.
    public mutating func tlsCompleted(matched: Bool) -> [Action] {
        guard phase == .tlsHandshake else { return [] }
        tlsActive = true
        if configuration.tlsLevel.mustMatch && !matched {
            return fail(SMTPSessionFailure(dsn: "4.7.5", text: "Server certificate not verified"), polite: true)
        }
        if configuration.wrapperMode && capabilities == nil && !usedEHLO {
            phase = .greeting
            where_ = "receiving the initial server greeting"
            replyTimeout = configuration.timeouts.helo
            return []
        }
        return sendHello(ehlo: true)
    }

    /// The TLS handshake failed. At `may` (and not in wrapper mode, and without credentials that
    /// need TLS) the same server is tried again in plaintext, as Postfix's RETRY_AS_PLAINTEXT does.
    public mutating func tlsFailed(_ reason: String) -> [Action] {
        guard phase == .tlsHandshake else { return [] }
        let retry = configuration.tlsLevel == .may && !configuration.wrapperMode && configuration.credentials == nil
        return fail(
            SMTPSessionFailure(dsn: "4.7.5", text: "Cannot start TLS: handshake failure", retryInPlaintext: retry),
            polite: false)
    }

    /// No reply within ``replyTimeout``.
    public mutating func timedOut() -> [Action] {
        guard phase != .done, phase != .idle else { return [] }
        return fail(SMTPSessionFailure(dsn: "4.4.2", text: "conversation with \(configuration.peerName) timed out while \(where_)"), polite: false)
    }

    /// The server closed the connection (or it broke).
    public mutating func connectionClosed() -> [Action] {
        guard phase != .done else { return [] }
        if phase == .idle {
            phase = .done
            return []
        }
        // Postfix's TLS engine reports a connection lost mid-handshake as a failed handshake.
        if phase == .tlsHandshake { return tlsFailed("lost connection") }
        return fail(SMTPSessionFailure(dsn: "4.4.2", text: "lost connection with \(configuration.peerName) while \(where_)"), polite: false)
    }

    /// The content and its final dot have been written; the reply to the dot is awaited.
    public mutating func contentSent() {
        guard phase == .content else { return }
        contentComplete = true
        where_ = "sending end of data -- message may be sent more than once"
        replyTimeout = configuration.timeouts.dataDone
    }

    /// Starts another transaction on an idle session, after an RSET probe that shows the server is
    /// still there.
    public mutating func beginTransaction(_ next: SMTPClientTransaction) -> [Action] {
        guard phase == .idle else { return [] }
        transaction = next
        phase = .resetProbe
        where_ = "sending RSET probe"
        replyTimeout = configuration.timeouts.rset
        return [.send("RSET\r\n")]
    }

    /// Ends an idle session politely.
    public mutating func quit() -> [Action] {
        guard phase == .idle else { return [] }
        phase = .done
        replyTimeout = nil
        return [.send("QUIT\r\n")]
    }

    // MARK: Replies

    private mutating func handle(_ reply: SMTPReply) -> [Action] {
        switch phase {
        case .greeting: return greeting(reply)
        case .hello: return hello(reply)
        case .startTLSReply: return startTLSReply(reply)
        case .auth: return authReply(reply)
        case .resetProbe: return resetProbe(reply)
        case .envelope: return envelopeReply(reply)
        case .content: return dotReply(reply)
        case .connecting, .tlsHandshake, .idle:
            // A reply nobody asked for: the server is out of step (or injecting).
            return fail(
                SMTPSessionFailure(
                    dsn: "4.4.2", text: "host \(configuration.peerName) sent an unexpected reply: \(Self.replyText(reply).text)"),
                polite: false)
        case .done:
            return []
        }
    }

    private mutating func greeting(_ reply: SMTPReply) -> [Action] {
        guard reply.isPositiveCompletion else {
            var text = Self.replyText(reply)
            if reply.isPermanentFailure && configuration.skip5xxGreeting { text.dsn = "4" + text.dsn.dropFirst() }
            return fail(
                SMTPSessionFailure(
                    dsn: text.dsn, text: "host \(configuration.peerName) refused to talk to me: \(text.text)", reply: text,
                    byRemoteServer: true),
                polite: !reply.closesConnection)
        }
        if configuration.protocolKind == .lmtp { return sendHello(ehlo: true) }
        let words = (reply.lines.first ?? "").split(separator: " ").dropFirst().map { $0.uppercased() }
        var esmtp = words.contains("ESMTP") || configuration.alwaysSendEHLO
        if configuration.neverSendEHLO { esmtp = false }
        return sendHello(ehlo: esmtp)
    }

    private mutating func sendHello(ehlo: Bool) -> [Action] {
        phase = .hello
        usedEHLO = ehlo
        replyTimeout = configuration.timeouts.helo
        let command = configuration.protocolKind == .lmtp ? "LHLO" : ehlo ? "EHLO" : "HELO"
        where_ = "performing the \(command) handshake"
        return [.send("\(command) \(configuration.heloName)\r\n")]
    }

    private mutating func hello(_ reply: SMTPReply) -> [Action] {
        guard reply.isPositiveCompletion else {
            if usedEHLO && configuration.protocolKind == .smtp && !reply.closesConnection && !tlsActive {
                return sendHello(ehlo: false)
            }
            let text = Self.replyText(reply)
            return fail(
                SMTPSessionFailure(
                    dsn: text.dsn, text: "host \(configuration.peerName) refused to talk to me: \(text.text)", reply: text,
                    byRemoteServer: true),
                polite: !reply.closesConnection)
        }
        capabilities = usedEHLO ? EHLOCapabilities(reply: reply) : nil
        if configuration.protocolKind == .smtp, configuration.loopDetection,
           let name = reply.lines.first?.split(separator: " ").first, name.lowercased() == configuration.myHostname.lowercased()
        {
            return fail(
                SMTPSessionFailure(
                    dsn: configuration.isBestMX ? "5.4.6" : "4.4.6", text: "mail for \(configuration.nexthop) loops back to myself"),
                polite: true)
        }
        var actions: [Action] = []
        if !tlsActive {
            let offered = capabilities?.startTLS ?? false
            if offered && configuration.noteStartTLSOffer && configuration.tlsLevel == .none {
                actions.append(.note("Host offered STARTTLS: [\(Self.host(of: configuration.peerName))]"))
            }
            if offered && configuration.tlsLevel >= .may {
                phase = .startTLSReply
                where_ = "receiving the STARTTLS response"
                replyTimeout = configuration.timeouts.startTLS
                return actions + [.send("STARTTLS\r\n")]
            }
            if configuration.tlsLevel.requiresTLS {
                return actions + fail(
                    SMTPSessionFailure(dsn: "4.7.4", text: "TLS is required, but was not offered by host \(configuration.peerName)"),
                    polite: true)
            }
        }
        return actions + authenticateOrBegin()
    }

    private mutating func startTLSReply(_ reply: SMTPReply) -> [Action] {
        guard reply.isPositiveCompletion else {
            let text = Self.replyText(reply)
            if configuration.tlsLevel.requiresTLS || reply.closesConnection {
                return fail(
                    SMTPSessionFailure(
                        dsn: text.dsn, text: "TLS is required, but host \(configuration.peerName) refused to start TLS: \(text.text)",
                        reply: text, byRemoteServer: true),
                    polite: !reply.closesConnection)
            }
            // Opportunistic: carry on in plaintext, as Postfix does.
            return authenticateOrBegin()
        }
        phase = .tlsHandshake
        replyTimeout = nil
        where_ = "performing the TLS handshake"
        return [.startTLS]
    }

    // MARK: AUTH

    private mutating func authenticateOrBegin() -> [Action] {
        guard let credentials = configuration.credentials, let capabilities, capabilities.supports("AUTH") else {
            return beginEnvelope()
        }
        let options = tlsActive ? configuration.saslTLSOptions : configuration.saslPlaintextOptions
        let offered = capabilities.authMechanisms.map { $0.uppercased() }
        var usable = ["PLAIN", "LOGIN"].filter { offered.contains($0) }
        if options.contains("noplaintext") { usable = [] }
        if !configuration.saslMechanismFilter.isEmpty {
            usable = usable.filter { configuration.saslMechanismFilter.contains($0.lowercased()) }
        }
        guard let mechanism = usable.first else {
            return fail(
                SMTPSessionFailure(
                    dsn: "4.7.0",
                    text: "SASL authentication failed: server \(configuration.peerName) offered no compatible authentication "
                        + "mechanisms for this type of connection security"),
                polite: true)
        }
        phase = .auth
        authMechanism = mechanism
        authStep = 0
        where_ = "sending AUTH"
        replyTimeout = configuration.timeouts.helo
        if mechanism == "PLAIN" {
            let response = Base64.encode([0] + Array(credentials.username.utf8) + [0] + Array(credentials.password.utf8))
            return [.send("AUTH PLAIN \(response)\r\n")]
        }
        return [.send("AUTH LOGIN\r\n")]
    }

    private mutating func authReply(_ reply: SMTPReply) -> [Action] {
        guard let credentials = configuration.credentials else { return beginEnvelope() }
        // Postfix takes any 2xx as success (smtp-sink says 250), not only 235.
        if reply.isPositiveCompletion { return beginEnvelope() }
        if reply.code == 334 && authMechanism == "LOGIN" && authStep < 2 {
            authStep += 1
            let value = authStep == 1 ? credentials.username : credentials.password
            return [.send(Base64.encode(Array(value.utf8)) + "\r\n")]
        }
        var text = Self.replyText(reply)
        if configuration.saslSoftBounce && text.dsn.hasPrefix("5") { text.dsn = "4" + text.dsn.dropFirst() }
        if reply.code == 334 {
            // A challenge we cannot answer: cancel the exchange (RFC 4954).
            return [.send("*\r\n")] + fail(
                SMTPSessionFailure(
                    dsn: "4.7.0", text: "SASL authentication failed; server \(configuration.peerName) sent an unexpected challenge"),
                polite: false)
        }
        return fail(
            SMTPSessionFailure(
                dsn: text.dsn, text: "SASL authentication failed; server \(configuration.peerName) said: \(text.text)", reply: text,
                byRemoteServer: true),
            polite: !reply.closesConnection)
    }

    // MARK: Transaction

    private mutating func resetProbe(_ reply: SMTPReply) -> [Action] {
        guard reply.isPositiveCompletion else {
            let text = Self.replyText(reply)
            return fail(
                SMTPSessionFailure(
                    dsn: text.dsn, text: "host \(configuration.peerName) said: \(text.text) (in reply to RSET probe)", reply: text,
                    byRemoteServer: true),
                polite: !reply.closesConnection)
        }
        return beginEnvelope()
    }

    private mutating func beginEnvelope() -> [Action] {
        guard let transaction else {
            phase = .idle
            replyTimeout = nil
            return []
        }
        unsent = [.mail] + transaction.recipients.indices.map { .rcpt($0) } + [.data]
        pending = []
        mailRefusal = nil
        accepted = []
        outcomes = [:]
        dotRepliesExpected = 0
        discardingData = false
        contentComplete = false
        phase = .envelope

        if transaction.smtputf8 && !(capabilities?.smtpUTF8 ?? false) && Self.needsSMTPUTF8(transaction) {
            return fail(
                SMTPSessionFailure(
                    dsn: "5.6.7", text: "SMTPUTF8 is required, but was not offered by host \(configuration.peerName)"),
                polite: true)
        }
        return sendCommands()
    }

    /// Sends the next command, or with PIPELINING every command up to and including DATA.
    private mutating func sendCommands() -> [Action] {
        guard let transaction, !unsent.isEmpty else { return [] }
        var batch = ""
        let pipelining = capabilities?.pipelining ?? false
        repeat {
            let command = unsent.removeFirst()
            pending.append(command)
            batch += line(for: command, in: transaction)
        } while pipelining && !unsent.isEmpty
        setWaiting(for: pending.first!)
        return [.send(batch)]
    }

    private mutating func setWaiting(for command: Command) {
        switch command {
        case .mail:
            where_ = "sending MAIL FROM"
            replyTimeout = configuration.timeouts.mail
        case .rcpt:
            where_ = "sending RCPT TO"
            replyTimeout = configuration.timeouts.rcpt
        case .data:
            where_ = "sending DATA command"
            replyTimeout = configuration.timeouts.dataInit
        }
    }

    private func line(for command: Command, in transaction: SMTPClientTransaction) -> String {
        let dsn = capabilities?.dsn ?? false
        switch command {
        case .mail:
            var line = "MAIL FROM:<\(QuotedAddress.external(transaction.sender))>"
            if capabilities?.size != nil { line += " SIZE=\(transaction.size)" }
            if transaction.bodyType == .eightBitMIME && (capabilities?.eightBitMIME ?? false) { line += " BODY=8BITMIME" }
            if transaction.smtputf8 && (capabilities?.smtpUTF8 ?? false) { line += " SMTPUTF8" }
            if dsn {
                switch transaction.returnContent {
                case .full?: line += " RET=FULL"
                case .headers?: line += " RET=HDRS"
                case nil: break
                }
                if let envid = transaction.envelopeID { line += " ENVID=\(XText.encode(envid))" }
            }
            return line + "\r\n"
        case .rcpt(let position):
            let recipient = transaction.recipients[position]
            var line = "RCPT TO:<\(QuotedAddress.external(recipient.address))>"
            if dsn {
                if !recipient.notify.isEmpty { line += " NOTIFY=\(Self.notifyText(recipient.notify))" }
                if let original = recipient.originalRecipient, let semicolon = original.firstIndex(of: ";") {
                    let type = original[..<semicolon]
                    let address = original[original.index(after: semicolon)...]
                    line += " ORCPT=\(type);\(XText.encode(String(address)))"
                }
            }
            return line + "\r\n"
        case .data:
            return "DATA\r\n"
        }
    }

    private mutating func envelopeReply(_ reply: SMTPReply) -> [Action] {
        guard !pending.isEmpty, let transaction else { return [] }
        let command = pending.removeFirst()
        let text = Self.replyText(reply)
        if reply.closesConnection {
            // 421: the server hangs up; nothing more can be said on this connection.
            return failTransaction(
                SMTPSessionFailure(
                    dsn: text.dsn, text: "host \(configuration.peerName) said: \(text.text) (in reply to \(Self.request(command)))",
                    reply: text, byRemoteServer: true))
        }
        switch command {
        case .mail:
            if !reply.isPositiveCompletion {
                mailRefusal = text
                if pending.isEmpty {
                    // Not pipelined: nothing else was sent.
                    unsent = []
                    return finishTransaction()
                }
            }
        case .rcpt(let position):
            if mailRefusal == nil {
                if reply.isPositiveCompletion {
                    accepted.append(position)
                } else {
                    outcomes[transaction.recipients[position].index] = .refused(text, inReplyTo: "RCPT TO command")
                }
            }
            if pending.isEmpty && accepted.isEmpty {
                // Not pipelined: no recipient left worth sending DATA for.
                if unsent.allSatisfy({ if case .rcpt = $0 { false } else { true } }) {
                    unsent = []
                    return finishTransaction()
                }
            }
        case .data:
            if reply.code == 354 {
                if mailRefusal == nil && !accepted.isEmpty {
                    phase = .content
                    dotRepliesExpected = configuration.protocolKind == .lmtp ? accepted.count : 1
                    where_ = "sending message body"
                    replyTimeout = configuration.timeouts.dataTransfer
                    return [.sendContent]
                }
                // The server wants data we will not send: end it empty and ignore the reply.
                phase = .content
                discardingData = true
                contentComplete = true
                dotRepliesExpected = 1
                where_ = "sending end of data -- message may be sent more than once"
                replyTimeout = configuration.timeouts.dataDone
                return [.send(".\r\n")]
            }
            if mailRefusal == nil {
                for position in accepted {
                    outcomes[transaction.recipients[position].index] = .refused(text, inReplyTo: "DATA command")
                }
            }
            return finishTransaction()
        }
        if let next = pending.first {
            setWaiting(for: next)
            return []
        }
        return sendCommands()
    }

    private mutating func dotReply(_ reply: SMTPReply) -> [Action] {
        guard let transaction else { return [] }
        let text = Self.replyText(reply)
        if discardingData {
            return finishTransaction()
        }
        if !contentComplete && reply.isPositiveCompletion {
            // Acceptance of a message not yet sent whole is no delivery: the server is out of step.
            return fail(
                SMTPSessionFailure(dsn: "4.4.2", text: "host \(configuration.peerName) sent a premature reply while \(where_)"),
                polite: false)
        }
        let position: [Int]
        if configuration.protocolKind == .lmtp {
            position = [accepted[accepted.count - dotRepliesExpected]]
        } else {
            position = accepted
        }
        for index in position.map({ transaction.recipients[$0].index }) {
            outcomes[index] = reply.isPositiveCompletion ? .delivered(text) : .refused(text, inReplyTo: "end of DATA command")
        }
        dotRepliesExpected -= 1
        if !contentComplete {
            // A reply while the content is still going out: the server gave up on the message
            // (too large, a policy). Its word stands, but the connection is out of step.
            let outcome = SMTPTransactionOutcome(recipients: outcomes, serverSupportsDSN: capabilities?.dsn ?? false)
            return fail(
                SMTPSessionFailure(
                    dsn: text.dsn, text: "host \(configuration.peerName) said: \(text.text) (in reply to end of DATA command)",
                    reply: text, byRemoteServer: true),
                polite: false, keeping: outcome)
        }
        if reply.closesConnection {
            return failTransaction(
                SMTPSessionFailure(
                    dsn: text.dsn, text: "host \(configuration.peerName) said: \(text.text) (in reply to end of DATA command)",
                    reply: text, byRemoteServer: true))
        }
        return dotRepliesExpected > 0 ? [] : finishTransaction()
    }

    private mutating func finishTransaction() -> [Action] {
        guard let transaction else { return [] }
        for recipient in transaction.recipients where outcomes[recipient.index] == nil {
            if let mailRefusal {
                outcomes[recipient.index] = .refused(mailRefusal, inReplyTo: "MAIL FROM command")
            } else {
                outcomes[recipient.index] = .failed(
                    SMTPSessionFailure(dsn: "4.4.2", text: "host \(configuration.peerName) gave no reply for this recipient"))
            }
        }
        let outcome = SMTPTransactionOutcome(recipients: outcomes, serverSupportsDSN: capabilities?.dsn ?? false)
        self.transaction = nil
        phase = .idle
        replyTimeout = nil
        return [.finished(outcome, reusable: true)]
    }

    /// Ends the transaction early: recipients without a reply of their own get `failure`.
    private mutating func failTransaction(_ failure: SMTPSessionFailure) -> [Action] {
        fail(failure, polite: false)
    }

    /// Ends the session: every recipient without a final reply gets `failure`. `polite` sends QUIT
    /// first (the dialogue is in step; after a timeout or a lost connection it is not).
    private mutating func fail(_ failure: SMTPSessionFailure, polite: Bool, keeping kept: SMTPTransactionOutcome? = nil) -> [Action] {
        var outcome = kept ?? SMTPTransactionOutcome(recipients: outcomes, serverSupportsDSN: capabilities?.dsn ?? false)
        if let transaction {
            for recipient in transaction.recipients {
                switch outcome.recipients[recipient.index] {
                case .refused?: continue
                case .delivered?: continue
                default: outcome.recipients[recipient.index] = .failed(failure)
                }
            }
        }
        transaction = nil
        phase = .done
        replyTimeout = nil
        return (polite ? [.send("QUIT\r\n")] : []) + [.finished(outcome, reusable: false)]
    }

    // MARK: Texts

    /// A reply as Postfix quotes it: wire lines joined by spaces; the DSN from the reply, or
    /// `4.0.0` / `5.0.0` by its class.
    static func replyText(_ reply: SMTPReply) -> SMTPClientReplyText {
        let dsn = reply.enhancedStatus?.description ?? "\(reply.code / 100 == 2 ? 2 : reply.code / 100 == 5 ? 5 : 4).0.0"
        return SMTPClientReplyText(code: reply.code, dsn: dsn, text: reply.wireLines.joined(separator: " "))
    }

    private static func request(_ command: Command) -> String {
        switch command {
        case .mail: "MAIL FROM command"
        case .rcpt: "RCPT TO command"
        case .data: "DATA command"
        }
    }

    private static func notifyText(_ notify: DSNNotify) -> String {
        if notify.contains(.never) { return "NEVER" }
        var words: [String] = []
        if notify.contains(.success) { words.append("SUCCESS") }
        if notify.contains(.failure) { words.append("FAILURE") }
        if notify.contains(.delay) { words.append("DELAY") }
        return words.joined(separator: ",")
    }

    /// SMTPUTF8 is only required when an envelope address is not ASCII (Postfix also looks at the
    /// headers; Sealpost's queue records the sender's request, so this errs on the side of sending).
    private static func needsSMTPUTF8(_ transaction: SMTPClientTransaction) -> Bool {
        ([transaction.sender] + transaction.recipients.map(\.address)).contains { !$0.utf8.allSatisfy { $0 < 0x80 } }
    }

    static func host(of peerName: String) -> String {
        String(peerName.prefix { $0 != "[" })
    }
}

/// RFC 4648 base64, for SASL responses.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let b0 = bytes[index]
            let b1 = index + 1 < bytes.count ? bytes[index + 1] : 0
            let b2 = index + 2 < bytes.count ? bytes[index + 2] : 0
            output.append(alphabet[Int(b0 >> 2)])
            output.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            output.append(index + 1 < bytes.count ? alphabet[Int((b1 & 0x0f) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            output.append(index + 2 < bytes.count ? alphabet[Int(b2 & 0x3f)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}
