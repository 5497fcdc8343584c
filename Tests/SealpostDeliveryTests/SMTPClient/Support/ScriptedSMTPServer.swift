import NIOCore
import NIOPosix
import Synchronization

/// A programmable SMTP server on a random port of 127.0.0.1 for the cases real servers do not
/// produce on demand: no DSN, a handshake that fails, a server that never answers. Each connection
/// gets the greeting, then `respond` answers each command line (nil answers nothing); the lines of
/// a message after 354 are kept and answered with `250 2.0.0 Ok: queued as TEST` at the dot.
final class ScriptedSMTPServer: Sendable {
    typealias Responder = @Sendable (_ connection: Int, _ line: String) -> String?

    let channel: any Channel
    private let state: State
    var port: Int { channel.localAddress?.port ?? 0 }

    final class State: Sendable {
        let commands = Mutex<[(Int, String)]>([])
        let messages = Mutex<[String]>([])
        let connections = Atomic<Int>(0)
    }

    /// Every command line received, with its connection number (0, 1, …).
    var commands: [(connection: Int, line: String)] { state.commands.withLock { $0.map { (connection: $0.0, line: $0.1) } } }
    var messages: [String] { state.messages.withLock { $0 } }
    var connectionCount: Int { state.connections.load(ordering: .relaxed) }

    init(host: String = "127.0.0.1", port: Int = 0, greeting: String? = "220 scripted.example ESMTP", respond: @escaping Responder) async throws {
        let state = State()
        self.state = state
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let number = state.connections.wrappingAdd(1, ordering: .relaxed).oldValue
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        Handler(number: number, greeting: greeting, respond: respond, state: state))
                }
            }
            .bind(host: host, port: port).get()
    }

    func close() async { try? await channel.close() }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let number: Int
        let greeting: String?
        let respond: Responder
        let state: State
        var pending = ByteBuffer()
        var message: String?

        init(number: Int, greeting: String?, respond: @escaping Responder, state: State) {
            self.number = number
            self.greeting = greeting
            self.respond = respond
            self.state = state
        }

        func channelActive(context: ChannelHandlerContext) {
            if let greeting { context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: greeting + "\r\n")), promise: nil) }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            pending.writeBuffer(&bytes)
            while let end = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                let length = end - pending.readableBytesView.startIndex + 1
                var line = pending.readString(length: length) ?? ""
                line.removeLast()
                if line.hasSuffix("\r") { line.removeLast() }
                if var text = message {
                    if line == "." {
                        state.messages.withLock { $0.append(text) }
                        message = nil
                        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "250 2.0.0 Ok: queued as TEST\r\n")), promise: nil)
                    } else {
                        text += (line.hasPrefix(".") ? String(line.dropFirst()) : line) + "\n"
                        message = text
                    }
                    continue
                }
                state.commands.withLock { $0.append((number, line)) }
                guard let reply = respond(number, line) else { continue }
                if reply.hasSuffix("<close>") {
                    context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: String(reply.dropLast(7)))), promise: nil)
                    context.close(promise: nil)
                    return
                }
                if reply.hasPrefix("354") { message = "" }
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: reply)), promise: nil)
            }
            pending.discardReadBytes()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }

    /// Plain answers to a normal dialogue; `ehlo` is the EHLO reply's keyword lines.
    static func standardReply(_ line: String, ehlo: [String]) -> String? {
        let command = line.uppercased()
        if command.hasPrefix("EHLO") || command.hasPrefix("LHLO") {
            let lines = ["scripted.example"] + ehlo
            return lines.enumerated().map { "250\($0.offset == lines.count - 1 ? " " : "-")\($0.element)\r\n" }.joined()
        }
        if command.hasPrefix("HELO") { return "250 scripted.example\r\n" }
        if command.hasPrefix("MAIL") || command.hasPrefix("RCPT") || command.hasPrefix("RSET") { return "250 2.1.0 Ok\r\n" }
        if command == "DATA" { return "354 End data with <CR><LF>.<CR><LF>\r\n" }
        if command == "QUIT" { return "221 2.0.0 Bye\r\n" }
        return "502 5.5.2 Error: command not recognized\r\n"
    }
}
