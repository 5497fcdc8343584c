import NIOCore
import SMTPCore
import SealpostPolicy
import SealpostSASL
import SealpostTLS

/// STARTTLS and AUTH.
extension SMTPServerSession {
    // MARK: - STARTTLS (RFC 3207)

    /// STARTTLS; false ends the session.
    func startTLS() async -> Bool {
        guard settings.tlsLevel != .none, let context = service.tls else {
            await replyError("502 5.5.1 Error: command not implemented")
            return true
        }
        if tlsInfo != nil {
            await replyError("554 5.5.1 Error: TLS already active")
            return true
        }
        // As Postfix: a client already over smtpd_client_new_tls_session_rate_limit is refused
        // before the handshake; the handshake itself is counted once it is done (`countNewTLSSession`).
        if service.limiter.isOverLimit(.newTLSSession, address: policySession.client.address, name: policySession.client.name) {
            log.warning("Refusing STARTTLS request from \(clientLabel) for service \(service.serviceKey)")
            await replyError("454 4.7.0 Error: too many new TLS sessions from \(clientLabel)")
            return true
        }
        // Pipelined plaintext after STARTTLS is an injection attempt (CVE-2011-0411): it is
        // discarded, never read as a command inside the TLS session.
        if hasPendingInput() {
            log.info("\(policySession.client.name)[\(policySession.client.address)]: discarding \(input.readableBytes) bytes of plaintext pipelined after STARTTLS")
            input.clear()
        }
        await flush()
        accept("STARTTLS")
        discardingUntilTLS = true
        var reply = channel.allocator.buffer(capacity: 32)
        reply.writeString("220 2.0.0 Ready to start TLS\r\n")
        do {
            try await SMTPConnectionHandler.startTLS(
                on: channel, context: context, reply: reply, configuration: settings.tlsHandlerConfiguration,
                peerName: clientLabel
            ).get()
        } catch {
            log.warning("cannot start TLS for \(clientLabel): \(error)")
            return false
        }
        // Wait for the handshake: a session without TLS cannot continue.
        while tlsInfo == nil {
            guard await readMore(orHandshake: true) else { return false }
        }
        return await countNewTLSSession()
    }

    /// Counts a new (not resumed) TLS session towards smtpd_client_new_tls_session_rate_limit
    /// once its handshake is done; over the limit, the session ends with Postfix's 421. False
    /// ends the session. (The CPU of that handshake is spent; the refusal before the next one
    /// is what protects the server.)
    func countNewTLSSession() async -> Bool {
        guard let info = tlsInfo, !info.isResumed else { return true }
        guard case .refused(let count) = service.limiter.admit(
            .newTLSSession, address: policySession.client.address, name: policySession.client.name)
        else { return true }
        log.warning("New TLS session rate limit exceeded: \(count) from \(clientLabel) for service \(service.serviceKey)")
        await send("421 4.7.0 \(settings.hostname) Error: too many new TLS sessions from \(clientLabel)")
        return false
    }

    /// The handshake finished: RFC 3207 says to forget everything learned before it.
    func tlsEstablished(_ result: TLSHandshakeResult) {
        let info = result.session
        tlsInfo = info
        log.info("\(info.summaryLine(peer: clientLabel, sni: info.acceptedServerName))")
        if let line = info.verificationFailureLine(peer: clientLabel) { log.info("\(line)") }
        policySession.tls = TLSSessionFacts(
            peerCertificatePresent: info.peerCommonName != nil || !info.peerCertificates.isEmpty,
            peerCertificateVerified: info.trust == .trusted || info.trust == .verified,
            subjectCommonName: info.peerCommonName ?? "", issuerCommonName: info.issuerCommonName ?? "",
            certificateFingerprint: info.peerFingerprint ?? "", publicKeyFingerprint: info.peerPublicKeyFingerprint ?? "")
        endTransaction()
        heloName = nil
        isESMTP = false
        sasl = nil
        policySession.heloName = nil
        policySession.sasl = nil
        policySession.protocolName = "SMTP"
    }

    // MARK: - AUTH (RFC 4954)

    /// The mechanisms EHLO announces, or nil when AUTH is not offered to this session.
    func offeredMechanisms() async -> [String]? {
        guard settings.saslEnabled, let authenticator = service.authenticator else { return nil }
        if settings.authOnlyWithTLS && tlsInfo == nil { return nil }
        // Postfix hides AUTH from these clients in EHLO only; an AUTH command still works.
        if service.saslExempt(policySession.client.address, policySession.client.name) { return nil }
        do {
            return try await authenticator.mechanisms(encrypted: tlsInfo != nil).map(\.description)
        } catch {
            log.warning("SASL authentication problem: \(error.description)")
            return nil
        }
    }

    /// AUTH; false ends the session.
    func authenticate(mechanism: String, initialResponse: String?) async -> Bool {
        guard settings.saslEnabled, let authenticator = service.authenticator,
            !(settings.authOnlyWithTLS && tlsInfo == nil)
        else {
            // Not announced before TLS with smtpd_tls_auth_only: refuse as if unknown.
            if settings.saslEnabled && settings.authOnlyWithTLS && tlsInfo == nil {
                await replyError(Self.reply(SASLReply.encryptionRequired))
            } else {
                await replyError(Self.reply(SASLReply.notEnabled))
            }
            return true
        }
        if settings.heloRequired && heloName == nil || heloName == nil && !isESMTP {
            // RFC 4954: AUTH needs EHLO.
            await replyError(Self.reply(SASLReply.sendHELOFirst))
            return true
        }
        if sasl != nil {
            await replyError(Self.reply(SASLReply.alreadyAuthenticated))
            return true
        }
        if transaction != nil {
            await replyError(Self.reply(SASLReply.transactionInProgress))
            return true
        }
        let address = policySession.client.address
        switch service.authThrottle.authCommand(from: address) {
        case .proceed:
            break
        case .rateLimited(let count):
            log.warning("AUTH command rate limit exceeded: \(count) from \(clientLabel) for service \(service.serviceKey)")
            await replyError(Self.reply(SASLReply.tooManyAuthCommands(from: address)))
            return true
        case .blocked:
            await send(Self.reply(SASLReply.tooManyErrors(hostname: settings.hostname)))
            return false
        }
        let session = SASLSessionInfo(
            clientAddress: address, clientPort: Int(policySession.client.port),
            serverAddress: channel.localAddress?.ipAddress ?? "", serverPort: channel.localAddress?.port,
            isEncrypted: tlsInfo != nil)
        let result: AuthenticationResult
        do {
            result = try await authenticator.authenticate(
                mechanism: mechanism, initialResponse: initialResponse, session: session
            ) { challenge, limit in
                try await self.exchange(challenge: challenge, limit: limit)
            }
        } catch {
            return false
        }
        if let warning = result.warning(client: clientLabel) { log.warning("\(warning)") }
        if let username = result.username, result.reply.code == 235 {
            sasl = SASLLogin(method: result.mechanism, username: username)
            policySession.sasl = sasl
            accept("AUTH")
            reply(Self.reply(result.reply))
            return true
        }
        if result.isFailedLogin {
            switch service.authThrottle.failedLogin(from: address) {
            case .cutOff(let delay):
                await flush()
                try? await Task.sleep(for: delay)
                reply(Self.reply(result.reply))
                await send(Self.reply(SASLReply.tooManyErrors(hostname: settings.hostname)))
                return false
            case .delay(let delay):
                if delay > .zero {
                    await flush()
                    try? await Task.sleep(for: delay)
                }
            }
        }
        await replyError(Self.reply(result.reply))
        return true
    }

    /// Sends a `334` challenge and reads the client's answer line.
    private func exchange(challenge: String, limit: Int) async throws -> SASLAuthenticator.ClientResponse {
        reply(challenge)
        await flush()
        let saved = framer.lineLengthLimit
        framer.lineLengthLimit = limit
        defer { framer.lineLengthLimit = saved }
        while true {
            switch framer.next(from: &input) {
            case .line(let line):
                return .line(Array(line.bytes.readableBytesView))
            case .lineTooLong:
                return .tooLong
            case .needMoreBytes:
                guard await readMore() else { throw CancellationError() }
            }
        }
    }

    static func reply(_ sasl: SASLReply) -> String {
        "\(sasl.code) \(sasl.enhancedStatusCode) \(sasl.text)"
    }
}
