import Logging
import NIOCore
import NIOPosix
import SealpostConfig
import SealpostDelivery
import SealpostLog
import SealpostPolicy
import SealpostQueue
import SealpostRouting
import SealpostSASL
import SealpostTLS
import Synchronization

/// The parts of a running Sealpost: the queue, the queue manager, and one listener per smtpd
/// service of master.cf.
public final class MailServices: Sendable {
    public let queue: QueueStore
    public let queueManager: QueueManager
    public let listeners: [SMTPListener]
    /// Failed SMTP AUTH attempts per client address, counted across every service and kept over
    /// reloads, so that a password guesser gains nothing by switching ports or waiting for one.
    private let authThrottle: SharedAuthenticationThrottle
    /// What recovery found, handed to the queue manager once (and then freed: with a large
    /// deferred queue it is megabytes).
    private let recovered: Mutex<[RecoveredMessage]>
    /// The delivery agents; a reload replaces them.
    private let transports: TransportTable
    /// Local submissions (`sealpost sendmail`) and the FIFOs the command-line tools wake us with.
    private let pickup: PickupService
    private let queueManagerTrigger: QueueTriggerListener
    private let pickupTrigger: QueueTriggerListener
    /// Reloads a service's certificate when its files change on disk.
    private let certificates: CertificateWatcher

    private init(
        queue: QueueStore, queueManager: QueueManager, listeners: [SMTPListener], authThrottle: SharedAuthenticationThrottle,
        recovered: [RecoveredMessage], transports: TransportTable, pickup: PickupService,
        queueManagerTrigger: QueueTriggerListener, pickupTrigger: QueueTriggerListener, certificates: CertificateWatcher
    ) {
        self.queue = queue
        self.queueManager = queueManager
        self.listeners = listeners
        self.authThrottle = authThrottle
        self.recovered = Mutex(recovered)
        self.transports = transports
        self.pickup = pickup
        self.queueManagerTrigger = queueManagerTrigger
        self.pickupTrigger = pickupTrigger
        self.certificates = certificates
    }

    /// Opens and recovers the queue, prepares the maildrop and the trigger FIFOs (owned by
    /// `owner`, the mail_owner a root process is about to become), and binds every smtpd service's
    /// sockets. Run as root to bind ports below 1024; drop privileges after this.
    public static func start(
        configuration: Configuration, sink: LogSink, owner: (uid: uid_t, gid: gid_t)? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> MailServices {
        let global = configuration.global
        let log = Self.logger(sink: sink, configuration: global, process: "master")
        let queue = try QueueStore(
            configuration: QueueConfiguration(global), logger: Self.logger(sink: sink, configuration: global, process: "qmgr"))
        let report = try queue.recover()
        log.info("\(report.summary)")

        let routing = try RoutingSettings(global, host: configuration.host)
        let initialTransports = try DeliveryTransports(configuration: configuration, sink: sink)
        for warning in initialTransports.warnings { log.warning("\(warning)") }
        let transports = TransportTable(initialTransports)
        let manager = QueueManager(
            store: queue, resolver: AddressResolver(settings: routing),
            settings: SchedulerSettings(global, transports: initialTransports.names),
            agents: { transports.agent(for: $0) }, agentLogger: { transports.logger(for: $0) },
            notices: QueueNoticeSender(
                store: queue, settings: BounceSettings(global), log: Self.logger(sink: sink, configuration: global, process: "bounce")),
            log: Self.logger(sink: sink, configuration: global, process: "qmgr"))

        let queueDirectory = global.string("queue_directory")
        try MaildropDirectory.prepare(queueDirectory: queueDirectory, owner: owner)
        let queueManagerTrigger = try QueueTriggerListener(path: QueueTrigger.queueManagerPath(queueDirectory: queueDirectory), owner: owner)
        let pickupTrigger = try QueueTriggerListener(path: QueueTrigger.pickupPath(queueDirectory: queueDirectory), owner: owner)
        let pickup = PickupService(
            store: queue, settings: PickupSettings(global), logger: Self.logger(sink: sink, configuration: global, process: "pickup"),
            onQueued: { id in Task { await manager.enqueue(id) } })

        let authThrottle = SharedAuthenticationThrottle(policy: AuthenticationThrottle.Policy(configuration: global))
        var listeners: [SMTPListener] = []
        let certificates = CertificateWatcher()
        for service in configuration.services where service.service?.type == .inet && service.service?.command == "smtpd" {
            guard let endpoint = service.endpoint, let key = service.service?.key else { continue }
            let context = try Self.makeContext(
                for: service, key: key, configuration: configuration, queue: queue, authThrottle: authThrottle, sink: sink,
                onCommitted: { id in Task { await manager.enqueue(id) } },
                onFlush: { _ in Task { await manager.handle(.flushDeferred) } })
            let hosts = Self.listenHosts(endpoint: endpoint, service: service)
            let listener = try await SMTPListener.bind(context: context, hosts: hosts, port: endpoint.port, group: group)
            log.info("service \(key): listening on \(listener.boundAddresses.joined(separator: ", "))")
            listeners.append(listener)
            certificates.watch(service: service, listener: listener, log: Self.logger(sink: sink, configuration: service, process: "smtpd"))
        }
        return MailServices(
            queue: queue, queueManager: manager, listeners: listeners, authThrottle: authThrottle,
            recovered: report.messages, transports: transports, pickup: pickup, queueManagerTrigger: queueManagerTrigger,
            pickupTrigger: pickupTrigger, certificates: certificates)
    }

    /// Serves until the task is cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            await queueManager.adopt(recovered.withLock { found in
                defer { found = [] }
                return found
            })
            group.addTask { await self.queueManager.run() }
            group.addTask { await self.pickup.run(triggers: self.pickupTrigger.requests) }
            group.addTask {
                for await request in self.queueManagerTrigger.requests {
                    switch request {
                    case .scanActive: await self.queueManager.handle(.scanActive)
                    case .flushDeferred: await self.queueManager.handle(.flushDeferred)
                    case .scanAll: await self.queueManager.handle(.scanAll)
                    case .pickup: break
                    }
                }
            }
            for listener in listeners {
                group.addTask { await listener.run() }
            }
            group.addTask { await self.certificates.run() }
        }
    }

    /// Stops listening and lets the queue manager finish.
    public func stop() async {
        for listener in listeners { await listener.close() }
        queueManagerTrigger.close()
        pickupTrigger.close()
        await queueManager.finish()
        transports.shutdown()
        // Any spare made after this is removed by the next start's recovery.
        queue.removeSpareFiles()
    }

    /// Builds new contexts from `configuration` and gives them to the listeners: certificates,
    /// tables and restrictions change for new connections, open sessions keep theirs. Services
    /// added to or removed from master.cf need a restart; the returned warnings say so.
    public func reload(configuration: Configuration, sink: LogSink) throws -> [String] {
        var warnings: [String] = []
        var seen: Set<String> = []
        let freshTransports = try DeliveryTransports(configuration: configuration, sink: sink)
        warnings += freshTransports.warnings
        authThrottle.update(policy: AuthenticationThrottle.Policy(configuration: configuration.global))
        for service in configuration.services where service.service?.type == .inet && service.service?.command == "smtpd" {
            guard let key = service.service?.key else { continue }
            seen.insert(key)
            guard let listener = listeners.first(where: { $0.serviceKey == key }) else {
                warnings.append("service \(key) is new in master.cf; it starts with the next restart")
                continue
            }
            let manager = queueManager
            listener.replace(
                try Self.makeContext(
                    for: service, key: key, configuration: configuration, queue: queue, authThrottle: authThrottle, sink: sink,
                    onCommitted: { id in Task { await manager.enqueue(id) } },
                onFlush: { _ in Task { await manager.handle(.flushDeferred) } }))
            certificates.watch(service: service, listener: listener, log: Self.logger(sink: sink, configuration: service, process: "smtpd"))
        }
        for listener in listeners where !seen.contains(listener.serviceKey) {
            warnings.append("service \(listener.serviceKey) was removed from master.cf; it stops with the next restart")
        }
        transports.replace(with: freshTransports)
        return warnings
    }

    // MARK: - Building a service

    /// Everything of a service that comes from its configuration alone; building it checks it.
    struct ServiceComponents {
        var settings: SMTPServerSettings
        var policy: AccessPolicy
        var tls: TLSContext?
        var tlsWarnings: [String]
        var aliases: VirtualAliasExpander
        var limits: ClientLimiter.Limits
        var eventLimitExceptions: ClientMatchList
        var bareNewlineExclusions: ClientMatchList
        var saslExceptions: ClientMatchList
        var noopCommands: MatchList
        var forbiddenCommands: MatchList
        var sasl: SASLServerSettings?
    }

    /// Builds (and so checks) a service's parts. Errors carry the parameter they come from.
    static func components(for service: ServiceConfiguration, configuration: Configuration, log: Logger?) throws -> ServiceComponents {
        let settings = SMTPServerSettings(service)
        let policy = try AccessPolicy(configuration: configuration, service: service)
        var tls: TLSContext?
        var tlsWarnings: [String] = []
        if settings.tlsLevel != .none {
            let tlsSettings = try TLSServerSettings(service)
            tlsWarnings = tlsSettings.warnings.map(\.description)
            tls = try TLSServerContextBuilder.makeContext(tlsSettings, logger: log)
        }
        let routing = try RoutingSettings(service, host: configuration.host)
        let limits = ClientLimiter.Limits(
            concurrentConnections: settings.clientConnectionLimit,
            rates: [
                .connection: settings.clientConnectionRateLimit, .message: settings.clientMessageRateLimit,
                .recipient: settings.clientRecipientRateLimit, .newTLSSession: settings.clientNewTLSSessionRateLimit,
            ],
            timeUnit: settings.rateTimeUnit)
        return ServiceComponents(
            settings: settings, policy: policy, tls: tls, tlsWarnings: tlsWarnings,
            aliases: try VirtualAliasExpander(service, resolver: AddressResolver(settings: routing)),
            limits: limits,
            eventLimitExceptions: try ClientMatchList(
                parameter: "smtpd_client_event_limit_exceptions", words: service.list("smtpd_client_event_limit_exceptions"),
                parentMatchesSubdomains: false),
            bareNewlineExclusions: try ClientMatchList(
                parameter: "smtpd_forbid_bare_newline_exclusions", words: service.list("smtpd_forbid_bare_newline_exclusions"),
                parentMatchesSubdomains: false),
            saslExceptions: try ClientMatchList(
                parameter: "smtpd_sasl_exceptions_networks", words: service.list("smtpd_sasl_exceptions_networks"),
                parentMatchesSubdomains: service.list("parent_domain_matches_subdomains").contains("smtpd_sasl_exceptions_networks")),
            noopCommands: try MatchList(
                parameter: "smtpd_noop_commands", value: service.list("smtpd_noop_commands").joined(separator: ", "), style: .exact),
            forbiddenCommands: try MatchList(
                parameter: "smtpd_forbidden_commands", value: service.list("smtpd_forbidden_commands").joined(separator: ", "),
                style: .exact),
            sasl: settings.saslEnabled ? try SASLServerSettings(configuration: service) : nil)
    }

    static func makeContext(
        for service: ServiceConfiguration, key: String, configuration: Configuration, queue: QueueStore,
        authThrottle: SharedAuthenticationThrottle, sink: LogSink, onCommitted: @escaping @Sendable (QueueID) -> Void,
        onFlush: @escaping @Sendable (String) -> Void
    ) throws -> SMTPServiceContext {
        let log = Self.logger(sink: sink, configuration: service, process: "smtpd")
        let parts = try components(for: service, configuration: configuration, log: log)
        for warning in parts.policy.startupWarnings { log.log(level: warning.level, "\(warning.message)") }
        for warning in parts.tlsWarnings { log.warning("\(warning)") }
        let exceptions = parts.eventLimitExceptions
        let bareNewlineExclusions = parts.bareNewlineExclusions
        let saslExceptions = parts.saslExceptions
        return SMTPServiceContext(
            serviceKey: key, settings: parts.settings, policy: parts.policy,
            clientVerifier: ClientHostnameVerifier(resolver: SystemDNSResolver(), lookupEnabled: parts.settings.peerNameLookup),
            tls: parts.tls, queue: queue, aliases: parts.aliases,
            limiter: ClientLimiter(limits: parts.limits) { address, name in
                (try? exceptions.matches(name: name, address: address)) ?? false
            },
            authenticator: parts.sasl.map { SASLAuthenticator(settings: $0, logger: log) },
            authThrottle: authThrottle,
            saslExempt: { address, name in (try? saslExceptions.matches(name: name, address: address)) ?? false },
            bareNewlineExempt: { address, name in (try? bareNewlineExclusions.matches(name: name, address: address)) ?? false },
            noopCommands: parts.noopCommands, forbiddenCommands: parts.forbiddenCommands,
            sink: sink, onCommitted: onCommitted,
            fastFlushDomains: try Self.fastFlushDomains(service), onFlush: onFlush)
    }

    /// `fast_flush_domains` as a domain list (nil when empty: ETRN is refused for every site).
    static func fastFlushDomains(_ service: ServiceConfiguration) throws -> MatchList? {
        let words = service.list("fast_flush_domains")
        guard !words.isEmpty else { return nil }
        let parentMatches = service.list("parent_domain_matches_subdomains").contains("fast_flush_domains")
        return try MatchList(
            parameter: "fast_flush_domains", value: words.joined(separator: ", "), style: .domain(parentMatchesSubdomains: parentMatches))
    }

    /// The addresses a service listens on: its own host, or each of `inet_interfaces` (`all`
    /// meaning every address, for the protocols of `inet_protocols`).
    static func listenHosts(endpoint: ServiceEndpoint, service: ServiceConfiguration) -> [String] {
        if let host = endpoint.host { return [host] }
        let protocols = service.list("inet_protocols").map { $0.lowercased() }
        let ipv4 = protocols.contains("all") || protocols.contains("ipv4")
        let ipv6 = protocols.contains("all") || protocols.contains("ipv6")
        var hosts: [String] = []
        for interface in service.list("inet_interfaces").map({ $0.lowercased() }) {
            switch interface {
            case "all":
                // One IPv6 wildcard socket takes IPv4 too (IPV6_V6ONLY is off on Linux).
                hosts.append(ipv6 && Self.hasIPv6 ? "::" : "0.0.0.0")
            case "loopback-only":
                if ipv4 { hosts.append("127.0.0.1") }
                if ipv6 && Self.hasIPv6 { hosts.append("::1") }
            default:
                hosts.append(interface.hasPrefix("[") && interface.hasSuffix("]") ? String(interface.dropFirst().dropLast()) : interface)
            }
        }
        return hosts
    }

    static let hasIPv6: Bool = HostFacts.current().interfaceAddresses.contains { $0.isIPv6 }

    static func logger(sink: LogSink, configuration: ServiceConfiguration, process: String) -> Logger {
        let name = "\(configuration.string("syslog_name"))/\(process)"
        return Logger(label: "sealpost.\(process)") { _ in PostfixLogHandler(sink: sink, programName: name) }
    }
}
