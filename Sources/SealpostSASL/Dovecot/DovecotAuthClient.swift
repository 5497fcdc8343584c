#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import NIOPosix

/// A client of Dovecot's auth server, shared by every session of a service: one connection,
/// opened on first use and reused across sessions, with concurrent requests told apart by id.
///
/// A request that gets no answer within the timeout (Postfix's AUTH_TIMEOUT, 10 s) ends as a
/// temporary failure; a connection that closes fails its requests the same way and is reopened by
/// the next request. An AUTH request whose write fails is retried once on a new connection, as
/// Postfix does after Dovecot restarts.
actor DovecotAuthClient {
    typealias Writer = NIOAsyncChannelOutboundWriter<ByteBuffer>

    struct Connection: Sendable {
        let id: Int
        let channel: any Channel
        let writer: Writer
        let mechanisms: [SASLMechanismDescription]
    }

    private struct Handshake {
        let id: Int
        var parser = DovecotHandshakeParser()
        var channel: (any Channel)?
        var waiters: [CheckedContinuation<Result<Connection, SASLBackEndUnavailable>, Never>] = []
        var pendingWriter: Writer?
    }

    private enum State {
        case idle
        case connecting(Handshake)
        case connected(Connection)
        case shutDown
    }

    private struct PendingRequest {
        let connection: Int
        var continuation: CheckedContinuation<SASLStep, Never>?
        var earlyStep: SASLStep?
        var timeout: Task<Void, Never>?
    }

    let endpoint: DovecotEndpoint
    private let group: any EventLoopGroup
    private let timeout: Duration
    private let logger: Logger
    /// The longest line accepted from the server.
    private static let maximumLineLength = 65536

    private var state = State.idle
    private var pending: [UInt32: PendingRequest] = [:]
    private var lastRequestID: UInt32 = 0
    private var lastConnectionID = 0

    init(endpoint: DovecotEndpoint, group: any EventLoopGroup, timeout: Duration, logger: Logger) {
        self.endpoint = endpoint
        self.group = group
        self.timeout = timeout
        self.logger = logger
    }

    /// How many connections have been opened: one for any number of sessions while the server stays up.
    var connectionsOpened: Int { lastConnectionID }

    // MARK: - Requests

    /// The mechanisms of the server's handshake, connecting first if needed.
    func mechanisms() async throws(SASLBackEndUnavailable) -> [SASLMechanismDescription] {
        try await currentConnection().get().mechanisms
    }

    /// Sends AUTH and waits for the first reply. Returns the step and where to send a CONT.
    func begin(
        mechanism: SASLMechanismName, service: String, session: SASLSessionInfo, initialResponse: [UInt8]?
    ) async -> (step: SASLStep, request: (id: UInt32, connection: Int)?) {
        for attempt in 1...2 {
            let connection: Connection
            switch await currentConnection() {
            case .success(let established): connection = established
            case .failure(let unavailable): return (.temporaryFailure(reason: unavailable.reason), nil)
            }
            // Dovecot drops a client that asks for a mechanism it did not offer.
            guard connection.mechanisms.contains(where: { $0.name == mechanism }) else {
                return (.failure(reason: SASLFailureReason.invalidMechanism, username: nil), nil)
            }
            let id = nextRequestID()
            let line = DovecotRequest.auth(
                id: id, mechanism: mechanism, service: service, session: session, initialResponse: initialResponse)
            switch await send(line, request: id, on: connection) {
            case .some(let step):
                return (step, (id, connection.id))
            case .none:
                drop(connection.id, reason: "write failed")
                if attempt == 2 { return (.temporaryFailure(reason: SASLFailureReason.cannotConnect), nil) }
            }
        }
        return (.temporaryFailure(reason: SASLFailureReason.cannotConnect), nil)
    }

    /// Sends CONT with the client's response to a request that got a CONT.
    func proceed(request id: UInt32, connection connectionID: Int, response: [UInt8]) async -> SASLStep {
        guard case .connected(let connection) = state, connection.id == connectionID else {
            return .temporaryFailure(reason: SASLFailureReason.connectionLost)
        }
        guard let step = await send(DovecotRequest.cont(id: id, response: response), request: id, on: connection) else {
            drop(connection.id, reason: "write failed")
            return .temporaryFailure(reason: SASLFailureReason.connectionLost)
        }
        return step
    }

    /// Forgets a request whose client went away or cancelled; a late reply to it is ignored.
    /// Dovecot has no command to cancel a request and times it out itself.
    func abandon(request id: UInt32) {
        if let request = pending.removeValue(forKey: id) {
            request.timeout?.cancel()
            request.continuation?.resume(returning: .temporaryFailure(reason: SASLFailureReason.connectionLost))
        }
    }

    /// Closes the connection; later requests fail.
    func shutdown() {
        switch state {
        case .connected(let connection):
            connection.channel.close(promise: nil)
            failPending(on: connection.id)
        case .connecting(let handshake):
            handshake.channel?.close(promise: nil)
            for waiter in handshake.waiters {
                waiter.resume(returning: .failure(unavailable("the SASL back end is shutting down")))
            }
        case .idle, .shutDown:
            break
        }
        state = .shutDown
    }

    private func nextRequestID() -> UInt32 {
        lastRequestID = lastRequestID == UInt32.max ? 1 : lastRequestID + 1
        return lastRequestID
    }

    /// Writes `line` and waits for the reply to request `id`; nil when the write fails.
    private func send(_ line: String, request id: UInt32, on connection: Connection) async -> SASLStep? {
        // Registered before writing: the reply may arrive while the write is still being awaited.
        let timeout = self.timeout
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { await self?.expire(request: id) }
        }
        pending[id] = PendingRequest(connection: connection.id, timeout: timer)
        do {
            try await connection.writer.write(ByteBuffer(string: line))
        } catch {
            timer.cancel()
            pending[id] = nil
            return nil
        }
        return await withCheckedContinuation { continuation in
            guard var request = pending[id] else {
                continuation.resume(returning: .temporaryFailure(reason: SASLFailureReason.connectionLost))
                return
            }
            if let step = request.earlyStep {
                pending[id] = nil
                request.timeout?.cancel()
                continuation.resume(returning: step)
            } else {
                request.continuation = continuation
                pending[id] = request
            }
        }
    }

    private func deliver(_ step: SASLStep, to id: UInt32) {
        guard var request = pending[id] else { return }
        if let continuation = request.continuation {
            pending[id] = nil
            request.timeout?.cancel()
            continuation.resume(returning: step)
        } else if request.earlyStep == nil {
            request.earlyStep = step
            pending[id] = request
        }
    }

    private func expire(request id: UInt32) {
        guard pending[id] != nil else { return }
        logger.warning("SASL: Dovecot auth server \(endpoint) did not answer within \(Self.seconds(timeout))")
        deliver(.temporaryFailure(reason: SASLFailureReason.connectionLost), to: id)
    }

    private func failPending(on connectionID: Int) {
        for (id, request) in pending where request.connection == connectionID {
            deliver(.temporaryFailure(reason: SASLFailureReason.connectionLost), to: id)
        }
    }

    // MARK: - The connection

    private func currentConnection() async -> Result<Connection, SASLBackEndUnavailable> {
        switch state {
        case .connected(let connection):
            return .success(connection)
        case .shutDown:
            return .failure(unavailable("the SASL back end is shutting down"))
        case .connecting(var handshake):
            return await withCheckedContinuation { continuation in
                handshake.waiters.append(continuation)
                state = .connecting(handshake)
            }
        case .idle:
            lastConnectionID += 1
            let id = lastConnectionID
            return await withCheckedContinuation { continuation in
                var handshake = Handshake(id: id)
                handshake.waiters.append(continuation)
                state = .connecting(handshake)
                Task { await self.open(connection: id) }
            }
        }
    }

    private func open(connection id: Int) async {
        let timeout = self.timeout
        let deadline = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { await self?.handshakeTimedOut(connection: id) }
        }
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await Self.connect(endpoint, group: group, timeout: timeout)
        } catch {
            deadline.cancel()
            failHandshake(connection: id, detail: "SASL: Connect to Dovecot auth socket '\(endpoint)' failed: \(Self.describe(error))")
            return
        }
        guard case .connecting(var handshake) = state, handshake.id == id else {
            // Shut down or timed out while connecting. executeThenClose, not channel.close: NIO
            // traps when an NIOAsyncChannel's writer is dropped unfinished.
            deadline.cancel()
            try? await channel.executeThenClose { _, _ in }
            return
        }
        handshake.channel = channel.channel
        state = .connecting(handshake)
        Task {
            await Self.run(channel, connection: id, client: self)
            deadline.cancel()
        }
    }

    private static func connect(
        _ endpoint: DovecotEndpoint, group: any EventLoopGroup, timeout: Duration
    ) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000))
        let initializer: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<ByteBuffer, ByteBuffer>> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    ByteToMessageHandler(DovecotLineDecoder(maximumLength: maximumLineLength)))
                return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
        switch endpoint {
        case .unix(let path):
            return try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: initializer)
        case .inet(let host, let port):
            return try await bootstrap.connect(host: host, port: port, channelInitializer: initializer)
        }
    }

    /// Owns the channel for its lifetime: sends the handshake, then hands every line to the client
    /// in order until the server closes the connection.
    private static func run(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, connection id: Int, client: DovecotAuthClient) async {
        var failure: (any Error)?
        do {
            try await channel.executeThenClose { inbound, outbound in
                await client.opened(connection: id, writer: outbound)
                try await outbound.write(ByteBuffer(string: DovecotRequest.handshake(processID: Int(getpid()))))
                for try await line in inbound {
                    await client.received(Array(line.readableBytesView), on: id)
                }
            }
        } catch {
            failure = error
        }
        await client.closed(connection: id, error: failure)
    }

    private func opened(connection id: Int, writer: Writer) {
        guard case .connecting(var handshake) = state, handshake.id == id else { return }
        handshake.pendingWriter = writer
        state = .connecting(handshake)
    }

    private func received(_ line: [UInt8], on id: Int) {
        switch state {
        case .connecting(var handshake) where handshake.id == id:
            switch handshake.parser.receive(line) {
            case .needMoreLines:
                state = .connecting(handshake)
            case .failed(let reason):
                state = .connecting(handshake)
                failHandshake(connection: id, detail: reason)
            case .done(let mechanisms):
                guard let channel = handshake.channel, let writer = handshake.pendingWriter else { return }
                let connection = Connection(id: id, channel: channel, writer: writer, mechanisms: mechanisms)
                state = .connected(connection)
                for waiter in handshake.waiters { waiter.resume(returning: .success(connection)) }
            }
        case .connected(let connection) where connection.id == id:
            guard let reply = DovecotServerReply.parse(line) else { return }
            let step = reply.step
            if case .ok(_, let parameters) = reply, parameters["user"]?.isEmpty ?? true {
                logger.warning("missing Dovecot server OK username field")
            }
            deliver(step, to: reply.id)
        default:
            break
        }
    }

    private func closed(connection id: Int, error: (any Error)?) {
        switch state {
        case .connecting(let handshake) where handshake.id == id:
            let why = error.map { Self.describe($0) } ?? "connection closed"
            failHandshake(connection: id, detail: "SASL: Dovecot auth socket '\(endpoint)' closed the handshake: \(why)")
        case .connected(let connection) where connection.id == id:
            state = .idle
            if let error { logger.warning("SASL: connection to Dovecot auth socket '\(endpoint)' failed: \(Self.describe(error))") }
            failPending(on: id)
        default:
            break
        }
    }

    private func handshakeTimedOut(connection id: Int) {
        guard case .connecting(let handshake) = state, handshake.id == id else { return }
        failHandshake(connection: id, detail: "SASL: Dovecot auth socket '\(endpoint)' sent no handshake within \(Self.seconds(timeout))")
    }

    private func failHandshake(connection id: Int, detail: String) {
        guard case .connecting(let handshake) = state, handshake.id == id else { return }
        logger.warning("\(detail)")
        handshake.channel?.close(promise: nil)
        state = .idle
        for waiter in handshake.waiters {
            waiter.resume(returning: .failure(SASLBackEndUnavailable(reason: SASLFailureReason.cannotConnect, detail: detail)))
        }
    }

    /// Closes a connection that failed; its requests fail and the next request reconnects.
    private func drop(_ connectionID: Int, reason: String) {
        guard case .connected(let connection) = state, connection.id == connectionID else { return }
        logger.warning("SASL: connection to Dovecot auth socket '\(endpoint)' lost: \(reason)")
        connection.channel.close(promise: nil)
        state = .idle
        failPending(on: connectionID)
    }

    private func unavailable(_ detail: String) -> SASLBackEndUnavailable {
        SASLBackEndUnavailable(reason: SASLFailureReason.cannotConnect, detail: detail)
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if let error = error as? ChannelError, case .connectTimeout = error { return "Connection timed out" }
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return describe(first.error)
        }
        return "\(error)"
    }

    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return attoseconds == 0 ? "\(seconds)s" : "\(Double(seconds) + Double(attoseconds) / 1e18)s"
    }
}
