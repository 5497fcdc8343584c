import Logging
import NIOCore
import SealpostDNS
import SealpostQueue
import SealpostTLS

/// Postfix's smtp(8) and lmtp(8) delivery agents: finds the servers of a next hop (MX lookup,
/// implicit MX, null MX, `[host]:port`, LMTP sockets), tries them in order until one takes the
/// message, and reports a result per recipient in Postfix's words.
///
/// A 4xx reply or a failed connection moves on to the next address (at most `smtp_mx_address_limit`
/// addresses and `smtp_mx_session_limit` sessions); a recipient the server deferred is offered to
/// the next server too, as Postfix does, and deferred for good only by the last one. After a
/// delivery the connection is kept for the next request to the same destination
/// (`smtp_connection_cache_on_demand`), with an RSET probe before it is used again.
public final class SMTPDeliveryAgent: DeliveryAgent {
    public let settings: SMTPClientSettings
    private let resolver: any MailDNSResolver
    private let group: any EventLoopGroup
    private let logger: Logger
    /// The TLS engine's client context (with its per-destination session cache); nil when TLS is never used.
    public let tlsContext: TLSContext?
    private let pool: SMTPConnectionPool

    /// An agent for one transport. Throws when the TLS settings cannot make a context although a
    /// level or a policy table asks for TLS.
    public init(settings: SMTPClientSettings, resolver: any MailDNSResolver, group: any EventLoopGroup, logger: Logger)
        throws(SMTPClientConfigurationError)
    {
        self.settings = settings
        self.resolver = resolver
        self.group = group
        self.logger = logger
        let wantsTLS = settings.tls.defaultLevel > .none || settings.tlsPolicy != nil || settings.tlsWrapperMode
        if wantsTLS {
            do {
                tlsContext = try TLSClientContextBuilder.makeContext(settings.tls, logger: logger)
            } catch {
                throw SMTPClientConfigurationError(parameter: error.parameter, reason: error.reason)
            }
        } else {
            tlsContext = nil
        }
        pool = SMTPConnectionPool(
            idleLimit: settings.connectionCacheTimeLimit, ageLimit: settings.connectionReuseTimeLimit,
            countLimit: settings.connectionReuseCountLimit)
    }

    /// Closes the connections kept for reuse.
    public func shutdown() {
        pool.closeAll()
    }

    /// How many idle connections are kept now (for tests and `sealpost status`).
    public var cachedConnectionCount: Int { pool.count }

    public func deliver(_ request: DeliveryRequest) async -> DeliveryReport {
        let start = ContinuousClock.now
        let label = settings.protocolKind.rawValue
        let nexthop: MailNexthop
        do {
            nexthop = try MailNexthop(parsing: request.nexthop, protocolKind: settings.protocolKind, defaultPort: settings.defaultPort)
        } catch {
            logger.warning("\(request.queueID): \(error)")
            return .all(request, .deferred, dsn: "4.3.5", text: "\(error)")
        }

        // The TLS policy of this destination.
        var policy: SMTPTLSPolicy?
        do {
            policy = try settings.tlsPolicy?.policy(for: request.nexthop)
        } catch {
            logger.warning("\(error)")
            return .all(request, .deferred, dsn: "4.7.0", text: "client TLS configuration problem")
        }
        if let policy, !policy.unappliedAttributes.isEmpty {
            logger.warning(
                "\(settings.prefix)_tls_policy_maps: attributes \(policy.unappliedAttributes.joined(separator: ", ")) for \(request.nexthop) are not implemented by Sealpost and have no effect")
        }
        var level = policy?.level ?? settings.tls.defaultLevel
        if settings.tlsWrapperMode && level < .encrypt { level = .encrypt }
        if case .unixSocket = nexthop, policy == nil, level == .may { level = .none }
        if level > .none && tlsContext == nil {
            if level.requiresTLS {
                return .all(request, .deferred, dsn: "4.7.5", text: "TLS is required, but our TLS engine is unavailable")
            }
            level = .none
        }

        let transaction = SMTPClientTransaction(
            sender: request.sender,
            recipients: request.recipients.map {
                SMTPClientTransaction.Recipient(
                    index: $0.index, address: $0.address, notify: $0.notify, originalRecipient: $0.originalRecipient)
            },
            size: request.contentLength, bodyType: request.envelope.bodyType, smtputf8: request.envelope.smtputf8,
            envelopeID: request.envelope.envelopeID, returnContent: request.envelope.returnContent)

        let poolKey = "\(request.transport)|\(request.nexthop)|\(settings.sasl.senderDependent ? request.sender : "")"

        var collector = ResultCollector(request: request, label: label, assumeFinal: settings.assumeFinal)

        // A kept connection first: no DNS, no handshake.
        if settings.connectionCacheOnDemand, let connection = pool.take(poolKey) {
            if let result = await connection.run(transaction, openContent: request.openContent), !Self.probeFailed(result) {
                collector.take(result, target: connection.target, final: true, logger: logger, queueID: request.queueID)
                finish(connection: connection, result: result, key: poolKey)
                return collector.report(start: start, setupDone: result.setupDone)
            }
            connection.channel.close(promise: nil)
        }

        // Where to go.
        let targets: [SMTPTarget]
        switch await resolve(nexthop) {
        case .success(let found):
            targets = found
        case .failure(let failure):
            return .all(
                request, failure.dsn.hasPrefix("5") ? .bounced : .deferred, dsn: failure.dsn, text: failure.text,
                setupSeconds: Self.seconds(ContinuousClock.now - start))
        }

        var sessions = 0
        var setupDone: ContinuousClock.Instant?
        let addressLimit = settings.mxAddressLimit > 0 ? min(settings.mxAddressLimit, targets.count) : targets.count
        var position = 0
        var plaintextRetry = false
        while position < addressLimit, !collector.remaining.isEmpty {
            let target = targets[position]
            let isFinal = position == addressLimit - 1
                || (settings.mxSessionLimit > 0 && sessions + 1 >= settings.mxSessionLimit && !plaintextRetry)
            let effectiveLevel = plaintextRetry ? .none : level
            let credentials: SASLCredentials?
            do {
                credentials = try lookUpCredentials(request: request, host: target.hostname)
            } catch {
                logger.warning("\(settings.prefix)_sasl_password_maps: \(error)")
                return .all(request, .deferred, dsn: "4.7.0", text: "\(label) client configuration problem: \(error)")
            }
            let configuration = SMTPClientSessionConfiguration(
                protocolKind: settings.protocolKind, heloName: settings.heloName, myHostname: settings.myHostname,
                peerName: target.peerName, nexthop: request.nexthop, tlsLevel: effectiveLevel,
                wrapperMode: settings.tlsWrapperMode && effectiveLevel > .none, skip5xxGreeting: settings.skip5xxGreeting,
                neverSendEHLO: settings.neverSendEHLO, alwaysSendEHLO: settings.alwaysSendEHLO, isBestMX: target.isBestMX,
                loopDetection: settings.protocolKind == .smtp && target.port == 25, noteStartTLSOffer: settings.noteStartTLSOffer && !plaintextRetry, credentials: credentials,
                saslPlaintextOptions: settings.sasl.plaintextOptions, saslTLSOptions: settings.sasl.tlsOptions,
                saslMechanismFilter: settings.sasl.mechanismFilter, saslSoftBounce: settings.sasl.softBounce,
                timeouts: settings.timeouts)
            let remainingTransaction = SMTPClientTransaction(
                sender: transaction.sender, recipients: transaction.recipients.filter { collector.remaining.contains($0.index) },
                size: transaction.size, bodyType: transaction.bodyType, smtputf8: transaction.smtputf8,
                envelopeID: transaction.envelopeID, returnContent: transaction.returnContent)
            let machine = SMTPClientStateMachine(configuration: configuration, transaction: remainingTransaction)
            let opened = await SMTPClientConnection.open(
                target: target, machine: machine, transaction: remainingTransaction, openContent: request.openContent,
                makeTLS: effectiveLevel > .none ? tlsFactory(level: effectiveLevel, policy: policy, nexthop: nexthop, target: target) : nil,
                settings: settings, group: group, logger: logger)
            plaintextRetry = false
            switch opened {
            case .failure(let failure):
                logger.info("\(failure.text)")
                collector.connectFailed(failure.text)
                position += 1
                continue
            case .success(let (connection, result)):
                if effectiveLevel == .may, Self.wantsPlaintextRetry(result),
                   QueueTimestamp.now().seconds - request.arrival.seconds >= Int64(settings.minimalBackoffTime)
                {
                    // Postfix's RETRY_AS_PLAINTEXT: the same address once more, without STARTTLS,
                    // not counted against smtp_mx_session_limit; only for mail that has already
                    // waited minimal_backoff_time (PLAINTEXT_FALLBACK_OK_AFTER_STARTTLS_FAILURE).
                    logger.info("\(request.queueID): \(Self.firstFailureText(result) ?? "TLS failed"); retrying \(target.peerNameWithPort) without TLS")
                    plaintextRetry = true
                    continue
                }
                sessions += 1
                setupDone = setupDone ?? result.setupDone
                collector.take(result, target: target, final: isFinal, logger: logger, queueID: request.queueID)
                finish(connection: connection, result: result, key: poolKey)
            }
            if settings.mxSessionLimit > 0 && sessions >= settings.mxSessionLimit { break }
            position += 1
        }
        collector.deferRemaining()
        return collector.report(start: start, setupDone: setupDone)
    }

    // MARK: Steps

    private func finish(connection: SMTPClientConnection, result: SMTPTransactionResult, key: String) {
        if result.reusable && settings.connectionCacheOnDemand && settings.connectionCacheTimeLimit > 0 {
            pool.park(connection, key: key)
        } else if result.reusable {
            connection.quit()
        }
    }

    private func tlsFactory(
        level: TLSClientSecurityLevel, policy: SMTPTLSPolicy?, nexthop: MailNexthop, target: SMTPTarget
    ) -> SMTPClientHandler.TLSFactory? {
        guard let tlsContext else { return nil }
        let address: String
        let port: Int
        switch target.endpoint {
        case .inet(let a, let p): (address, port) = (a, p)
        case .unix(let path): (address, port) = (path, 0)
        }
        let destination = TLSClientDestination(
            nexthop: nexthop.name, hostname: target.hostname, address: address, port: port, level: level,
            matchNames: policy?.matchNames, fingerprints: policy?.fingerprints, serverName: policy?.serverName,
            protocols: policy?.protocols, cipherGrade: policy?.cipherGrade, exclusions: policy?.exclusions ?? [])
        let timeout = settings.timeouts.startTLS
        return {
            try TLSHandler(
                context: tlsContext, destination: destination,
                configuration: TLSHandlerConfiguration(handshakeTimeout: timeout > 0 ? .seconds(Int64(timeout)) : nil))
        }
    }

    /// `smtp_sasl_password_maps` as Postfix's `smtp_sasl_passwd_lookup()` searches it: the sender
    /// (with `smtp_sender_dependent_authentication`, SMTP only; the address, then `@domain`), the
    /// host name of the server being tried, then the next hop as written (`[smtp.example]:587`).
    private func lookUpCredentials(request: DeliveryRequest, host: String) throws -> SASLCredentials? {
        guard settings.sasl.enabled, let maps = settings.sasl.passwordMaps else { return nil }
        var keys: [String] = []
        if settings.protocolKind == .smtp && settings.sasl.senderDependent && !request.sender.isEmpty {
            keys.append(request.sender)
            if let at = request.sender.lastIndex(of: "@") { keys.append(String(request.sender[at...])) }
        }
        keys.append(host)
        keys.append(request.nexthop)
        for key in keys {
            if let found = try maps.lookup(key) {
                guard let credentials = SASLCredentials(tableValue: found.value) else {
                    logger.warning("\(settings.prefix)_sasl_password_maps: value for \(key) is not username:password")
                    return nil
                }
                return credentials
            }
        }
        return nil
    }

    private struct ResolveFailure: Error {
        var dsn: String
        var text: String
    }

    /// The servers of a next hop in the order they are tried.
    private func resolve(_ nexthop: MailNexthop) async -> Result<[SMTPTarget], ResolveFailure> {
        switch nexthop {
        case .unixSocket(let path):
            return .success([SMTPTarget(hostname: settings.myHostname, endpoint: .unix(path: path), isBestMX: true)])
        case .host(let name, let port):
            return selfChecked(await hostTargets(name, port: port, isBestMX: true), name: name, port: port)
        case .mailDomain(let name, let port):
            if Self.isAddressLiteral(name) {
                return selfChecked(await hostTargets(name, port: port, isBestMX: true), name: name, port: port)
            }
            switch await resolver.mailExchangers(of: name) {
            case .nullMX:
                return .failure(ResolveFailure(dsn: "5.1.10", text: "Domain \(name) does not accept mail (nullMX)"))
            case .notFound:
                return selfChecked(await hostTargets(name, port: port, isBestMX: true), name: name, port: port)
            case .temporaryFailure(let reason):
                logger.debug("MX lookup of \(name): \(reason)")
                return .failure(ResolveFailure(
                    dsn: "4.4.3", text: "Host or domain name not found. Name service error for name=\(name) type=MX: Host not found, try again"))
            case .permanentFailure(let reason):
                logger.info("MX lookup of \(name): \(reason)")
                return .failure(ResolveFailure(
                    dsn: "4.4.3", text: "Host or domain name not found. Name service error for name=\(name) type=MX: \(reason)"))
            case .found(let exchangers, _):
                var targets: [SMTPTarget] = []
                var lastFailure: ResolveFailure?
                let best = exchangers.map(\.preference).min()
                for exchanger in exchangers {
                    switch await hostTargets(exchanger.host, port: port, isBestMX: exchanger.preference == best) {
                    case .success(let found):
                        targets += found.map { var target = $0; target.preference = Int(exchanger.preference); return target }
                    case .failure(let failure): lastFailure = failure
                    }
                }
                if targets.isEmpty {
                    logger.warning("no MX host for \(name) has a valid address record")
                    return .failure(lastFailure ?? ResolveFailure(dsn: "4.4.4", text: "no MX host for \(name) has an address"))
                }
                guard loopDetection(port: port) else { return .success(targets) }
                return Self.truncateSelf(targets, ownAddresses: settings.ownAddresses, bestPreference: Int(best ?? 0), name: name)
                    .mapError { ResolveFailure(dsn: $0.dsn, text: $0.text) }
            }
        }
    }

    /// Postfix checks for loops only when it speaks SMTP to port 25: a content filter on another
    /// port of this host is not a loop.
    private func loopDetection(port: Int) -> Bool {
        settings.protocolKind == .smtp && port == 25 && !settings.ownAddresses.isEmpty
    }

    /// A host (not MX) destination that is this machine is a loop (Postfix's `smtp_host_addr()`).
    private func selfChecked(_ found: Result<[SMTPTarget], ResolveFailure>, name: String, port: Int) -> Result<[SMTPTarget], ResolveFailure> {
        guard loopDetection(port: port), case .success(let targets) = found,
              targets.contains(where: { $0.address.map { settings.ownAddresses.contains($0.lowercased()) } ?? false })
        else { return found }
        return .failure(ResolveFailure(dsn: "5.4.6", text: "mail for \(name) loops back to myself"))
    }

    /// Postfix's `smtp_truncate_self()`: MX hosts at or after our own preference are dropped; when
    /// nothing better is left, mail loops back (or, when the best MX hosts had no address, no
    /// primary relay is known).
    static func truncateSelf(
        _ targets: [SMTPTarget], ownAddresses: Set<String>, bestPreference: Int, name: String
    ) -> Result<[SMTPTarget], SMTPSessionFailure> {
        guard let own = targets.first(where: { $0.address.map { ownAddresses.contains($0.lowercased()) } ?? false }) else {
            return .success(targets)
        }
        let kept = targets.filter { $0.preference < own.preference }
        if !kept.isEmpty { return .success(kept) }
        let bestFound = targets.map(\.preference).min() ?? own.preference
        if bestFound != bestPreference {
            return .failure(SMTPSessionFailure(dsn: "4.4.4", text: "unable to find primary relay for \(name)"))
        }
        return .failure(SMTPSessionFailure(dsn: "5.4.6", text: "mail for \(name) loops back to myself"))
    }

    private func hostTargets(_ host: String, port: Int, isBestMX: Bool) async -> Result<[SMTPTarget], ResolveFailure> {
        if Self.isAddressLiteral(host) {
            return .success([SMTPTarget(hostname: host, endpoint: .inet(address: host, port: port), isBestMX: isBestMX)])
        }
        let type = settings.addressFamilies.first == .ipv6 ? "AAAA" : "A"
        switch await resolver.addresses(of: host, families: settings.addressFamilies) {
        case .found(let addresses, _) where !addresses.isEmpty:
            return .success(addresses.map { SMTPTarget(hostname: host, endpoint: .inet(address: $0, port: port), isBestMX: isBestMX) })
        case .found, .notFound, .nullMX:
            return .failure(ResolveFailure(
                dsn: "5.4.4", text: "Host or domain name not found. Name service error for name=\(host) type=\(type): Host not found"))
        case .temporaryFailure:
            return .failure(ResolveFailure(
                dsn: "4.4.3",
                text: "Host or domain name not found. Name service error for name=\(host) type=\(type): Host not found, try again"))
        case .permanentFailure(let reason):
            return .failure(ResolveFailure(
                dsn: "4.4.3", text: "Host or domain name not found. Name service error for name=\(host) type=\(type): \(reason)"))
        }
    }

    static func isAddressLiteral(_ text: String) -> Bool {
        (try? SocketAddress(ipAddress: text, port: 0)) != nil
    }

    /// Whether a kept connection failed its RSET probe: nothing of this message was sent, so a
    /// new connection may try again. (A failure later in the transaction is reported as is.)
    private static func probeFailed(_ result: SMTPTransactionResult) -> Bool {
        result.outcome.recipients.values.allSatisfy {
            if case .failed(let failure) = $0 { return failure.text.contains("RSET probe") }
            return false
        }
    }

    private static func wantsPlaintextRetry(_ result: SMTPTransactionResult) -> Bool {
        result.outcome.recipients.values.contains {
            if case .failed(let failure) = $0 { return failure.retryInPlaintext }
            return false
        }
    }

    private static func firstFailureText(_ result: SMTPTransactionResult) -> String? {
        for outcome in result.outcome.recipients.values {
            if case .failed(let failure) = outcome { return failure.text }
        }
        return nil
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// Turns per-server outcomes into the request's per-recipient results, keeping deferred
/// recipients for the next server until the final one.
private struct ResultCollector {
    let request: DeliveryRequest
    let label: String
    let assumeFinal: Bool
    var results: [Int: RecipientResult] = [:]
    var remaining: Set<Int>
    var lastFailure: RecipientResult?
    /// The latest soft result of each recipient still remaining, used if no server takes it.
    var provisional: [Int: RecipientResult] = [:]

    init(request: DeliveryRequest, label: String, assumeFinal: Bool) {
        self.request = request
        self.label = label
        self.assumeFinal = assumeFinal
        remaining = Set(request.recipients.map(\.index))
    }

    mutating func connectFailed(_ text: String) {
        for index in remaining {
            provisional[index] = RecipientResult(index: index, status: .deferred, dsn: "4.4.1", text: text, relay: "none")
        }
    }

    mutating func take(_ result: SMTPTransactionResult, target: SMTPTarget, final: Bool, logger: Logger, queueID: QueueID) {
        let relay = target.peerNameWithPort
        let remoteMTA = "dns; \(target.hostname)"
        for (index, outcome) in result.outcome.recipients {
            let recipientResult: RecipientResult
            switch outcome {
            case .delivered(let reply):
                recipientResult = RecipientResult(
                    index: index, status: .sent, dsn: reply.dsn, text: reply.text, relay: relay, remoteMTA: remoteMTA,
                    diagnostic: "\(label); \(reply.text)", action: result.outcome.serverSupportsDSN || assumeFinal ? .delivered : .relayed)
            case .refused(let reply, let command):
                recipientResult = RecipientResult(
                    index: index, status: reply.code >= 500 ? .bounced : .deferred, dsn: reply.dsn,
                    text: "host \(target.peerName) said: \(reply.text) (in reply to \(command))", relay: relay,
                    remoteMTA: remoteMTA, diagnostic: "\(label); \(reply.text)")
            case .failed(let failure):
                recipientResult = RecipientResult(
                    index: index, status: failure.isTemporary ? .deferred : .bounced, dsn: failure.dsn, text: failure.text,
                    relay: relay, remoteMTA: failure.byRemoteServer ? remoteMTA : nil,
                    diagnostic: failure.reply.map { "\(label); \($0.text)" })
            }
            if recipientResult.status == .deferred && !final {
                if provisional[index]?.text != recipientResult.text {
                    logger.info("\(queueID): \(recipientResult.text)")
                }
                provisional[index] = recipientResult
                continue
            }
            results[index] = recipientResult
            remaining.remove(index)
        }
    }

    mutating func deferRemaining() {
        for index in remaining {
            results[index] = provisional[index]
                ?? RecipientResult(index: index, status: .deferred, dsn: "4.4.1", text: "no server could be reached", relay: "none")
        }
        remaining = []
    }

    func report(start: ContinuousClock.Instant, setupDone: ContinuousClock.Instant?) -> DeliveryReport {
        let end = ContinuousClock.now
        let setup = setupDone ?? end
        return DeliveryReport(
            results: request.recipients.compactMap { results[$0.index] },
            setupSeconds: SMTPDeliveryAgent.seconds(setup - start),
            transmissionSeconds: SMTPDeliveryAgent.seconds(end - setup))
    }
}
