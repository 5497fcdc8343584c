import Logging
import SealpostConfig
import SealpostLog
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The running mail system: owns the current configuration, the PID file and the log, and
/// reacts to signals — SIGHUP reloads, SIGTERM and SIGINT stop gracefully.
///
/// A reload reads the configuration again; when it has errors they are logged and the running
/// configuration is kept (Postfix's master would exit instead).
public final class MailSystem: Service, Sendable {
    private let current: Mutex<Configuration>
    private let startupDiagnostics: [ConfigurationDiagnostic]
    private let sink: LogSink
    private let log: Logger
    private let loadConfiguration: @Sendable () -> (Configuration, [ConfigurationDiagnostic])

    /// - Parameters:
    ///   - loadConfiguration: reads the configuration again, for reloads, with everything
    ///     ``StartupChecks`` finds in it.
    ///   - diagnostics: what ``StartupChecks`` found in `configuration`; its warnings are logged at
    ///     start.
    public init(
        configuration: Configuration, diagnostics: [ConfigurationDiagnostic], sink: LogSink,
        loadConfiguration: @escaping @Sendable () -> (Configuration, [ConfigurationDiagnostic])
    ) {
        current = Mutex(configuration)
        startupDiagnostics = diagnostics
        self.sink = sink
        self.loadConfiguration = loadConfiguration
        log = Self.logger(sink: sink, configuration: configuration, process: "master")
    }

    /// The configuration in effect.
    public var configuration: Configuration { current.withLock { $0 } }

    /// A logger that writes as `$syslog_name/process` for the main.cf view of `configuration`.
    public static func logger(sink: LogSink, configuration: Configuration, process: String) -> Logger {
        let programName = "\(configuration.global.string("syslog_name"))/\(process)"
        return Logger(label: "sealpost.\(process)") { _ in PostfixLogHandler(sink: sink, programName: programName) }
    }

    public func run() async throws {
        let configuration = self.configuration
        let queueDirectory = configuration.global.string("queue_directory")
        let pidFile: PIDFile
        do {
            try Directories.create(queueDirectory, mode: 0o755)
            pidFile = try PIDFile(path: queueDirectory + "/pid/master.pid")
        } catch {
            log.critical("\(error.message)")
            throw error
        }
        defer { pidFile.release() }

        // Trap the signals before announcing the start: a SIGHUP that arrives between the two
        // would otherwise take the default action and kill the process.
        let signals = await UnixSignalsSequence(trapping: .sighup, .sigterm, .sigint)
        logWarnings(startupDiagnostics)
        log.info("daemon started -- version \(SealpostVersion.string), configuration \(configuration.directory)")

        for await signal in signals.cancelOnGracefulShutdown() {
            if signal == .sighup {
                reload()
            } else {
                log.info("terminating on signal \(signal.rawValue)")
                return
            }
        }
        log.info("terminating on graceful shutdown")
    }

    /// Reads the configuration again and switches to it when it has no errors.
    public func reload() {
        let (fresh, diagnostics) = loadConfiguration()
        if diagnostics.hasErrors {
            for diagnostic in diagnostics.errors { log.error("\(diagnostic.description)") }
            log.error("reload refused: \(diagnostics.errors.count) configuration error(s); keeping the running configuration")
            return
        }
        current.withLock { $0 = fresh }
        do {
            try sink.reopen()
        } catch {
            log.warning("\(error.description)")
        }
        logWarnings(diagnostics)
        log.info("reload -- version \(SealpostVersion.string), configuration \(fresh.directory)")
    }

    /// Logs every warning, so nothing that is set but not in effect goes unmentioned at start-up.
    private func logWarnings(_ diagnostics: [ConfigurationDiagnostic]) {
        for diagnostic in diagnostics where diagnostic.severity == .warning {
            log.warning("\(diagnostic.description)")
        }
    }
}
