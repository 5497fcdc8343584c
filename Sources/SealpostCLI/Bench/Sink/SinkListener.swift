#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import SealpostTLS

/// Where the sink listens: `host:port`, `[address]:port`, `:port` (every IPv4 interface), with an
/// optional `inet:` prefix as smtp-sink(1) accepts.
struct SinkEndpoint: Equatable, Sendable {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init(_ text: String) throws(SinkArgumentError) {
        var rest = Substring(text)
        if rest.hasPrefix("inet:") { rest = rest.dropFirst(5) }
        guard let colon = rest.lastIndex(of: ":") else {
            throw SinkArgumentError("\(text): expected host:port")
        }
        var host = rest[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard let port = Int(rest[rest.index(after: colon)...]), (0...65_535).contains(port) else {
            throw SinkArgumentError("\(text): the port must be a number from 0 to 65535")
        }
        self.host = host.isEmpty ? "0.0.0.0" : String(host)
        self.port = port
    }

    /// The socket address, IPv4 only with `ipv4Only` (smtp-sink's `-4`).
    func resolve(ipv4Only: Bool) throws -> SocketAddress {
        var hints = addrinfo()
        hints.ai_family = ipv4Only ? AF_INET : AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw SinkArgumentError("cannot resolve \(host)\(ipv4Only ? " to an IPv4 address" : ""): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(result) }
        switch first.pointee.ai_family {
        case AF_INET:
            return first.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                SocketAddress($0.pointee, host: host)
            }
        default:
            return first.pointee.ai_addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                SocketAddress($0.pointee, host: host)
            }
        }
    }
}

/// The listening socket of the sink and the pipeline of each connection.
enum SinkListener {
    static func bind(
        to address: SocketAddress, behavior: SinkBehavior, counters: SinkCounters, tlsContext: TLSContext?,
        wrapperMode: Bool, maximumSessions: Int?, group: EventLoopGroup
    ) async throws -> Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if wrapperMode, let tlsContext {
                        try channel.pipeline.syncOperations.addHandler(TLSHandler(context: tlsContext))
                    }
                    try channel.pipeline.syncOperations.addHandler(SinkConnectionHandler(
                        behavior: behavior, counters: counters, tlsContext: tlsContext, wrapperMode: wrapperMode,
                        maximumSessions: maximumSessions))
                }
            }
            .bind(to: address).get()
    }
}
