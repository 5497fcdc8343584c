import COpenSSL
import NIOCore
import Testing

@testable import SealpostTLS

/// Two ``TLSConnection``s talking through their memory BIOs, no channel in between.
struct TLSConnectionPair {
    let server: TLSConnection
    let client: TLSConnection

    init(serverContext: TLSContext, clientContext: TLSContext) throws {
        server = try TLSConnection(context: serverContext)
        client = try TLSConnection(context: clientContext)
    }

    /// Moves whatever each side produced to the other; returns whether anything moved.
    @discardableResult
    func shuttle() -> Bool {
        var moved = false
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        if client.getDataForNetwork(into: &buffer) > 0 {
            server.consumeDataFromNetwork(buffer)
            moved = true
        }
        buffer.clear()
        if server.getDataForNetwork(into: &buffer) > 0 {
            client.consumeDataFromNetwork(buffer)
            moved = true
        }
        return moved
    }

    /// Runs both handshakes to the end; returns the first failure, if any.
    func handshake() -> TLSConnectionError? {
        var clientDone = false
        var serverDone = false
        for _ in 0..<20 {
            if !clientDone {
                switch client.doHandshake() {
                case .complete: clientDone = true
                case .incomplete: break
                case .failed(let error): shuttle(); return error
                }
            }
            if !serverDone {
                switch server.doHandshake() {
                case .complete: serverDone = true
                case .incomplete: break
                case .failed(let error): shuttle(); return error
                }
            }
            let moved = shuttle()
            if clientDone && serverDone && !moved { return nil }
        }
        return nil
    }

    /// Sends `bytes` from one side and reads them on the other.
    func send(_ bytes: [UInt8], from sender: TLSConnection, to receiver: TLSConnection) -> [UInt8] {
        var plain = ByteBuffer(bytes: bytes)
        while plain.readableBytes > 0 {
            guard case .complete = sender.writeDataToNetwork(&plain) else { return [] }
        }
        shuttle()
        return Self.readAll(receiver)
    }

    static func readAll(_ connection: TLSConnection) -> [UInt8] {
        var output = ByteBufferAllocator().buffer(capacity: 0)
        while case .complete = connection.readDataFromNetwork(into: &output) {}
        return Array(output.readableBytesView)
    }
}

@Suite("TLS connection over memory BIOs")
struct TLSConnectionTests {
    @Test("a TLS 1.3 handshake reports protocol, cipher, peer chain and SNI")
    func handshakeDetails() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSConnectionPair(serverContext: shared.server, clientContext: shared.client)
        try pair.client.setServerName("mail.example.com")
        #expect(pair.client.protocolVersion == nil)
        #expect(pair.handshake() == nil)
        #expect(pair.client.isHandshakeComplete && pair.server.isHandshakeComplete)
        #expect(pair.client.protocolVersion == "TLSv1.3")
        #expect(pair.server.protocolVersion == "TLSv1.3")
        let cipher = try #require(pair.client.cipher)
        #expect(cipher.name == "TLS_AES_256_GCM_SHA384")
        #expect(cipher.secretBits == 256 && cipher.algorithmBits == 256)
        #expect(pair.server.serverName == "mail.example.com")
        #expect(pair.client.serverName == "mail.example.com")
        #expect(pair.client.verificationResult == 0)
        #expect(pair.client.verificationReason == "ok")
        let chain = pair.client.peerCertificateChain
        #expect(chain.map(\.details.subjectCommonName) == ["mail.example.com", "Sealpost Test Intermediate"])
        #expect(pair.client.peerCertificate?.details.subjectCommonName == "mail.example.com")
        #expect(pair.server.peerCertificate == nil)
        #expect(pair.server.peerCertificateChain.isEmpty)
        #expect(!pair.client.isSessionResumed)
    }

    @Test("application data both ways, partial writes and one read buffer reused")
    func applicationData() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSConnectionPair(serverContext: shared.server, clientContext: shared.client)
        #expect(pair.handshake() == nil)
        #expect(pair.send(Array("EHLO client.example\r\n".utf8), from: pair.client, to: pair.server)
            == Array("EHLO client.example\r\n".utf8))
        // 100 KB: partial writes take whole records, a little at a time, and the reader gets them all.
        let large = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var plain = ByteBuffer(bytes: large)
        var calls = 0
        while plain.readableBytes > 0 {
            guard case .complete(let written) = pair.server.writeDataToNetwork(&plain, maximumBytes: 40_000) else {
                Issue.record("write failed")
                return
            }
            #expect(written > 0 && written <= 40_000)
            calls += 1
        }
        #expect(calls >= 3)
        #expect(pair.server.pendingNetworkOutputBytes > 100_000)
        pair.shuttle()
        #expect(pair.server.pendingNetworkOutputBytes == 0)
        #expect(TLSConnectionPair.readAll(pair.client) == large)
        #expect(pair.client.bufferedNetworkInputBytes == 0)
        var empty = ByteBuffer()
        guard case .complete(0) = pair.client.writeDataToNetwork(&empty) else {
            Issue.record("an empty write completes with 0")
            return
        }
    }

    @Test("a record larger than the room one read makes arrives whole over several reads")
    func readsSizedToInput() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSConnectionPair(serverContext: shared.server, clientContext: shared.client)
        #expect(pair.handshake() == nil)
        // One full record, delivered to the client in pieces: every read makes room only for the
        // bytes received so far, so the record's plaintext comes out over more than one call.
        let record = (0..<TLSConnection.maximumRecordSize).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var plain = ByteBuffer(bytes: record)
        guard case .complete(TLSConnection.maximumRecordSize) = pair.server.writeDataToNetwork(&plain) else {
            Issue.record("the record was not written whole")
            return
        }
        var wire = ByteBuffer()
        pair.server.getDataForNetwork(into: &wire)
        var received = ByteBuffer()
        var reads = 0
        while wire.readableBytes > 0, let piece = wire.readSlice(length: min(1_000, wire.readableBytes)) {
            pair.client.consumeDataFromNetwork(piece)
            while case .complete(let count) = pair.client.readDataFromNetwork(into: &received) {
                #expect(count > 0)
                reads += 1
            }
        }
        #expect(Array(received.readableBytesView) == record)
        #expect(reads >= 2)
    }

    @Test("buffers released while idle are made again: data still flows both ways afterwards")
    func idleBuffersReleased() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSConnectionPair(serverContext: shared.server, clientContext: shared.client)
        #expect(pair.handshake() == nil)
        for round in 0..<3 {
            pair.server.releaseIdleNetworkBuffers()
            pair.client.releaseIdleNetworkBuffers()
            let command = Array("NOOP \(round)\r\n".utf8)
            #expect(pair.send(command, from: pair.client, to: pair.server) == command)
            let reply = Array(String(repeating: "250 2.0.0 Ok\r\n", count: 2_000 * round + 1).utf8)
            #expect(pair.send(reply, from: pair.server, to: pair.client) == reply)
        }
        // Nothing is released while bytes wait in a BIO: the pending record survives.
        var pending = ByteBuffer(bytes: Array("QUIT\r\n".utf8))
        guard case .complete = pair.client.writeDataToNetwork(&pending) else {
            Issue.record("write failed")
            return
        }
        let waiting = pair.client.pendingNetworkOutputBytes
        pair.client.releaseIdleNetworkBuffers()
        #expect(pair.client.pendingNetworkOutputBytes == waiting && waiting > 0)
        pair.shuttle()
        #expect(TLSConnectionPair.readAll(pair.server) == Array("QUIT\r\n".utf8))
    }

    @Test("close_notify: shutdown is incomplete until the peer answers, reads then report closedByPeer")
    func closeNotify() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSConnectionPair(serverContext: shared.server, clientContext: shared.client)
        #expect(pair.handshake() == nil)
        guard case .incomplete = pair.client.doShutdown() else {
            Issue.record("the first shutdown call only sends close_notify")
            return
        }
        #expect(pair.client.closeNotifySent && !pair.client.closeNotifyReceived)
        pair.shuttle()
        var output = ByteBufferAllocator().buffer(capacity: 0)
        guard case .failed(let error) = pair.server.readDataFromNetwork(into: &output) else {
            Issue.record("the server should see close_notify")
            return
        }
        #expect(error.code == .closedByPeer)
        #expect(pair.server.closeNotifyReceived)
        guard case .complete = pair.server.doShutdown() else {
            Issue.record("answering close_notify completes the server's shutdown")
            return
        }
        pair.shuttle()
        guard case .complete = pair.client.doShutdown() else {
            Issue.record("the client's shutdown completes once the answer arrived")
            return
        }
    }

    @Test("end of input without close_notify is an unclean EOF")
    func uncleanEndOfInput() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSConnectionPair(serverContext: shared.server, clientContext: shared.client)
        #expect(pair.handshake() == nil)
        pair.server.consumeEndOfInput()
        var output = ByteBufferAllocator().buffer(capacity: 0)
        guard case .failed(let error) = pair.server.readDataFromNetwork(into: &output) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == .uncleanEOF)
    }

    @Test("bytes that are not TLS fail the handshake with OpenSSL's reason")
    func garbage() throws {
        guard let shared = try SharedContexts.get() else { return }
        let server = try TLSConnection(context: shared.server)
        server.consumeDataFromNetwork(ByteBuffer(string: "EHLO client.example\r\nMAIL FROM:<a@example.com>\r\n"))
        guard case .failed(let error) = server.doHandshake() else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == .protocolFailure)
        #expect(error.operation == "SSL_do_handshake")
        #expect(!error.reason.isEmpty)
        #expect(error.openSSLErrors.first?.hasPrefix("error:") == true)
        #expect(error.verificationResult == nil)
    }

    @Test("a server the client's CA does not vouch for fails with the verification reason")
    func verificationFailure() throws {
        guard let shared = try SharedContexts.get() else { return }
        let client = HandlerTestContexts.client(trusting: shared.material.unrelated.root)
        let pair = try TLSConnectionPair(serverContext: shared.server, clientContext: client)
        let error = try #require(pair.handshake())
        #expect(error.code == .protocolFailure)
        #expect(error.reason == "certificate verify failed")
        #expect(error.verificationResult == Int(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY))
        #expect(error.verificationReason == "unable to get local issuer certificate")
        #expect(error.description.contains("certificate verification: unable to get local issuer certificate"))
        // The alert the client sent tells the server why.
        guard case .failed(let serverError) = pair.server.doHandshake() else {
            Issue.record("the server should fail on the client's alert")
            return
        }
        #expect(serverError.reason == "tlsv1 alert unknown ca")
    }

    @Test("an SNI name OpenSSL refuses throws invalidSetting")
    func badServerName() throws {
        guard let shared = try SharedContexts.get() else { return }
        let client = try TLSConnection(context: shared.client)
        let error = #expect(throws: TLSConnectionError.self) {
            try client.setServerName(String(repeating: "a", count: 300))
        }
        #expect(error?.code == .invalidSetting)
    }

    @Test("sessions resume, in TLS 1.3 and TLS 1.2, and survive a DER round trip", arguments: [TLS1_3_VERSION, TLS1_2_VERSION])
    func resumption(version: Int32) throws {
        guard let shared = try SharedContexts.get() else { return }
        let client = HandlerTestContexts.client(trusting: shared.material.server.root, maximumVersion: version)
        let first = try TLSConnectionPair(serverContext: shared.server, clientContext: client)
        #expect(first.handshake() == nil)
        // TLS 1.3 tickets arrive after the handshake: read once to take them in.
        #expect(first.send(Array("QUIT\r\n".utf8), from: first.server, to: first.client) == Array("QUIT\r\n".utf8))
        let session = try #require(first.client.session)
        #expect(session.isResumable)
        #expect(session.protocolVersion == (version == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2"))
        #expect(session.timeout > 0)
        let stored = try TLSSession(derEncoded: session.derEncoded)

        let second = try TLSConnectionPair(serverContext: shared.server, clientContext: client)
        try second.client.setSessionToResume(stored)
        #expect(second.handshake() == nil)
        #expect(second.client.isSessionResumed)
        #expect(second.server.isSessionResumed)
        #expect(second.client.peerCertificate?.details.subjectCommonName == "mail.example.com")

        #expect(throws: TLSConnectionError.self) { try TLSSession(derEncoded: [0x30, 0x03, 0x02, 0x01]) }
    }
}
