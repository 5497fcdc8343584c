import Logging
import NIOCore
import SMTPCore
import SealpostQueue
import SealpostTLS

/// What one transaction on a connection produced, for the agent.
struct SMTPTransactionResult: Sendable {
    var outcome: SMTPTransactionOutcome
    /// The connection is idle and may carry another transaction.
    var reusable: Bool
    /// The TLS handshake's result when TLS is active.
    var tls: TLSHandshakeResult?
    /// Whether a TLS handshake was attempted on this connection (for the plaintext retry).
    var tlsAttempted: Bool
    /// The time until the server accepted MAIL FROM (or the session failed): set-up time.
    var setupDone: ContinuousClock.Instant?
}

/// The thin NIO shell around ``SMTPClientStateMachine``: feeds it the server's bytes, TLS events,
/// timeouts and the connection's end, and performs its actions — writes, inserting TLS for
/// STARTTLS, streaming the content — on the channel's event loop.
final class SMTPClientHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Makes the TLS handler for this connection (STARTTLS or wrapper mode).
    typealias TLSFactory = () throws -> TLSHandler

    private var machine: SMTPClientStateMachine
    private let makeTLS: TLSFactory?
    private let logger: Logger
    private let peerNameWithPort: String
    private let lineLengthLimit: Int
    private let tlsLogLevel: Int
    private var openContent: (@Sendable () throws(QueueError) -> MessageContentReader)?
    private var completion: EventLoopPromise<SMTPTransactionResult>?
    private var inbound = ByteBuffer()
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    private var tls: TLSHandshakeResult?
    private var tlsAttempted = false
    private var closed = false
    private var setupDone: ContinuousClock.Instant?

    init(
        machine: SMTPClientStateMachine, makeTLS: TLSFactory?, peerNameWithPort: String, lineLengthLimit: Int,
        tlsLogLevel: Int, logger: Logger,
        openContent: @escaping @Sendable () throws(QueueError) -> MessageContentReader,
        completion: EventLoopPromise<SMTPTransactionResult>
    ) {
        self.machine = machine
        self.makeTLS = makeTLS
        self.peerNameWithPort = peerNameWithPort
        self.lineLengthLimit = lineLengthLimit
        self.tlsLogLevel = tlsLogLevel
        self.logger = logger
        self.openContent = openContent
        self.completion = completion
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { perform(machine.connected(), context: context) }
    }

    /// Lets go of the context kept for ``begin`` and ``quit``: the context holds this handler, and
    /// kept after the channel closed the pair (and the connection's TLS state) would never be freed.
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        timer?.cancel()
        timer = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(machine.connected(), context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        inbound.writeBuffer(&bytes)
        let actions = machine.received(&inbound)
        inbound.discardReadBytes()
        perform(actions, context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted(let result) = event {
            tls = result
            logHandshake(result)
            perform(machine.tlsCompleted(matched: result.session.matched), context: context)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? TLSHandlerError, machine.phase == .tlsHandshake {
            logger.info("\(error.reason)")
            perform(machine.tlsFailed(error.reason), context: context)
        } else {
            logger.debug("\(peerNameWithPort): \(error)")
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        perform(machine.connectionClosed(), context: context)
        cancelTimer()
        if let promise = completion {
            completion = nil
            promise.fail(ChannelError.ioOnClosedChannel)
        }
        // A connection that ends without a verdict (an idle one closed by the server) completes nothing.
        context.fireChannelInactive()
    }

    // MARK: Driving transactions

    /// Starts another transaction on this idle connection. Must run on the channel's event loop.
    func begin(
        _ transaction: SMTPClientTransaction, openContent: @escaping @Sendable () throws(QueueError) -> MessageContentReader,
        completion: EventLoopPromise<SMTPTransactionResult>
    ) {
        guard let context, !closed, machine.phase == .idle else {
            completion.fail(ChannelError.ioOnClosedChannel)
            return
        }
        self.openContent = openContent
        self.completion = completion
        setupDone = nil
        perform(machine.beginTransaction(transaction), context: context)
    }

    /// Sends QUIT on an idle connection and closes it. Must run on the channel's event loop.
    func quit() {
        guard let context, !closed else { return }
        perform(machine.quit(), context: context)
        context.close(promise: nil)
    }

    var isIdle: Bool { !closed && machine.phase == .idle }

    // MARK: Actions

    private func perform(_ actions: [SMTPClientStateMachine.Action], context: ChannelHandlerContext) {
        var wrote = false
        for action in actions {
            switch action {
            case .send(let text):
                context.write(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
                wrote = true
            case .startTLS:
                if wrote { context.flush() }
                wrote = false
                startTLS(context: context)
            case .sendContent:
                if wrote { context.flush() }
                wrote = false
                sendContent(context: context)
            case .note(let text):
                logger.info("\(text)")
            case .finished(let outcome, let reusable):
                if wrote { context.flush() }
                wrote = false
                cancelTimer()
                let promise = completion
                completion = nil
                openContent = nil
                if !reusable { context.close(promise: nil) }
                promise?.succeed(
                    SMTPTransactionResult(
                        outcome: outcome, reusable: reusable && !closed, tls: tls, tlsAttempted: tlsAttempted,
                        setupDone: setupDone ?? .now))
            }
        }
        if wrote { context.flush() }
        if setupDone == nil && machine.phase == .envelope { setupDone = .now }
        armTimer(context: context)
    }

    private func startTLS(context: ChannelHandlerContext) {
        tlsAttempted = true
        // Anything the server sent after its 220 came before TLS: never trust it (CVE-2011-0411).
        inbound.clear()
        guard let makeTLS else {
            perform(machine.tlsFailed("TLS is not configured"), context: context)
            return
        }
        do {
            let handler = try makeTLS()
            try context.pipeline.syncOperations.addHandler(handler, position: .first)
        } catch {
            logger.warning("\(peerNameWithPort): cannot start TLS: \(error)")
            perform(machine.tlsFailed("\(error)"), context: context)
        }
    }

    /// The content being sent: its reader and the encoder's state between chunks.
    private final class ContentStream {
        let reader: MessageContentReader
        var encoder: SMTPContentEncoder

        init(reader: MessageContentReader, encoder: SMTPContentEncoder) {
            self.reader = reader
            self.encoder = encoder
        }
    }

    /// Streams the content a chunk at a time, each write waiting for the one before, so that a
    /// large message never sits in memory whole.
    private func sendContent(context: ChannelHandlerContext) {
        let reader: MessageContentReader
        do {
            guard let openContent else { throw QueueError(.invalidUse, "no content to send") }
            reader = try openContent()
        } catch {
            logger.error("cannot read message content: \(error)")
            // The server is waiting for data we cannot give: hang up rather than send a truncated message.
            context.close(promise: nil)
            return
        }
        writeNextChunk(ContentStream(reader: reader, encoder: SMTPContentEncoder(lineLengthLimit: lineLengthLimit)), context: context)
    }

    private func writeNextChunk(_ stream: ContentStream, context: ChannelHandlerContext) {
        // The server may have answered (and ended the transaction) before the content was through.
        guard !closed, machine.phase == .content else {
            stream.reader.close()
            return
        }
        var output = ByteBuffer()
        do {
            var gathered = 0
            while gathered < 64 * 1024, let chunk = try stream.reader.next() {
                stream.encoder.encode(chunk, into: &output)
                gathered += chunk.count
            }
            if gathered == 0 {
                stream.encoder.finish(into: &output)
                stream.reader.close()
                context.writeAndFlush(wrapOutboundOut(output), promise: nil)
                machine.contentSent()
                armTimer(context: context)
                return
            }
        } catch {
            stream.reader.close()
            logger.error("cannot read message content: \(error)")
            context.close(promise: nil)
            return
        }
        let bound = NIOLoopBound((self, context, stream), eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(output)).whenComplete { result in
            let (handler, context, stream) = bound.value
            if case .success = result {
                handler.armTimer(context: context)
                handler.writeNextChunk(stream, context: context)
            } else {
                stream.reader.close()
            }
        }
    }

    // MARK: Timer and logs

    private func armTimer(context: ChannelHandlerContext) {
        cancelTimer()
        guard let seconds = machine.replyTimeout, seconds > 0, !closed else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: .seconds(Int64(seconds))) {
            let (handler, context) = bound.value
            handler.timer = nil
            handler.perform(handler.machine.timedOut(), context: context)
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }

    private func logHandshake(_ result: TLSHandshakeResult) {
        let session = result.session
        if !(session.trust == .trusted || session.trust == .verified), machine.configuration.tlsLevel.mustMatch || tlsLogLevel >= 1,
           let line = session.verificationFailureLine(peer: peerNameWithPort)
        {
            logger.info("\(line)")
        }
        if tlsLogLevel >= 2, let line = session.peerCertificateLine(peer: peerNameWithPort) {
            logger.info("\(line)")
        }
        if result.isResumed {
            let line = "\(peerNameWithPort): Reusing old session"
            if tlsLogLevel >= 2 { logger.info("\(line)") } else { logger.debug("\(line)") }
        }
        let summary = session.summaryLine(peer: peerNameWithPort)
        if tlsLogLevel >= 1 {
            logger.info("\(summary)")
        } else {
            logger.debug("\(summary)")
        }
    }
}
