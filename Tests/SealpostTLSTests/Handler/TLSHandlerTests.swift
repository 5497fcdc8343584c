import COpenSSL
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import SealpostTLS

@Suite("TLS handler between two embedded channels")
struct TLSHandlerTests {
    @Test("the handshake completes on both sides and each gets the negotiated details")
    func handshake() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSChannelPair(serverContext: shared.server, clientContext: shared.client, serverName: "mail.example.com")
        try pair.handshake()
        let server = try #require(pair.serverEvents.handshakes.first)
        let client = try #require(pair.clientEvents.handshakes.first)
        #expect(pair.serverEvents.handshakes.count == 1 && pair.clientEvents.handshakes.count == 1)
        #expect(server.role == .server && client.role == .client)
        #expect(server.protocolVersion == "TLSv1.3" && client.protocolVersion == "TLSv1.3")
        #expect(client.cipher.name == server.cipher.name)
        #expect(server.serverName == "mail.example.com")
        #expect(client.peerCertificate?.details.subjectCommonName == "mail.example.com")
        #expect(client.peerCertificateVerified)
        #expect(client.peerCertificateChain.count == 2)
        #expect(server.peerCertificate == nil && !server.peerCertificateVerified)
        #expect(!client.isResumed)
        #expect(client.cipher.standardName == "TLS_AES_256_GCM_SHA384")
        // Session/'s view of the same handshake, which Postfix's log line is made from.
        #expect(client.session.trust == .trusted && server.session.trust == .anonymous)
        #expect(server.session.summaryLine(peer: "client.example[198.51.100.7]").hasPrefix(
            "Anonymous TLS connection established from client.example[198.51.100.7]: TLSv1.3 with cipher "
                + "\(server.cipher.name) (256/256 bits)"))
        #expect(pair.serverHandler.handshakeResult != nil)
        #expect(pair.serverHandler.stateMachine.state == .active)
        #expect(pair.clientHandler.stateMachine.state == .active)
        #expect(pair.serverEvents.errors.isEmpty && pair.clientEvents.errors.isEmpty)
    }

    @Test("application data flows both ways, the handshake event first")
    func applicationData() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSChannelPair(serverContext: shared.server, clientContext: shared.client)
        try pair.handshake()
        let sent = pair.write("EHLO client.example\r\n", from: pair.client)
        try pair.interact()
        try sent.wait()
        #expect(pair.serverEvents.receivedText == "EHLO client.example\r\n")
        _ = pair.write("250-mail.example.com\r\n250 8BITMIME\r\n", from: pair.server)
        try pair.interact()
        #expect(pair.clientEvents.receivedText == "250-mail.example.com\r\n250 8BITMIME\r\n")
        #expect(pair.serverEvents.log == ["active", "handshake", "read"])
        #expect(pair.serverEvents.readCompleteCount >= 1)
    }

    @Test("writes made before the handshake completes go out in order afterwards, promises succeed")
    func writesBeforeHandshake() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSChannelPair(serverContext: shared.server, clientContext: shared.client)
        // Before the channel is even active (an outbound client queuing its first command)...
        let first = pair.client.writeAndFlush(ByteBuffer(string: "EHLO a\r\n"))
        try pair.activate()
        // ...and while the handshake runs; one of them written but flushed only later.
        let second = pair.client.write(ByteBuffer(string: "MAIL FROM:<a@example.com>\r\n"))
        let third = pair.client.writeAndFlush(ByteBuffer(string: "RCPT TO:<b@example.com>\r\n"))
        let serverGreeting = pair.server.writeAndFlush(ByteBuffer(string: "220 hello\r\n"))
        var completions: [Int] = []
        first.assumeIsolated().whenSuccess { completions.append(1) }
        second.assumeIsolated().whenSuccess { completions.append(2) }
        third.assumeIsolated().whenSuccess { completions.append(3) }
        #expect(completions.isEmpty)
        try pair.interact()
        try first.wait()
        try second.wait()
        try third.wait()
        try serverGreeting.wait()
        #expect(completions == [1, 2, 3])
        #expect(pair.serverEvents.receivedText == "EHLO a\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n")
        #expect(pair.clientEvents.receivedText == "220 hello\r\n")
        #expect(pair.serverEvents.log.prefix(2) == ["active", "handshake"])
    }

    @Test("many small writes in one flush share records; every promise succeeds")
    func smallWritesCoalesce() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSChannelPair(serverContext: shared.server, clientContext: shared.client)
        try pair.handshake()
        var futures: [EventLoopFuture<Void>] = []
        var expected = ""
        for index in 0..<200 {
            let line = "250-line \(index)\r\n"
            expected += line
            futures.append(pair.server.write(ByteBuffer(string: line)))
        }
        // One large write after them keeps its place in the order.
        let large = String(repeating: "x", count: 40_000) + "\r\n"
        expected += large
        futures.append(pair.server.write(ByteBuffer(string: large)))
        pair.server.flush()
        var networkBytes = 0
        var networkWrites = 0
        while let buffer = try pair.server.readOutbound(as: ByteBuffer.self) {
            networkBytes += buffer.readableBytes
            networkWrites += 1
            try pair.client.writeInbound(buffer)
        }
        for future in futures { try future.wait() }
        #expect(pair.clientEvents.receivedText == expected)
        // 200 records would cost 200 × 22 bytes of overhead; shared records cost a handful.
        #expect(networkBytes < expected.utf8.count + 10 * 22)
        #expect(networkWrites <= 2)
    }

    @Test("the client closes: close_notify both ways, both channels close, the promise succeeds")
    func clientCloses() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSChannelPair(serverContext: shared.server, clientContext: shared.client)
        try pair.handshake()
        _ = pair.write("QUIT\r\n", from: pair.client)
        let closed = pair.client.close()
        let joined = pair.client.close()
        #expect(pair.clientHandler.stateMachine.state == .closing)
        #expect(pair.client.isActive)
        let late = pair.client.writeAndFlush(ByteBuffer(string: "too late\r\n"))
        #expect(throws: ChannelError.outputClosed) { try late.wait() }
        try pair.interact()
        try closed.wait()
        try joined.wait()
        #expect(!pair.client.isActive && !pair.server.isActive)
        #expect(pair.serverEvents.receivedText == "QUIT\r\n")
        #expect(pair.serverEvents.shutdownsCompleted == 1 && pair.clientEvents.shutdownsCompleted == 1)
        #expect(pair.serverEvents.uncleanShutdowns == 0 && pair.clientEvents.uncleanShutdowns == 0)
        #expect(pair.serverEvents.errors.isEmpty && pair.clientEvents.errors.isEmpty)
        #expect(pair.serverHandler.connection.closeNotifyReceived && pair.serverHandler.connection.closeNotifySent)
        #expect(pair.clientHandler.connection.closeNotifyReceived)
    }

    @Test("the server closes after its last reply: the client sees the reply, then close_notify")
    func serverCloses() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSChannelPair(serverContext: shared.server, clientContext: shared.client)
        try pair.handshake()
        _ = pair.write("221 2.0.0 Bye\r\n", from: pair.server)
        let closed = pair.server.close()
        try pair.interact()
        try closed.wait()
        #expect(!pair.client.isActive && !pair.server.isActive)
        #expect(pair.clientEvents.receivedText == "221 2.0.0 Bye\r\n")
        #expect(pair.clientEvents.log.suffix(3) == ["read", "shutdown", "inactive"])
        #expect(pair.serverEvents.shutdownsCompleted == 1)
        #expect(pair.serverEvents.errors.isEmpty && pair.clientEvents.errors.isEmpty)
    }

    @Test("a peer that never answers close_notify is cut off after the timeout")
    func closeNotifyTimeout() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSChannelPair(
            serverContext: shared.server, clientContext: shared.client,
            serverConfiguration: TLSHandlerConfiguration(closeNotifyTimeout: .seconds(5)))
        try pair.handshake()
        let closed = pair.server.close()
        _ = try TLSChannelPair.drainOutbound(pair.server)
        pair.loop.advanceTime(by: .milliseconds(4999))
        #expect(pair.server.isActive)
        pair.loop.advanceTime(by: .milliseconds(1))
        #expect(!pair.server.isActive)
        try closed.wait()
        #expect(pair.serverEvents.shutdownsCompleted == 0)
        #expect(pair.serverEvents.errors.isEmpty)
    }

    @Test("the connection ending without close_notify is an unclean shutdown, not an error")
    func uncleanShutdown() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSChannelPair(serverContext: shared.server, clientContext: shared.client)
        try pair.handshake()
        _ = pair.write("DATA\r\n", from: pair.client)
        try pair.interact()
        let pending = pair.server.write(ByteBuffer(string: "unflushed"))
        pair.server.pipeline.fireChannelInactive()
        #expect(pair.serverEvents.uncleanShutdowns == 1)
        #expect(pair.serverEvents.errors.isEmpty)
        #expect(pair.serverEvents.log.suffix(2) == ["unclean", "inactive"])
        #expect(pair.serverHandler.stateMachine.state == .closed)
        #expect(throws: ChannelError.ioOnClosedChannel) { try pending.wait() }
    }

    @Test("a half-closed input without close_notify reports unclean shutdown and closes the channel")
    func inputClosedWithoutCloseNotify() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSChannelPair(serverContext: shared.server, clientContext: shared.client)
        try pair.handshake()
        pair.server.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(pair.serverEvents.uncleanShutdowns == 1)
        #expect(pair.serverEvents.inputClosedEvents == 1)
        #expect(!pair.server.isActive)
        #expect(pair.serverEvents.errors.isEmpty)
    }

    @Test("a client that does not trust the server fails, and so does the server; both close, with reasons")
    func untrustedServer() throws {
        guard let shared = try SharedContexts.get() else { return }
        let client = HandlerTestContexts.client(trusting: shared.material.unrelated.root)
        let pair = try TLSChannelPair(serverContext: shared.server, clientContext: client)
        // Closing on the error must not cut off the alert that tells the server why.
        pair.clientEvents.closesOnError = true
        let queued = pair.client.writeAndFlush(ByteBuffer(string: "EHLO a\r\n"))
        try pair.handshake()
        #expect(!pair.client.isActive && !pair.server.isActive)
        #expect(pair.clientEvents.handshakes.isEmpty && pair.serverEvents.handshakes.isEmpty)
        let clientError = try #require(pair.clientEvents.handlerErrors.first)
        #expect(clientError.code == .handshakeFailed)
        #expect(clientError.connectionError?.verificationReason == "unable to get local issuer certificate")
        #expect(clientError.reason == "TLS handshake with 192.0.2.25:25 failed: certificate verify failed")
        let serverError = try #require(pair.serverEvents.handlerErrors.first)
        #expect(serverError.code == .handshakeFailed)
        #expect(serverError.peer == "198.51.100.7:40025")
        #expect(serverError.reason.hasSuffix("tlsv1 alert unknown ca"))
        #expect(serverError.description.contains("OpenSSL: error:"))
        #expect(pair.clientEvents.errors.count == 1 && pair.serverEvents.errors.count == 1)
        #expect(pair.clientEvents.log == ["active", "error", "inactive"])
        #expect(pair.serverEvents.log == ["active", "error", "inactive"])
        #expect(pair.clientHandler.stateMachine.state == .failed(.handshakeFailed))
        #expect(throws: TLSHandlerError.self) { try queued.wait() }
    }

    @Test("no common protocol version fails both sides")
    func protocolMismatch() throws {
        guard let shared = try SharedContexts.get() else { return }
        let server = HandlerTestContexts.server(shared.material.server, maximumVersion: TLS1_2_VERSION)
        let client = HandlerTestContexts.client(trusting: shared.material.server.root, minimumVersion: TLS1_3_VERSION)
        let pair = try TLSChannelPair(serverContext: server, clientContext: client)
        try pair.handshake()
        #expect(!pair.client.isActive && !pair.server.isActive)
        let serverError = try #require(pair.serverEvents.handlerErrors.first)
        let clientError = try #require(pair.clientEvents.handlerErrors.first)
        #expect(serverError.code == .handshakeFailed && clientError.code == .handshakeFailed)
        #expect(serverError.connectionError?.reason == "unsupported protocol")
        #expect(clientError.connectionError?.reason == "tlsv1 alert protocol version")
    }

    @Test("plaintext where TLS is expected fails the handshake without a crash")
    func plaintextToServer() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSChannelPair(serverContext: shared.server, clientContext: shared.client)
        try pair.server.connect(to: TLSChannelPair.clientAddress).wait()
        try pair.server.writeInbound(ByteBuffer(string: "EHLO client.example\r\n"))
        #expect(!pair.server.isActive)
        let error = try #require(pair.serverEvents.handlerErrors.first)
        #expect(error.code == .handshakeFailed)
        #expect(error.connectionError?.code == .protocolFailure)
        // Whatever comes after the failure is dropped.
        try pair.server.writeInbound(ByteBuffer(string: "MAIL FROM:<>\r\n"))
        #expect(pair.serverEvents.errors.count == 1)
    }

    @Test("a handshake that does not finish in time closes the channel with handshakeTimedOut")
    func handshakeTimeout() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSChannelPair(
            serverContext: shared.server, clientContext: shared.client,
            serverConfiguration: TLSHandlerConfiguration(handshakeTimeout: .seconds(300)))
        try pair.server.connect(to: TLSChannelPair.clientAddress).wait()
        pair.loop.advanceTime(by: .seconds(299))
        #expect(pair.server.isActive)
        pair.loop.advanceTime(by: .seconds(1))
        #expect(!pair.server.isActive)
        let error = try #require(pair.serverEvents.handlerErrors.first)
        #expect(error.code == .handshakeTimedOut)
        #expect(error.reason == "TLS handshake with 198.51.100.7:40025 timed out")
    }

    @Test("a completed handshake cancels its timeout")
    func handshakeTimeoutCancelled() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSChannelPair(
            serverContext: shared.server, clientContext: shared.client,
            serverConfiguration: TLSHandlerConfiguration(handshakeTimeout: .seconds(10)))
        try pair.handshake()
        pair.loop.advanceTime(by: .seconds(60))
        #expect(pair.server.isActive)
        #expect(pair.serverEvents.errors.isEmpty)
    }

    @Test("the peer going away mid-handshake is a handshake failure: lost connection")
    func eofDuringHandshake() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSChannelPair(serverContext: shared.server, clientContext: shared.client)
        try pair.server.connect(to: TLSChannelPair.clientAddress).wait()
        let waiting = pair.server.writeAndFlush(ByteBuffer(string: "220 ready\r\n"))
        pair.server.pipeline.fireChannelInactive()
        let error = try #require(pair.serverEvents.handlerErrors.first)
        #expect(error.code == .connectionLostDuringHandshake)
        #expect(error.reason == "TLS handshake with 198.51.100.7:40025 failed: lost connection")
        #expect(throws: TLSHandlerError.self) { try waiting.wait() }
    }

    @Test("closing during the handshake closes at once and fails the waiting writes")
    func closeDuringHandshake() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSChannelPair(serverContext: shared.server, clientContext: shared.client)
        try pair.activate()
        let waiting = pair.client.writeAndFlush(ByteBuffer(string: "EHLO a\r\n"))
        try pair.client.close().wait()
        #expect(!pair.client.isActive)
        #expect(throws: ChannelError.ioOnClosedChannel) { try waiting.wait() }
        #expect(pair.clientEvents.errors.isEmpty)
    }

    @Test("half-closing is refused")
    func halfCloseUnsupported() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSChannelPair(serverContext: shared.server, clientContext: shared.client)
        try pair.handshake()
        #expect(throws: ChannelError.operationUnsupported) { try pair.client.close(mode: .output).wait() }
        #expect(pair.client.isActive)
    }

    @Test("a session from one connection resumes on the next")
    func resumption() throws {
        guard let shared = try SharedContexts.get() else { return }
        let first = try TLSChannelPair(serverContext: shared.server, clientContext: shared.client)
        try first.handshake()
        _ = first.write("220 hello\r\n", from: first.server)
        try first.interact()
        let session = try #require(first.clientHandler.connection.session)
        let second = try TLSChannelPair(serverContext: shared.server, clientContext: shared.client, session: session)
        try second.handshake()
        #expect(second.clientEvents.handshakes.first?.isResumed == true)
        #expect(second.serverEvents.handshakes.first?.isResumed == true)
    }
}

@Suite("TLS handler inserted into a live pipeline (STARTTLS)")
struct STARTTLSInsertionTests {
    /// A plaintext SMTP-like server: answers lines, and on STARTTLS replies 220, drops whatever
    /// else came in the same read (as the SMTP server must) and puts TLS at the front.
    final class PlaintextServer: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let makeTLS: () throws -> TLSHandler
        var plaintextLines: [String] = []
        var discardedAfterSTARTTLS = ""
        var tlsLines: [String] = []
        var tlsActive = false
        var tlsHandler: TLSHandler?

        init(makeTLS: @escaping () throws -> TLSHandler) {
            self.makeTLS = makeTLS
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let text = String(buffer: unwrapInboundIn(data))
            if tlsActive {
                tlsLines.append(text)
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "250 secure \(text)")), promise: nil)
                return
            }
            guard let range = text.range(of: "STARTTLS\r\n") else {
                plaintextLines.append(text)
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "250 plain\r\n")), promise: nil)
                return
            }
            plaintextLines.append(String(text[..<range.upperBound]))
            discardedAfterSTARTTLS = String(text[range.upperBound...])
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "220 2.0.0 Ready to start TLS\r\n")), promise: nil)
            let handler = try! makeTLS()
            tlsHandler = handler
            try! context.pipeline.syncOperations.addHandler(handler, position: .first)
            tlsActive = true
        }
    }

    @Test("plaintext before STARTTLS passes untouched; TLS starts with the bytes that follow the insertion")
    func insertMidStream() throws {
        guard let shared = try SharedContexts.get() else { return }
        let loop = EmbeddedEventLoop()
        let plaintext = PlaintextServer { try TLSHandler(context: shared.server) }
        let serverEvents = TLSEventRecorder()
        let server = EmbeddedChannel(loop: loop)
        try server.pipeline.syncOperations.addHandlers([plaintext, serverEvents])
        let client = EmbeddedChannel(loop: loop)
        let clientEvents = TLSEventRecorder()
        try client.pipeline.syncOperations.addHandler(clientEvents)
        defer { HandlerTestSupport.shutDown([server, client], loop: loop) }
        try server.connect(to: TLSChannelPair.clientAddress).wait()
        try client.connect(to: TLSChannelPair.serverAddress).wait()

        // Plaintext, then STARTTLS with a pipelined command behind it in the same packet (the
        // CVE-2011-0411 pattern): the server drops it, TLS never sees it.
        try server.writeInbound(ByteBuffer(string: "EHLO client.example\r\n"))
        try server.writeInbound(ByteBuffer(string: "STARTTLS\r\nRSET\r\n"))
        #expect(try TLSChannelPair.drainOutbound(server) == Array("250 plain\r\n220 2.0.0 Ready to start TLS\r\n".utf8))
        #expect(plaintext.plaintextLines == ["EHLO client.example\r\n", "STARTTLS\r\n"])
        #expect(plaintext.discardedAfterSTARTTLS == "RSET\r\n")
        let tls = try #require(plaintext.tlsHandler)
        #expect(tls.stateMachine.state == .handshaking)
        #expect(tls.connection.bufferedNetworkInputBytes == 0)
        _ = try server.pipeline.syncOperations.context(handlerType: TLSHandler.self)

        // The client starts TLS the same way, at the front of its own pipeline.
        let clientTLS = try TLSHandler(context: shared.client)
        try client.pipeline.syncOperations.addHandler(clientTLS, position: .first)
        var moved = true
        while moved {
            moved = false
            for bytes in [try TLSChannelPair.drainOutbound(client)] where !bytes.isEmpty {
                try server.writeInbound(ByteBuffer(bytes: bytes))
                moved = true
            }
            for bytes in [try TLSChannelPair.drainOutbound(server)] where !bytes.isEmpty {
                try client.writeInbound(ByteBuffer(bytes: bytes))
                moved = true
            }
        }
        #expect(serverEvents.handshakes.count == 1 && clientEvents.handshakes.count == 1)
        client.writeAndFlush(ByteBuffer(string: "EHLO again\r\n"), promise: nil)
        try server.writeInbound(ByteBuffer(bytes: try TLSChannelPair.drainOutbound(client)))
        try client.writeInbound(ByteBuffer(bytes: try TLSChannelPair.drainOutbound(server)))
        #expect(plaintext.tlsLines == ["EHLO again\r\n"])
        #expect(clientEvents.receivedText == "250 secure EHLO again\r\n")
        #expect(serverEvents.errors.isEmpty && clientEvents.errors.isEmpty)
    }
}

@Suite("TLS handler reads and backpressure")
struct TLSBackpressureTests {
    @Test("reads: the handshake asks for its own, then only a caller's read or an empty result asks again")
    func readRequests() throws {
        guard let shared = try SharedContexts.get() else { return }
        let loop = EmbeddedEventLoop()
        let serverTLS = try TLSHandler(context: shared.server)
        let reads = ReadRequestCounter()
        let events = TLSEventRecorder()
        let server = EmbeddedChannel(loop: loop)
        try server.pipeline.syncOperations.addHandlers([reads, serverTLS, events])
        let clientTLS = try TLSHandler(context: shared.client)
        let client = EmbeddedChannel(handlers: [clientTLS, TLSEventRecorder()], loop: loop)
        defer { HandlerTestSupport.shutDown([server, client], loop: loop) }
        try client.connect(to: TLSChannelPair.serverAddress).wait()
        try server.connect(to: TLSChannelPair.clientAddress).wait()
        #expect(reads.reads == 1, "starting the handshake asks for bytes")
        try server.writeInbound(ByteBuffer(bytes: try TLSChannelPair.drainOutbound(client)))
        #expect(reads.reads == 2, "the handshake still waits for the client's Finished")
        try client.writeInbound(ByteBuffer(bytes: try TLSChannelPair.drainOutbound(server)))
        try server.writeInbound(ByteBuffer(bytes: try TLSChannelPair.drainOutbound(client)))
        #expect(serverTLS.stateMachine.state == .active)
        let afterHandshake = reads.reads

        // Data nobody asked for (auto-read off) is passed on, but no new read is issued.
        client.writeAndFlush(ByteBuffer(string: "one\r\n"), promise: nil)
        try server.writeInbound(ByteBuffer(bytes: try TLSChannelPair.drainOutbound(client)))
        #expect(events.receivedText == "one\r\n")
        #expect(reads.reads == afterHandshake)

        // A caller's read that brings only half a record is repeated on its behalf...
        server.read()
        #expect(reads.reads == afterHandshake + 1)
        client.writeAndFlush(ByteBuffer(string: "two\r\n"), promise: nil)
        let record = try TLSChannelPair.drainOutbound(client)
        try server.writeInbound(ByteBuffer(bytes: Array(record.prefix(10))))
        #expect(reads.reads == afterHandshake + 2)
        // ...until it brings data; then it is satisfied.
        try server.writeInbound(ByteBuffer(bytes: Array(record.dropFirst(10))))
        #expect(events.receivedText == "one\r\ntwo\r\n")
        #expect(reads.reads == afterHandshake + 2)
    }

    @Test("a flood in one read is passed on in bounded batches")
    func boundedBatches() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSChannelPair(
            serverContext: shared.server, clientContext: shared.client,
            serverConfiguration: TLSHandlerConfiguration(maximumPlaintextBatch: 32 * 1024))
        try pair.handshake()
        let chunk = ByteBuffer(repeating: 0x61, count: 16 * 1024)
        for _ in 0..<64 { pair.client.write(chunk, promise: nil) }
        pair.client.flush()
        let flood = try TLSChannelPair.drainOutbound(pair.client)
        #expect(flood.count > 1024 * 1024)
        let readsBefore = pair.serverEvents.readCount
        try pair.server.writeInbound(ByteBuffer(bytes: flood))
        #expect(pair.serverEvents.receivedCount == 1024 * 1024)
        #expect(pair.serverEvents.largestRead <= 32 * 1024 + TLSConnection.maximumRecordSize)
        #expect(pair.serverEvents.readCount - readsBefore >= 1024 / 48)
        #expect(pair.serverHandler.connection.bufferedNetworkInputBytes == 0)
    }
}

@Suite("TLS packet dump (log levels 3 and 4)")
struct TLSPacketDumpTests {
    final class Lines: @unchecked Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        var sink: TLSLogSink { TLSLogSink { line in self.lines.withLock { $0.append(line) } } }
    }

    @Test("level 3 dumps the handshake's records as Postfix does, level 4 everything after it too", arguments: [3, 4])
    func dump(level: Int) throws {
        guard let shared = try SharedContexts.get() else { return }
        let lines = Lines()
        let server = HandlerTestContexts.server(
            shared.material.server, logMask: level == 4 ? .level4 : .level3, logSink: lines.sink)
        let pair = try TLSChannelPair(serverContext: server, clientContext: shared.client)
        try pair.handshake()
        let handshakeLines = lines.all
        // The server tries to read before the ClientHello is there (as Postfix's first SSL_accept
        // often does), then reads its 5-byte record header, then the rest of the record.
        #expect(handshakeLines.first?.wholeMatch(of: /read from [0-9A-F]{8,} \[[0-9A-F]{8,}\] \(5 bytes => -1\)/) != nil)
        let header = try #require(handshakeLines.firstIndex { $0.hasSuffix("(5 bytes => 5 (0x5))") })
        #expect(handshakeLines[header].wholeMatch(of: /read from [0-9A-F]{8,} \[[0-9A-F]{8,}\] \(5 bytes => 5 \(0x5\)\)/) != nil)
        #expect(handshakeLines[header + 1].hasPrefix("0000 16 03 01 "))
        #expect(handshakeLines[header + 2].hasPrefix("read from "))
        #expect(handshakeLines.contains { $0.hasPrefix("write to ") })
        // Only OpenSSL's side of each BIO: no line for Sealpost feeding or draining them.
        #expect(handshakeLines.filter { $0.hasPrefix("read from ") || $0.hasPrefix("write to ") }
            .allSatisfy { !$0.contains("=> -1") || $0.hasPrefix("read from ") })
        _ = pair.write("secret\r\n", from: pair.client)
        try pair.interact()
        #expect(pair.serverEvents.receivedText == "secret\r\n")
        let afterHandshake = lines.all.count - handshakeLines.count
        if level == 4 {
            #expect(afterHandshake > 0)
        } else {
            #expect(afterHandshake == 0)
        }
    }
}
