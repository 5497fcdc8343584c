import NIOCore
import NIOPosix
import SMTPCore
import SealpostTLS

/// What the probe's channel reports to the dialogue: a server reply with its raw lines, the end of
/// a TLS handshake, or the end of the connection.
enum FingerEvent: Sendable {
    case reply(SMTPReply, lines: [String])
    case tlsEstablished(TLSHandshakeResult)
    case tlsFailed(String)
    case malformed(String)
    case closed
}

/// Parses the server's replies and forwards them, with TLS events, into an async stream that the
/// dialogue reads in order. Bytes after the 220 to STARTTLS are dropped when TLS is inserted.
final class FingerChannelHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private let continuation: AsyncStream<FingerEvent>.Continuation
    private var inbound = ByteBuffer()
    private var parser = SMTPReplyParser()
    /// The raw text of the reply being read, for the chat lines.
    private var pendingLines = ""

    init(continuation: AsyncStream<FingerEvent>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        inbound.writeBuffer(&bytes)
        while true {
            let before = inbound
            do {
                let result = try parser.next(from: &inbound)
                // The parser consumes a reply's lines as they arrive, over as many reads as it takes.
                pendingLines += before.getString(at: before.readerIndex, length: inbound.readerIndex - before.readerIndex) ?? ""
                guard case .reply(let reply) = result else { break }
                // "\r\n" is one Character in Swift: split on it as well as on a bare LF.
                let lines = pendingLines.split(whereSeparator: { $0 == "\r\n" || $0 == "\n" }).map(String.init)
                pendingLines = ""
                continuation.yield(.reply(reply, lines: lines))
            } catch {
                continuation.yield(.malformed("\(error)"))
                context.close(promise: nil)
                return
            }
        }
        inbound.discardReadBytes()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted(let result) = event {
            continuation.yield(.tlsEstablished(result))
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? TLSHandlerError {
            continuation.yield(.tlsFailed(error.reason))
        } else {
            continuation.yield(.malformed("\(error)"))
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.yield(.closed)
        continuation.finish()
        context.fireChannelInactive()
    }

    /// Inserts TLS in front of everything; what the server sent before it is not trusted (CVE-2011-0411).
    func startTLS(_ handler: TLSHandler, context: ChannelHandlerContext) throws {
        inbound.clear()
        pendingLines = ""
        parser = SMTPReplyParser()
        try context.pipeline.syncOperations.addHandler(handler, position: .first)
    }
}

/// One TCP connection of the probe: its channel, its handler and the events in arrival order.
final class FingerConnection {
    let channel: any Channel
    let handler: FingerChannelHandler
    private var events: AsyncStream<FingerEvent>.AsyncIterator
    private let timeout: Duration

    /// Why a connection could not be made or went wrong, in posttls-finger's words.
    struct Failure: Error {
        var text: String
    }

    private init(channel: any Channel, handler: FingerChannelHandler, events: AsyncStream<FingerEvent>, timeout: Duration) {
        self.channel = channel
        self.handler = handler
        self.events = events.makeAsyncIterator()
        self.timeout = timeout
    }

    static func open(address: String, port: Int, connectTimeout: Int, commandTimeout: Int) async throws(Failure) -> FingerConnection {
        let (stream, continuation) = AsyncStream<FingerEvent>.makeStream()
        let handler = FingerChannelHandler(continuation: continuation)
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(Int64(max(connectTimeout, 1))))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
            }
        do {
            let socketAddress = try SocketAddress(ipAddress: address, port: port)
            let channel = try await bootstrap.connect(to: socketAddress).get()
            return FingerConnection(
                channel: channel, handler: handler, events: stream, timeout: .seconds(max(commandTimeout, 1)))
        } catch {
            throw Failure(text: Self.describe(error))
        }
    }

    /// The next event, or `.closed` when none arrives within `seconds` (the command timeout by default; the channel
    /// is closed then).
    func next(within seconds: Int? = nil) async -> FingerEvent {
        let channel = channel
        let limit = Int64(seconds.map { max($0, 1) } ?? Int(timeout.components.seconds))
        let timer = channel.eventLoop.scheduleTask(in: .seconds(limit)) {
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        return await events.next() ?? .closed
    }

    func send(_ line: String) async {
        try? await channel.writeAndFlush(ByteBuffer(string: line + "\r\n")).get()
    }

    /// Makes the TLS handler on the channel's event loop and inserts it.
    func startTLS(_ makeTLS: @escaping @Sendable () throws -> TLSHandler) async throws {
        let (handler, channel) = (handler, channel)
        try await channel.eventLoop.submit {
            try handler.startTLS(makeTLS(), context: try channel.pipeline.syncOperations.context(handler: handler))
        }.get()
    }

    func close() async {
        try? await channel.close().get()
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if let error = error as? ChannelError, case .connectTimeout = error { return "Connection timed out" }
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first { return describe(first.error) }
        return "\(error)"
    }
}

#if canImport(Glibc)
import Glibc
#endif
