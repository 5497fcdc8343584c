#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOPosix
import SealpostQueue
import SealpostTLS
import Synchronization

/// One server address to try: its name for texts and TLS, where to connect, and whether it is among
/// the most preferred MX hosts.
struct SMTPTarget: Sendable, Hashable {
    enum Endpoint: Sendable, Hashable {
        case inet(address: String, port: Int)
        case unix(path: String)
    }

    var hostname: String
    var endpoint: Endpoint
    var isBestMX: Bool
    /// The MX preference (0 without MX records).
    var preference: Int = 0

    /// The TCP port, 0 for a UNIX-domain socket.
    var port: Int {
        if case .inet(_, let port) = endpoint { return port }
        return 0
    }

    /// The IP address, nil for a UNIX-domain socket.
    var address: String? {
        if case .inet(let address, _) = endpoint { return address }
        return nil
    }

    /// `host[addr]` (Postfix's `namaddr`); a UNIX-domain socket is `myhostname[path]`, as
    /// Postfix's lmtp(8) names it.
    var peerName: String {
        switch endpoint {
        case .inet(let address, _): "\(hostname)[\(address)]"
        case .unix(let path): "\(hostname)[\(path)]"
        }
    }

    /// `host[addr]:port` (Postfix's `namaddrport`, the log's `relay=`); no port for a socket.
    var peerNameWithPort: String {
        switch endpoint {
        case .inet(let address, let port): "\(hostname)[\(address)]:\(port)"
        case .unix(let path): "\(hostname)[\(path)]"
        }
    }
}

/// A live client connection: its channel, its handler, and when and how often it was used, for the
/// connection cache's limits.
final class SMTPClientConnection: Sendable {
    let channel: any Channel
    let handler: SMTPClientHandler
    let target: SMTPTarget
    let created: ContinuousClock.Instant
    private let uses = Mutex(1)

    init(channel: any Channel, handler: SMTPClientHandler, target: SMTPTarget) {
        self.channel = channel
        self.handler = handler
        self.target = target
        created = .now
    }

    var useCount: Int { uses.withLock { $0 } }

    /// Why a connection could not be made, in Postfix's words (`connect to h[a]:25: Connection refused`).
    struct ConnectFailure: Error {
        var text: String
    }

    /// Connects to `target` and runs the session and its first transaction.
    static func open(
        target: SMTPTarget, machine: SMTPClientStateMachine, transaction: SMTPClientTransaction,
        openContent: @escaping @Sendable () throws(QueueError) -> MessageContentReader,
        makeTLS: SMTPClientHandler.TLSFactory?, settings: SMTPClientSettings, group: any EventLoopGroup, logger: Logger
    ) async -> Result<(SMTPClientConnection, SMTPTransactionResult), ConnectFailure> {
        let loop = group.next()
        let promise = loop.makePromise(of: SMTPTransactionResult.self)
        let handler = SMTPClientHandler(
            machine: machine, makeTLS: makeTLS, peerNameWithPort: target.peerNameWithPort,
            lineLengthLimit: settings.lineLengthLimit, tlsLogLevel: settings.tls.logLevel, logger: logger,
            openContent: openContent, completion: promise)
        var bootstrap = ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
            }
        if settings.timeouts.connect > 0 {
            bootstrap = bootstrap.connectTimeout(.seconds(Int64(settings.timeouts.connect)))
        }
        let channel: any Channel
        do {
            switch target.endpoint {
            case .inet(let address, let port):
                if !settings.bindAddress.isEmpty {
                    bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: settings.bindAddress, port: 0))
                }
                channel = try await bootstrap.connect(to: try SocketAddress(ipAddress: address, port: port)).get()
            case .unix(let path):
                channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            }
        } catch {
            promise.fail(error)
            let reason = Self.describe(error)
            switch target.endpoint {
            case .inet(let address, let port):
                return .failure(ConnectFailure(text: "connect to \(target.hostname)[\(address)]:\(port): \(reason)"))
            case .unix(let path):
                return .failure(ConnectFailure(text: "connect to \(path): \(reason)"))
            }
        }
        let connection = SMTPClientConnection(channel: channel, handler: handler, target: target)
        do {
            let result = try await promise.futureResult.get()
            return .success((connection, result))
        } catch {
            channel.close(promise: nil)
            return .success((connection, Self.lostResult(machine: machine, transaction: transaction, target: target)))
        }
    }

    /// Runs another transaction on this idle connection; nil when the connection turned out to be
    /// gone before the transaction could start.
    func run(
        _ transaction: SMTPClientTransaction, openContent: @escaping @Sendable () throws(QueueError) -> MessageContentReader
    ) async -> SMTPTransactionResult? {
        uses.withLock { $0 += 1 }
        let promise = channel.eventLoop.makePromise(of: SMTPTransactionResult.self)
        channel.eventLoop.execute { [handler] in
            handler.begin(transaction, openContent: openContent, completion: promise)
        }
        return try? await promise.futureResult.get()
    }

    /// Whether the connection is still open and between transactions.
    func isIdle() async -> Bool {
        (try? await channel.eventLoop.submit { [handler] in handler.isIdle }.get()) ?? false
    }

    /// Sends QUIT and closes.
    func quit() {
        channel.eventLoop.execute { [handler] in handler.quit() }
    }

    private static func lostResult(
        machine: SMTPClientStateMachine, transaction: SMTPClientTransaction, target: SMTPTarget
    ) -> SMTPTransactionResult {
        let failure = SMTPSessionFailure(dsn: "4.4.2", text: "lost connection with \(target.peerName)")
        var outcomes: [Int: SMTPRecipientOutcome] = [:]
        for recipient in transaction.recipients { outcomes[recipient.index] = .failed(failure) }
        return SMTPTransactionResult(
            outcome: SMTPTransactionOutcome(recipients: outcomes, serverSupportsDSN: false), reusable: false, tls: nil,
            tlsAttempted: false, setupDone: .now)
    }

    /// The system's words for a connection error (`Connection refused`, `Connection timed out`).
    static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if let error = error as? ChannelError, case .connectTimeout = error { return String(cString: strerror(ETIMEDOUT)) }
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return describe(first.error) }
            return "\(error)"
        }
        if let error = error as? SocketAddressError { return "\(error)" }
        return "\(error)"
    }
}

/// Idle connections kept for the next delivery to the same destination (Postfix's scache), limited
/// by `smtp_connection_cache_time_limit` (idle time), `smtp_connection_reuse_time_limit` (age) and
/// `smtp_connection_reuse_count_limit`.
final class SMTPConnectionPool: Sendable {
    private struct Entry: Sendable {
        var connection: SMTPClientConnection
        var parked: ContinuousClock.Instant
    }

    private let entries = Mutex<[String: [Entry]]>([:])
    let idleLimit: Duration
    let ageLimit: Duration
    let countLimit: Int

    init(idleLimit: Int, ageLimit: Int, countLimit: Int) {
        self.idleLimit = .seconds(idleLimit)
        self.ageLimit = .seconds(ageLimit)
        self.countLimit = countLimit
    }

    var count: Int { entries.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    /// An idle connection for `key`, if one is still within its limits.
    func take(_ key: String) -> SMTPClientConnection? {
        let now = ContinuousClock.now
        var expired: [SMTPClientConnection] = []
        let found: SMTPClientConnection? = entries.withLock { entries in
            var list = entries[key] ?? []
            defer { entries[key] = list.isEmpty ? nil : list }
            while !list.isEmpty {
                let entry = list.removeLast()
                if now - entry.parked > idleLimit || now - entry.connection.created > ageLimit {
                    expired.append(entry.connection)
                    continue
                }
                return entry.connection
            }
            return nil
        }
        for connection in expired { connection.quit() }
        return found
    }

    /// Keeps `connection` for `key`; it is closed when its idle time runs out.
    func park(_ connection: SMTPClientConnection, key: String) {
        if countLimit > 0 && connection.useCount >= countLimit || ContinuousClock.now - connection.created > ageLimit {
            connection.quit()
            return
        }
        let parked = ContinuousClock.now
        entries.withLock { $0[key, default: []].append(Entry(connection: connection, parked: parked)) }
        let seconds = idleLimit.components.seconds
        connection.channel.eventLoop.scheduleTask(in: .seconds(seconds)) { [weak self] in
            guard let self else { return }
            let stillParked = entries.withLock { entries -> Bool in
                guard let index = entries[key]?.firstIndex(where: { $0.connection === connection && $0.parked == parked }) else {
                    return false
                }
                entries[key]?.remove(at: index)
                if entries[key]?.isEmpty == true { entries[key] = nil }
                return true
            }
            if stillParked { connection.quit() }
        }
    }

    /// Closes every idle connection (QUIT first).
    func closeAll() {
        let all = entries.withLock { entries -> [SMTPClientConnection] in
            defer { entries = [:] }
            return entries.values.flatMap { $0.map(\.connection) }
        }
        for connection in all { connection.quit() }
    }
}
