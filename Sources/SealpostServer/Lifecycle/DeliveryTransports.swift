import Logging
import NIOCore
import NIOPosix
import SealpostConfig
import SealpostDNS
import SealpostDelivery
import SealpostLog
import SealpostRouting
import Synchronization

/// The delivery agents of a running Sealpost, by transport name: master.cf's `unix` services whose
/// command is a delivery agent (`virtual`, `error`, `discard`, …), each built with its own `-o`
/// overrides, as Postfix's master runs them. The standard names are also available when
/// master.cf leaves them out (Postfix would answer "mail transport unavailable"; a Sealpost
/// master.cf needs no lines for its built-in agents).
struct DeliveryTransports: Sendable {
    private var agents: [String: any DeliveryAgent] = [:]
    private var loggers: [String: Logger] = [:]

    /// The agent commands Sealpost has, and the transport names that use them by default.
    static let builtIn: [String: String] = [
        "smtp": "smtp", "relay": "smtp", "lmtp": "lmtp", "virtual": "virtual", "local": "local", "error": "error",
        "discard": "discard", "retry": "error",
    ]

    /// The SMTP and LMTP agents, whose cached connections are closed when they are replaced.
    private(set) var clients: [SMTPDeliveryAgent] = []

    /// Problems start-up reports: transports that are set up but cannot deliver as configured.
    private(set) var warnings: [String] = []

    init(configuration: Configuration, sink: LogSink) throws {
        var configured: [String: ServiceConfiguration] = [:]
        for service in configuration.services {
            guard let entry = service.service, entry.type == .unix, Self.builtIn.values.contains(entry.command) else { continue }
            configured[entry.name] = service
        }
        for (name, command) in Self.builtIn where configured[name] == nil {
            _ = command
            configured[name] = configuration.global
        }
        let resolver = StubResolver(configuration: .system(), group: MultiThreadedEventLoopGroup.singleton)
        for (name, service) in configured {
            let command = service.service?.command ?? Self.builtIn[name] ?? name
            let logger = MailServices.logger(sink: sink, configuration: service, process: command)
            switch command {
            case "smtp", "lmtp":
                do {
                    let settings = try SMTPClientSettings(service, prefix: command, host: configuration.host)
                    for note in settings.startupNotes { warnings.append("\(name) transport: \(note)") }
                    let agent = try SMTPDeliveryAgent(settings: settings, resolver: resolver, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
                    agents[name] = agent
                    clients.append(agent)
                } catch {
                    warnings.append("\(name) transport: \(error); its mail is deferred until that is fixed")
                    agents[name] = UnavailableDeliveryAgent(reason: "mail system configuration error: \(error)")
                }
            case "virtual":
                agents[name] = VirtualTransportAgent(agent: VirtualDeliveryAgent(settings: try VirtualDeliveryAgent.Settings(service)))
            case "local":
                if let problem = LocalDeliveryAgent.Settings.mailboxStyleProblem(service) {
                    if !service.list("mydestination").isEmpty {
                        warnings.append("local delivery: \(problem); mail for local users (mydestination) is deferred until then")
                    }
                    agents[name] = UnavailableDeliveryAgent(reason: "mail system configuration error: \(problem)")
                } else {
                    do {
                        let routing = try RoutingSettings(service, host: configuration.host)
                        agents[name] = LocalDeliveryAgent(
                            settings: try LocalDeliveryAgent.Settings(service), resolver: AddressResolver(settings: routing))
                    } catch {
                        warnings.append("local delivery: \(error); mail for local users is deferred until that is fixed")
                        agents[name] = UnavailableDeliveryAgent(reason: "mail system configuration error: \(error)")
                    }
                }
            case "error":
                agents[name] = name == "retry" ? RetryDeliveryAgent() : ErrorDeliveryAgent()
            case "discard":
                agents[name] = DiscardDeliveryAgent()
            default:
                continue
            }
            loggers[name] = logger
        }
        fallbackLogger = MailServices.logger(sink: sink, configuration: configuration.global, process: "qmgr")
    }

    private var fallbackLogger: Logger

    var names: [String] { Array(agents.keys) }

    func agent(for transport: String) -> (any DeliveryAgent)? { agents[transport] }

    func logger(for transport: String) -> Logger { loggers[transport] ?? fallbackLogger }
}

/// The transports in effect, replaced as a whole on reload while deliveries look agents up.
final class TransportTable: Sendable {
    private let current: Mutex<DeliveryTransports>

    init(_ transports: DeliveryTransports) {
        current = Mutex(transports)
    }

    func replace(with transports: DeliveryTransports) {
        let old = current.withLock { current in
            defer { current = transports }
            return current
        }
        for client in old.clients { client.shutdown() }
    }

    /// Closes the SMTP and LMTP clients' cached connections.
    func shutdown() {
        for client in current.withLock({ $0.clients }) { client.shutdown() }
    }

    func agent(for transport: String) -> (any DeliveryAgent)? { current.withLock { $0.agent(for: transport) } }

    func logger(for transport: String) -> Logger { current.withLock { $0.logger(for: transport) } }
}
