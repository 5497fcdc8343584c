import Logging
import NIOCore
import NIOPosix
import SealpostConfig
import SealpostPolicy
import SealpostTLS
import Synchronization

/// The listening sockets of one smtpd service and the loop that serves their connections.
///
/// The service's ``SMTPServiceContext`` can be replaced while it runs (a reload): connections
/// that are open keep the context they started with, new ones get the new one — certificates,
/// tables and restrictions change without dropping a session.
public final class SMTPListener: Sendable {
    public let serviceKey: String
    private let current: CurrentContext
    private let servers: [NIOAsyncChannel<NIOAsyncChannel<SMTPConnectionEvent, ByteBuffer>, Never>]
    /// Where the sockets listen, as `address:port`.
    public let boundAddresses: [String]

    private init(
        serviceKey: String, current: CurrentContext,
        servers: [NIOAsyncChannel<NIOAsyncChannel<SMTPConnectionEvent, ByteBuffer>, Never>]
    ) {
        self.serviceKey = serviceKey
        self.current = current
        self.servers = servers
        boundAddresses = servers.compactMap { server in
            server.channel.localAddress.map { address in
                let host = address.ipAddress ?? "?"
                return (host.contains(":") ? "[\(host)]" : host) + ":\(address.port ?? 0)"
            }
        }
    }

    /// Binds the service's sockets (as root, before privileges are dropped).
    ///
    /// - Parameters:
    ///   - hosts: the addresses to listen on: the service field's host, or `inet_interfaces`.
    public static func bind(
        context: SMTPServiceContext, hosts: [String], port: Int, group: any EventLoopGroup
    ) async throws -> SMTPListener {
        var servers: [NIOAsyncChannel<NIOAsyncChannel<SMTPConnectionEvent, ByteBuffer>, Never>] = []
        let settings = context.settings
        let current = CurrentContext(context)
        for host in hosts {
            let server = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                // A connection keeps its receive buffers while idle; commands are short, and the
                // allocator grows the buffer within a read burst when DATA arrives.
                .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536))
                .bind(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        // The context of now, not of bind time: a reloaded certificate reaches wrapper mode too.
                        if settings.wrapperMode, let tls = current.context.tls {
                            try pipeline.addHandler(
                                TLSHandler(context: tls, configuration: settings.tlsHandlerConfiguration))
                        }
                        try pipeline.addHandler(IdleStateHandler(readTimeout: .seconds(Int64(settings.commandTimeout))))
                        try pipeline.addHandler(SMTPConnectionHandler())
                        return try NIOAsyncChannel<SMTPConnectionEvent, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            servers.append(server)
        }
        return SMTPListener(serviceKey: context.serviceKey, current: current, servers: servers)
    }

    /// The context new connections get.
    public var context: SMTPServiceContext { current.context }

    /// Gives new connections `context` from now on.
    public func replace(_ context: SMTPServiceContext) {
        current.replace(context)
    }

    /// Swaps the TLS context only, keeping whatever else is current (a reload may have replaced the rest since).
    public func replaceTLS(_ tls: TLSContext) {
        current.update { $0.replacingTLS(tls) }
    }

    /// The context shared by the listener and its sockets' child-channel initializers.
    final class CurrentContext: Sendable {
        private let value: Mutex<SMTPServiceContext>
        init(_ context: SMTPServiceContext) { value = Mutex(context) }
        var context: SMTPServiceContext { value.withLock { $0 } }
        func replace(_ context: SMTPServiceContext) { value.withLock { $0 = context } }
        func update(_ change: (SMTPServiceContext) -> SMTPServiceContext) { value.withLock { $0 = change($0) } }
    }

    /// Accepts and serves connections until the task is cancelled; a failing connection never
    /// stops the service.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for server in servers {
                // The accept loop runs on its socket's event loop too: a new connection then
                // reaches it without waking a thread of the global executor.
                group.addTask(executorPreference: EventLoopTaskExecutor(server.channel.eventLoop)) {
                    do {
                        try await server.executeThenClose { inbound in
                            try await withThrowingDiscardingTaskGroup { connections in
                                for try await connection in inbound {
                                    let context = self.context
                                    let executor = EventLoopTaskExecutor(connection.channel.eventLoop)
                                    connections.addTask(executorPreference: executor) {
                                        await Self.serve(connection, context: context)
                                    }
                                }
                            }
                        }
                    } catch {
                        self.context.smtpdLog.warning("service \(self.serviceKey): accept loop ended: \(error)")
                    }
                }
            }
        }
    }

    /// Closes the listening sockets (open sessions continue until they end).
    public func close() async {
        for server in servers {
            try? await server.channel.close()
        }
    }

    private static func serve(_ connection: NIOAsyncChannel<SMTPConnectionEvent, ByteBuffer>, context: SMTPServiceContext) async {
        let remote = connection.channel.remoteAddress
        let address = remote?.ipAddress ?? "unknown"
        let port = remote?.port.map(String.init) ?? "0"
        do {
            try await connection.executeThenClose { inbound, _ in
                let (client, warnings) = await context.clientVerifier.identify(address: address, port: port)
                for warning in warnings { context.smtpdLog.log(level: warning.level, "\(warning.message)") }
                let session = SMTPServerSession(
                    service: context, channel: connection.channel, events: inbound.makeAsyncIterator(), client: client)
                await session.run()
            }
        } catch {
            // The client went away; the session logged what it saw.
        }
    }
}
