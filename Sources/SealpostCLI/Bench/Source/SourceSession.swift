import Foundation
import NIOCore
import SMTPCore
import SealpostTLS

/// How every session of a `bench source` run talks to the server.
struct SourceOptions: Sendable {
    var host: String
    var address: String
    var port: Int
    var messageSize: Int
    var recipients: Int
    var messagesPerConnection: Int
    var pipelining: Bool
    var startTLS: Bool
    var wrapper: Bool
    var credentials: (user: String, password: String)?
    var sender: String
    var recipient: String
    var helo: String
    var timeout: Int
    var tlsContext: TLSContext?
    var tlsLevel: TLSClientSecurityLevel
}

/// One simulated client: takes messages from the shared tally and sends each over its current connection,
/// opening a new one at the start, after `messagesPerConnection` messages, and after any failure.
struct SourceSession: Sendable {
    let options: SourceOptions
    let tally: SourceTally
    let message: SourceMessage

    func run() async {
        var current: (connection: FingerConnection, capabilities: EHLOCapabilities)?
        var sentOnConnection = 0
        while let number = await tally.claim() {
            if let open = current, sentOnConnection >= options.messagesPerConnection {
                await quit(open.connection)
                current = nil
            }
            do throws(SourceFailure) {
                if current == nil {
                    current = try await connect()
                    sentOnConnection = 0
                }
                guard let (connection, capabilities) = current else { continue }
                do throws(SourceFailure) {
                    let microseconds = try await transaction(number, on: connection, capabilities: capabilities)
                    await tally.accept(microseconds: microseconds)
                    sentOnConnection += 1
                } catch {
                    // Replies may still be in flight after a failure: start afresh rather than resynchronise.
                    await connection.close()
                    current = nil
                    throw error
                }
            } catch {
                await tally.fail(error)
            }
        }
        if let open = current { await quit(open.connection) }
    }

    /// Connects and gets the session ready for MAIL: greeting, EHLO, TLS and AUTH as asked.
    private func connect() async throws(SourceFailure) -> (FingerConnection, EHLOCapabilities) {
        let connection: FingerConnection
        do {
            connection = try await FingerConnection.open(
                address: options.address, port: options.port, connectTimeout: options.timeout,
                commandTimeout: options.timeout)
        } catch {
            throw SourceFailure(key: "connect: \(error.text)")
        }
        do throws(SourceFailure) {
            var tlsSummary: String?
            if options.wrapper { tlsSummary = try await handshake(connection) }
            try await expect(connection, "greeting") { $0 == 220 }
            var capabilities = try await ehlo(connection)
            if options.startTLS {
                guard capabilities.startTLS else { throw SourceFailure(key: "STARTTLS not offered") }
                await connection.send("STARTTLS")
                try await expect(connection, "STARTTLS") { $0 == 220 }
                tlsSummary = try await handshake(connection)
                capabilities = try await ehlo(connection)
            }
            if let credentials = options.credentials {
                let token = Data("\0\(credentials.user)\0\(credentials.password)".utf8).base64EncodedString()
                await connection.send("AUTH PLAIN \(token)")
                try await expect(connection, "AUTH") { $0 == 235 }
            }
            await tally.connected(tls: tlsSummary)
            return (connection, capabilities)
        } catch {
            await connection.close()
            throw error
        }
    }

    private func ehlo(_ connection: FingerConnection) async throws(SourceFailure) -> EHLOCapabilities {
        await connection.send("EHLO \(options.helo)")
        let reply = try await expect(connection, "EHLO") { $0 == 250 }
        guard let capabilities = EHLOCapabilities(reply: reply) else { throw SourceFailure(key: "malformed EHLO reply") }
        return capabilities
    }

    /// Inserts TLS and waits for the handshake; returns "protocol cipher" for the report.
    private func handshake(_ connection: FingerConnection) async throws(SourceFailure) -> String {
        guard let context = options.tlsContext else { throw SourceFailure(key: "TLS: no client context") }
        let destination = TLSClientDestination(
            nexthop: options.host, hostname: options.host, address: options.address, port: options.port,
            level: options.tlsLevel)
        let timeout = Int64(max(options.timeout, 1))
        do {
            try await connection.startTLS {
                try TLSHandler(
                    context: context, destination: destination, logSink: TLSLogSink { _ in },
                    configuration: TLSHandlerConfiguration(handshakeTimeout: .seconds(timeout)))
            }
        } catch {
            throw SourceFailure(key: "TLS: cannot start: \(error)")
        }
        switch await connection.next() {
        case .tlsEstablished(let result):
            // The handshake completes whatever the certificate; as in Postfix, the level decides whether to go on.
            let session = result.session
            if options.tlsLevel.mustMatch && session.trust != .verified {
                await connection.close()
                let reason = session.verificationFailureLine(peer: destination.peerName)
                    ?? "server certificate not verified for \(destination.peerName)"
                throw SourceFailure(key: "TLS: \(reason)")
            }
            return "\(result.protocolVersion) \(result.cipher.name)"
        case .tlsFailed(let reason):
            throw SourceFailure(key: "TLS handshake failed: \(reason)")
        case .malformed(let reason):
            throw SourceFailure(key: "TLS: \(reason)")
        case .reply, .closed:
            throw SourceFailure(key: "lost connection during the TLS handshake")
        }
    }

    /// MAIL, RCPT × r, DATA and the content; returns the microseconds from sending MAIL to the final 250.
    private func transaction(
        _ number: Int, on connection: FingerConnection, capabilities: EHLOCapabilities
    ) async throws(SourceFailure) -> UInt64 {
        let recipients = Self.recipients(options)
        let content = message.wire(number: number)
        let commands = ["MAIL FROM:<\(options.sender)>"] + recipients.map { "RCPT TO:<\($0)>" } + ["DATA"]
        let clock = ContinuousClock()
        let start = clock.now
        if options.pipelining && capabilities.pipelining {
            await connection.send(commands.joined(separator: "\r\n"))
            try await expect(connection, "MAIL") { $0 == 250 }
            for _ in recipients { try await expect(connection, "RCPT") { $0 == 250 || $0 == 251 } }
            try await expect(connection, "DATA") { $0 == 354 }
        } else {
            await connection.send(commands[0])
            try await expect(connection, "MAIL") { $0 == 250 }
            for command in commands.dropFirst().dropLast() {
                await connection.send(command)
                try await expect(connection, "RCPT") { $0 == 250 || $0 == 251 }
            }
            await connection.send("DATA")
            try await expect(connection, "DATA") { $0 == 354 }
        }
        try? await connection.channel.writeAndFlush(content).get()
        try await expect(connection, "end of data") { $0 == 250 }
        let elapsed = (clock.now - start).components
        return UInt64(max(elapsed.seconds, 0)) * 1_000_000 + UInt64(max(elapsed.attoseconds, 0) / 1_000_000_000_000)
    }

    /// smtp-source's way of making many recipients out of one: a number in front of the address.
    static func recipients(_ options: SourceOptions) -> [String] {
        (1...options.recipients).map { index in
            options.recipients > 1 ? "\(index)\(options.recipient)" : options.recipient
        }
    }

    /// The next reply, which must have a code `accept` takes.
    @discardableResult
    private func expect(
        _ connection: FingerConnection, _ command: String, accept: (Int) -> Bool
    ) async throws(SourceFailure) -> SMTPReply {
        switch await connection.next() {
        case .reply(let reply, _):
            guard accept(reply.code) else { throw .reply(reply.code, to: command) }
            return reply
        case .malformed:
            throw SourceFailure(key: "malformed reply to \(command)")
        case .tlsFailed(let reason):
            throw SourceFailure(key: "TLS failed: \(reason)")
        case .tlsEstablished:
            throw SourceFailure(key: "unexpected TLS event after \(command)")
        case .closed:
            throw SourceFailure(key: "lost connection after \(command)")
        }
    }

    private func quit(_ connection: FingerConnection) async {
        await connection.send("QUIT")
        _ = await connection.next(within: 2)
        await connection.close()
    }
}
