import NIOCore
import SealpostTLS

/// What the SMTP session reads from its connection: bytes, and the TLS and timing events that
/// happen between them, in the order the event loop saw them.
public enum SMTPConnectionEvent: Sendable {
    /// Bytes from the client (plaintext, or decrypted once TLS is active).
    case bytes(ByteBuffer)
    /// STARTTLS switched the pipeline to TLS: every `.bytes` before this event arrived in
    /// plaintext after the client's STARTTLS command and must be discarded (CVE-2011-0411).
    case tlsStarted
    /// The TLS handshake finished.
    case tlsEstablished(TLSHandshakeResult)
    /// The TLS handshake (or the TLS connection) failed.
    case tlsFailed(String)
    /// No input for `smtpd_timeout`.
    case timedOut
}

/// The inbound end of an SMTP connection's pipeline: turns bytes and events into
/// ``SMTPConnectionEvent`` for the session task. The session writes with `channel.writeAndFlush`
/// and switches to TLS with ``startTLS(on:context:reply:configuration:peerName:)``.
final class SMTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = SMTPConnectionEvent

    /// The marker STARTTLS sends through the pipeline after inserting the TLS handler.
    struct StartTLSMarker: Sendable {}

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(wrapInboundOut(.bytes(unwrapInboundIn(data))))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is StartTLSMarker:
            deliver(.tlsStarted, context: context)
        case let tls as TLSUserEvent:
            if case .handshakeCompleted(let result) = tls {
                deliver(.tlsEstablished(result), context: context)
            } else {
                context.fireUserInboundEventTriggered(event)
            }
        case let idle as IdleStateHandler.IdleStateEvent where idle == .read:
            deliver(.timedOut, context: context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// Passes an event that did not come from a network read, completing the "read" at once:
    /// the async channel hands reads to the session only at a read-complete, and none may follow
    /// (a wrapper-mode handshake is followed by silence until the server greets).
    private func deliver(_ event: SMTPConnectionEvent, context: ChannelHandlerContext) {
        context.fireChannelRead(wrapInboundOut(event))
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let tlsError = error as? TLSHandlerError {
            deliver(.tlsFailed(tlsError.description), context: context)
            return
        }
        context.fireErrorCaught(error)
    }

    /// Writes the STARTTLS reply, then puts a TLS handler at the front of the pipeline and sends
    /// the marker after it — all in one event-loop turn, so the reply leaves in plaintext and
    /// everything read before the switch is recognisable as plaintext.
    static func startTLS(on channel: Channel, context: TLSContext, reply: ByteBuffer, configuration: TLSHandlerConfiguration, peerName: String?)
        -> EventLoopFuture<Void>
    {
        let insert: @Sendable () throws -> Void = {
            channel.writeAndFlush(reply, promise: nil)
            let handler = try TLSHandler(
                context: context, peerName: peerName, configuration: configuration)
            try channel.pipeline.syncOperations.addHandler(handler, position: .first)
            channel.pipeline.fireUserInboundEventTriggered(StartTLSMarker())
        }
        // A session running on its channel's loop (see EventLoopTaskExecutor) does it at once.
        if channel.eventLoop.inEventLoop {
            return channel.eventLoop.makeCompletedFuture(withResultOf: insert)
        }
        return channel.eventLoop.submit(insert)
    }
}
