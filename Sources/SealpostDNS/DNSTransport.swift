import NIOCore
import NIOPosix

/// Why one try at one server gave no reply.
enum DNSTransportError: Error, CustomStringConvertible {
    case timedOut
    case closedWithoutReply
    case mismatchedReply

    var description: String {
        switch self {
        case .timedOut: "timed out"
        case .closedWithoutReply: "closed the TCP connection without a reply"
        case .mismatchedReply: "sent a TCP reply that does not answer the query"
        }
    }
}

/// What a reply must carry to answer a query: its ID, the QR bit, a standard opcode and the same
/// question. A datagram that differs is someone else's (or a spoofing attempt) and is ignored.
struct ExpectedReply: Sendable {
    var id: UInt16
    var question: DNSQuestion

    func isAnswered(by bytes: [UInt8]) -> Bool {
        guard let (header, questions, _) = try? DNSMessageParser(bytes).headerAndQuestions() else { return false }
        return header.id == id && header.isResponse && header.opcode == 0 && questions == [question]
    }
}

/// Sends queries over UDP and TCP; each call is one try at one server.
enum DNSTransport {
    /// The largest datagram read: a server may ignore the advertised EDNS size, and a cut-off datagram
    /// would look malformed rather than truncated.
    static let maximumDatagramSize = 65_536

    /// Sends `query` from a fresh socket on a random port and waits for the datagram that comes from
    /// `server`'s address and port and answers the query; everything else is dropped.
    static func udp(
        _ query: [UInt8], expecting expected: ExpectedReply, server: SocketAddress, timeout: TimeAmount,
        group: any EventLoopGroup
    ) async throws -> [UInt8] {
        try await exchange(timeout: timeout, group: group) { loop, reply in
            try await DatagramBootstrap(group: loop)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: maximumDatagramSize))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            DatagramReplyHandler(server: server, expected: expected, reply: reply))
                    }
                }
                .bind(host: server.protocol == .inet6 ? "::" : "0.0.0.0", port: 0)
                .get()
        } send: { channel in
            let buffer = channel.allocator.buffer(bytes: query)
            try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: server, data: buffer))
        }
    }

    /// Sends `query` over a new TCP connection with the two-byte length prefix (RFC 1035 section
    /// 4.2.2, RFC 7766) and returns the first message that comes back.
    static func tcp(
        _ query: [UInt8], expecting expected: ExpectedReply, server: SocketAddress, timeout: TimeAmount,
        group: any EventLoopGroup
    ) async throws -> [UInt8] {
        let bytes = try await exchange(timeout: timeout, group: group) { loop, reply in
            try await ClientBootstrap(group: loop)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LengthPrefixedFrameDecoder()))
                        try channel.pipeline.syncOperations.addHandler(StreamReplyHandler(reply: reply))
                    }
                }
                .connect(to: server)
                .get()
        } send: { channel in
            var buffer = channel.allocator.buffer(capacity: query.count + 2)
            buffer.writeInteger(UInt16(query.count))
            buffer.writeBytes(query)
            try await channel.writeAndFlush(buffer)
        }
        // Over TCP nobody else can slip a message in, so a reply to another query is a broken server.
        guard expected.isAnswered(by: bytes) else { throw DNSTransportError.mismatchedReply }
        return bytes
    }

    /// Opens a channel whose handlers complete `reply`, sends the query, and waits for the reply or
    /// the timeout; the channel is closed and the promise completed on every path.
    private static func exchange(
        timeout: TimeAmount, group: any EventLoopGroup,
        open: (any EventLoop, EventLoopPromise<[UInt8]>) async throws -> any Channel,
        send: (any Channel) async throws -> Void
    ) async throws -> [UInt8] {
        let loop = group.next()
        let reply = loop.makePromise(of: [UInt8].self)
        // The timer guarantees the promise completes whatever else happens.
        let timer = loop.scheduleTask(in: timeout) { reply.fail(DNSTransportError.timedOut) }
        defer { timer.cancel() }
        do {
            let channel = try await open(loop, reply)
            do {
                try await send(channel)
                let bytes = try await reply.futureResult.get()
                channel.close(promise: nil)
                return bytes
            } catch {
                channel.close(promise: nil)
                throw error
            }
        } catch {
            reply.fail(error)
            throw error
        }
    }
}

/// Completes the promise with the first datagram that comes from the server and answers the query.
final class DatagramReplyHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let server: SocketAddress
    private let expected: ExpectedReply
    private let reply: EventLoopPromise<[UInt8]>

    init(server: SocketAddress, expected: ExpectedReply, reply: EventLoopPromise<[UInt8]>) {
        self.server = server
        self.expected = expected
        self.reply = reply
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.remoteAddress == server else { return }
        let bytes = Array(envelope.data.readableBytesView)
        guard expected.isAnswered(by: bytes) else { return }
        reply.succeed(bytes)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        reply.fail(error)
    }
}

/// Splits a TCP stream into DNS messages by their two-byte length prefix.
struct LengthPrefixedFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
            buffer.readableBytes >= 2 + Int(length)
        else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2)
        guard let message = buffer.readSlice(length: Int(length)) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(message))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        try decode(context: context, buffer: &buffer)
    }
}

/// Completes the promise with the first message of the stream, or fails it when the stream ends first.
final class StreamReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let reply: EventLoopPromise<[UInt8]>

    init(reply: EventLoopPromise<[UInt8]>) {
        self.reply = reply
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reply.succeed(Array(unwrapInboundIn(data).readableBytesView))
    }

    func channelInactive(context: ChannelHandlerContext) {
        reply.fail(DNSTransportError.closedWithoutReply)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        reply.fail(error)
        context.close(promise: nil)
    }
}
