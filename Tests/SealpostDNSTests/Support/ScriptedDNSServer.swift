import NIOCore
import NIOPosix
import SealpostDNS
import Synchronization

/// A DNS server on 127.0.0.1 (or ::1) whose replies a test scripts: over UDP (from its own port or, to
/// play a spoofer, from another socket) and optionally over TCP on the same port.
final class ScriptedDNSServer: Sendable {
    /// A query as the server received it.
    struct Received: Sendable {
        var message: DNSMessage
        var source: SocketAddress
        var overTCP: Bool
    }

    /// One datagram to send back.
    struct Datagram: Sendable {
        var bytes: [UInt8]
        /// Sent from a different socket than the one the query went to.
        var fromOtherPort = false
        /// Sent this long after the query (keeps the order of several datagrams).
        var delay: TimeAmount = .zero
    }

    typealias UDPScript = @Sendable (DNSMessage) -> [Datagram]
    typealias TCPScript = @Sendable (DNSMessage) -> [UInt8]?

    let address: SocketAddress
    private let channels: [any Channel]
    private let log: QueryLog

    var received: [Received] { log.entries }

    private init(address: SocketAddress, channels: [any Channel], log: QueryLog) {
        self.address = address
        self.channels = channels
        self.log = log
    }

    /// Runs `body` with a server that answers by the scripts, and closes it afterwards whatever happens.
    static func with<Result: Sendable>(
        host: String = "127.0.0.1", udp: @escaping UDPScript, tcp: TCPScript? = nil,
        _ body: (ScriptedDNSServer) async throws -> Result
    ) async throws -> Result {
        let server = try await start(host: host, udp: udp, tcp: tcp)
        do {
            let result = try await body(server)
            await server.close()
            return result
        } catch {
            await server.close()
            throw error
        }
    }

    /// The UDP port the system picks may be taken for TCP already (by a parallel test): then again.
    private static func start(host: String, udp: @escaping UDPScript, tcp: TCPScript?) async throws -> ScriptedDNSServer {
        for _ in 0..<4 {
            if let server = try? await startOnce(host: host, udp: udp, tcp: tcp) { return server }
        }
        return try await startOnce(host: host, udp: udp, tcp: tcp)
    }

    private static func startOnce(host: String, udp: @escaping UDPScript, tcp: TCPScript?) async throws -> ScriptedDNSServer {
        let group = MultiThreadedEventLoopGroup.singleton
        let log = QueryLog()
        let record: @Sendable (Received) -> Void = { log.append($0) }
        let spoofer = try await DatagramBootstrap(group: group).bind(host: host, port: 0).get()
        let datagrams = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ScriptedDatagramHandler(script: udp, spoofer: spoofer, record: record))
                }
            }
            .bind(host: host, port: 0).get()
        var channels: [any Channel] = [spoofer, datagrams]
        let address = datagrams.localAddress!
        if let tcp {
            do {
                let listener = try await ServerBootstrap(group: group)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(ScriptedStreamHandler(script: tcp, record: record))
                        }
                    }
                    .bind(host: host, port: address.port!).get()
                channels.append(listener)
            } catch {
                for channel in channels { try? await channel.close() }
                throw error
            }
        }
        return ScriptedDNSServer(address: address, channels: channels, log: log)
    }

    func close() async {
        for channel in channels { try? await channel.close() }
    }
}

private final class QueryLog: Sendable {
    private let lock = Mutex<[ScriptedDNSServer.Received]>([])

    var entries: [ScriptedDNSServer.Received] { lock.withLock { $0 } }

    func append(_ entry: ScriptedDNSServer.Received) {
        lock.withLock { $0.append(entry) }
    }
}

private final class ScriptedDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    let script: ScriptedDNSServer.UDPScript
    let spoofer: any Channel
    let record: @Sendable (ScriptedDNSServer.Received) -> Void

    init(script: @escaping ScriptedDNSServer.UDPScript, spoofer: any Channel,
         record: @escaping @Sendable (ScriptedDNSServer.Received) -> Void) {
        self.script = script
        self.spoofer = spoofer
        self.record = record
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let query = try? DNSMessageParser(Array(envelope.data.readableBytesView)).message() else { return }
        record(.init(message: query, source: envelope.remoteAddress, overTCP: false))
        let channel = context.channel
        for datagram in script(query) {
            let reply = AddressedEnvelope(
                remoteAddress: envelope.remoteAddress, data: channel.allocator.buffer(bytes: datagram.bytes))
            let sender = datagram.fromOtherPort ? spoofer : channel
            if datagram.delay == .zero {
                sender.writeAndFlush(reply, promise: nil)
            } else {
                channel.eventLoop.scheduleTask(in: datagram.delay) { sender.writeAndFlush(reply, promise: nil) }
            }
        }
    }
}

private final class ScriptedStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let script: ScriptedDNSServer.TCPScript
    let record: @Sendable (ScriptedDNSServer.Received) -> Void
    private var pending: [UInt8] = []

    init(script: @escaping ScriptedDNSServer.TCPScript, record: @escaping @Sendable (ScriptedDNSServer.Received) -> Void) {
        self.script = script
        self.record = record
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending += Array(unwrapInboundIn(data).readableBytesView)
        while pending.count >= 2, pending.count >= 2 + (Int(pending[0]) << 8 | Int(pending[1])) {
            let length = Int(pending[0]) << 8 | Int(pending[1])
            let bytes = Array(pending[2..<(2 + length)])
            pending.removeFirst(2 + length)
            guard let query = try? DNSMessageParser(bytes).message() else { context.close(promise: nil); return }
            record(.init(message: query, source: context.channel.remoteAddress!, overTCP: true))
            guard let reply = script(query) else { context.close(promise: nil); return }
            var buffer = context.channel.allocator.buffer(capacity: reply.count + 2)
            buffer.writeInteger(UInt16(reply.count))
            buffer.writeBytes(reply)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
    }
}

/// Replies built by hand for the scripted server.
enum Reply {
    /// A reply to `query` that echoes its question, with `answers` (type and data) owned by the question's name
    /// unless an owner is given.
    static func to(
        _ query: DNSMessage, id: UInt16? = nil, flags: UInt16 = 0, responseCode: UInt8 = 0,
        question: String? = nil, answers: [(owner: String?, type: UInt16, data: [UInt8])] = []
    ) -> [UInt8] {
        var message = MessageBytes(
            id: id ?? query.header.id, flags: flags, responseCode: responseCode, answers: UInt16(answers.count))
        let asked = query.questions.first!
        message.question(question ?? asked.name.description, type: asked.type.rawValue)
        for answer in answers {
            if let owner = answer.owner { message.name(owner) } else { message.pointer(12) }
            message.recordHeader(type: answer.type, length: answer.data.count)
            message.bytes += answer.data
        }
        return message.bytes
    }

    /// A name in uncompressed wire form, for CNAME and MX data.
    static func name(_ text: String) -> [UInt8] {
        var message = MessageBytes()
        message.name(text)
        return message.bytes
    }
}
