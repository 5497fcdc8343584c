import Logging
import NIOCore
import SMTPCore
import SealpostPolicy
import SealpostQueue
import SealpostTLS

/// One SMTP server session: reads commands, answers them as Postfix's smtpd does, and hands
/// accepted messages to the queue.
///
/// The session is ordinary async code; the connection's pipeline turns bytes and TLS events into
/// ``SMTPConnectionEvent``s, and replies go out with `channel.writeAndFlush`. Pipelined commands
/// that arrive together are answered together, with one flush, as Postfix does when its input
/// buffer runs dry.
final class SMTPServerSession {
    let service: SMTPServiceContext
    var settings: SMTPServerSettings { service.settings }
    let channel: Channel
    var events: NIOAsyncChannelInboundStream<SMTPConnectionEvent>.AsyncIterator

    /// Bytes received and not consumed yet. Empty (no storage) while the session waits with
    /// nothing buffered, so that an idle session holds no read buffer.
    var input = ByteBuffer()
    var framer: SMTPLineFramer
    var parser: SMTPCommandParser
    /// Replies waiting for the next flush; no storage between flushes.
    var output = ByteBuffer()
    var inputEnded = false
    /// Plaintext that arrives after STARTTLS is thrown away until the switch marker.
    var discardingUntilTLS = false

    var policySession: PolicySession
    var clientLabel: String
    var tlsInfo: TLSSessionInfo?
    var heloName: String?
    var isESMTP = false
    var sasl: SASLLogin?
    var transaction: Transaction?
    var errorCount = 0
    var junkCount = 0
    var commandCounts: [String: (total: Int, accepted: Int)] = [:]
    var commandOrder: [String] = []
    var lastCommand = "CONNECT"
    /// With `smtpd_delay_reject = no`, a rejected client gets this reply to everything but QUIT.
    var accessDenied: String?

    struct Transaction {
        var sender: SMTPPath
        var parameters: MailParameters
        var recipients: [(path: SMTPPath, parameters: RecipientParameters)] = []
        /// RCPTs refused for `smtpd_recipient_limit` so far (`smtpd_recipient_overshoot_limit`).
        var recipientOvershoot = 0
        /// BDAT chunks were accepted: DATA, MAIL and RCPT are refused until the last one.
        var receivingChunks: MessageReception?
        /// The decoder of the BDAT chunks, which keeps the message's size and content report.
        var chunkDecoder: ChunkDecoder?
    }

    init(service: SMTPServiceContext, channel: Channel, events: NIOAsyncChannelInboundStream<SMTPConnectionEvent>.AsyncIterator, client: ClientIdentity) {
        self.service = service
        self.channel = channel
        self.events = events
        framer = SMTPLineFramer(limits: service.settings.limits)
        parser = SMTPCommandParser(
            limits: service.settings.limits,
            options: .init(
                address: .init(strictRFC821Envelopes: service.settings.strictRFC821Envelopes, allowMinUser: service.settings.allowMinUser),
                smtpUTF8Enabled: service.settings.smtputf8Enabled && !service.settings.discardedEHLOKeywords.contains("SMTPUTF8"),
                strictSMTPUTF8: service.settings.strictSMTPUTF8,
                dsnEnabled: !service.settings.discardedEHLOKeywords.contains("DSN")))
        policySession = PolicySession(client: client)
        clientLabel = "\(client.name)[\(client.address)]"
        if service.settings.clientPortLogging { clientLabel += ":\(client.port)" }
    }

    var log: Logger { service.smtpdLog }

    // MARK: - The session

    /// Runs the session to its end; the caller closes the channel.
    func run() async {
        log.info("connect from \(clientLabel)")
        defer { logDisconnect() }
        let address = policySession.client.address
        if case .refused(let count) = service.limiter.connect(address: address, name: policySession.client.name) {
            log.warning("Connection concurrency limit exceeded: \(count) from \(clientLabel) for service \(service.serviceKey)")
            await send("421 4.7.0 \(settings.hostname) Error: too many connections from \(address)")
            return
        }
        defer { service.limiter.disconnect(address: address) }
        if case .refused(let count) = service.limiter.admit(.connection, address: address, name: policySession.client.name) {
            log.warning("Connection rate limit exceeded: \(count) from \(clientLabel) for service \(service.serviceKey)")
            await send("421 4.7.0 \(settings.hostname) Error: too many connections from \(address)")
            return
        }

        guard await inChildTask({ await $0.greet() }) else { return }

        while !Task.isCancelled {
            if errorCount >= settings.hardErrorLimit {
                log.warning("too many errors after \(lastCommand) from \(clientLabel)")
                await send("421 4.7.0 \(settings.hostname) Error: too many errors")
                return
            }
            guard let line = await nextCommandLine() else { return }
            switch line {
            case .tooLong(let overlong):
                // Postfix keeps the first line_length_limit octets and handles them as the command;
                // when even the excess is too long it stops reading the client.
                log.warning("\(clientLabel): request longer than \(settings.limits.lineLengthLimit): \(preview(overlong.prefix))")
                let handled = await inChildTask { await $0.handle(line: SMTPLine(bytes: overlong.prefix)) }
                if !handled || overlong.inputStopped {
                    await flush()
                    return
                }
            case .line(let text):
                guard await inChildTask({ await $0.handle(line: text) }) else {
                    await flush()
                    return
                }
            }
        }
    }

    /// The start of the session up to the greeting: the wrapper-mode handshake, the connect
    /// restrictions, the pre-greeting pipelining check, the 220. False ends the session.
    func greet() async -> Bool {
        if settings.wrapperMode {
            // Postfix drops a wrapper-mode client over the new TLS session rate without a word.
            if service.limiter.isOverLimit(.newTLSSession, address: policySession.client.address, name: policySession.client.name) {
                log.warning("Refusing TLS service request from \(clientLabel) for service \(service.serviceKey)")
                return false
            }
            guard await awaitWrapperHandshake(), await countNewTLSSession() else { return false }
        }

        let connectVerdict = await service.policy.checkConnect(&policySession)
        record(connectVerdict)
        if connectVerdict.hangUp { return false }
        if connectVerdict.reply != nil {
            // Postfix greets, then refuses every command but QUIT with the access-denied reply.
            accessDenied = "503 5.7.0 Error: access denied for \(policySession.client.name)[\(policySession.client.address)]"
        }
        // A client that talks before the greeting is pipelining without permission.
        if !input.readableBytesView.isEmpty || hasPendingInput() {
            noteImproperPipelining(after: "CONNECT")
            if settings.forbidUnauthorizedPipelining {
                await send("554 5.5.0 Error: SMTP protocol synchronization")
                return false
            }
        }
        await send("220 \(settings.banner)")
        return true
    }

    /// Runs `body` in a child task and waits for it.
    ///
    /// A task keeps the largest async stack it ever needed until it ends, and a session spends
    /// most of its life idle between commands: handling a command in the session's own task would
    /// keep that command's deepest stack (EHLO with its policy checks, STARTTLS, DATA) allocated
    /// for as long as the client stays connected. A child task's stack is freed when it returns,
    /// so an idle session holds only the stack that reading needs. The child runs on the same
    /// event loop (it inherits the executor preference) while this task waits for it: the
    /// session is never used by two tasks at once.
    func inChildTask<Result: Sendable>(_ body: @escaping @Sendable (SMTPServerSession) async -> Result) async -> Result {
        let session = UncheckedSession(self)
        return await withTaskGroup(of: Result.self) { group in
            group.addTask { await body(session.session) }
            return await group.next()!
        }
    }

    /// The session, handed to its own child task while the session's task waits for it.
    private struct UncheckedSession: @unchecked Sendable {
        let session: SMTPServerSession
        init(_ session: SMTPServerSession) { self.session = session }
    }

    /// Wrapper mode (smtps): TLS from the first byte; nothing is said before the handshake.
    func awaitWrapperHandshake() async -> Bool {
        while true {
            guard let event = await nextEvent() else { return false }
            switch event {
            case .tlsEstablished(let result):
                tlsEstablished(result)
                return true
            case .tlsFailed(let reason):
                log.warning("TLS handshake failed for service=\(service.serviceKey) peer=\(clientLabel): \(reason)")
                return false
            case .timedOut:
                log.info("timeout after CONNECT from \(clientLabel)")
                return false
            case .bytes, .tlsStarted:
                continue
            }
        }
    }

    // MARK: - Input

    enum CommandLine {
        case line(SMTPLine)
        case tooLong(SMTPOverlongLine)
    }

    /// The next command line, reading more input as needed; nil when the client is gone, the
    /// session timed out, or TLS failed.
    func nextCommandLine() async -> CommandLine? {
        while true {
            switch framer.next(from: &input) {
            case .line(let line):
                return .line(line)
            case .lineTooLong(let overlong):
                return .tooLong(overlong)
            case .needMoreBytes:
                await flush()
                guard await readMore() else { return nil }
            }
        }
    }

    /// Waits for more bytes — or, with `orHandshake`, for the end of a TLS handshake; false at
    /// the end of input.
    func readMore(orHandshake: Bool = false) async -> Bool {
        if input.readableBytes == 0 { input = ByteBuffer() }
        while true {
            guard let event = await nextEvent() else {
                if !inputEnded { log.info("lost connection after \(lastCommand) from \(clientLabel)") }
                inputEnded = true
                return false
            }
            switch event {
            case .bytes(var bytes):
                if discardingUntilTLS { continue }
                if input.readableBytes == 0 {
                    // Nothing left over: the received buffer becomes the input as it is, uncopied.
                    input = bytes
                } else {
                    // A ByteBuffer only grows: without this, a session's input buffer would keep
                    // every byte the client sent in it (a whole message after DATA).
                    input.discardReadBytes()
                    input.writeBuffer(&bytes)
                }
                return true
            case .tlsStarted:
                discardingUntilTLS = false
                input.clear()
            case .tlsEstablished(let result):
                tlsEstablished(result)
                if orHandshake { return true }
            case .tlsFailed(let reason):
                log.warning("TLS handshake failed for service=\(service.serviceKey) peer=\(clientLabel): \(reason)")
                inputEnded = true
                return false
            case .timedOut:
                log.info("timeout after \(lastCommand) from \(clientLabel)")
                await send("421 4.4.2 \(settings.hostname) Error: timeout exceeded")
                inputEnded = true
                return false
            }
        }
    }

    func nextEvent() async -> SMTPConnectionEvent? {
        do {
            return try await events.next()
        } catch {
            return nil
        }
    }

    /// Whether the client already sent more than what was consumed (pipelining).
    func hasPendingInput() -> Bool {
        input.readableBytes > 0
    }

    func noteImproperPipelining(after command: String) {
        guard !policySession.improperPipelining else { return }
        policySession.improperPipelining = true
        log.info("improper command pipelining after \(command) from \(clientLabel): \(preview(input))")
    }

    private func preview(_ buffer: ByteBuffer) -> String {
        let bytes = buffer.readableBytesView.prefix(100)
        return String(decoding: bytes.map { $0 >= 32 && $0 < 127 ? $0 : ($0 == 13 || $0 == 10 ? UInt8(ascii: "\\") : UInt8(ascii: "?")) }, as: UTF8.self)
    }

    // MARK: - Output

    /// Queues a reply (one or more lines; a multi-line reply is given as separate lines).
    func reply(_ lines: [String]) {
        if output.capacity == 0 { output = channel.allocator.buffer(capacity: 512) }
        for (index, line) in lines.enumerated() {
            var text = line
            if settings.softBounce, text.hasPrefix("5") { text = "4" + text.dropFirst() }
            if lines.count > 1 && index < lines.count - 1, text.count >= 4 {
                let code = text.prefix(3)
                let rest = text.dropFirst(4)
                text = "\(code)-\(rest)"
            }
            output.writeString(text)
            output.writeString("\r\n")
        }
    }

    func reply(_ line: String) { reply([line]) }

    /// Replies and flushes now.
    func send(_ line: String) async {
        reply(line)
        await flush()
    }

    func flush() async {
        guard output.readableBytes > 0 else { return }
        let buffer = output
        output = ByteBuffer()
        try? await channel.writeAndFlush(buffer)
    }

    /// Replies with an error and counts it. Once `smtpd_soft_error_limit` errors are counted each
    /// error reply waits `smtpd_error_sleep_time` (the tarpit); at `smtpd_hard_error_limit` the
    /// command loop ends the session.
    func replyError(_ line: String) async {
        await replyError([line])
    }

    func replyError(_ lines: [String]) async {
        errorCount += 1
        if errorCount >= settings.softErrorLimit && settings.errorSleepTime > 0 {
            await flush()
            try? await Task.sleep(for: .seconds(settings.errorSleepTime))
        }
        reply(lines)
    }

    /// Applies a verdict's log records and, for a rejection, its reply (footer, soft_bounce).
    func record(_ verdict: PolicyVerdict) {
        verdict.log(to: log)
    }

    func policyReplyLines(_ reply: PolicyReply) -> [String] {
        service.policy.replyLines(reply, session: policySession)
    }

    // MARK: - Logging

    /// Counts a command as it arrives (the totals of the disconnect line).
    func noteCommand(_ verb: String) {
        let key = verb.lowercased()
        if commandCounts[key] == nil { commandOrder.append(key) }
        commandCounts[key, default: (0, 0)].total += 1
    }

    /// Counts a command as accepted (the first numbers of the disconnect line).
    func accept(_ verb: String) {
        commandCounts[verb.lowercased(), default: (0, 0)].accepted += 1
    }

    /// Postfix's `disconnect from host[addr] ehlo=1 mail=1 rcpt=0/1 data=0/1 quit=1 commands=3/5`.
    func logDisconnect() {
        var parts: [String] = []
        var total = 0
        var accepted = 0
        for verb in commandOrder {
            let entry = commandCounts[verb]!
            total += entry.total
            accepted += entry.accepted
            parts.append(entry.total == entry.accepted ? "\(verb)=\(entry.total)" : "\(verb)=\(entry.accepted)/\(entry.total)")
        }
        parts.append(total == accepted ? "commands=\(total)" : "commands=\(accepted)/\(total)")
        log.info("disconnect from \(clientLabel) \(parts.joined(separator: " "))")
    }
}
