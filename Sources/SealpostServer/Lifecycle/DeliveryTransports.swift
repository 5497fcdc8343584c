import Logging
import SealpostConfig
import SealpostDelivery
import SealpostLog

/// The delivery agents of a running Sealpost, by transport name: master.cf's `unix` services whose
/// command is a delivery agent (`virtual`, `error`, `discard`, …), each built with its own `-o`
/// overrides, as Postfix's master runs them. The standard names are also available when
/// master.cf leaves them out (Postfix would answer "mail transport unavailable"; a Sealpost
/// master.cf needs no lines for its built-in agents).
struct DeliveryTransports: Sendable {
    private var agents: [String: any DeliveryAgent] = [:]
    private var loggers: [String: Logger] = [:]

    /// The agent commands Sealpost has, and the transport names that use them by default.
    static let builtIn: [String: String] = ["virtual": "virtual", "error": "error", "discard": "discard", "retry": "error"]

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
        for (name, service) in configured {
            let command = service.service?.command ?? Self.builtIn[name] ?? name
            switch command {
            case "virtual":
                agents[name] = VirtualTransportAgent(agent: VirtualDeliveryAgent(settings: try VirtualDeliveryAgent.Settings(service)))
            case "error":
                agents[name] = name == "retry" ? RetryDeliveryAgent() : ErrorDeliveryAgent()
            case "discard":
                agents[name] = DiscardDeliveryAgent()
            default:
                continue
            }
            loggers[name] = MailServices.logger(sink: sink, configuration: service, process: command)
        }
        fallbackLogger = MailServices.logger(sink: sink, configuration: configuration.global, process: "qmgr")
    }

    private var fallbackLogger: Logger

    var names: [String] { Array(agents.keys) }

    func agent(for transport: String) -> (any DeliveryAgent)? { agents[transport] }

    func logger(for transport: String) -> Logger { loggers[transport] ?? fallbackLogger }
}
