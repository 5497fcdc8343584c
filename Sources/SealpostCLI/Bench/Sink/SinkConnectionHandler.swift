import NIOCore
import SMTPCore
import SealpostTLS

/// The channel handler of one sink connection: frames and parses commands, decodes and discards
/// message content, and performs what ``SinkSession`` answers, one reply at a time so that delayed
/// replies keep their order under pipelining.
final class SinkConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var session: SinkSession
    private let counters: SinkCounters
    private let tlsContext: TLSContext?
    private let maximumSessions: Int?
    private let limits: SMTPLimits
    private let parser: SMTPCommandParser
    private var framer: SMTPLineFramer
    private var message: DataDecoder?
    private var input = ByteBuffer()
    /// A delayed reply is pending: input waits until it is sent.
    private var waiting = false
    private var closing = false
    private var admitted = false

    init(behavior: SinkBehavior, counters: SinkCounters, tlsContext: TLSContext?, wrapperMode: Bool, maximumSessions: Int?) {
        session = SinkSession(behavior: behavior, tlsActive: wrapperMode)
        self.counters = counters
        self.tlsContext = tlsContext
        self.maximumSessions = maximumSessions
        limits = SMTPLimits.postfixDefaults
        parser = SMTPCommandParser(limits: limits)
        framer = SMTPLineFramer(limits: limits)
    }

    func channelActive(context: ChannelHandlerContext) {
        admitted = counters.openSession(limit: maximumSessions)
        guard admitted else {
            send(SinkResponse(reply: SMTPReply("421 4.7.0 Error: too many sessions"), next: .close), context: context)
            return
        }
        send(session.greeting(), context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if admitted { counters.closeSession() }
        admitted = false
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        guard !closing else { return }
        input.writeBuffer(&bytes)
        process(context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            counters.update { $0.tlsSessions += 1 }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A peer that resets or fails its handshake ends only its own session. Once the sink closes
        // (after QUIT), a client that drops the connection without waiting for TLS close_notify makes
        // a reset here: the dialogue was complete, so that is not counted.
        guard !closing else { return }
        counters.update { $0.errors += 1 }
        Terminal.note("\(context.channel.remoteAddress?.description ?? "connection"): \(error)", program: "sealpost bench sink")
        closing = true
        context.close(promise: nil)
    }

    /// Handles every complete command and all message content in `input`, until a reply must wait.
    private func process(context: ChannelHandlerContext) {
        // The decoders consume from the front: without this the buffer would grow by every message.
        defer { input.discardReadBytes() }
        while !waiting && !closing {
            if var decoder = message {
                let result = decoder.next(from: &input)
                message = decoder
                switch result {
                case .content(let content):
                    // Discarded; only counted.
                    counters.update { $0.bytes += content.readableBytes }
                case .needMoreBytes:
                    return
                case .endOfData(let report):
                    message = nil
                    send(session.endOfData(report), context: context)
                }
                continue
            }
            switch framer.next(from: &input) {
            case .needMoreBytes:
                return
            case .lineTooLong(let line):
                // A framer that stopped reading ignores all further input: nothing would be answered again.
                send(SinkResponse(
                    reply: SMTPReply("500 5.5.2 Error: line too long"), next: line.inputStopped ? .close : .readCommands),
                    context: context)
            case .line(let line):
                switch parser.parse(line) {
                case .command(let command):
                    send(session.handle(command), context: context)
                case .syntaxError(let error):
                    send(session.refused(error), context: context)
                }
            }
        }
    }

    /// Writes a reply now or after its delay, then does what follows it.
    private func send(_ response: SinkResponse, context: ChannelHandlerContext) {
        guard response.delayMilliseconds > 0 else {
            perform(response, context: context)
            return
        }
        waiting = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .milliseconds(Int64(response.delayMilliseconds))) {
            let (handler, context) = loopBound.value
            handler.waiting = false
            guard !handler.closing else { return }
            handler.perform(response, context: context)
            handler.process(context: context)
        }
    }

    private func perform(_ response: SinkResponse, context: ChannelHandlerContext) {
        counters.update {
            $0.recipients += response.acceptedRecipients
            $0.messages += response.acceptedMessages
            if response.reply.code >= 400 { $0.errors += 1 }
        }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        response.reply.write(to: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        switch response.next {
        case .readCommands:
            break
        case .readMessage:
            message = DataDecoder(limits: limits)
        case .startTLS:
            startTLS(context: context)
        case .close:
            closing = true
            context.close(promise: nil)
        }
    }

    /// Puts TLS at the front of the pipeline after the plaintext 220 reply. Whatever the client sent
    /// after STARTTLS in plaintext is discarded, not read as commands over TLS (CVE-2011-0411).
    private func startTLS(context: ChannelHandlerContext) {
        input.clear()
        framer.reset()
        guard let tlsContext else { return }
        do {
            let handler = try TLSHandler(context: tlsContext)
            try context.pipeline.syncOperations.addHandler(handler, position: .first)
        } catch {
            counters.update { $0.errors += 1 }
            closing = true
            context.close(promise: nil)
        }
    }
}
