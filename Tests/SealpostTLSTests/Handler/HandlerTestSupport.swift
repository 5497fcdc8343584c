import COpenSSL
import Foundation
import NIOCore
import NIOEmbedded
import SealpostTestSupport
import Testing

@testable import SealpostTLS

// MARK: Keys, certificates and contexts

/// Helpers of the handler tests, in a namespace of their own (other tests share the target).
enum HandlerTestSupport {
    /// Whether the `openssl` command the fixtures need is there. When it is missing a test returns early,
    /// except under CI (the CI environment variable set), where that is a failure.
    static func opensslAvailable(sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") { return true }
        if ProcessInfo.processInfo.environment["CI"] != nil {
            Issue.record("/usr/bin/openssl is missing; install the openssl package", sourceLocation: sourceLocation)
        }
        return false
    }

    /// Closes embedded channels, lets a pending close_notify wait time out, and runs the handler
    /// removal NIO schedules on close.
    static func shutDown(_ channels: [EmbeddedChannel], loop: EmbeddedEventLoop) {
        // Also the ones never connected: an open channel keeps its pipeline (and TLS connection) alive.
        for channel in channels {
            channel.close(promise: nil)
        }
        loop.advanceTime(by: .seconds(3600))
        loop.run()
    }
}

/// Two certificate hierarchies made once per test run by the real openssl: the server's (EC leaf
/// `mail.example.com` under an intermediate under a root) and an unrelated one whose root must not
/// verify the server.
final class HandlerMaterial: @unchecked Sendable {
    let fixtures: Fixtures
    let otherFixtures: Fixtures
    let server: Fixtures.Hierarchy
    let unrelated: Fixtures.Hierarchy

    private init() throws {
        fixtures = try Fixtures()
        otherFixtures = try Fixtures()
        server = try fixtures.hierarchy(leafKey: .ec)
        unrelated = try otherFixtures.hierarchy(leafKey: .ec)
    }

    private static let made: Result<HandlerMaterial, Error> = Result { try HandlerMaterial() }

    /// The material, or nil (after recording why, under CI) when openssl is missing.
    static func shared(sourceLocation: SourceLocation = #_sourceLocation) throws -> HandlerMaterial? {
        guard HandlerTestSupport.opensslAvailable(sourceLocation: sourceLocation) else { return nil }
        return try made.get()
    }
}

/// Builds `TLSContext`s straight from OpenSSL calls, standing in for the context builders in tests.
enum HandlerTestContexts {
    /// A server context with the hierarchy's full chain and key.
    static func server(
        _ hierarchy: Fixtures.Hierarchy, minimumVersion: Int32 = 0, maximumVersion: Int32 = 0,
        logMask: TLSLogMask = [], logSink: TLSLogSink? = nil
    ) -> TLSContext {
        let context = SSL_CTX_new(TLS_server_method())!
        precondition(SSL_CTX_use_certificate_chain_file(context, hierarchy.fullchain) == 1)
        precondition(SSL_CTX_use_PrivateKey_file(context, hierarchy.leafKey, SSL_FILETYPE_PEM) == 1)
        setVersions(context, minimumVersion, maximumVersion)
        return make(.server, context, logMask: logMask, logSink: logSink)
    }

    /// A client context that verifies the server against `trusting` (a root file), or verifies nothing when nil.
    static func client(
        trusting root: String?, minimumVersion: Int32 = 0, maximumVersion: Int32 = 0,
        logMask: TLSLogMask = [], logSink: TLSLogSink? = nil
    ) -> TLSContext {
        let context = SSL_CTX_new(TLS_client_method())!
        if let root {
            precondition(SSL_CTX_load_verify_locations(context, root, nil) == 1)
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        }
        setVersions(context, minimumVersion, maximumVersion)
        return make(.client, context, logMask: logMask, logSink: logSink)
    }

    private static func setVersions(_ context: OpaquePointer, _ minimum: Int32, _ maximum: Int32) {
        if minimum != 0 { precondition(SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(minimum), nil) == 1) }
        if maximum != 0 { precondition(SSL_CTX_ctrl(context, SSL_CTRL_SET_MAX_PROTO_VERSION, Int(maximum), nil) == 1) }
    }

    private static func make(
        _ role: TLSContext.Role, _ context: OpaquePointer, logMask: TLSLogMask, logSink: TLSLogSink?
    ) -> TLSContext {
        let state = TLSContextState(role: role)
        state.logMask = logMask
        state.logSink = logSink
        return TLSContext(role: role, taking: context, state: state)
    }
}

/// The contexts most tests share: made once, used from many tests at a time (contexts are immutable).
final class SharedContexts: @unchecked Sendable {
    let material: HandlerMaterial
    let server: TLSContext
    let client: TLSContext
    let clientTLS12: TLSContext

    private init(material: HandlerMaterial) {
        self.material = material
        server = HandlerTestContexts.server(material.server)
        client = HandlerTestContexts.client(trusting: material.server.root)
        clientTLS12 = HandlerTestContexts.client(trusting: material.server.root, maximumVersion: TLS1_2_VERSION)
    }

    private static let made: Result<SharedContexts, Error> = Result {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"),
              let material = try HandlerMaterial.shared()
        else { throw FixtureError("openssl missing") }
        return SharedContexts(material: material)
    }

    static func get(sourceLocation: SourceLocation = #_sourceLocation) throws -> SharedContexts? {
        guard HandlerTestSupport.opensslAvailable(sourceLocation: sourceLocation) else { return nil }
        return try made.get()
    }
}

// MARK: Two channels joined in memory

/// What reached the end of a pipeline: decrypted bytes, TLS events, errors, activity.
final class TLSEventRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// Every byte received, when kept (large transfers only hash and count).
    var received: [UInt8] = []
    var keepsBytes = true
    var receivedCount = 0
    var digest: HandlerSHA256?
    var readCount = 0
    var readCompleteCount = 0
    var largestRead = 0
    var handshakes: [TLSHandshakeResult] = []
    var shutdownsCompleted = 0
    var uncleanShutdowns = 0
    var inputClosedEvents = 0
    var errors: [Error] = []
    var isActive = false
    var becameInactive = false
    /// Events in order, by name: `active`, `handshake`, `read`, `shutdown`, `unclean`, `error`, `inactive`.
    var log: [String] = []
    /// Closes the channel on any error, as a typical protocol handler does.
    var closesOnError = false
    var onRead: ((ChannelHandlerContext, ByteBuffer) -> Void)?
    var onHandshake: ((ChannelHandlerContext) -> Void)?

    var receivedText: String { String(decoding: received, as: UTF8.self) }
    var handlerErrors: [TLSHandlerError] { errors.compactMap { $0 as? TLSHandlerError } }

    func channelActive(context: ChannelHandlerContext) {
        isActive = true
        log.append("active")
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        becameInactive = true
        log.append("inactive")
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        readCount += 1
        largestRead = max(largestRead, buffer.readableBytes)
        receivedCount += buffer.readableBytes
        if keepsBytes { received += buffer.readableBytesView }
        buffer.withUnsafeReadableBytes { digest?.update($0) }
        if log.last != "read" { log.append("read") }
        onRead?(context, buffer)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        readCompleteCount += 1
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case TLSUserEvent.handshakeCompleted(let result):
            handshakes.append(result)
            log.append("handshake")
            onHandshake?(context)
        case TLSUserEvent.shutdownCompleted:
            shutdownsCompleted += 1
            log.append("shutdown")
        case TLSUserEvent.uncleanShutdown:
            uncleanShutdowns += 1
            log.append("unclean")
        case ChannelEvent.inputClosed:
            inputClosedEvents += 1
        default:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        errors.append(error)
        log.append("error")
        if closesOnError { context.close(promise: nil) }
    }
}

/// Counts the `read()` requests that leave the pipeline (placed in front of the TLS handler).
final class ReadRequestCounter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    var reads = 0

    func read(context: ChannelHandlerContext) {
        reads += 1
        context.read()
    }
}

/// A server and a client channel on one embedded event loop, each with a ``TLSHandler`` and a
/// recorder behind it, and a shuttle that moves bytes between them.
final class TLSChannelPair {
    let loop = EmbeddedEventLoop()
    let server: EmbeddedChannel
    let client: EmbeddedChannel
    let serverHandler: TLSHandler
    let clientHandler: TLSHandler
    let serverEvents = TLSEventRecorder()
    let clientEvents = TLSEventRecorder()
    /// Every buffer each side sent, in order (kept only when `recordsTraffic`).
    var clientFlights: [[UInt8]] = []
    var serverFlights: [[UInt8]] = []
    var recordsTraffic = false

    static let serverAddress = try! SocketAddress(ipAddress: "192.0.2.25", port: 25)
    static let clientAddress = try! SocketAddress(ipAddress: "198.51.100.7", port: 40025)

    convenience init(
        serverContext: TLSContext, clientContext: TLSContext, serverName: String? = nil, session: TLSSession? = nil,
        serverConfiguration: TLSHandlerConfiguration = TLSHandlerConfiguration(),
        clientConfiguration: TLSHandlerConfiguration = TLSHandlerConfiguration()
    ) throws {
        try self.init(
            serverHandler: TLSHandler(context: serverContext, configuration: serverConfiguration),
            clientHandler: TLSHandler(
                context: clientContext, serverName: serverName, resuming: session, configuration: clientConfiguration))
    }

    init(serverHandler: TLSHandler, clientHandler: TLSHandler) throws {
        self.serverHandler = serverHandler
        self.clientHandler = clientHandler
        server = EmbeddedChannel(loop: loop)
        client = EmbeddedChannel(loop: loop)
        try server.pipeline.syncOperations.addHandlers([serverHandler, serverEvents])
        try client.pipeline.syncOperations.addHandlers([clientHandler, clientEvents])
    }

    /// Closes both channels so that NIO breaks the channel–pipeline reference cycles (an embedded
    /// channel left open is never freed, and neither is its TLS connection).
    deinit {
        HandlerTestSupport.shutDown([server, client], loop: loop)
    }

    /// Connects both channels (the handshake starts: the client's first flight waits in its outbound buffer).
    func activate() throws {
        try server.connect(to: Self.clientAddress).wait()
        try client.connect(to: Self.serverAddress).wait()
    }

    /// Moves bytes both ways until neither side has anything more to say.
    func interact() throws {
        var moved = true
        while moved {
            moved = false
            loop.run()
            while let buffer = try client.readOutbound(as: ByteBuffer.self) {
                if recordsTraffic { clientFlights.append(Array(buffer.readableBytesView)) }
                if server.isActive, buffer.readableBytes > 0 { try server.writeInbound(buffer) }
                moved = true
            }
            while let buffer = try server.readOutbound(as: ByteBuffer.self) {
                if recordsTraffic { serverFlights.append(Array(buffer.readableBytesView)) }
                if client.isActive, buffer.readableBytes > 0 { try client.writeInbound(buffer) }
                moved = true
            }
        }
    }

    /// Like ``interact()``, but every byte arrives in a read of its own.
    func interactByteByByte() throws {
        var moved = true
        while moved {
            moved = false
            loop.run()
            while let buffer = try client.readOutbound(as: ByteBuffer.self) {
                for byte in buffer.readableBytesView where server.isActive {
                    try server.writeInbound(ByteBuffer(bytes: [byte]))
                }
                moved = true
            }
            while let buffer = try server.readOutbound(as: ByteBuffer.self) {
                for byte in buffer.readableBytesView where client.isActive {
                    try client.writeInbound(ByteBuffer(bytes: [byte]))
                }
                moved = true
            }
        }
    }

    /// Everything one side has written and not yet delivered, as one buffer.
    static func drainOutbound(_ channel: EmbeddedChannel) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
        return bytes
    }

    /// Activates and shuttles until both handshakes have completed.
    func handshake() throws {
        try activate()
        try interact()
    }

    func write(_ text: String, from channel: EmbeddedChannel) -> EventLoopFuture<Void> {
        channel.writeAndFlush(ByteBuffer(string: text))
    }
}

// MARK: Checksums and memory

/// SHA-256 through OpenSSL, fed as bytes arrive.
final class HandlerSHA256 {
    private let context: OpaquePointer

    init() {
        context = EVP_MD_CTX_new()
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    func update(_ bytes: UnsafeRawBufferPointer) {
        EVP_DigestUpdate(context, bytes.baseAddress, bytes.count)
    }

    func finish() -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &output, &length)
        return output
    }
}

