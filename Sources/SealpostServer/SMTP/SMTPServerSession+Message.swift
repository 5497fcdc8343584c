import NIOCore
import SMTPCore
import SealpostPolicy
import SealpostQueue
import SealpostRouting

/// DATA and BDAT: receiving a message into the queue, Postfix's cleanup steps (Received header,
/// virtual alias expansion, missing headers), and the commit behind `250 2.0.0 Ok: queued as ID`.
extension SMTPServerSession {
    /// DATA; false ends the session.
    func data() async -> Bool {
        guard let current = transaction else {
            await replyError("503 5.5.1 Error: need RCPT command")
            return true
        }
        if current.receivingChunks != nil {
            await replyError("503 5.5.1 Error: DATA after BDAT")
            return true
        }
        guard !current.recipients.isEmpty else {
            await replyError("554 5.5.1 Error: no valid recipients")
            return true
        }
        let verdict = await service.policy.checkData(&policySession)
        record(verdict)
        if verdict.hangUp { return false }
        if let rejection = verdict.reply {
            await replyError(policyReplyLines(rejection))
            return true
        }
        guard let reception = await beginReception() else { return true }
        reply(SMTPReply.startMailInput)
        await flush()

        var decoder = DataDecoder(limits: settings.limits)
        while true {
            switch decoder.next(from: &input) {
            case .content(let piece):
                reception.append(piece)
            case .needMoreBytes:
                guard await readMoreContent(for: reception) else { return false }
            case .endOfData(let report):
                accept("DATA")
                return await completeMessage(reception, report: report, command: "DATA")
            }
        }
    }

    /// BDAT size [LAST]; false ends the session.
    func chunk(size: Int, last: Bool) async -> Bool {
        guard var current = transaction else {
            // RFC 3030: the octets must be read anyway, then refused.
            guard await discardOctets(size) else { return false }
            await replyError("503 5.5.1 Error: need RCPT command")
            return true
        }
        guard !current.recipients.isEmpty else {
            guard await discardOctets(size) else { return false }
            await replyError("554 5.5.1 Error: no valid recipients")
            return true
        }
        if size == 0 && !last {
            await replyError(SMTPReply.nullBDATRequest)
            return true
        }
        let reception: MessageReception
        if let existing = current.receivingChunks {
            reception = existing
        } else {
            let verdict = await service.policy.checkData(&policySession, command: "BDAT")
            record(verdict)
            if verdict.hangUp { return false }
            if let rejection = verdict.reply {
                guard await discardOctets(size) else { return false }
                await replyError(policyReplyLines(rejection))
                return true
            }
            guard let started = await beginReception() else {
                return await discardOctets(size)
            }
            reception = started
            current.receivingChunks = started
            transaction = current
        }
        var decoder = transaction?.chunkDecoder ?? ChunkDecoder(limits: settings.limits)
        if decoder.wouldExceedSizeLimit(chunkSize: size) {
            guard await discardOctets(size) else { return false }
            reception.abort()
            transaction = nil
            policySession.resetTransaction()
            await replyError(SMTPReply.chunkExceedsMessageSizeLimit)
            return true
        }
        decoder.startChunk(size: size, last: last)
        while true {
            switch decoder.next(from: &input) {
            case .content(let piece):
                reception.append(piece)
            case .needMoreBytes:
                guard await readMoreContent(for: reception) else { return false }
            case .endOfChunk(let isLast, let report):
                accept("BDAT")
                guard isLast else {
                    transaction?.chunkDecoder = decoder
                    reply("250 2.0.0 Ok: \(size) bytes")
                    return true
                }
                return await completeMessage(reception, report: report, command: "BDAT")
            }
        }
    }

    /// Reads and drops `count` octets of a refused BDAT chunk; false at the end of input.
    private func discardOctets(_ count: Int) async -> Bool {
        var remaining = count
        while remaining > 0 {
            if input.readableBytes == 0 {
                guard await readMore() else { return false }
            }
            let skip = min(remaining, input.readableBytes)
            input.moveReaderIndex(forwardBy: skip)
            remaining -= skip
        }
        return true
    }

    // MARK: - Cleanup and queueing

    /// Expands the recipients, creates the queue file and writes the Received header; nil (after
    /// replying) when the message cannot be accepted now.
    private func beginReception() async -> MessageReception? {
        guard let current = transaction else { return nil }
        var recipients: [QueueRecipient] = []
        do {
            for (path, parameters) in current.recipients {
                let original = path.mailbox?.isBarePostmaster == true ? "postmaster" : path.address
                for address in try service.aliases.expand(original) {
                    recipients.append(
                        QueueRecipient(
                            address: address, originalAddress: address == original ? nil : original,
                            notify: Self.notify(parameters.notify),
                            originalRecipient: parameters.originalRecipient.map { "\($0.addressType);\($0.address)" }))
                }
            }
        } catch {
            log.warning("\(error.warning) -- message not accepted, try again later")
            await replyError("451 \(error.dsn) Error: \(error.reason)")
            endTransaction()
            return nil
        }
        let arrival = MailDate.now()
        var envelope = QueueEnvelope(
            sender: current.sender.address, recipients: recipients, arrival: QueueTimestamp(seconds: Int64(arrival)),
            clientName: policySession.client.name, clientAddress: policySession.client.address,
            clientPort: policySession.client.port, heloName: heloName, protocolName: withProtocol,
            saslMethod: sasl?.method, saslUsername: sasl?.username,
            tlsSummary: tlsInfo?.summaryLine(peer: clientLabel, sni: tlsInfo?.acceptedServerName), milterDaemonName: settings.milterDaemonName,
            envelopeID: current.parameters.envelopeID,
            returnContent: current.parameters.returnContent.map { $0 == .full ? .full : .headers },
            bodyType: current.parameters.body.map(Self.bodyType),
            smtputf8: current.parameters.smtpUTF8, declaredSize: current.parameters.size)
        if policySession.actions.hold { envelope.attributes["hold"] = "yes" }
        let writer: MessageWriter
        do {
            writer = try service.queue.makeWriter(envelope: envelope)
        } catch {
            log.warning("queue file write error: \(error)")
            await replyError(Self.storageFailureReply(error))
            endTransaction()
            return nil
        }
        policySession.queueID = writer.id.description
        var clientLine = "\(writer.id): client=\(clientLabel)"
        if let sasl { clientLine += ", sasl_method=\(sasl.method), sasl_username=\(sasl.username)" }
        log.info("\(clientLine)")
        let reception = MessageReception(
            writer: writer, addsMissingHeaders: sasl != nil, hostname: settings.hostname, arrival: arrival,
            headerSizeLimit: settings.headerSizeLimit)
        reception.prepend(lines: policySession.actions.prependedHeaders + receivedHeader(queueID: writer.id.description, arrival: arrival))
        return reception
    }

    /// Postfix's replies when the queue cannot take a message: a full file system is
    /// `452 4.3.1`, any other failure (EIO, permissions) cleanup's `451 4.3.0`.
    static func storageFailureReply(_ error: any Error) -> String {
        if let queueError = error as? QueueError, queueError.code == .insufficientStorage {
            return "452 4.3.1 Insufficient system storage"
        }
        return "451 4.3.0 Error: queue file write error"
    }

    /// After the last octet: size and content checks, end-of-data restrictions, the commit.
    private func completeMessage(_ reception: MessageReception, report: MessageContentReport, command: String) async -> Bool {
        defer {
            transaction = nil
            policySession.resetTransaction()
        }
        if report.exceededSizeLimit {
            reception.abort()
            log.info("\(reception.queueID): reject: \(command) from \(clientLabel): 552 5.3.4 Message size exceeds fixed limit")
            await replyError("552 5.3.4 Message size exceeds fixed limit")
            return true
        }
        if report.bareLineFeeds > 0 && settings.bareNewline == .reject && !isExemptFromBareNewlineRules {
            reception.abort()
            log.info("\(reception.queueID): reject: \(command) from \(clientLabel): bare <LF> received")
            reply(SMTPReply.bareLineFeedReceived(myHostname: settings.hostname, code: settings.bareNewlineRejectCode))
            return false
        }
        let verdict = await service.policy.checkEndOfData(&policySession)
        record(verdict)
        if verdict.hangUp {
            reception.abort()
            return false
        }
        if let rejection = verdict.reply {
            reception.abort()
            await replyError(policyReplyLines(rejection))
            return true
        }
        let writer = reception.finish()
        if let failure = reception.failure {
            reception.abort()
            log.warning("\(reception.queueID): queue file write error: \(failure)")
            await replyError(Self.storageFailureReply(failure))
            return true
        }
        if policySession.actions.discard {
            reception.abort()
            log.info("\(reception.queueID): discard: \(command) from \(clientLabel)")
            reply("250 2.0.0 Ok: queued as \(reception.queueID)")
            return true
        }
        let id: QueueID
        do {
            id = try await service.queue.commit(writer)
        } catch {
            log.warning("\(reception.queueID): queue file write error: \(error)")
            await replyError(Self.storageFailureReply(error))
            return true
        }
        if let messageID = reception.messageID { service.cleanupLog.info("\(id): message-id=\(messageID)") }
        let recipientCount = writer.envelope.recipients.count
        service.qmgrLog.info("\(id): from=<\(writer.envelope.sender)>, size=\(writer.contentLength), nrcpt=\(recipientCount) (queue active)")
        reply("250 2.0.0 Ok: queued as \(id)")
        service.onCommitted(id)
        return true
    }

    // MARK: - The Received header

    /// `ESMTP`, `ESMTPS`, `ESMTPSA`, `SMTP`, or `UTF8SMTP…` (RFC 3848, as Postfix writes it).
    var withProtocol: String {
        if transaction?.parameters.smtpUTF8 == true { return "UTF8SMTP" + rfc3848Suffix }
        return (isESMTP ? "ESMTP" : "SMTP") + rfc3848Suffix
    }

    private var rfc3848Suffix: String {
        guard isESMTP else { return "" }
        return (tlsInfo != nil ? "S" : "") + (sasl != nil ? "A" : "")
    }

    /// Postfix's Received header (smtpd.c): client, TLS details when `smtpd_tls_received_header`,
    /// the authenticated sender when `smtpd_sasl_authenticated_header`, our name, protocol, queue
    /// ID, the recipient when there is exactly one, and the date.
    func receivedHeader(queueID: String, arrival: Int) -> [String] {
        let client = policySession.client
        var lines = ["Received: from \(heloName ?? client.name) (\(client.name) [\(client.address)])"]
        if settings.tlsReceivedHeader, let tlsInfo { lines += tlsInfo.receivedHeaderLines }
        if settings.saslAuthenticatedHeader, let sasl { lines.append("\t(Authenticated sender: \(Self.commentSanitized(sasl.username)))") }
        let recipients = transaction?.recipients ?? []
        if recipients.count == 1, let only = recipients.first {
            lines.append("\tby \(settings.hostname) (\(settings.mailName)) with \(withProtocol) id \(queueID)")
            lines.append("\tfor \(only.path.canonicalForm); \(MailDate.format(arrival))")
        } else {
            lines.append("\tby \(settings.hostname) (\(settings.mailName)) with \(withProtocol) id \(queueID);")
            lines.append("\t\(MailDate.format(arrival))")
        }
        return lines
    }

    /// Postfix's comment_sanitize(): no unbalanced parentheses, no backslashes or control
    /// characters in a header comment.
    static func commentSanitized(_ text: String) -> String {
        var depth = 0
        var result = ""
        for character in text {
            switch character {
            case "(":
                depth += 1
                result.append(character)
            case ")":
                if depth > 0 {
                    depth -= 1
                    result.append(character)
                } else {
                    result.append("_")
                }
            case "\\": result.append("_")
            default:
                result.append(character.isASCII && (character.asciiValue! < 32 || character.asciiValue! == 127) ? "_" : character)
            }
        }
        return result + String(repeating: ")", count: depth)
    }

    static func notify(_ notify: RecipientParameters.Notify?) -> DSNNotify {
        guard let notify else { return [] }
        var result: DSNNotify = []
        if notify.contains(.never) { result.insert(.never) }
        if notify.contains(.success) { result.insert(.success) }
        if notify.contains(.failure) { result.insert(.failure) }
        if notify.contains(.delay) { result.insert(.delay) }
        return result
    }

    static func bodyType(_ body: MailParameters.Body) -> BodyType {
        switch body {
        case .sevenBit: .sevenBit
        case .eightBitMIME: .eightBitMIME
        case .binaryMIME: .binaryMIME
        }
    }

    /// Reads more of a message; when the client is gone, the message and its transaction are dropped.
    private func readMoreContent(for reception: MessageReception) async -> Bool {
        if await readMore() { return true }
        reception.abort()
        transaction = nil
        return false
    }
}
