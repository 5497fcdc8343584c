import NIOCore
import NIOPosix

/// A man in the middle for tests: accepts SMTP clients on a random port of 127.0.0.1, relays each
/// to the real server, and removes the STARTTLS line from the server's EHLO replies — the downgrade
/// attack that `encrypt` and above must refuse.
final class STARTTLSStrippingProxy: Sendable {
    let channel: any Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    init(upstreamPort: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws {
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { client in
                ClientBootstrap(group: client.eventLoop)
                    .connect(host: "127.0.0.1", port: upstreamPort)
                    .flatMapThrowing { server in
                        try client.pipeline.syncOperations.addHandler(Relay(partner: server, stripping: false))
                        try server.pipeline.syncOperations.addHandler(Relay(partner: client, stripping: true))
                    }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func close() async {
        try? await channel.close()
    }

    /// Copies bytes to the partner channel; from the server, line by line without STARTTLS.
    private final class Relay: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let partner: any Channel
        let stripping: Bool
        private var pending = ByteBuffer()

        init(partner: any Channel, stripping: Bool) {
            self.partner = partner
            self.stripping = stripping
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            guard stripping else {
                partner.writeAndFlush(bytes, promise: nil)
                return
            }
            pending.writeBuffer(&bytes)
            var output = ByteBuffer()
            while let end = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                let length = end - pending.readableBytesView.startIndex + 1
                let line = pending.readString(length: length) ?? ""
                if line.dropFirst(4).uppercased().hasPrefix("STARTTLS") && line.hasPrefix("250") { continue }
                output.writeString(line)
            }
            pending.discardReadBytes()
            if output.readableBytes > 0 { partner.writeAndFlush(output, promise: nil) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            partner.close(promise: nil)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
