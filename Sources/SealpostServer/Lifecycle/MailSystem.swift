#if canImport(Glibc)
import Glibc
#endif
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
    private let services = Mutex<MailServices?>(nil)
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
        let global = configuration.global
        let queueDirectory = global.string("queue_directory")
        let dataDirectory = global.string("data_directory")
        // Trap the signals before anything becomes visible (the PID file, the ports, "daemon
        // started"): a signal that arrives earlier would take the default action and kill the process.
        let signals = await UnixSignalsSequence(trapping: .sighup, .sigterm, .sigint)
        let pidFile: PIDFile
        let services: MailServices
        do {
            try Directories.create(queueDirectory, mode: 0o755)
            try Directories.create(dataDirectory, mode: 0o700)
            pidFile = try PIDFile(path: queueDirectory + "/pid/master.pid")
            let mailOwner = Privileges.isRoot ? try Privileges.account(named: global.string("mail_owner")) : nil
            services = try await MailServices.start(
                configuration: configuration, sink: sink, owner: mailOwner.map { (uid_t($0.uid), gid_t($0.gid)) })
            if let owner = mailOwner {
                var owned = [queueDirectory, queueDirectory + "/pid", pidFile.path, dataDirectory]
                owned += Self.queueSubdirectories(queueDirectory)
                let logFile = global.string("maillog_file")
                if !logFile.isEmpty && !logFile.hasPrefix("/dev/") { owned.append(logFile) }
                try Privileges.giveOwnership(of: owned, to: owner)
                try Privileges.drop(to: owner)
                log.info("running as \(owner.name) (uid \(owner.uid))")
                // Reloads read the configuration again, now as mail_owner: say so now if they cannot.
                for path in [configuration.main.path, configuration.master.path] where access(path, R_OK) != 0 {
                    log.warning("\(owner.name) cannot read \(path) (\(String(cString: strerror(errno)))); reloads will be refused until it can")
                }
            }
        } catch let error as LifecycleError {
            log.critical("\(error.message)")
            throw error
        } catch {
            log.critical("\(error)")
            throw error
        }
        defer { pidFile.release() }
        self.services.withLock { $0 = services }

        logWarnings(startupDiagnostics)
        log.info("daemon started -- version \(SealpostVersion.string), configuration \(configuration.directory)")

        await withTaskGroup(of: Void.self) { group in
            group.addTask { await services.run() }
            for await signal in signals.cancelOnGracefulShutdown() {
                if signal == .sighup {
                    reload()
                } else {
                    log.info("terminating on signal \(signal.rawValue)")
                    break
                }
            }
            await services.stop()
            group.cancelAll()
        }
    }

    /// The queue's own directories, which must belong to mail_owner too.
    private static func queueSubdirectories(_ queueDirectory: String) -> [String] {
        ["incoming", "active", "deferred", "hold", "corrupt"].map { "\(queueDirectory)/\($0)" }.filter { access($0, F_OK) == 0 }
    }

    /// Reads the configuration again and switches to it when it has no errors.
    public func reload() {
        let (fresh, diagnostics) = loadConfiguration()
        if diagnostics.hasErrors {
            for diagnostic in diagnostics.errors { log.error("\(diagnostic.description)") }
            log.error("reload refused: \(diagnostics.errors.count) configuration error(s); keeping the running configuration")
            return
        }
        if let services = services.withLock({ $0 }) {
            do {
                for warning in try services.reload(configuration: fresh, sink: sink) { log.warning("\(warning)") }
            } catch {
                log.error("reload refused: \(error); keeping the running configuration")
                return
            }
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
